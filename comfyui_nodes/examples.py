"""The example workflow's media, put where ComfyUI's LoadImage/LoadVideo look for it.

The shipped workflow (``example_workflows/``) loads ``act_two_example_character.png`` and
``act_two_example_reference.mp4`` from ComfyUI's input directory, so that it runs as shipped; the
pack copies them there when it loads, once, never overwriting a file the artist put there. The
media lives in the pack's ``example_workflows/input/`` (the built zip), or in the repository's
``examples/`` folder when the pack runs from a source checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parent
#: source name (in examples/) -> name in ComfyUI's input directory
EXAMPLE_MEDIA = {
    "character.png": "act_two_example_character.png",
    "reference.mp4": "act_two_example_reference.mp4",
}


def media_dirs() -> list[Path]:
    return [PACK_DIR / "example_workflows" / "input", PACK_DIR.parent / "examples"]


def find_example(name: str) -> Path | None:
    for folder in media_dirs():
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def install_example_media(input_dir: Path) -> list[Path]:
    """Copy missing example media into ``input_dir``; returns the files it wrote."""
    written: list[Path] = []
    for source_name, target_name in EXAMPLE_MEDIA.items():
        target = input_dir / target_name
        source = find_example(source_name)
        if source is None or target.exists():
            continue
        input_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".partial")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
        written.append(target)
    return written

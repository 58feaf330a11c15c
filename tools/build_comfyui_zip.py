"""Build the ComfyUI node pack zip: ``dist/runway-act-two-comfyui-<version>.zip``.

The zip unpacks to ONE folder that goes into ComfyUI's ``custom_nodes/``, with the core vendored
inside (``_vendor/runway_act_two``, sandbox included: ComfyUI ships PyAV and Pillow, so artists can
run the local sandbox too) and the example workflow's media in ``example_workflows/input``. The
archive is reproducible (sorted entries, fixed timestamps), and the builder checks the result: the
pack must import from the unzipped folder using the vendored core, not some installed copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACK_SRC = ROOT / "comfyui_nodes"
CORE_SRC = ROOT / "core" / "runway_act_two"
EXAMPLES_SRC = ROOT / "examples"
FOLDER = "runway-act-two-comfyui"
EXAMPLE_MEDIA = ("character.png", "reference.mp4")
SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
#: 1980-01-01, the earliest time a zip can hold: the same sources give the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def pack_version() -> str:
    with open(PACK_SRC / "pyproject.toml", "rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def _files(src: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and d != "_vendor")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix not in SKIP_SUFFIXES:
                yield path


def entries(examples_dir: Path = EXAMPLES_SRC) -> list[tuple[str, Path | bytes]]:
    """(archive name, source file or bytes) for every file of the pack, sorted."""
    out: list[tuple[str, Path | bytes]] = []
    for path in _files(PACK_SRC):
        out.append((f"{FOLDER}/{path.relative_to(PACK_SRC).as_posix()}", path))
    out.append(
        (
            f"{FOLDER}/_vendor/__init__.py",
            b'"""Third-party code bundled with the pack: the runway_act_two core."""\n',
        )
    )
    for path in _files(CORE_SRC):
        out.append(
            (f"{FOLDER}/_vendor/runway_act_two/{path.relative_to(CORE_SRC).as_posix()}", path)
        )
    for name in EXAMPLE_MEDIA:
        media = examples_dir / name
        if not media.is_file():
            raise SystemExit(f"missing example media {media} (run `make examples`)")
        out.append((f"{FOLDER}/example_workflows/input/{name}", media))
    return sorted(out, key=lambda e: e[0])


def write_zip(target: Path, examples_dir: Path = EXAMPLES_SRC) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, source in entries(examples_dir):
            data = source if isinstance(source, bytes) else source.read_bytes()
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    tmp.replace(target)
    return target


CHECK = r"""
import importlib.util, sys
from pathlib import Path
pack = Path(sys.argv[1])
spec = importlib.util.spec_from_file_location(
    "act_two_pack_check", pack / "__init__.py", submodule_search_locations=[str(pack)]
)
module = importlib.util.module_from_spec(spec)
sys.modules["act_two_pack_check"] = module
spec.loader.exec_module(module)
assert callable(module.comfy_entrypoint)
import importlib
core = importlib.import_module("act_two_pack_check.core").act_two
where = Path(core.__file__).resolve()
assert where.is_relative_to(pack.resolve()), f"pack used {where}, not its vendored core"
for name in ("convert", "run", "progress", "messages", "keys", "examples"):
    importlib.import_module("act_two_pack_check." + name)
from act_two_pack_check.examples import find_example
assert find_example("character.png") and find_example("reference.mp4")
print("ok", core.__version__)
"""


def check_zip(zip_path: Path, python: str = sys.executable) -> str:
    """Unzip into a temp dir and import the pack from there; returns the check's output."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(zip_path) as zf:
            tops = {n.split("/", 1)[0] for n in zf.namelist()}
            if tops != {FOLDER}:
                raise SystemExit(f"the zip must hold exactly one folder, holds {sorted(tops)}")
            zf.extractall(tmp)
        result = subprocess.run(
            [python, "-c", CHECK, str(Path(tmp) / FOLDER)],
            capture_output=True,
            text=True,
            cwd=tmp,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"the unzipped pack does not import:\n{result.stderr}")
        return result.stdout.strip()


def unzip_to(zip_path: Path, custom_nodes: Path) -> Path:
    """Install the zip into a ``custom_nodes`` folder (replacing an older copy)."""
    target = custom_nodes / FOLDER
    if target.exists():
        shutil.rmtree(target)
    custom_nodes.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(custom_nodes)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dist", default=str(ROOT / "dist"), help="output folder")
    parser.add_argument("--no-check", action="store_true", help="skip the import check")
    args = parser.parse_args(argv)
    target = Path(args.dist) / f"{FOLDER}-{pack_version()}.zip"
    write_zip(target)
    if not args.no_check:
        check_zip(target)
    print(f"built {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

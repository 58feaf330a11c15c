"""Build every installable artifact into dist/ (``make dist``).

One entry point so CI and people build the same way; each host's builder lives in its own module.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--bpy-python", help="a Python with bpy installed (validates the Blender zip)"
    )
    args = parser.parse_args(argv)
    (ROOT / "dist").mkdir(exist_ok=True)
    builders = [
        [sys.executable, str(ROOT / "tools" / "build_blender_zip.py")]
        + (["--bpy-python", args.bpy_python] if args.bpy_python else []),
        [sys.executable, str(ROOT / "tools" / "build_comfyui_zip.py")],
    ]
    for cmd in builders:
        if not Path(cmd[1]).exists():
            print(f"missing builder {cmd[1]}", file=sys.stderr)
            return 1
        subprocess.run(cmd, check=True, cwd=ROOT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

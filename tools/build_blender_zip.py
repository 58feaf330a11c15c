"""Build and validate the Blender extension zip (dist/runway_act_two-blender-<version>.zip).

Why it is built this way:
- Artists install one zip with no pip and no terminal, so the core (pure Python + requests, which
  Blender ships) is vendored into the extension as ``_vendor/runway_act_two``. The core uses
  relative imports only, so it works under any parent package. ``sandbox/`` is left out: it needs
  PyAV, which Blender lacks, and artists run the sandbox from the command line.
- The zip is built and validated by ``blender_ext.py``, the same code Blender's own
  ``blender --command extension build`` runs, taken from the bpy wheel (so no Blender binary is
  needed), with the bundled tag list so invalid tags fail here instead of on the extensions site.
- Then the zip is checked again from the outside: manifest fields, permission reasons (<= 64
  chars, no trailing period, the ones we need), the core really bundled (and no sandbox, no
  bytecode), and the manifest version equal to the project's.

Usage: python tools/build_blender_zip.py [--bpy-python PATH] [--output-dir DIR]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDON_SRC = ROOT / "blender_addon"
CORE_SRC = ROOT / "core" / "runway_act_two"
VENDOR_DIR = Path("_vendor")
EXCLUDED_CORE_DIRS = {"sandbox", "__pycache__"}
REQUIRED_FIELDS = (
    "schema_version",
    "id",
    "version",
    "name",
    "tagline",
    "maintainer",
    "type",
    "license",
    "blender_version_min",
)
REQUIRED_PERMISSIONS = ("network", "files")
REQUIRED_CORE_FILES = ("__init__.py", "api_surface.py", "errors.py", "events.py", "request.py")
BPY_VENVS = (".venv-bpy52", ".venv-bpy45")


class BuildError(Exception):
    pass


def _find_bpy_python(given: str | None) -> Path:
    if given:
        path = Path(given)
        return path if path.is_absolute() else ROOT / path
    for venv in BPY_VENVS:
        candidate = ROOT / venv / "bin" / "python"
        if candidate.exists():
            return candidate
    raise BuildError("no Python with bpy found: pass --bpy-python (make .venv-bpy52/.stamp)")


def _bpy_tools(bpy_python: Path) -> tuple[Path, Path]:
    """(blender_ext.py, tags.py) inside the bpy wheel, found without importing bpy."""
    out = subprocess.run(
        [
            str(bpy_python),
            "-c",
            "import importlib.util as u; print(u.find_spec('bpy').submodule_search_locations[0])",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    base = Path(out)
    cli = sorted(glob.glob(str(base / "*" / "scripts/addons_core/bl_pkg/cli/blender_ext.py")))
    tags = sorted(glob.glob(str(base / "*" / "scripts/modules/_bpy_internal/extensions/tags.py")))
    if not cli or not tags:
        raise BuildError(f"blender_ext.py / tags.py not found under {base}")
    return Path(cli[-1]), Path(tags[-1])


def _ignore(_dir: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))]


def stage(dest: Path) -> Path:
    """Copy the add-on and vendor the core into ``dest``; returns the staged source dir."""
    shutil.copytree(ADDON_SRC, dest, ignore=_ignore)
    vendor = dest / VENDOR_DIR
    if vendor.exists():
        shutil.rmtree(vendor)
    vendor.mkdir()
    (vendor / "__init__.py").write_text(
        '"""Bundled Act-Two core (runway_act_two); made by tools/build_blender_zip.py."""\n'
    )

    def ignore_core(directory: str, names: list[str]) -> list[str]:
        skip = _ignore(directory, names)
        if Path(directory) == CORE_SRC:
            skip += [n for n in names if n in EXCLUDED_CORE_DIRS]
        return skip

    shutil.copytree(CORE_SRC, vendor / "runway_act_two", ignore=ignore_core)
    return dest


def _run_cli(bpy_python: Path, cli: Path, args: list[str]) -> None:
    proc = subprocess.run(
        [str(bpy_python), str(cli), *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise BuildError(f"blender_ext {args[0]} failed:\n{proc.stdout}\n{proc.stderr}")


def _project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def check_zip(zip_path: Path) -> dict[str, object]:
    """Our own checks of the built zip, beyond what Blender's validator enforces."""
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode("utf-8"))
    problems: list[str] = []
    for key in REQUIRED_FIELDS:
        if not manifest.get(key):
            problems.append(f"manifest field {key!r} missing")
    if manifest.get("type") != "add-on":
        problems.append("manifest type must be 'add-on'")
    perms = manifest.get("permissions") or {}
    for key in REQUIRED_PERMISSIONS:
        reason = perms.get(key)
        if not isinstance(reason, str) or not reason.strip():
            problems.append(f"permission {key!r} needs a reason")
        elif len(reason) > 64 or reason.rstrip()[-1] in ".!?,;:":
            problems.append(f"permission {key!r}: reason must be <= 64 chars, no end punctuation")
    if manifest.get("version") != _project_version():
        problems.append(
            f"manifest version {manifest.get('version')} != project version {_project_version()}"
        )
    core_prefix = f"{VENDOR_DIR.as_posix()}/runway_act_two/"
    for f in REQUIRED_CORE_FILES:
        if core_prefix + f not in names:
            problems.append(f"bundled core file missing: {core_prefix}{f}")
    for n in names:
        if n.startswith(core_prefix + "sandbox/"):
            problems.append(f"sandbox must not be bundled: {n}")
            break
    if any("__pycache__" in n or n.endswith(".pyc") for n in names):
        problems.append("bytecode in the zip")
    for f in ("__init__.py", "_core.py", "jobs.py", "ops.py", "ui.py"):
        if f not in names:
            problems.append(f"add-on file missing: {f}")
    if problems:
        raise BuildError("zip check failed:\n- " + "\n- ".join(problems))
    return manifest


def build(bpy_python: Path, output_dir: Path) -> Path:
    cli, tags = _bpy_tools(bpy_python)
    with (ADDON_SRC / "blender_manifest.toml").open("rb") as fh:
        manifest = tomllib.load(fh)
    output_dir.mkdir(parents=True, exist_ok=True)
    out = output_dir / f"runway_act_two-blender-{manifest['version']}.zip"
    with tempfile.TemporaryDirectory(prefix="act_two_blender_") as tmp:
        src = stage(Path(tmp) / manifest["id"])
        _run_cli(bpy_python, cli, ["validate", "--valid-tags", str(tags), str(src)])
        if out.exists():
            out.unlink()
        _run_cli(
            bpy_python,
            cli,
            [
                "build",
                "--valid-tags",
                str(tags),
                "--source-dir",
                str(src),
                "--output-filepath",
                str(out),
            ],
        )
    _run_cli(bpy_python, cli, ["validate", "--valid-tags", str(tags), str(out)])
    check_zip(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bpy-python", help="a Python with bpy installed (for blender_ext.py)")
    parser.add_argument("--output-dir", default=str(ROOT / "dist"))
    args = parser.parse_args(argv)
    try:
        out = build(_find_bpy_python(args.bpy_python), Path(args.output_dir))
    except (BuildError, subprocess.CalledProcessError, OSError) as exc:
        print(f"build_blender_zip: {exc}", file=sys.stderr)
        return 1
    size = os.path.getsize(out)
    print(f"built {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} ({size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

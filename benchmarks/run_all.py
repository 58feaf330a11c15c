"""Run every benchmark (``make bench``) and print their tables; ``--readme`` also records them.

Each benchmark prints its own figure, the named baseline's figure from the same run, and a
verdict against the issue's target. A benchmark whose part of the project is missing (or whose
environment is, e.g. the bpy venv) prints SKIPPED with the reason instead of failing the run.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import Skip, Table, machine_line, skipped_table

BENCHMARKS = {
    "completion_lag": "1. Completion detection",
    "submit": "2. Submit",
    "download": "3. Download",
    "blender_stall": "4. Blender main-thread stall",
    "comfyui_overhead": "5. ComfyUI node overhead",
}
README = Path(__file__).resolve().parent / "README.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def run_one(name: str, quick: bool) -> list[Table]:
    mod = importlib.import_module(f"benchmarks.{name}")
    try:
        tables: list[Table] = mod.run(quick=quick)
    except Skip as exc:
        return [skipped_table(BENCHMARKS[name], str(exc))]
    except Exception as exc:
        traceback.print_exc()
        return [skipped_table(BENCHMARKS[name], f"failed: {type(exc).__name__}: {exc}")]
    return tables


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller runs (a few minutes in all)")
    ap.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run only these")
    ap.add_argument("--readme", action="store_true", help=f"write the tables into {README.name}")
    args = ap.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out = [f"Run {started} on {machine_line()}" + (" (--quick)" if args.quick else ""), ""]
    print(out[0], flush=True)
    for name in names:
        t0 = time.monotonic()
        for table in run_one(name, args.quick):
            text = table.render()
            print("\n" + text, flush=True)
            out.append(text)
        print(f"({name} took {time.monotonic() - t0:.0f} s)", flush=True)
    if args.readme:
        _write_readme("\n".join(out), names)
    return 0


def _write_readme(figures: str, names: list[str]) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else f"{BEGIN}\n{END}\n"
    if set(names) != set(BENCHMARKS):
        print("(--readme with --only: README not changed; run all to record)", file=sys.stderr)
        return
    block = f"{BEGIN}\n{figures.rstrip()}\n{END}"
    text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda _m: block, text, flags=re.S)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())

"""Shared plumbing for the benchmark scripts: tables, verdicts, skips, fresh-process memory.

Every benchmark prints one table in the same shape (our figure, the named baseline's figure taken
in the SAME run, the ratio, the target and a verdict), so ``run_all.py`` can paste them into
``benchmarks/README.md`` unchanged. Memory is measured as peak RSS (``VmHWM``) of a fresh child
process per case minus a baseline child that only imports the same modules: ``tracemalloc`` misses
C allocations (OpenSSL buffers, PyAV frames, base64 output), and a long-lived process would carry
the high-water mark of earlier cases.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT / "core", ROOT):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

#: Scratch space for generated media (large: up to ~200 MB files). Never inside the repository.
MEDIA_DIR = Path(
    os.environ.get("ACT_TWO_BENCH_MEDIA", Path(tempfile.gettempdir()) / "act_two_bench")
)


def scratch_dir(prefix: str) -> Path:
    """A temporary directory removed when this process exits (benchmarks write hundreds of MB)."""
    import atexit
    import shutil

    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


class Skip(Exception):
    """A benchmark (or one of its cases) cannot run here; the message says why."""


@dataclass
class Table:
    """A printed table: a title, column names, rows of cells, and notes underneath."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(c) for c in cells])

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        """GitHub-flavoured markdown, readable as plain text in a terminal too."""
        cols = [str(c) for c in self.columns]
        widths = [len(c) for c in cols]
        for row in self.rows:
            for i, cell in enumerate(row):
                widths[i] = max(widths[i], len(cell))

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)) + " |"

        out = [
            f"### {self.title}",
            "",
            line(cols),
            "|" + "|".join("-" * (w + 2) for w in widths) + "|",
        ]
        out += [line(r) for r in self.rows]
        if self.notes:
            out.append("")
            out += [f"- {n}" for n in self.notes]
        return "\n".join(out) + "\n"


def print_tables(title: str, make: Any) -> int:
    """Run one benchmark's ``make() -> list[Table]`` and print its tables (or why it skipped)."""
    try:
        tables = make()
    except Skip as exc:
        print(f"### {title}\n\nSKIPPED: {exc}\n")
        return 0
    for table in tables:
        print(table.render())
    return 0


def skipped_table(title: str, reason: str) -> Table:
    t = Table(title, ["status", "why"])
    t.add("SKIPPED", reason)
    return t


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def fmt_s(seconds: float | None, digits: int = 2) -> str:
    return "-" if seconds is None else f"{seconds:.{digits}f} s"


def fmt_mb(nbytes: float | None) -> str:
    return "-" if nbytes is None else f"{nbytes / 2**20:.1f} MB"


def fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def percentile(xs: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): with few samples it reports a sample, not a blend."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = max(0, min(len(s) - 1, round(q / 100 * len(s) + 0.5) - 1))
    return s[k]


def best_of(n: int, fn: Any, *args: Any) -> float:
    """Minimum wall time of ``n`` runs: the least disturbed run on a shared 2-core machine."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times)


# --- fresh-process measurements ------------------------------------------------------------------
def peak_rss_bytes() -> int:
    """This process's high-water RSS (VmHWM), in bytes."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmHWM not found in /proc/self/status")


def run_child(module: str, case: dict[str, Any], *, timeout: float = 900) -> dict[str, Any]:
    """Run ``python -m benchmarks.<module> --child '<json>'`` and return the JSON it prints last.

    The child does its imports, records the RSS high-water mark, runs the case and prints
    ``{"seconds", "peak_rss", "import_rss", ...}``. A case {"op": "baseline"} only imports.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "core"), str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--child", json.dumps(case)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
        raise RuntimeError(
            f"child {case.get('op')} failed ({proc.returncode}): " + " | ".join(tail)
        )
    last = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1]
    result: dict[str, Any] = json.loads(last)
    return result


def child_main(argv: Sequence[str], ops: dict[str, Any]) -> bool:
    """If invoked as a child, run the op named in the JSON case and print the result; else False.

    ``case["warm"]`` lists modules to import before timing (what a running host has loaded);
    ``case["warm_op"]`` names an op run before timing (e.g. one earlier job on other files).
    """
    if len(argv) < 3 or argv[1] != "--child":
        return False
    case = json.loads(argv[2])
    fn = ops[case["op"]]
    # Imports a long-lived host has already paid for happen before the clock starts.
    for name in case.get("warm", ()):
        __import__(name)
    if case.get("warm_op"):  # first-call costs a running host has also paid already
        ops[case["warm_op"]](case)
    import_rss = peak_rss_bytes()
    t0 = time.perf_counter()
    extra = fn(case) or {}
    seconds = time.perf_counter() - t0
    out = {"seconds": seconds, "peak_rss": peak_rss_bytes(), "import_rss": import_rss, **extra}
    print(json.dumps(out), flush=True)
    return True


# --- the machine ---------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = "?"
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            kb = int(fh.readline().split()[1])
            ram = f"{kb / 2**20:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def machine_line() -> str:
    m = machine()
    return f"{m['nproc']} cores ({m['cpu']}), {m['ram']} RAM, Python {m['python']}, {m['os']}"


def sandbox_available() -> str | None:
    """None when the sandbox can run here, else why not (printed as the skip reason)."""
    try:
        from runway_act_two.sandbox import Sandbox, SandboxConfig  # noqa: F401
    except Exception as exc:
        return f"the sandbox is not importable yet ({type(exc).__name__}: {exc})"
    return None


def client_available() -> str | None:
    try:
        from runway_act_two.client import ActTwoClient  # noqa: F401
    except Exception as exc:
        return f"the core client is not importable yet ({type(exc).__name__}: {exc})"
    return None

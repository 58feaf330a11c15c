"""Benchmark 1: how soon after a task SUCCEEDS does the client notice, and at how many polls?

Runway updates a task no more often than every 5 s, and the official SDK's ``wait_for_task_output``
polls every 4.5-7.5 s, so on average it notices a finished task ~3 s late and its last poll often
lands just before completion. Our client learns when completion is due (from ``progress`` and
elapsed time) and polls near that moment. Both clients wait for tasks of 20, 60 and 120 s on the
same sandbox (update tick 5 s, like Runway) at the same time: tasks run concurrently with staggered
starts so every phase relative to the tick is sampled and the run takes minutes, not hours.

Lag = the moment the client's wait returned minus the moment the sandbox recorded SUCCEEDED
(both on this machine's clock). Polls are counted from the sandbox's request log, per task.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import _glue
from benchmarks._common import (
    Skip,
    Table,
    client_available,
    fmt_s,
    median,
    percentile,
    print_tables,
    sandbox_available,
    scratch_dir,
    verdict,
)

TITLE = "1. Completion detection (tick 5 s): lag after SUCCEEDED and polls per task"
TICK = 5.0


@dataclass
class Sample:
    who: str  # "ours" | "sdk"
    seconds: float  # task duration
    task_id: str = ""
    seen_at: float = 0.0  # time.time() when the wait returned
    succeeded_at: float | None = None
    polls: int = 0
    error: str = ""

    @property
    def lag(self) -> float | None:
        if self.succeeded_at is None or not self.seen_at:
            return None
        return self.seen_at - self.succeeded_at


def _run_ours(sb: object, media: _glue.SmallMedia, s: Sample, data_dir: Path) -> None:
    client = _glue.our_client(sb, data_dir)
    try:
        sub = client.submit(media.request())
        s.task_id = sub.task_id
        client.wait(sub.task_id, timeout=s.seconds * 3 + 120)
        s.seen_at = time.time()
    finally:
        client.close()


def _run_sdk(sb: object, media: _glue.SmallMedia, s: Sample) -> None:
    sdk = _glue.sdk_client(sb)
    try:
        created = sdk.character_performance.create(model="act_two", **media.sdk_body())
        s.task_id = created.id
        created.wait_for_task_output(timeout=s.seconds * 3 + 120)
        s.seen_at = time.time()
    finally:
        sdk.close()


def run(quick: bool = False, per_cell: int | None = None) -> list[Table]:
    why = sandbox_available() or client_available()
    if why:
        raise Skip(why)
    durations = (20.0, 60.0) if quick else (20.0, 60.0, 120.0)
    n = per_cell or (3 if quick else 8)
    rng = random.Random(20261123)
    work = scratch_dir("act_two_bench_lag_")
    media = _glue.SmallMedia.make(Path(work))
    samples: list[Sample] = []
    with _glue.lag_sandbox(tick=TICK, durations=durations) as lab:
        threads: list[threading.Thread] = []
        # Interleave ours/SDK and durations, with starts spread over two ticks, so neither client
        # gets a systematically luckier phase against the sandbox's tick.
        plan = [(who, d) for d in durations for who in ("ours", "sdk") for _ in range(n)]
        rng.shuffle(plan)
        t0 = time.monotonic()
        for i, (who, d) in enumerate(plan):
            s = Sample(who, d)
            samples.append(s)
            start = t0 + (i / max(1, len(plan))) * 2 * TICK + rng.uniform(0, 0.5)

            def job(s: Sample = s, start: float = start) -> None:
                time.sleep(max(0.0, start - time.monotonic()))
                try:
                    sb = lab.sandbox_for(s.seconds)
                    if s.who == "ours":
                        _run_ours(sb, media, s, Path(work) / f"data_{id(s)}")
                    else:
                        _run_sdk(sb, media, s)
                except Exception as exc:  # reported in the table, not raised
                    s.error = f"{type(exc).__name__}: {exc}"[:160]

            th = threading.Thread(target=job, daemon=True)
            th.start()
            threads.append(th)
        for th in threads:
            th.join(timeout=max(durations) * 3 + 300)
        for s in samples:
            if s.task_id:
                s.succeeded_at = lab.succeeded_at(s.seconds, s.task_id)
                s.polls = lab.polls(s.seconds, s.task_id)
        wall = time.monotonic() - t0
    return [_table(samples, durations, quick, wall)]


def _table(samples: list[Sample], durations: tuple[float, ...], quick: bool, wall: float) -> Table:
    t = Table(
        TITLE,
        [
            "task",
            "client",
            "n",
            "median lag",
            "p95 lag",
            "max lag",
            "polls/task",
            "target",
            "verdict",
        ],
    )
    errors = [s for s in samples if s.error or s.lag is None]
    all_ok = True
    for d in (*durations, None):
        cell = [s for s in samples if (d is None or s.seconds == d) and s.lag is not None]
        ours = [s for s in cell if s.who == "ours"]
        sdk = [s for s in cell if s.who == "sdk"]
        label = f"{d:.0f} s" if d is not None else "all"
        sdk_polls = sum(s.polls for s in sdk) / len(sdk) if sdk else float("nan")
        for who, group in (("ours", ours), ("official SDK", sdk)):
            if not group:
                t.add(label, who, 0, "-", "-", "-", "-", "", "no data")
                all_ok = False
                continue
            lags = [s.lag for s in group if s.lag is not None]
            polls = sum(s.polls for s in group) / len(group)
            med, p95 = median(lags), percentile(lags, 95)
            if who == "ours":
                ok = med <= 1.0 and p95 <= 2.0 and polls <= sdk_polls
                all_ok &= ok
                target, v = "med<=1 s, p95<=2 s, polls<=SDK", verdict(ok)
            else:
                target, v = "(baseline)", ""
            t.add(
                label,
                who,
                len(group),
                fmt_s(med),
                fmt_s(p95),
                fmt_s(max(lags)),
                f"{polls:.1f}",
                target,
                v,
            )
    t.note(
        f"{len(samples)} waits ({'--quick' if quick else 'full'} run), all concurrent on one "
        f"machine, sandbox tick {TICK:g} s, starts staggered over two ticks; "
        f"wall time {wall:.0f} s."
    )
    t.note("Lag = client wait returned - sandbox's recorded SUCCEEDED time; polls from its log.")
    if errors:
        t.note(
            f"{len(errors)} waits had no measurement: "
            + "; ".join(sorted({s.error or "no SUCCEEDED time" for s in errors})[:3])
        )
    t.note(f"Overall verdict: {verdict(all_ok and not errors)}")
    return t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 and 60 s tasks, 3 per client")
    ap.add_argument("--per-cell", type=int, help="tasks per (duration, client)")
    args = ap.parse_args(argv)
    return print_tables(TITLE, lambda: run(args.quick, args.per_cell))


if __name__ == "__main__":
    raise SystemExit(main())

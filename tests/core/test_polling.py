"""The adaptive poll scheduler against a simulated tick server (pure: no clocks, no sockets).

The simulated server mirrors Runway's documented behaviour and the sandbox's state machine:
visible state changes only on global ticks every 5 s, a task turns RUNNING on a tick with
progress 0, progress grows linearly (rounded to 0.01), and it is SUCCEEDED on the first tick at
or after its run time. The baseline is the official SDK's loop (a poll every 4.5-7.5 s).
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from dataclasses import dataclass

import pytest
from runway_act_two.polling import PhaseBelief, PollConfig, PollScheduler, sdk_poll_times

C = 5.0


@dataclass
class TickServer:
    phase: float
    created: float
    run_seconds: float
    pending_ticks: int = 0

    def __post_init__(self) -> None:
        k = math.floor((self.created - self.phase) / C) + 1
        self.run_tick = self.phase + k * C + self.pending_ticks * C
        self.done_tick = self.run_tick + math.ceil(self.run_seconds / C - 1e-9) * C

    def state(self, t: float) -> tuple[str, float | None]:
        if t < self.run_tick:
            return "PENDING", None
        if t >= self.done_tick:
            return "SUCCEEDED", 1.0
        last = self.phase + math.floor((t - self.phase) / C) * C
        return "RUNNING", round(min((last - self.run_tick) / self.run_seconds, 0.99), 2)


def simulate(
    run_seconds: float,
    seed: int,
    phase: PhaseBelief | None = None,
    server_phase: float | None = None,
    pending: int = 0,
) -> tuple[float, int, int, list[float]]:
    """(lag, our polls, SDK polls, poll times) for one task."""
    rng = random.Random(seed)
    psi = server_phase if server_phase is not None else rng.uniform(0, C)
    t0 = rng.uniform(0, 1000)
    srv = TickServer(psi, t0, run_seconds, pending)
    sch = PollScheduler(PollConfig(cadence=C), start=t0, rng=rng, phase=phase)
    now = t0
    times: list[float] = []
    while True:
        now = sch.next_poll_at(now)
        times.append(now)
        status, progress = srv.state(now)
        sch.observe(now, status, progress)
        if status == "SUCCEEDED":
            return now - srv.done_tick, sch.polls, sdk_poll_times(srv.done_tick - t0, rng), times
        assert len(times) < 500


@pytest.mark.parametrize("run_seconds", [20.0, 30.0, 60.0, 120.0])
def test_with_a_learned_phase_completion_is_seen_within_a_second_with_fewer_polls(
    run_seconds: float,
) -> None:
    shared = PhaseBelief(C)  # one client, many tasks: the server's phase is learned once
    lags, ours, sdk = [], [], []
    for seed in range(120):
        lag, n, s, _ = simulate(run_seconds, seed, shared, server_phase=1.234)
        lags.append(lag)
        ours.append(n)
        sdk.append(s)
    assert min(lags) >= 0
    assert statistics.median(lags) < 1.0
    assert statistics.mean(ours) <= statistics.mean(sdk)


@pytest.mark.parametrize("run_seconds", [60.0, 120.0])
def test_a_fresh_scheduler_learns_the_phase_within_one_long_task(run_seconds: float) -> None:
    lags, ours, sdk = [], [], []
    for seed in range(120):
        lag, n, s, _ = simulate(run_seconds, 1000 + seed)
        lags.append(lag)
        ours.append(n)
        sdk.append(s)
    assert statistics.median(lags) < 1.0
    assert statistics.mean(ours) < statistics.mean(sdk)


def test_throttled_and_pending_tasks_are_polled_at_no_more_than_the_sdk_pace() -> None:
    for seed in range(40):
        _, n, s, times = simulate(30.0, 5000 + seed, pending=8)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert statistics.mean(gaps) >= 0.9 * C
        assert n <= s + 2


def test_never_polls_twice_within_one_known_tick() -> None:
    shared = PhaseBelief(C)
    simulate(60.0, 1, shared, server_phase=2.0)  # learn the phase
    for seed in range(30):
        _, _, _, times = simulate(45.0, 100 + seed, shared, server_phase=2.0)
        ticks = [math.floor((t - 2.0) / C) for t in times]
        assert len(ticks) == len(set(ticks)), "two polls saw the same server state"


def test_eta_and_progress_estimate_track_the_task() -> None:
    sch = PollScheduler(PollConfig(cadence=C), start=0.0, rng=random.Random(1))
    assert sch.eta(0.0) is None and sch.progress_estimate(0.0) is None
    sch.observe(5.5, "RUNNING", 0.0)
    sch.observe(10.5, "RUNNING", 0.1)
    sch.observe(15.5, "RUNNING", 0.2)
    eta = sch.eta(15.5)
    assert eta is not None and 35 < eta < 50  # progress 0.1 per 5 s: ~40 s left
    p = sch.progress_estimate(20.0)
    assert p is not None and 0.2 < p < 0.35
    assert (sch.progress_estimate(1e6) or 0) <= 0.99


def test_failure_backoff_honours_server_delay_and_grows() -> None:
    sch = PollScheduler(PollConfig(cadence=C), start=0.0, rng=random.Random(2))
    a = sch.after_failure(10.0, 1, None)
    b = sch.after_failure(10.0, 3, None)
    c = sch.after_failure(10.0, 1, 20.0)
    assert 10.0 + C <= a < b and c >= 30.0
    assert sch.next_poll_at(10.0) == c


def test_scaled_cadence_keeps_the_same_shape() -> None:
    """Tests run the sandbox with 50 ms ticks: every duration scales with the cadence."""
    sch = PollScheduler(PollConfig(cadence=0.05), start=0.0, rng=random.Random(3))
    first = sch.next_poll_at(0.0)
    assert 0 < first < 0.1
    assert sch.max_interval == pytest.approx(0.3)


def test_running_without_progress_falls_back_to_the_sdk_pace() -> None:
    """A server that never reports progress must not be polled every tick."""
    rng = random.Random(9)
    sch = PollScheduler(PollConfig(cadence=C), start=0.0, rng=rng)
    now = 0.0
    times = []
    for _ in range(30):
        now = sch.next_poll_at(now)
        times.append(now)
        sch.observe(now, "RUNNING", None)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.mean(gaps[2:]) >= 6.0  # the SDK's mean interval, or slower
    assert sch.eta(now) is None


def test_with_a_known_phase_the_first_poll_already_shows_progress() -> None:
    """After the first tick a task is at best RUNNING at 0 %: a poll there buys no rate. The
    first poll waits for the second tick, so a 20 s task takes two polls (progress, finish)."""
    shared = PhaseBelief(C)
    for seed in range(30):  # learn the phase
        simulate(30.0, seed, shared, server_phase=2.5)
    counts = []
    for seed in range(100, 160):
        rng = random.Random(seed)
        t0 = rng.uniform(0, 1000)
        srv = TickServer(2.5, t0, 20.0)
        sch = PollScheduler(PollConfig(cadence=C), start=t0, rng=rng, phase=shared)
        first = sch.next_poll_at(t0)
        status, progress = srv.state(first)
        assert status == "RUNNING" and progress and progress > 0, (first - t0, status, progress)
        assert first - t0 <= 2 * C + 1.0
        lag, n, _, _ = simulate(20.0, seed, shared, server_phase=2.5)
        assert lag < 1.5
        counts.append(n)
    assert statistics.mean(counts) <= 2.2

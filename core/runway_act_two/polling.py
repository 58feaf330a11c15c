"""When to poll a task: see completion about as soon as Runway shows it, with few polls.

Runway's visible task state changes on ticks (no more often than every ~5 s) and ``progress``
grows roughly linearly while RUNNING. The official SDK polls blindly every 4.5-7.5 s, so it sees
completion on average ~3 s late. This scheduler instead:

1. learns the tick *phase* (where in the 5 s cycle the server updates) from observations: a state
   change between two polls means a tick lies between them; no change while RUNNING means none
   does. Phase hypotheses are kept as weighted bins on the cycle (soft evidence, so one odd
   observation cannot wedge it); a cheap bisection probe is spent when the phase is still vague
   and the poll budget allows;
2. learns the progress *rate* from successive RUNNING observations and predicts the moment
   progress reaches 1;
3. polls just after the first tick at or after that moment (plus a small margin and jitter), and
   otherwise never polls twice within one tick window (nothing new could be visible);
4. once the phase is known, makes its first poll after the *second* tick after creation: after
   the first a task shows at best RUNNING at 0 %, which gives no rate.

The budget is the SDK's: no more polls than its 6 s mean interval would make over the same wait.
The class is pure (time and randomness are injected), so it is tested with simulated servers.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from . import api_surface as api

_BINS = 50
# Progress at or above this may stall (finalising the output); it says nothing about ticks.
STALL_PROGRESS = 0.9


@dataclass(frozen=True)
class PollConfig:
    """Tuning; every duration defaults to a fraction of the server's update cadence."""

    cadence: float = api.TASK_UPDATE_CADENCE_SECONDS
    margin: float | None = None  # after the predicted tick (default 6 % of cadence)
    jitter: float | None = None  # extra uniform delay, 0..jitter (default 4 % of cadence)
    sdk_interval: float | None = None  # the budget's mean interval (default SDK's 6 s scaled)
    max_interval: float | None = None  # never wait longer than this between polls
    precision: float | None = None  # phase uncertainty worth a probe (default 12 % of cadence)

    def scaled(self, name: str, fraction: float) -> float:
        value = getattr(self, name)
        return float(value) if value is not None else fraction * self.cadence


@dataclass(frozen=True)
class Observation:
    t: float  # local monotonic time the server produced the answer (mid-request)
    status: str
    progress: float | None


class PhaseBelief:
    """Weighted hypotheses about the tick phase (seconds into the cycle, modulo cadence)."""

    def __init__(self, cadence: float) -> None:
        self.cadence = cadence
        self.w = [1.0] * _BINS
        self._lock = threading.Lock()  # shared by concurrent waits in one process

    def phase(self, i: int) -> float:
        return (i + 0.5) * self.cadence / _BINS

    def _tick_in(self, phi: float, a: float, b: float) -> bool:
        """Is there a tick phi + k*cadence in (a, b]?"""
        if b - a >= self.cadence:
            return True
        return (b - phi) % self.cadence < (b - a)

    def evidence(self, a: float, b: float, changed: bool, strength: float) -> None:
        """A change (or none) between polls at a and b; ``strength`` in (0,1] scales trust."""
        if b - a >= self.cadence or b <= a:
            return
        with self._lock:
            w = list(self.w)
            for i in range(_BINS):
                if self._tick_in(self.phase(i), a, b) != changed:
                    w[i] *= 1.0 - strength
            top = max(w)
            if top < 1e-3:  # contradictory evidence: forget, rather than trust noise
                self.w = [1.0] * _BINS
            else:
                self.w = [max(x / top, 1e-6) for x in w]

    def plausible(self) -> list[float]:
        top = max(self.w)
        return [self.phase(i) for i in range(_BINS) if self.w[i] >= 0.25 * top]

    def spread(self) -> float:
        """Length of the smallest arc holding every plausible phase."""
        ph = sorted(self.plausible())
        if len(ph) <= 1:
            return self.cadence / _BINS
        gaps = [ph[i + 1] - ph[i] for i in range(len(ph) - 1)]
        gaps.append(ph[0] + self.cadence - ph[-1])
        return self.cadence - max(gaps) + self.cadence / _BINS

    def best(self) -> float:
        """Centre of the plausible arc."""
        ph = sorted(self.plausible())
        if len(ph) == 1:
            return ph[0]
        gaps = [(ph[(i + 1) % len(ph)] - ph[i]) % self.cadence for i in range(len(ph))]
        k = max(range(len(ph)), key=lambda i: gaps[i])
        start = ph[(k + 1) % len(ph)]
        return (start + self.spread() / 2 - self.cadence / (2 * _BINS)) % self.cadence

    def last_tick(self, t: float) -> float:
        """The most likely tick at or before t."""
        if self.spread() > 0.5 * self.cadence:
            return t - self.cadence / 2
        return t - ((t - self.best()) % self.cadence)

    def first_tick_after(self, t: float) -> float:
        """When to look to see the first tick after t: the most likely tick index, at the latest
        time the plausible phases allow for that same tick."""
        best = t + ((self.best() - t) % self.cadence)
        return best + self.spread() / 2

    def split_time(self, last: float) -> float:
        """A time t in (last, last+cadence) such that (last, t] holds half the plausible weight."""
        top = max(self.w)
        weights = [
            (((self.phase(i) - last) % self.cadence), self.w[i])
            for i in range(_BINS)
            if self.w[i] >= 0.25 * top
        ]
        weights.sort()
        total = sum(w for _, w in weights)
        acc = 0.0
        for offset, w in weights:
            acc += w
            if acc >= total / 2:
                return last + offset + self.cadence / (2 * _BINS)
        return last + self.cadence / 2


class PollScheduler:
    """Feed it observations; ask it when to poll next and when the task should finish."""

    def __init__(
        self,
        config: PollConfig | None = None,
        *,
        start: float,
        rng: random.Random | None = None,
        phase: PhaseBelief | None = None,
    ) -> None:
        self.config = config or PollConfig()
        c = self.config
        self.cadence = c.cadence
        self.margin = c.scaled("margin", 0.06)
        self.jitter = c.scaled("jitter", 0.04)
        self.sdk_interval = c.scaled(
            "sdk_interval", api.SDK_POLL_SECONDS / api.TASK_UPDATE_CADENCE_SECONDS
        )
        self.max_interval = c.scaled("max_interval", 6.0)
        self.precision = c.scaled("precision", 0.12)
        self.start = start
        self.rng = rng or random.Random()
        # Shared between tasks of one client: the server's phase does not change per task.
        self.phase = phase if phase is not None else PhaseBelief(self.cadence)
        self.obs: list[Observation] = []
        self.polls = 0
        self._planned: float | None = None

    # -- input -----------------------------------------------------------------------------
    def observe(self, t: float, status: str, progress: float | None) -> None:
        o = Observation(t, status, progress)
        self.polls += 1
        if self.obs:
            p = self.obs[-1]
            changed = p.status != o.status or (
                p.progress is not None
                and o.progress is not None
                and abs(p.progress - o.progress) > 1e-9
            )
            if changed:
                self.phase.evidence(p.t, o.t, True, 0.95)
            elif (
                p.status == o.status == api.STATUS_RUNNING
                and (o.progress or 0.0) < STALL_PROGRESS
                and self._rate() is not None
                and (self._rate() or 0.0) * self.cadence >= 0.015
            ):
                # Progress grows every tick while RUNNING: no change means no tick here. Not near
                # the end, though: there progress stalls while the output is finalised, and
                # reading that as "no tick" would skew the phase every later task relies on.
                self.phase.evidence(p.t, o.t, False, 0.8)
        elif o.status != api.STATUS_PENDING:
            # It was created PENDING at ``start``: any other status means a tick since then.
            self.phase.evidence(self.start, o.t, True, 0.95)
        self.obs.append(o)
        self._planned = None

    # -- estimates ---------------------------------------------------------------------------
    def _running(self) -> list[tuple[float, float]]:
        """(tick time, progress) of the first sighting of each distinct RUNNING progress."""
        out: list[tuple[float, float]] = []
        for o in self.obs:
            if o.status != api.STATUS_RUNNING or o.progress is None:
                continue
            if out and abs(out[-1][1] - o.progress) <= 1e-9:
                continue
            out.append((self.phase.last_tick(o.t), o.progress))
        return out

    def _rate(self) -> float | None:
        pts = self._running()
        if len(pts) >= 2:
            (t0, p0), (t1, p1) = pts[0], pts[-1]
            if t1 - t0 > 1e-6 and p1 > p0:
                return (p1 - p0) / (t1 - t0)
        if len(pts) == 1 and pts[0][1] > 0:
            # One sighting: RUNNING began after the last non-running poll.
            before = [o.t for o in self.obs if o.status != api.STATUS_RUNNING]
            began = before[-1] if before else self.start
            p1 = pts[0][1]
            seen = next(o.t for o in self.obs if o.status == api.STATUS_RUNNING)
            spread = self.phase.spread()
            if spread <= 2 * self.precision:
                # With the phase known, RUNNING began on a tick (no earlier than the first one
                # after that poll) and the progress was produced on the last tick before the
                # sighting. Both bounds stay on the slow side, but a tick tighter than the poll
                # times: a poll-time guess predicts a 20 s task finishing a whole tick late.
                began = max(began, self.phase.first_tick_after(began) - spread)
                seen = pts[0][0]
            # Conservative (slow) guess: the halfway refinement poll corrects it.
            if seen - began > 1e-6:
                return p1 / (seen - began)
        return None

    def predicted_finish(self) -> float | None:
        """When progress should reach 1 (continuous time), or None if not yet predictable."""
        if not self.obs or self.obs[-1].status != api.STATUS_RUNNING:
            return None
        rate = self._rate()
        pts = self._running()
        if rate is None or not pts or rate <= 0:
            return None
        t_last, p_last = pts[-1]
        return t_last + (1.0 - p_last) / rate

    def visible_finish(self) -> float | None:
        """When the server should first show the task finished (first tick after the finish)."""
        f = self.predicted_finish()
        if f is None:
            return None
        return self.phase.first_tick_after(f - 0.3 * self.cadence)

    def eta(self, now: float) -> float | None:
        v = self.visible_finish()
        return None if v is None else max(0.0, v - now)

    def progress_estimate(self, now: float) -> float | None:
        """Interpolated progress for smooth host bars between polls (never reaches 1)."""
        if not self.obs:
            return None
        last = self.obs[-1]
        if last.status != api.STATUS_RUNNING:
            return last.progress
        rate = self._rate()
        pts = self._running()
        if rate is None or not pts:
            return last.progress
        t_last, p_last = pts[-1]
        return min(0.99, max(p_last, p_last + rate * (now - t_last)))

    # -- decisions ---------------------------------------------------------------------------
    def _budget_left(self, finish: float) -> float:
        """Polls the SDK would make up to ``finish`` minus what we already made."""
        sdk = max(1.0, (finish - self.start) / self.sdk_interval + 0.5)
        return sdk - self.polls

    def next_poll_at(self, now: float) -> float:
        """Absolute time of the next poll (stable between observations)."""
        if self._planned is None:
            self._planned = self._plan() + self.rng.uniform(0.0, self.jitter)
        return max(self._planned, now)

    def _plan(self) -> float:
        m = self.margin
        vague = self.phase.spread() > self.precision
        if not self.obs:
            if self.phase.spread() > 2 * self.precision:  # the first tick is anywhere: bisect
                return self.phase.split_time(self.start) + m / 2
            # The second tick after creation: after the first, a task is at best RUNNING at 0 %,
            # which says nothing of its pace; after the second it shows progress, enough for a
            # rate. (5-10 s after creation; the SDK's first poll comes at 4.5-7.5 s.)
            return self.phase.first_tick_after(self.start + self.cadence) + m
        last = self.obs[-1]
        next_tick = self.phase.first_tick_after(last.t) + m  # nothing new before this
        cap = last.t + self.max_interval
        if last.status == api.STATUS_RUNNING:
            vis = self.visible_finish()
            target = vis + m if vis is not None else last.t + 2 * self.cadence
            if vague and self._budget_left(target) >= 2:
                probe = self.phase.split_time(last.t) + m / 2
                if vis is None or probe < target - self.cadence / 2:
                    return probe
            if vis is not None:
                far = target - last.t
                if far > 2.5 * self.sdk_interval and self._budget_left(target) >= 2:
                    # Refine a long prediction halfway (rates drift), snapped after a tick.
                    return min(self.phase.first_tick_after(last.t + far / 2) + m, cap)
                return min(max(target, next_tick), cap)
            if sum(1 for o in self.obs if o.status == api.STATUS_RUNNING) < 2:
                return min(next_tick, cap)  # one more sighting gives the rate
            # RUNNING without usable progress: fall back to the SDK's pace below.
        # PENDING / THROTTLED / unknown: the SDK's pace, aligned just after a tick.
        same = 0
        for o in reversed(self.obs):
            if o.status != last.status:
                break
            same += 1
        interval = min(self.max_interval, self.sdk_interval * (1.0 + 0.15 * max(0, same - 2)))
        return min(
            max(self.phase.first_tick_after(last.t + interval - self.cadence) + m, next_tick), cap
        )

    def after_failure(self, now: float, failures: int, server_delay: float | None) -> float:
        """When to poll again after ``failures`` consecutive failed polls."""
        backoff = min(self.cadence * (2.0 ** (failures - 1)), self.max_interval)
        delay = max(backoff, server_delay or 0.0)
        self._planned = now + delay + self.rng.uniform(0.0, self.jitter)
        return self._planned


def sdk_poll_times(finish: float, rng: random.Random, *, cadence_scale: float = 1.0) -> int:
    """How many polls the official SDK's loop makes until it sees a finish at ``finish``.

    Used by tests and benchmarks as the baseline (PY 5.24.0: sleep 6 s +/- 1.5 s before each poll).
    """
    t = 0.0
    n = 0
    while True:
        t += (
            api.SDK_POLL_SECONDS
            + rng.uniform(0, api.SDK_POLL_JITTER_SECONDS)
            - api.SDK_POLL_JITTER_SECONDS / 2
        ) * cadence_scale
        n += 1
        if t >= finish:
            return n
        if n > 1_000_000:  # pragma: no cover - guard
            return n

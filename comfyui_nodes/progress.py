"""Job events -> what ComfyUI draws: the node's progress bar and the text under the node.

The bar follows the task's own progress (RUNNING n %); the text says what is happening, the
elapsed time, the ETA and the estimated cost, and keeps ticking between polls (Runway updates a
task at most every few seconds, so without the tick the clock would stand still). ComfyUI-free:
``nodes.py`` passes the two drawing callbacks.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from .core import act_two

USD_PER_CREDIT = act_two.api_surface.USD_PER_CREDIT
BAR_TOTAL = 100
SUCCEEDED = act_two.api_surface.STATUS_SUCCEEDED
#: Text is redrawn at most this often by ticks (events always redraw).
TICK_SECONDS = 1.0


class ProgressView:
    """Draws each ``JobEvent``; ``tick()`` advances the clock of the last one."""

    def __init__(
        self,
        set_bar: Callable[[int], None] | None,
        set_text: Callable[[str], None] | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._set_bar = set_bar
        self._set_text = set_text
        self._clock = clock
        self._last: Any = None
        self._last_at = 0.0
        self._drawn_at = 0.0
        self._bar = -1
        self.task_id: str | None = None
        self.texts: list[str] = []  # what was shown, for tests and the final summary

    def __call__(self, event: Any) -> None:
        if getattr(event, "task_id", None):
            self.task_id = event.task_id
        self._last = event
        self._last_at = self._clock()
        self._draw_bar(event)
        self._draw_text(event)

    def tick(self) -> None:
        event = self._last
        now = self._clock()
        if event is None or now - self._drawn_at < TICK_SECONDS:
            return
        if event.kind not in ("status", "submitted", "uploading", "downloading", "checked"):
            return
        dt = now - self._last_at
        eta = None if event.eta is None else max(0.0, event.eta - dt)
        self._draw_text(dataclasses.replace(event, elapsed=event.elapsed + dt, eta=eta))

    def show(self, text: str) -> None:
        """A final line (e.g. "done: 5 s video, 25 credits")."""
        self._emit_text(text)

    def _draw_bar(self, event: Any) -> None:
        value: int | None = None
        if event.kind == "status" and event.progress is not None:
            value = round(max(0.0, min(1.0, float(event.progress))) * BAR_TOTAL)
        elif event.kind in ("done", "reused") or event.status == SUCCEEDED:
            value = BAR_TOTAL
        if value is None or value == self._bar or self._set_bar is None:
            return
        self._bar = value
        self._set_bar(value)

    def _draw_text(self, event: Any) -> None:
        self._drawn_at = self._clock()
        self._emit_text(render(event))

    def _emit_text(self, text: str) -> None:
        self.texts.append(text)
        if self._set_text is not None:
            self._set_text(text)


def render(event: Any) -> str:
    """One line under the node: what is happening, elapsed time, ETA, cost in credits and dollars.

    Task status lines come from ``JobEvent.describe()``; the other phases get a short label of
    their own (describe() would repeat the cost, or show a long file path).
    """
    kind = event.kind
    pct = f" {event.progress * 100:.0f}%" if event.progress is not None else ""
    if kind == "status":
        head = event.describe().split(" · ")[0]
    elif kind == "checked":
        head = "inputs checked"
    elif kind == "uploading":
        head = f"uploading{pct}"
    elif kind == "submitted":
        head = "queued on Runway"
    elif kind == "downloading":
        head = f"downloading{pct}"
    elif kind == "done":
        head = "done"
    elif kind == "reused":
        head = "reused the earlier result: nothing spent"
    elif kind == "cancelling":
        head = "cancelling the task on Runway"
    else:
        head = event.message or kind
    parts = [head, f"{event.elapsed:.0f}s"]
    if kind == "status" and event.eta is not None:
        parts.append(f"~{max(event.eta, 0):.0f}s left")
    credits = event.cost_credits if event.cost_credits is not None else event.estimated_credits
    if credits is not None and kind != "reused":
        label = "" if event.cost_credits is not None else "est. "
        parts.append(f"{label}{credits:g} credits (${float(credits) * USD_PER_CREDIT:,.2f})")
    return "Act-Two: " + " · ".join(parts)

"""What a running job tells its host, and how a host tells a job to stop.

Hosts draw progress from ``JobEvent`` alone (Blender's panel, ComfyUI's progress bar, the CLI's
bar), so the event carries everything a bar needs, already computed: status, fraction, elapsed
time, ETA and cost. ``CancelToken`` is a thread-safe flag a host sets from its own thread (a button,
ComfyUI's interrupt) and the job checks between every network step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

EventKind = Literal[
    "checked",  # inputs validated; estimated_credits known from the reference duration
    "uploading",  # a local file is being uploaded (progress = bytes fraction)
    "submitted",  # the create POST answered; task_id and estimated_credits are set
    "status",  # a poll answered (status/progress/eta updated)
    "downloading",  # the result is being downloaded (progress = bytes fraction)
    "done",  # the result is on disk (output_path set)
    "reused",  # an identical earlier paid result was reused; nothing was spent
    "cancelling",  # cancel requested; DELETE is being sent
]


@dataclass(frozen=True)
class JobEvent:
    kind: EventKind
    job_id: str = ""
    task_id: str | None = None
    status: str | None = None  # PENDING / THROTTLED / RUNNING / SUCCEEDED / FAILED / CANCELLED
    progress: float | None = None  # 0..1 for the current phase
    elapsed: float = 0.0  # seconds since the job started
    eta: float | None = None  # seconds until the task is expected to finish
    estimated_credits: float | None = None
    cost_credits: float | None = None
    output_path: str | None = None
    message: str = ""

    def describe(self) -> str:
        """One short line for status text under a node or in a panel."""
        parts: list[str] = []
        if self.kind == "status" and self.status:
            label = self.status.lower()
            if self.status == "RUNNING" and self.progress is not None:
                label += f" {self.progress * 100:.0f}%"
            parts.append(label)
        else:
            parts.append(self.message or self.kind)
        parts.append(f"{self.elapsed:.0f}s")
        if self.eta is not None and self.kind == "status":
            parts.append(f"~{max(self.eta, 0):.0f}s left")
        credits = self.cost_credits if self.cost_credits is not None else self.estimated_credits
        if credits is not None:
            parts.append(f"{credits:g} credits")
        return " · ".join(parts)


EventCallback = Callable[[JobEvent], None]


class CancelToken:
    """A flag set by the host; ``wait`` sleeps but wakes at once when the flag is set."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; return True if cancelled meanwhile."""
        return self._event.wait(max(0.0, seconds))

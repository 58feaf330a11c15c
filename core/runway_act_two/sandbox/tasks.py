"""The task state machine: PENDING -> THROTTLED -> RUNNING(progress) -> SUCCEEDED | FAILED.

Visible state only changes on ticks, like Runway's (no more often than every ~5 s), so a client's
poll scheduling meets realistic staleness. Tasks beyond the concurrency limit wait THROTTLED and
start in submission order. A task never becomes SUCCEEDED before its preview file exists, so a
client that downloads right after SUCCEEDED always finds the file.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import api_surface as api
from .config import SandboxConfig
from .org import Account

RenderFn = Callable[["TaskRecord", Path], None]


@dataclass
class TaskRecord:
    """Everything the sandbox knows about one task (the wire JSON is a projection of it)."""

    id: str
    seq: int
    created: float  # epoch seconds
    estimated_credits: int
    ratio: str
    character_path: Path
    character_kind: str
    reference_path: Path
    reference_duration: float
    reference_has_audio: bool
    status: str = api.STATUS_PENDING
    progress: float = 0.0
    started_mono: float | None = None
    cost: int | None = None
    failure: str | None = None
    failure_code: str | None = None
    planned_failure: tuple[str | None, str] | None = None  # (failureCode, failure)
    deleted: bool = False
    refunded: bool = False
    succeeded_at: float | None = None  # epoch seconds when it became SUCCEEDED
    finished_at: float | None = None
    output_path: Path | None = None
    render_done: threading.Event = field(default_factory=threading.Event)
    render_error: str | None = None
    render_seconds: float | None = None
    history: list[tuple[float, str]] = field(default_factory=list)  # (epoch, status)
    temp_inputs: list[Path] = field(default_factory=list)  # decoded data URIs, removed after use

    def created_iso(self) -> str:
        t = dt.datetime.fromtimestamp(self.created, dt.UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

    def wire(self, output_urls: list[str]) -> dict[str, Any]:
        """The exact ``GET /v1/tasks/{id}`` object for the current status (no extra fields)."""
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "createdAt": self.created_iso(),
        }
        if self.status in (api.STATUS_PENDING, api.STATUS_THROTTLED):
            out["estimatedCost"] = {"credits": self.estimated_credits}
        elif self.status == api.STATUS_RUNNING:
            out["progress"] = self.progress
            out["estimatedCost"] = {"credits": self.estimated_credits}
        elif self.status == api.STATUS_SUCCEEDED:
            out["output"] = output_urls
            out["cost"] = {"credits": self.cost or 0}
        elif self.status == api.STATUS_FAILED:
            out["failure"] = self.failure or ""
            if self.failure_code is not None:
                out["failureCode"] = self.failure_code
            out["cost"] = {"credits": self.cost or 0}
        else:
            out["cost"] = {"credits": self.cost or 0}
        return out

    def internal(self) -> dict[str, Any]:
        """What the control API shows tests (timings, render facts, deletion)."""
        return {
            "id": self.id,
            "status": self.status,
            "progress": self.progress,
            "deleted": self.deleted,
            "createdAt": self.created_iso(),
            "created": self.created,
            "succeededAt": self.succeeded_at,
            "finishedAt": self.finished_at,
            "estimatedCredits": self.estimated_credits,
            "cost": self.cost,
            "refunded": self.refunded,
            "ratio": self.ratio,
            "referenceDuration": self.reference_duration,
            "referenceHasAudio": self.reference_has_audio,
            "characterKind": self.character_kind,
            "renderDone": self.render_done.is_set(),
            "renderSeconds": self.render_seconds,
            "renderError": self.render_error,
            "outputPath": str(self.output_path) if self.output_path else None,
            "failureCode": self.failure_code,
            "failure": self.failure,
            "history": [{"at": t, "status": s} for t, s in self.history],
        }


def _remove(paths: list[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def _deleted(rec: TaskRecord) -> bool:
    """Read the flag afresh (another thread may have set it since the last check)."""
    return rec.deleted


class TaskStore:
    """All tasks, the tick that moves them, and the render pool that makes their outputs."""

    def __init__(
        self, config: SandboxConfig, account: Account, out_dir: Path, render: RenderFn
    ) -> None:
        self.config = config
        self.account = account
        self.out_dir = out_dir
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._render = render
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskRecord] = {}
        self._seq = 0
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, config.render_workers), thread_name_prefix="sandbox-render"
        )
        self._futures: list[Future[None]] = []

    # --- create / read / delete --------------------------------------------------------------
    def create(self, **kw: Any) -> TaskRecord:
        planned: tuple[str | None, str] | None = kw.pop("planned_failure", None)
        with self._lock:
            self._seq += 1
            rec = TaskRecord(id=str(uuid.uuid4()), seq=self._seq, created=time.time(), **kw)
            rec.planned_failure = planned
            rec.history.append((rec.created, rec.status))
            self._tasks[rec.id] = rec
        if planned is None:
            self._futures.append(self._pool.submit(self._run_render, rec))
        else:
            rec.render_done.set()
            _remove(rec.temp_inputs)
        return rec

    def _run_render(self, rec: TaskRecord) -> None:
        if rec.deleted:
            rec.render_done.set()
            _remove(rec.temp_inputs)
            return
        out = self.out_dir / f"{rec.id}.mp4"
        start = time.perf_counter()
        try:
            self._render(rec, out)
            rec.output_path = out
        except Exception as exc:  # a render bug must fail the task, not hang it
            rec.render_error = f"{type(exc).__name__}: {exc}"
        finally:
            rec.render_seconds = time.perf_counter() - start
            _remove(rec.temp_inputs)
            rec.render_done.set()
        if _deleted(rec) and rec.output_path is not None:  # deleted while rendering
            rec.output_path.unlink(missing_ok=True)

    def get(self, task_id: str) -> TaskRecord | None:
        """A visible (not deleted) task."""
        with self._lock:
            rec = self._tasks.get(task_id)
            return rec if rec is not None and not rec.deleted else None

    def view(
        self, task_id: str, output_urls: Callable[[TaskRecord], list[str]]
    ) -> dict[str, Any] | None:
        """The wire object of a visible task, built under the lock (never a half-ticked state)."""
        with self._lock:
            rec = self._tasks.get(task_id)
            if rec is None or rec.deleted:
                return None
            urls = output_urls(rec) if rec.status == api.STATUS_SUCCEEDED else []
            return rec.wire(urls)

    def internal(self, task_id: str | None = None) -> list[dict[str, Any]]:
        """Control-API views (all tasks, or one), consistent under the lock."""
        with self._lock:
            recs = sorted(self._tasks.values(), key=lambda r: r.seq)
            return [r.internal() for r in recs if task_id is None or r.id == task_id]

    def delete(self, task_id: str) -> bool:
        """Cancel a live task (refund unless RUNNING) or delete a finished one; False if absent."""
        with self._lock:
            rec = self._tasks.get(task_id)
            if rec is None or rec.deleted:
                return False
            rec.deleted = True
            now = time.time()
            if rec.status in api.LIVE_STATUSES:
                if rec.status != api.STATUS_RUNNING:
                    self.account.refund(rec.estimated_credits)
                    rec.refunded = True
                    rec.cost = 0
                else:
                    rec.cost = rec.estimated_credits
                rec.status = api.STATUS_CANCELLED
                rec.finished_at = now
                rec.history.append((now, rec.status))
            if rec.output_path is not None and rec.render_done.is_set():
                rec.output_path.unlink(missing_ok=True)
            return True

    # --- the tick ------------------------------------------------------------------------------
    def tick(self) -> None:
        """Advance every live task by what the elapsed time allows; called every tick_seconds."""
        mono = time.monotonic()
        now = time.time()
        duration = self.config.task_seconds
        with self._lock:
            live = sorted(
                (
                    r
                    for r in self._tasks.values()
                    if not r.deleted and r.status in api.LIVE_STATUSES
                ),
                key=lambda r: r.seq,
            )
            running = 0
            for rec in live:
                if rec.status != api.STATUS_RUNNING or rec.started_mono is None:
                    continue
                elapsed = mono - rec.started_mono
                frac = 1.0 if duration <= 0 else min(1.0, elapsed / duration)
                if frac >= 1.0 and rec.planned_failure is not None:
                    code, message = rec.planned_failure
                    self._finish_failed(rec, code, message, now)
                elif frac >= 1.0 and rec.render_done.is_set():
                    if rec.output_path is not None and rec.output_path.exists():
                        rec.status = api.STATUS_SUCCEEDED
                        rec.progress = 1.0
                        rec.cost = rec.estimated_credits
                        rec.succeeded_at = now
                        rec.finished_at = now
                        rec.history.append((now, rec.status))
                    else:
                        why = rec.render_error or "no output file"
                        self._finish_failed(
                            rec,
                            "INTERNAL",
                            f"The sandbox could not render the preview ({why}).",
                            now,
                        )
                else:
                    rec.progress = round(min(frac, 0.99), 2)
                    running += 1
            limit = self.config.max_concurrent_generations
            for rec in live:
                if rec.status not in (api.STATUS_PENDING, api.STATUS_THROTTLED):
                    continue
                if limit is None or running < limit:
                    rec.status = api.STATUS_RUNNING
                    rec.progress = 0.0
                    rec.started_mono = mono
                    running += 1
                    rec.history.append((now, rec.status))
                elif rec.status != api.STATUS_THROTTLED:
                    rec.status = api.STATUS_THROTTLED
                    rec.history.append((now, rec.status))

    def _finish_failed(self, rec: TaskRecord, code: str | None, message: str, now: float) -> None:
        rec.status = api.STATUS_FAILED
        rec.failure = message
        rec.failure_code = code
        rec.cost = 0
        rec.finished_at = now
        if not rec.refunded:
            self.account.refund(rec.estimated_credits)
            rec.refunded = True
        rec.history.append((now, rec.status))

    # --- lifecycle ------------------------------------------------------------------------------
    def wait_renders(self, timeout: float | None = None) -> None:
        for fut in list(self._futures):
            fut.exception(timeout=timeout)

    def clear(self) -> None:
        with self._lock:
            for rec in self._tasks.values():
                rec.deleted = True
            self._tasks.clear()

    def close(self) -> None:
        self.clear()
        self._pool.shutdown(wait=True, cancel_futures=True)  # idempotent

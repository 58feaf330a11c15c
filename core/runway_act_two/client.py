"""``ActTwoClient``: the one facade every host calls (Blender, ComfyUI, the CLI, scripts).

The path of a job: check every input locally (nothing is sent on any problem) -> prepare media
(data URI or upload) -> journal row -> ONE create POST -> adaptive waiting with events and a cancel
token -> download as soon as it succeeds -> sidecar + journal closed. Each step's failure maps to
one error class (``errors``), and the journal makes every paid task findable after a crash
(``resume``). Hosts never talk HTTP, poll or validate on their own.

All callbacks run on the calling thread; a raising callback is logged, never allowed to abandon a
paid task halfway.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import api_surface as api
from .config import Settings, data_dir, resolve_settings
from .create_body import BodySourceError, BodyStopped
from .download import DownloadProgress, write_sidecar
from .download import download as download_file
from .errors import (
    ActTwoError,
    ApiError,
    ConfigurationError,
    DownloadError,
    InputValidationError,
    NetworkError,
    Problem,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    SubmitAmbiguousError,
    TaskCancelledError,
    TaskFailedError,
    TaskNotFoundError,
    WaitTimeoutError,
    redact,
)
from .events import CancelToken, EventCallback, JobEvent
from .journal import (
    AMBIGUOUS,
    CANCELLED,
    FAILED,
    PREPARING,
    REJECTED,
    SUBMITTED,
    SUBMITTING,
    SUCCEEDED,
    JobRecord,
    Journal,
    _pid_alive,
)
from .polling import PhaseBelief, PollConfig, PollScheduler
from .request import ActTwoRequest
from .task import (
    Organization,
    Task,
    parse_created,
    parse_organization,
    parse_task,
    safe_task_id,
)
from .transport import Transport

if TYPE_CHECKING:
    from .media.probe import MediaProber
    from .validation import CheckedRequest

log = logging.getLogger(__name__)

ENV_POLL_CADENCE = "ACT_TWO_POLL_CADENCE"
#: Consecutive failed polls tolerated before the wait gives up (the task keeps running).
MAX_POLL_FAILURES = 6
POLL_TIMEOUT = 30.0
#: How often the wait loop wakes between polls to emit interpolated progress.
EVENT_INTERVAL = 1.0


@dataclass(frozen=True)
class Submission:
    job_id: str
    task_id: str
    estimated_credits: float | None


@dataclass(frozen=True)
class JobResult:
    job_id: str
    task_id: str
    output_path: Path
    sidecar_path: Path
    estimated_credits: float | None
    cost_credits: float | None
    seed: int | None
    reused: bool = False


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _env_cadence() -> float:
    raw = os.environ.get(ENV_POLL_CADENCE)
    try:
        value = float(raw) if raw else api.TASK_UPDATE_CADENCE_SECONDS
    except ValueError:
        value = api.TASK_UPDATE_CADENCE_SECONDS
    return value if value > 0 else api.TASK_UPDATE_CADENCE_SECONDS


_PHASES: dict[tuple[str, float], PhaseBelief] = {}
_PHASES_LOCK = threading.Lock()


def _shared_phase(base_url: str, cadence: float) -> PhaseBelief:
    """One phase belief per server and cadence, shared by every client in the process."""
    with _PHASES_LOCK:
        belief = _PHASES.get((base_url, cadence))
        if belief is None:
            belief = _PHASES[(base_url, cadence)] = PhaseBelief(cadence)
        return belief


class ActTwoClient:
    """See ARCHITECTURE.md "Core public API"."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        prober: MediaProber | None = None,
        data_dir: str | Path | None = None,
        host: str = "cli",
        poll: PollConfig | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or resolve_settings(api_key, base_url)
        self.host = host
        self._prober = prober
        self._data_dir = Path(data_dir).expanduser() if data_dir is not None else None
        self.transport = Transport(self.settings, host=host)
        self.poll_config = poll or PollConfig(cadence=_env_cadence())
        # The server's update phase is global: what one wait learns, the next one reuses.
        self._phase = _shared_phase(self.settings.base_url, self.poll_config.cadence)
        self._journal: Journal | None = None

    def __repr__(self) -> str:
        return f"ActTwoClient({self.settings!r}, host={self.host!r})"

    def __enter__(self) -> ActTwoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()
        if self._journal is not None:
            self._journal.close()

    # -- plumbing ------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self._data_dir if self._data_dir is not None else data_dir()

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            try:
                self._journal = Journal.in_dir(self.data_dir, secret=self.settings.api_key)
            except (OSError, sqlite3.Error) as exc:
                raise ConfigurationError(
                    [
                        Problem(
                            "data_dir",
                            f"the job journal in {self.data_dir} cannot be opened ({exc})",
                            "set ACT_TWO_DATA_DIR to a writable directory",
                        )
                    ]
                ) from None
        return self._journal

    def default_output_path(self, task_id: str) -> Path:
        return self.data_dir / "results" / f"act_two_{task_id}.mp4"

    def _require_settings(self) -> None:
        problems = self.settings.problems()
        if problems:
            raise ConfigurationError(problems)

    def _emit(self, on_event: EventCallback | None, event: JobEvent) -> None:
        if on_event is None:
            return
        try:
            on_event(event)
        except Exception:  # a host's drawing bug must not abandon a paid task
            log.exception("progress callback failed (ignored)")

    def _guarded(self, on_event: EventCallback | None) -> EventCallback | None:
        """The host's callback, made unable to abort a job by raising."""
        if on_event is None:
            return None
        callback = on_event

        def guarded(event: JobEvent) -> None:
            self._emit(callback, event)

        return guarded

    # -- checks --------------------------------------------------------------------------------
    def check(self, request: ActTwoRequest) -> CheckedRequest:
        """Every local check (inputs and configuration), no network. Raises InputValidationError."""
        from .validation import check_request

        return check_request(request, prober=self._prober, extra_problems=self.settings.problems())

    def _check_for_job(self, request: ActTwoRequest) -> CheckedRequest:
        """``check()`` with the job journal opened beside it, for a job that needs both.

        Opening the journal (SQLite, WAL, schema) takes a few ms of mostly GIL-free work, and
        hosts make a client per job: it need not wait for the checks to end. A journal that
        cannot be opened is reported by the next use, after any problem with the inputs.
        """
        if self._journal is not None:
            return self.check(request)
        opener = threading.Thread(target=self._open_journal_quietly, name="act-two-journal")
        opener.start()
        try:
            return self.check(request)
        finally:
            opener.join()

    def _open_journal_quietly(self) -> None:
        with contextlib.suppress(Exception):  # raised again, to the caller, by the next use
            _ = self.journal

    # -- submit --------------------------------------------------------------------------------
    def submit(
        self,
        request: ActTwoRequest,
        *,
        on_event: EventCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Submission:
        """Check, prepare media, journal, and send the ONE create POST."""
        checked = self._check_for_job(request)
        return self._submit(
            checked, None, on_event=on_event, cancel=cancel, started=time.monotonic()
        )

    def _submit(
        self,
        checked: CheckedRequest,
        output_path: Path | None,
        *,
        on_event: EventCallback | None,
        cancel: CancelToken | None,
        started: float,
    ) -> Submission:
        from .prepare import build_body, sending_error

        request = checked.request
        self._emit(
            on_event,
            JobEvent(
                "checked",
                estimated_credits=checked.estimated_credits,
                elapsed=time.monotonic() - started,
                message="inputs checked",
            ),
        )
        job_id = self.journal.start(
            fingerprint=checked.fingerprint,
            options=request.options(),
            seed=request.seed,
            character=_describe(request.character),
            reference=_describe(request.reference),
            estimated_credits=checked.estimated_credits,
            output_path=str(output_path) if output_path is not None else None,
            base_url=self.settings.base_url,
            host=self.host,
        )
        posting = False
        try:
            if cancel is not None and cancel.cancelled:
                raise TaskCancelledError("Cancelled before anything was sent.", task_id="")
            body = build_body(
                checked,
                self.transport,
                on_event=self._guarded(on_event),
                job_id=job_id,
                cancel=cancel,
            )
            if cancel is not None and cancel.cancelled:
                raise TaskCancelledError("Cancelled before the task was created.", task_id="")
            self.journal.update(job_id, state=SUBMITTING)
            posting = True
            try:
                answer = self.transport.call(
                    "POST", api.PATH_CHARACTER_PERFORMANCE, body=body, create=True, cancel=cancel
                )
            except (BodySourceError, BodyStopped) as exc:  # stopped before its last byte
                raise sending_error(checked, exc) from None
            try:
                created = parse_created(answer)
            except ResponseFormatError as exc:
                raise SubmitAmbiguousError(
                    "The create request was answered, but the answer is unreadable "
                    f"({exc.message}); a task may have been created. Check your tasks on "
                    "https://dev.runwayml.com/ before submitting again."
                ) from None
        except SubmitAmbiguousError as exc:
            self.journal.update(job_id, state=AMBIGUOUS, error=exc.message, owner_pid=None)
            raise SubmitAmbiguousError(
                exc.message + f" (journal job {job_id})", job_id=job_id
            ) from None
        except TaskCancelledError as exc:
            self.journal.update(job_id, state=CANCELLED, error=exc.message, owner_pid=None)
            raise
        except ActTwoError as exc:
            self.journal.update(job_id, state=REJECTED, error=exc.message, owner_pid=None)
            raise
        except BaseException as exc:
            # e.g. KeyboardInterrupt: if the POST was on its way, a task may exist.
            state = AMBIGUOUS if posting else REJECTED
            self.journal.update(job_id, state=state, error=type(exc).__name__, owner_pid=None)
            raise
        estimated = (
            created.estimated_credits
            if created.estimated_credits is not None
            else checked.estimated_credits
        )
        self.journal.submitted(job_id, created.task_id, estimated)
        self._emit(
            on_event,
            JobEvent(
                "submitted",
                job_id=job_id,
                task_id=created.task_id,
                status=api.STATUS_PENDING,
                estimated_credits=estimated,
                elapsed=time.monotonic() - started,
                message=f"submitted {created.task_id}",
            ),
        )
        return Submission(job_id=job_id, task_id=created.task_id, estimated_credits=estimated)

    # -- wait ----------------------------------------------------------------------------------
    def get_task(self, task_id: str) -> Task:
        self._require_settings()
        return parse_task(self.transport.call("GET", _task_path(task_id)))

    def wait(
        self,
        task_id: str,
        *,
        on_event: EventCallback | None = None,
        cancel: CancelToken | None = None,
        timeout: float | None = None,
        job_id: str = "",
        started: float | None = None,
        submitted_at: float | None = None,
        estimated_credits: float | None = None,
        cancel_task: bool = True,
    ) -> Task:
        """Poll until the task is terminal. Raises TaskFailed/TaskCancelled/WaitTimeout errors.

        ``started`` (monotonic) is when the job began, for elapsed times; ``submitted_at``
        (monotonic) is when the task was created, which the scheduler learns from.
        ``cancel_task=False``: a cancelled token only stops the waiting (``WaitTimeoutError``)
        and leaves the task running, for callers that recover a task rather than own it.
        """
        self._require_settings()
        now = time.monotonic()
        started = started if started is not None else now
        if not job_id:
            rec = self.journal.by_task(task_id)
            job_id = rec.job_id if rec is not None else ""
        sched = PollScheduler(self.poll_config, start=submitted_at or now, phase=self._phase)
        deadline = now + timeout if timeout is not None else None
        failures = 0
        last: Task | None = None
        last_event = 0.0
        path = _task_path(task_id)
        while True:
            now = time.monotonic()
            if cancel is not None and cancel.cancelled and not cancel_task:
                raise WaitTimeoutError(
                    f"Stopped waiting for task {task_id}; it was NOT cancelled and keeps running "
                    f"on Runway. Check it with `act-two status {task_id}`.",
                    task_id=task_id,
                )
            if cancel is not None and cancel.cancelled:
                self._cancel_remote(task_id, job_id, on_event, started)
                raise TaskCancelledError(
                    f"Task {task_id} was cancelled (DELETE sent to Runway). Runway refunds a "
                    "task that had not started running.",
                    task_id=task_id,
                )
            if deadline is not None and now >= deadline:
                raise WaitTimeoutError(
                    f"Stopped waiting for task {task_id} after {timeout:g} s. It may still be "
                    "running on Runway (it was NOT cancelled, and is billed if it finishes). "
                    "Finish it later with `act-two resume`"
                    + (f" (or client.resume({job_id!r}))" if job_id else "")
                    + f", or check it with `act-two status {task_id}`.",
                    task_id=task_id,
                )
            due = sched.next_poll_at(now)
            if now < due:
                until = min(due, deadline if deadline is not None else due, now + EVENT_INTERVAL)
                if cancel is not None:
                    cancel.wait(until - now)
                else:
                    time.sleep(max(0.0, until - now))
                now = time.monotonic()
                if last is not None and last.is_live and now - last_event >= EVENT_INTERVAL:
                    last_event = now
                    self._emit(
                        on_event,
                        self._status_event(
                            last,
                            sched,
                            now,
                            started,
                            job_id,
                            estimated_credits,
                            sched.progress_estimate(now),
                        ),
                    )
                continue
            sent = time.monotonic()
            try:
                raw = self.transport.call(
                    "GET", path, retries=0, timeout=POLL_TIMEOUT, cancel=cancel
                )
                task = parse_task(raw)
            except TaskNotFoundError:
                if job_id:
                    self.journal.update(
                        job_id,
                        state=CANCELLED,
                        status=api.STATUS_CANCELLED,
                        finished_at=time.time(),
                    )
                raise TaskCancelledError(
                    f"Task {task_id} no longer exists on Runway: it was cancelled or deleted.",
                    task_id=task_id,
                ) from None
            except (NetworkError, ServerError, RateLimitError, ResponseFormatError) as exc:
                failures += 1
                if failures > MAX_POLL_FAILURES:
                    raise _with_resume_hint(exc, task_id) from None
                log.info("poll of %s failed (%s); retrying", task_id, type(exc).__name__)
                retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
                sched.after_failure(time.monotonic(), failures, retry_after)
                continue
            failures = 0
            got = time.monotonic()
            sched.observe((sent + got) / 2, task.status, task.progress)
            if task.estimated_credits is not None:
                estimated_credits = task.estimated_credits
            if job_id and (last is None or last.status != task.status):
                self.journal.update(job_id, status=task.status)
            last = task
            last_event = got
            self._emit(
                on_event,
                self._status_event(
                    task, sched, got, started, job_id, estimated_credits, task.progress
                ),
            )
            if task.status == api.STATUS_SUCCEEDED:
                return task
            if task.status == api.STATUS_FAILED:
                if job_id:
                    self.journal.update(
                        job_id,
                        state=FAILED,
                        status=task.status,
                        cost_credits=task.cost_credits,
                        error=task.failure or task.failure_code,
                        finished_at=time.time(),
                    )
                raise TaskFailedError(
                    redact(_failure_message(task), self.settings.api_key),
                    task_id=task_id,
                    failure=redact(task.failure or "", self.settings.api_key),
                    failure_code=task.failure_code,
                    retryable=task.failure_retryable,
                )
            if task.status == api.STATUS_CANCELLED:
                if job_id:
                    self.journal.update(
                        job_id,
                        state=CANCELLED,
                        status=task.status,
                        cost_credits=task.cost_credits,
                        finished_at=time.time(),
                    )
                raise TaskCancelledError(
                    f"Task {task_id} was cancelled on Runway.", task_id=task_id
                )

    def _status_event(
        self,
        task: Task,
        sched: PollScheduler,
        now: float,
        started: float,
        job_id: str,
        estimated: float | None,
        progress: float | None,
    ) -> JobEvent:
        return JobEvent(
            "status",
            job_id=job_id,
            task_id=task.id,
            status=task.status,
            progress=progress,
            elapsed=now - started,
            eta=sched.eta(now) if task.is_live else None,
            estimated_credits=estimated,
            cost_credits=task.cost_credits,
        )

    # -- cancel --------------------------------------------------------------------------------
    def _cancel_remote(
        self, task_id: str, job_id: str, on_event: EventCallback | None, started: float
    ) -> None:
        self._emit(
            on_event,
            JobEvent(
                "cancelling",
                job_id=job_id,
                task_id=task_id,
                elapsed=time.monotonic() - started,
                message="cancelling",
            ),
        )
        try:
            self.transport.call("DELETE", _task_path(task_id), retries=2, timeout=15.0)
        except TaskNotFoundError:
            pass
        finally:
            if job_id:
                self.journal.update(
                    job_id,
                    state=CANCELLED,
                    status=api.STATUS_CANCELLED,
                    finished_at=time.time(),
                    owner_pid=None,
                )

    def cancel(self, task_id: str) -> None:
        """Cancel a live task or delete a finished one (``DELETE``); an absent task is fine."""
        self._require_settings()
        rec = self.journal.by_task(task_id)
        with contextlib.suppress(TaskNotFoundError):
            self.transport.call("DELETE", _task_path(task_id))
        if rec is not None and rec.state != SUCCEEDED:
            self.journal.update(
                rec.job_id, state=CANCELLED, status=api.STATUS_CANCELLED, finished_at=time.time()
            )

    # -- download ------------------------------------------------------------------------------
    def download(
        self,
        task_id: str,
        output_path: str | Path,
        *,
        on_event: EventCallback | None = None,
        task: Task | None = None,
        cancel: CancelToken | None = None,
        started: float | None = None,
    ) -> Path:
        """Save the output of a SUCCEEDED task (fresh URL fetched when the old one expired)."""
        self._require_settings()
        started = started if started is not None else time.monotonic()
        target = Path(output_path).expanduser()
        if task is None:
            task = self.get_task(task_id)
        if task.status != api.STATUS_SUCCEEDED:
            raise DownloadError(
                f"Task {task_id} is {task.status}, so there is nothing to download"
                + (" yet; wait for it with `act-two resume`." if task.is_live else "."),
                task_id=task_id,
            )
        if not task.output:
            raise DownloadError(
                f"Task {task_id} succeeded but lists no output URL.", task_id=task_id
            )
        rec = self.journal.by_task(task_id)
        job_id = rec.job_id if rec is not None else ""
        if rec is not None and rec.output_path != str(target):
            self.journal.update(rec.job_id, output_path=str(target))

        def refresh() -> str:
            fresh = self.get_task(task_id)
            if not fresh.output:
                raise DownloadError(
                    f"Task {task_id} no longer lists an output URL.", task_id=task_id
                )
            return fresh.output[0]

        def progress(p: DownloadProgress) -> None:
            frac = p.done / p.total if p.total else None
            self._emit(
                on_event,
                JobEvent(
                    "downloading",
                    job_id=job_id,
                    task_id=task_id,
                    status=task.status if task else None,
                    progress=frac,
                    elapsed=time.monotonic() - started,
                    cost_credits=task.cost_credits if task else None,
                    message="downloading",
                ),
            )

        self._emit(
            on_event,
            JobEvent(
                "downloading",
                job_id=job_id,
                task_id=task_id,
                status=task.status,
                progress=0.0,
                elapsed=time.monotonic() - started,
                cost_credits=task.cost_credits,
                message="downloading",
            ),
        )
        path = download_file(
            self.transport.foreign_session(),
            task.output[0],
            target,
            refresh_url=refresh,
            on_progress=progress,
            task_id=task_id,
            should_stop=(lambda: cancel.cancelled) if cancel is not None else None,
        )
        finished = time.time()
        rec = self.journal.by_task(task_id)
        sidecar = write_sidecar(path, self._sidecar(task, rec, path, finished))
        if rec is not None:
            self.journal.update(
                rec.job_id,
                state=SUCCEEDED,
                status=task.status,
                cost_credits=task.cost_credits,
                output_path=str(path),
                sidecar_path=str(sidecar),
                finished_at=finished,
                error=None,
            )
        self._emit(
            on_event,
            JobEvent(
                "done",
                job_id=job_id,
                task_id=task_id,
                status=task.status,
                progress=1.0,
                elapsed=time.monotonic() - started,
                estimated_credits=task.estimated_credits,
                cost_credits=task.cost_credits,
                output_path=str(path),
                message=f"saved {path}",
            ),
        )
        return path

    def _sidecar(
        self, task: Task, rec: JobRecord | None, path: Path, finished: float
    ) -> dict[str, Any]:
        from . import __version__

        data: dict[str, Any] = {
            "tool": f"runway-act-two {__version__}",
            "model": api.MODEL,
            "task_id": task.id,
            "status": task.status,
            "output": path.name,
            "cost_credits": task.cost_credits,
            "task_created_at": task.created_at,
            "downloaded_at": _iso(finished),
        }
        if rec is not None:
            data.update(
                {
                    "job_id": rec.job_id,
                    "host": rec.host,
                    "options": rec.options,
                    "seed": rec.seed,
                    "character": rec.character,
                    "reference": rec.reference,
                    "estimated_credits": rec.estimated_credits,
                    "fingerprint": rec.fingerprint,
                    "journaled_at": _iso(rec.created_at),
                    "submitted_at": _iso(rec.submitted_at),
                }
            )
        credits = data.get("cost_credits")
        if isinstance(credits, int | float):
            data["cost_usd"] = round(credits * api.USD_PER_CREDIT, 2)
        return data

    # -- the whole job -------------------------------------------------------------------------
    def generate(
        self,
        request: ActTwoRequest,
        output_path: str | Path,
        *,
        on_event: EventCallback | None = None,
        cancel: CancelToken | None = None,
        timeout: float | None = None,
        reuse: bool = False,
        checked: CheckedRequest | None = None,
    ) -> JobResult:
        """Check, submit once, wait, download. ``checked`` is a ``check()`` of the same request
        (by this client, or one with the same settings and prober) that the host already
        needed (to show problems at once, for its fingerprint): the media is then not read
        twice (a file whose size changed since is still refused before any request)."""
        started = time.monotonic()
        target = Path(output_path).expanduser()
        if checked is None or checked.request is not request:
            checked = self._check_for_job(request)
        if reuse and request.seed is not None:
            found = self.journal.find_reusable(checked.fingerprint)
            if found is not None and found.output_path and found.task_id:
                return self._reuse(found, target, on_event, started)
            # The same request already has a task on Runway but no result (a timeout, a crash,
            # a host restart): finish that one rather than pay for it again.
            twin = self._unfinished_twin(checked.fingerprint)
            if twin is not None:
                done = self.resume(twin.job_id, on_event=on_event, cancel=cancel, timeout=timeout)
                _copy_result(done.output_path, target)
                return dataclasses.replace(
                    done, output_path=target, sidecar_path=target.with_name(target.name + ".json")
                )
        sub = self._submit(checked, target, on_event=on_event, cancel=cancel, started=started)
        submitted_at = time.monotonic()
        self.journal.claim(sub.job_id)
        return self._finish(
            sub.job_id,
            sub.task_id,
            target,
            estimated_credits=sub.estimated_credits,
            seed=request.seed,
            on_event=on_event,
            cancel=cancel,
            timeout=timeout,
            started=started,
            submitted_at=submitted_at,
        )

    def _finish(
        self,
        job_id: str,
        task_id: str,
        target: Path,
        *,
        estimated_credits: float | None,
        seed: int | None,
        on_event: EventCallback | None,
        cancel: CancelToken | None,
        timeout: float | None,
        started: float,
        submitted_at: float | None = None,
    ) -> JobResult:
        """Wait for a claimed job's task, download it, and release the claim whatever happens."""
        try:
            task = self.wait(
                task_id,
                on_event=on_event,
                cancel=cancel,
                timeout=timeout,
                job_id=job_id,
                started=started,
                submitted_at=submitted_at,
                estimated_credits=estimated_credits,
            )
            path = self.download(
                task_id, target, on_event=on_event, task=task, cancel=cancel, started=started
            )
        finally:
            self.journal.release(job_id)
        return JobResult(
            job_id=job_id,
            task_id=task_id,
            output_path=path,
            sidecar_path=path.with_name(path.name + ".json"),
            estimated_credits=estimated_credits,
            cost_credits=task.cost_credits,
            seed=seed,
        )

    def _reuse(
        self, rec: JobRecord, target: Path, on_event: EventCallback | None, started: float
    ) -> JobResult:
        assert rec.output_path is not None and rec.task_id is not None
        _copy_result(Path(rec.output_path), target)
        self._emit(
            on_event,
            JobEvent(
                "reused",
                job_id=rec.job_id,
                task_id=rec.task_id,
                status=api.STATUS_SUCCEEDED,
                progress=1.0,
                elapsed=time.monotonic() - started,
                cost_credits=0.0,
                output_path=str(target),
                message="reused an identical earlier result",
            ),
        )
        return JobResult(
            job_id=rec.job_id,
            task_id=rec.task_id,
            output_path=target,
            sidecar_path=target.with_name(target.name + ".json"),
            estimated_credits=rec.estimated_credits,
            cost_credits=rec.cost_credits,
            seed=rec.seed,
            reused=True,
        )

    # -- journal -------------------------------------------------------------------------------
    def jobs(self) -> list[JobRecord]:
        return self.journal.all()

    def _unfinished_twin(self, fingerprint: str) -> JobRecord | None:
        """An unfinished job for the same request (explicit seed) that already has a task."""
        for rec in reversed(self.unfinished_jobs()):
            if rec.fingerprint == fingerprint and rec.seed is not None and rec.task_id:
                return rec
        return None

    def unfinished_jobs(self) -> list[JobRecord]:
        """Jobs with a task on Runway and no result yet (stale submits become 'ambiguous')."""
        for rec in self.journal.all():
            if rec.state not in (PREPARING, SUBMITTING) or _pid_alive(rec.owner_pid):
                continue
            if rec.state == SUBMITTING:
                self.journal.update(
                    rec.job_id,
                    state=AMBIGUOUS,
                    owner_pid=None,
                    error="the process stopped before the create request was answered",
                )
            else:
                self.journal.update(
                    rec.job_id,
                    state=REJECTED,
                    owner_pid=None,
                    error="the process stopped before anything was sent",
                )
        return self.journal.unfinished()

    def resume(
        self,
        job_id: str,
        *,
        on_event: EventCallback | None = None,
        cancel: CancelToken | None = None,
        timeout: float | None = None,
    ) -> JobResult:
        """Finish a journaled job: wait for its task (if needed) and download the result."""
        rec = self.journal.get(job_id) or self.journal.by_task(job_id)
        if rec is None:
            raise InputValidationError(
                [
                    Problem(
                        "job_id",
                        f"{job_id!r} is not in the journal",
                        "list jobs with `act-two jobs`",
                    )
                ]
            )
        if rec.state == SUCCEEDED and rec.output_path and Path(rec.output_path).is_file():
            out = Path(rec.output_path)
            return JobResult(
                rec.job_id,
                rec.task_id or "",
                out,
                out.with_name(out.name + ".json"),
                rec.estimated_credits,
                rec.cost_credits,
                rec.seed,
            )
        if rec.task_id is None:
            raise SubmitAmbiguousError(
                f"Job {rec.job_id} never received a task id ({rec.state}); it cannot be "
                "resumed. If it may have been created, check https://dev.runwayml.com/.",
                job_id=rec.job_id,
            )
        if rec.state == FAILED:
            raise TaskFailedError(
                f"Job {rec.job_id} failed: {rec.error or 'unknown reason'}",
                task_id=rec.task_id,
                failure=rec.error or "",
            )
        if rec.state == CANCELLED:
            raise TaskCancelledError(f"Job {rec.job_id} was cancelled.", task_id=rec.task_id)
        self._require_settings()
        if rec.base_url and rec.base_url.rstrip("/") != self.settings.base_url.rstrip("/"):
            raise ConfigurationError(
                [
                    Problem(
                        "base_url",
                        f"job {rec.job_id} was submitted to {rec.base_url}, "
                        f"not {self.settings.base_url}",
                        f"resume it with --base-url {rec.base_url} (or RUNWAYML_BASE_URL)",
                    )
                ]
            )
        if not self.journal.claim(rec.job_id):
            raise ActTwoError(
                f"Job {rec.job_id} is being finished by another running process "
                f"(pid {rec.owner_pid}); let it finish."
            )
        started = time.monotonic()
        target = Path(rec.output_path) if rec.output_path else self.default_output_path(rec.task_id)
        if rec.state != SUBMITTED:
            try:
                self.journal.update(rec.job_id, state=SUBMITTED)
            except BaseException:
                self.journal.release(rec.job_id)
                raise
        return self._finish(
            rec.job_id,
            rec.task_id,
            target,
            estimated_credits=rec.estimated_credits,
            seed=rec.seed,
            on_event=on_event,
            cancel=cancel,
            timeout=timeout,
            started=started,
        )

    # -- account -------------------------------------------------------------------------------
    def organization(self) -> Organization:
        self._require_settings()
        return parse_organization(self.transport.call("GET", api.PATH_ORGANIZATION))


def _copy_result(src: Path, target: Path) -> None:
    """Put an earlier result (and its sidecar) at the path this caller asked for."""
    if src.resolve() == target.resolve():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    side_src = src.with_name(src.name + ".json")
    if side_src.is_file():
        shutil.copyfile(side_src, target.with_name(target.name + ".json"))


def _with_resume_hint(exc: ActTwoError, task_id: str) -> ActTwoError:
    """The same error, saying that the task itself is probably fine and can be finished later."""
    hint = f" Task {task_id} may still be running on Runway; finish it later with `act-two resume`."
    if isinstance(exc, ApiError):
        return type(exc)(exc.message + hint, status=exc.status)
    return NetworkError(exc.message + hint)


def _task_path(task_id: str) -> str:
    """``/v1/tasks/{id}`` for a well-formed id; anything else is refused before sending."""
    try:
        safe_task_id(task_id)
    except ResponseFormatError:
        raise InputValidationError(
            [
                Problem(
                    "task_id",
                    f"{task_id[:80]!r} is not a task id",
                    "task ids look like 17f20503-6c24-4c16-946b-35dbbce2af2f (see `act-two jobs`)",
                )
            ]
        ) from None
    return api.PATH_TASK.format(id=task_id)


def _describe(source: Any) -> str:
    if source.url is not None:
        url: str = source.url
        return url
    if source.path is not None:
        return str(source.path)
    return f"<{len(source.data or b'')} bytes: {source.filename}>"


def _failure_message(task: Task) -> str:
    code = f" [{task.failure_code}]" if task.failure_code else ""
    reason = task.failure or "no reason given"
    if task.failure_retryable:
        advice = "This kind of failure may go away: retrying the same request may work."
    elif task.failure_code:
        advice = "Do not retry the same inputs: change them first."
    else:
        advice = "Check the inputs; retrying may or may not help."
    cost = "" if task.cost_credits is None else f" Charged: {task.cost_credits:g} credits."
    return f"Task {task.id} failed{code}: {reason}. {advice}{cost}"

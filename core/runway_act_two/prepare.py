"""Turn a checked request into the JSON body of ``POST /v1/character_performance``.

This is the last step before money is spent, and the only one that moves media: local files
become data URIs (encoded while the request is sent, see ``create_body``) or ephemeral uploads
exactly as ``validation`` planned, URLs pass through untouched. A file that changed since it was
checked is refused rather than sent, because the fingerprint (and the user's cost estimate)
describe the checked content.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import api_surface as api
from .create_body import BodySourceError, BodyStopped, CreateBody, MediaPart
from .errors import InputValidationError, Problem, TaskCancelledError
from .events import CancelToken, EventCallback, JobEvent
from .media.upload import upload
from .validation import CheckedRequest, MediaPlan

if TYPE_CHECKING:
    from .transport import Transport


def build_body(
    checked: CheckedRequest,
    transport: Transport,
    *,
    on_event: EventCallback | None = None,
    job_id: str = "",
    cancel: CancelToken | None = None,
) -> CreateBody:
    """The full create body (model, character, reference, options) with media ready to send.

    Uploads happen here (``uploading`` events, progress = bytes fraction of the current upload);
    data URIs are encoded later, while the body is sent. A cancel raises ``TaskCancelledError``
    with an empty task id: nothing was created or spent.
    """
    started = time.monotonic()
    fields: dict[str, Any] = {"model": api.MODEL}
    for plan in (checked.character, checked.reference):
        uri = _media_uri(plan, transport, on_event, job_id, cancel, started)
        fields[plan.role] = {"type": plan.kind, "uri": uri}
    fields.update(checked.options_body())
    return CreateBody(fields, should_stop=(lambda: cancel.cancelled) if cancel else None)


def sending_error(checked: CheckedRequest, exc: BodySourceError | BodyStopped) -> Exception:
    """What the user sees when the body stopped before its last byte (no task can exist)."""
    if isinstance(exc, BodyStopped):
        return TaskCancelledError("Cancelled before the task was created.", task_id="")
    plan = checked.character if exc.role == "character" else checked.reference
    return _changed(plan, exc.why)


def _media_uri(
    plan: MediaPlan,
    transport: Transport,
    on_event: EventCallback | None,
    job_id: str,
    cancel: CancelToken | None,
    started: float,
) -> str | MediaPart:
    if cancel is not None and cancel.cancelled:
        raise TaskCancelledError("Cancelled before the task was created.", task_id="")
    source = plan.source
    if plan.method == "url":
        if source.url is None:
            raise ValueError(f"{plan.role}: a URL plan without a URL")
        return source.url
    if plan.info is None:
        raise ValueError(f"{plan.role}: a local plan without media facts")
    mime = plan.info.mime
    payload: Path | bytes
    if source.data is not None:
        payload = source.data
    elif source.path is not None:
        payload = Path(source.path)
        _check_unchanged(plan, payload)
    else:
        raise ValueError(f"{plan.role}: a local plan without a path or bytes")

    if plan.method == "data_uri":
        if isinstance(payload, bytes):
            return MediaPart(plan.role, mime, len(payload), data=payload)
        return MediaPart(plan.role, mime, plan.info.size_bytes, path=payload)

    label = f"uploading {plan.role}"

    def progress(done: int, total: int) -> None:
        if on_event is not None:
            on_event(
                JobEvent(
                    "uploading",
                    job_id=job_id,
                    progress=done / total if total else 1.0,
                    elapsed=time.monotonic() - started,
                    message=f"{label} {done * 100 // max(total, 1)}%",
                )
            )

    name = source.filename if source.data is not None else None
    try:
        return upload(
            transport,
            payload,
            mime=mime,
            filename=name,
            on_progress=progress,
            cancel=cancel,
        )
    except OSError as exc:
        raise _changed(plan, f"it could not be read again ({exc})") from None


def _check_unchanged(plan: MediaPlan, path: Path) -> None:
    assert plan.info is not None
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _changed(plan, f"it can no longer be read ({exc.strerror or exc})") from None
    if size != plan.info.size_bytes:
        raise _changed(plan, "it changed after it was checked")


def _changed(plan: MediaPlan, why: str) -> InputValidationError:
    return InputValidationError(
        [Problem(plan.role, f"{plan.source.describe()}: {why}", "check it again and resubmit")]
    )

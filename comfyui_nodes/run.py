"""Running one Act-Two job from ComfyUI's event loop without ever blocking it.

The core is synchronous (requests + SQLite), so each job runs in a worker thread
(``asyncio.to_thread``) and owns everything it touches there: the ``ActTwoClient`` (its SQLite
connection is bound to the thread that opened it), temporary files, the journal row. The event loop
only does three things every ``poll_seconds``: hand the job's events to the host callbacks (progress
bar, text under the node), check ComfyUI's interrupt flag, and notice the end of the job. On an
interrupt, or if the node's coroutine is cancelled because another node failed, it sets the job's
``CancelToken`` and waits (bounded) for the worker to send ``DELETE /v1/tasks/{id}`` before it
gives up the thread: a cancelled node must not leave a billed task running on Runway.

Nothing here imports ComfyUI; ``nodes.py`` passes in the host's interrupt check and callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from .convert import ConversionError, image_to_png_bytes, video_to_file
from .core import act_two

T = TypeVar("T")
JobEvent = act_two.JobEvent
CancelToken = act_two.CancelToken
EventSink = Callable[[Any], None]

#: How often the event loop looks at the interrupt flag and the job's events.
POLL_SECONDS = 0.2
#: How long an interrupted node waits for its worker to cancel the task on Runway.
CANCEL_GRACE_SECONDS = 20.0
#: Where results land, under ComfyUI's output directory.
RESULTS_SUBFOLDER = "act_two"
HOST_NAME = "comfyui"


class JobInterrupted(Exception):
    """The host asked to stop; the task (if any) was cancelled on Runway."""


@dataclass(frozen=True)
class PackPaths:
    """The directories one job uses (all from the host; tests pass tmp dirs)."""

    output_dir: Path  # results: <ComfyUI output>/act_two/
    temp_dir: Path | None = None  # scratch files for converted inputs (deleted after the job)
    user_dir: Path | None = None  # where the key file lives
    data_dir: Path | None = None  # the core's journal; None = the core's default


@dataclass(frozen=True)
class ActTwoInputs:
    """The main node's inputs, as ComfyUI hands them over."""

    reference_video: Any
    character_image: Any = None
    character_video: Any = None
    ratio: str | None = None
    body_control: bool | None = None
    expression_intensity: int | None = None
    seed: int | None = None
    public_figure_threshold: str | None = None
    timeout: float | None = None


# --- the async side --------------------------------------------------------------------------
async def run_job(
    job: Callable[[Any, EventSink], T],
    *,
    is_interrupted: Callable[[], bool],
    on_event: EventSink | None = None,
    on_tick: Callable[[], None] | None = None,
    poll_seconds: float = POLL_SECONDS,
    cancel_grace: float = CANCEL_GRACE_SECONDS,
) -> T:
    """Run ``job(token, emit)`` in a worker thread; relay its events; turn interrupts into cancels.

    ``on_event`` runs on the event loop's thread, never on the worker's. If it raises (ComfyUI's
    progress hook raises its interrupt exception), the job is cancelled and the exception
    propagates. ``JobInterrupted`` is raised when ``is_interrupted()`` turned true. ``on_tick``
    runs once per poll (it keeps elapsed time and ETA moving between the job's events).
    """
    token = CancelToken()
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    worker: asyncio.Future[T] = asyncio.ensure_future(asyncio.to_thread(job, token, events.put))
    try:
        while True:
            done, _ = await asyncio.wait({worker}, timeout=poll_seconds)
            _relay(events, on_event)
            if done:
                return worker.result()
            if on_tick is not None:
                on_tick()
            if is_interrupted():
                token.cancel()
                await _settle(worker, cancel_grace)
                _relay(events, on_event, swallow=True)
                raise JobInterrupted("Interrupted; the Runway task was cancelled.")
    except BaseException:
        token.cancel()
        if not worker.done():
            await _settle(worker, cancel_grace)
        raise


def _relay(
    events: queue.SimpleQueue[Any], sink: EventSink | None, *, swallow: bool = False
) -> None:
    while True:
        try:
            event = events.get_nowait()
        except queue.Empty:
            return
        if sink is None:
            continue
        if swallow:
            with contextlib.suppress(Exception):
                sink(event)
        else:
            sink(event)


async def _settle(worker: asyncio.Future[Any], grace: float) -> None:
    """Wait for a cancelled worker to finish (it is sending the DELETE); never raise."""
    with contextlib.suppress(BaseException):
        await asyncio.wait({worker}, timeout=grace)
    if worker.done() and not worker.cancelled():
        worker.exception()  # mark retrieved: its TaskCancelledError is expected


# --- the worker side (plain threads, no ComfyUI) -------------------------------------------
def make_client(paths: PackPaths, api_key: str | None) -> Any:
    """One client per job, created on the worker thread that uses it."""
    return act_two.ActTwoClient(api_key=api_key, data_dir=paths.data_dir, host=HOST_NAME)


def build_request(inputs: ActTwoInputs, scratch: Path) -> Any:
    """Turn ComfyUI values into the core's request; media become bytes or files, never frames.

    The character IMAGE becomes PNG bytes (deterministic, so an unchanged graph keeps the same
    request fingerprint and is never billed twice). VIDEOs become file paths (LoadVideo's own
    file when there is one).
    """
    has_image = inputs.character_image is not None
    problem = character_choice_problem(has_image, inputs.character_video is not None)
    if problem:
        raise ConversionError(problem)
    if inputs.reference_video is None:
        raise ConversionError("reference_video: connect the performance video (3-30 s).")
    if has_image:
        png = image_to_png_bytes(inputs.character_image)
        character = act_two.MediaSource.from_bytes(png, filename="character.png")
        kind: Literal["image", "video"] = "image"
    else:
        character = act_two.MediaSource.from_path(
            video_to_file(inputs.character_video, scratch, "character_video")
        )
        kind = "video"
    reference = act_two.MediaSource.from_path(
        video_to_file(inputs.reference_video, scratch, "reference_video")
    )
    return act_two.ActTwoRequest(
        character=character,
        reference=reference,
        character_kind=kind,
        ratio=inputs.ratio,
        seed=inputs.seed,
        body_control=inputs.body_control,
        expression_intensity=inputs.expression_intensity,
        public_figure_threshold=inputs.public_figure_threshold,
    )


def character_choice_problem(has_image: bool, has_video: bool) -> str | None:
    """Exactly one character input: checked when the prompt is queued and again before a job."""
    if has_image and has_video:
        return (
            "Connect only one character: character_image OR character_video (both are connected)."
        )
    if not has_image and not has_video:
        return "Connect a character: character_image (an IMAGE) or character_video (a VIDEO)."
    return None


def result_path(paths: PackPaths, fingerprint: str, seed: int | None) -> Path:
    """Where a request's result goes: named by the request's fingerprint, so an identical
    request (re-queued after a restart) resolves to the file it already has, and the core's reuse
    needs no copy."""
    folder = paths.output_dir / RESULTS_SUBFOLDER
    folder.mkdir(parents=True, exist_ok=True)
    tail = f"_seed{seed}" if seed is not None else ""
    return folder / f"act_two_{fingerprint[:16]}{tail}.mp4"


#: One lock per request fingerprint: two identical Act-Two nodes in one prompt run one after the
#: other, so the second finds the first's result (reuse) instead of paying for the same thing.
_SAME_REQUEST_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _request_lock(fingerprint: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _SAME_REQUEST_LOCKS.setdefault(fingerprint, threading.Lock())


def generate_job(
    inputs: ActTwoInputs, paths: PackPaths, api_key: str | None
) -> Callable[[Any, EventSink], Any]:
    """The worker function for the main node: check, pay once, wait, download; or reuse.

    Money safety, in order: (1) a succeeded earlier job for the same request whose file still
    exists is returned without any request (``reuse=True``); (2) an earlier job for the same
    request that has a task on Runway but no result (a timeout, a crash, a ComfyUI restart) is
    resumed instead of paying again (both by the core's ``reuse=True``); (3) only then is a new
    task created, once. The per-request lock makes identical nodes in one prompt pay once.
    """

    def job(token: Any, emit: EventSink) -> Any:
        scratch = Path(tempfile.mkdtemp(prefix="act_two_", dir=_ensure(paths.temp_dir)))
        client = make_client(paths, api_key)
        try:
            request = build_request(inputs, scratch)
            checked = client.check(request)  # nothing is sent when this raises
            with _request_lock(checked.fingerprint):
                if token.cancelled:
                    raise act_two.errors.TaskCancelledError(
                        "Cancelled before anything was sent.", task_id=""
                    )
                return client.generate(
                    request,
                    result_path(paths, checked.fingerprint, inputs.seed),
                    on_event=emit,
                    cancel=token,
                    timeout=inputs.timeout,
                    reuse=True,
                    checked=checked,
                )
        finally:
            client.close()
            shutil.rmtree(scratch, ignore_errors=True)

    return job


def fetch_job(
    task_id: str, paths: PackPaths, api_key: str | None, timeout: float | None = None
) -> Callable[[Any, EventSink], Path]:
    """The worker function for the fetch node: wait for an existing task and download it.

    A result already downloaded for this task id is returned without any request. Interrupting
    stops waiting but never cancels the task.
    """

    def job(token: Any, emit: EventSink) -> Path:
        client = make_client(paths, api_key)
        try:
            known = _journal_output(client, task_id)
            if known is not None:
                return known
            folder = paths.output_dir / RESULTS_SUBFOLDER
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"act_two_{task_id}.mp4"
            if target.is_file() and target.stat().st_size > 0:
                return target
            # An interrupt stops the waiting at once but never cancels the task: this node
            # recovers results, it must never delete one.
            try:
                task = client.wait(
                    task_id, on_event=emit, cancel=token, timeout=timeout, cancel_task=False
                )
            except act_two.errors.WaitTimeoutError:
                if token.cancelled:
                    raise JobInterrupted(
                        "Stopped waiting; the task was left running on Runway."
                    ) from None
                raise
            return Path(client.download(task_id, target, on_event=emit, task=task))
        finally:
            client.close()

    return job


def credits_job(paths: PackPaths, api_key: str | None) -> Callable[[Any, EventSink], str]:
    def job(token: Any, emit: EventSink) -> str:
        client = make_client(paths, api_key)
        try:
            return describe_organization(client.organization())
        finally:
            client.close()

    return job


def describe_organization(org: Any) -> str:
    """Balance (credits and dollars) plus today's Act-Two usage when the API reports it."""
    balance = getattr(org, "credit_balance", None)
    lines = []
    if balance is not None:
        usd = float(balance) * act_two.api_surface.USD_PER_CREDIT
        lines.append(f"Runway credit balance: {balance:g} credits (about ${usd:,.2f})")
    else:
        lines.append("Runway credit balance: not reported")
    used = getattr(org, "daily_generations", None)
    limit = getattr(org, "max_daily_generations", None)
    if used is not None or limit is not None:
        of = f" of {limit}" if limit is not None else ""
        lines.append(f"Act-Two today: {used if used is not None else '?'}{of} generations")
    concurrent = getattr(org, "max_concurrent_generations", None)
    if concurrent is not None:
        lines.append(f"Up to {concurrent} Act-Two tasks run at once; more wait as THROTTLED.")
    per_second = act_two.api_surface.CREDITS_PER_SECOND
    lines.append(f"Act-Two costs {per_second} credits per output second.")
    return "\n".join(lines)


def _journal_output(client: Any, task_id: str) -> Path | None:
    """The downloaded file of a journal job for ``task_id``, if it still exists."""
    try:
        records = client.jobs()
    except Exception:
        return None
    for rec in records:
        if getattr(rec, "task_id", None) != task_id:
            continue
        out = getattr(rec, "output_path", None)
        if out and Path(out).is_file() and Path(out).stat().st_size > 0:
            return Path(out)
    return None


def _ensure(folder: Path | None) -> str | None:
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)

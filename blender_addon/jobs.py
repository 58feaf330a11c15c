"""Running Act-Two jobs without freezing Blender: worker threads + a main-thread ``tick()``.

Why this shape: a generation takes minutes (upload, queue, render, download). Each job runs the
core's blocking ``ActTwoClient.generate()`` (or ``resume()``) in its own daemon thread, with its
own client (the core's HTTP session and journal connection are not shared across threads). The
worker never touches ``bpy``: it only puts the core's ``JobEvent``s, the final ``JobResult`` or
the exception into one ``queue.Queue``. ``tick()`` runs on Blender's main thread (a persistent
``bpy.app.timers`` timer in the UI; pumped inline by the operator in background mode, where timers
never fire), drains that queue, updates the per-job state the panel draws, and places finished
results on the timeline.

Job state lives in this module, not in the .blend: the core's journal is the durable record (and
the source of the Resume list after a crash), and keeping state in Python means nothing about a
job, least of all the key, is ever written into a saved file.
"""

from __future__ import annotations

import contextlib
import queue
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy

from . import messages, vse
from ._core import api_surface, client_class, core, submodule

POLL_SECONDS = 0.25  # how often the UI timer drains events while jobs run
RESULTS_FOLDER = "act_two"  # beside the .blend: //act_two/

_events: queue.Queue[tuple[str, str, Any]] = queue.Queue()
_jobs: dict[str, JobState] = {}
_journal: list[JournalEntry] = []
_journal_error = ""
# Main-thread work is cut into stages, one per tick, so no tick holds Blender for long:
# ("movie", key) adds the movie strip, ("finish", key) its sound and properties.
_stages: deque[tuple[str, str]] = deque()
_journal_dirty = False


@dataclass
class JobState:
    """What the panel shows for one job; changed only on the main thread."""

    key: str
    label: str
    scene_name: str
    frame_start: int
    match_fps: bool
    output_path: Path
    resumed: bool = False
    job_id: str = ""
    task_id: str | None = None
    phase: str = "starting"  # the last JobEvent kind, or "importing"/"finished"
    status: str = ""  # Runway's task status
    progress: float | None = None
    eta: float | None = None
    eta_at: float = 0.0  # monotonic time the ETA was reported
    estimated_credits: float | None = None
    cost_credits: float | None = None
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    finished: bool = False
    outcome: str = ""  # "imported" | "ready" | "failed" | "cancelled"
    error: str = ""
    notice: str = ""
    strip_name: str = ""
    result_path: Path | None = None
    detached: bool = False  # another .blend was opened since the job started
    media: tuple[float, float] | None = None  # (fps, seconds) probed by the worker
    placing: Any = field(default=None, repr=False)  # vse.MoviePlaced between the two stages
    token: Any = field(default=None, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def eta_left(self) -> float | None:
        if self.eta is None or self.finished:
            return None
        return max(0.0, self.eta - (time.monotonic() - self.eta_at))

    @property
    def credits(self) -> float | None:
        return self.cost_credits if self.cost_credits is not None else self.estimated_credits

    def status_text(self) -> str:
        """Short words for the progress bar: queued / throttled / running 40% / downloading..."""
        if self.finished:
            return {
                "imported": "On the timeline",
                "ready": "Ready to import",
                "cancelled": "Cancelled",
            }.get(self.outcome, "Failed")
        if self.phase == "cancelling":
            return "Cancelling..."
        if self.phase in ("status", "submitted") and self.status:
            words = {
                api_surface.STATUS_PENDING: "Queued",
                api_surface.STATUS_THROTTLED: "Waiting (throttled)",
                api_surface.STATUS_RUNNING: "Running",
            }.get(self.status, self.status.capitalize())
            if self.status == api_surface.STATUS_RUNNING and self.progress is not None:
                words += f" {self.progress * 100:.0f}%"
            return words
        return {
            "starting": "Starting...",
            "checked": "Checked inputs",
            "uploading": "Uploading...",
            "submitted": "Submitted",
            "downloading": "Downloading...",
            "done": "Downloaded",
            "reused": "Reusing earlier result",
            "importing": "Importing...",
        }.get(self.phase, self.phase)

    def bar_factor(self) -> float:
        if self.finished:
            return 1.0
        if self.phase in ("uploading", "downloading") or self.status == api_surface.STATUS_RUNNING:
            return float(self.progress or 0.0)
        return 0.0


@dataclass(frozen=True)
class JournalEntry:
    """One row of the core's journal worth showing: resumable, or finished but not imported."""

    job_id: str
    task_id: str | None
    status: str
    output_path: str | None
    host: str
    created: str
    resumable: bool


# --- where files go ---------------------------------------------------------------------------
def unsaved_dir() -> Path:
    """Results of an unsaved file wait here (moved beside the .blend on save). Persistent across
    restarts (unlike bpy.app.tempdir), so a resumed job still finds its folder."""
    with contextlib.suppress(ValueError, AttributeError, RuntimeError):
        return Path(bpy.utils.extension_path_user(__package__, path="unsaved", create=True))
    path = Path(tempfile.gettempdir()) / "act_two_unsaved"
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir() -> Path:
    """``//act_two/`` beside the saved .blend, or the unsaved folder."""
    if bpy.data.filepath:
        path = Path(bpy.path.abspath("//" + RESULTS_FOLDER))
        path.mkdir(parents=True, exist_ok=True)
        return path
    return unsaved_dir()


def inputs_dir() -> Path:
    path = results_dir() / "inputs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_output_path(seed: int | None) -> Path:
    stamp = time.strftime("%Y%m%d_%H%M%S")
    tag = f"seed{seed}_" if seed is not None else ""
    return results_dir() / f"act_two_{stamp}_{tag}{uuid.uuid4().hex[:6]}.mp4"


# --- clients ----------------------------------------------------------------------------------
def make_client(api_key: str | None, base_url: str | None) -> Any:
    return client_class()(api_key=api_key, base_url=base_url, host="blender")


def check(request: Any, api_key: str | None, base_url: str | None) -> Any:
    """The core's local checks (no network): raises InputValidationError listing every problem."""
    client = make_client(api_key, base_url)
    try:
        return client.check(request)
    finally:
        client.close()


# --- starting jobs ------------------------------------------------------------------------------
def _worker(
    key: str,
    api_key: str | None,
    base_url: str | None,
    token: Any,
    request: Any,
    checked: Any,
    output_path: Path,
    resume_job_id: str | None,
    reuse: bool,
) -> None:
    """Thread body. Touches no bpy: everything goes back through ``_events``."""
    client = None
    try:
        client = make_client(api_key, base_url)

        def on_event(event: Any) -> None:
            _events.put((key, "event", event))

        if resume_job_id is not None:
            result = client.resume(resume_job_id, on_event=on_event, cancel=token)
        else:
            result = client.generate(
                request, output_path, on_event=on_event, cancel=token, reuse=reuse, checked=checked
            )
        _events.put((key, "result", (result, _probe_result(Path(result.output_path)))))
    except BaseException as exc:  # every failure becomes a message in the panel, none a traceback
        _events.put((key, "error", exc))
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()


def _probe_result(path: Path) -> tuple[float, float] | None:
    """(fps, seconds) from the file's headers, read here so the main thread need not load it."""
    try:
        info = submodule("media.probe").HeaderProber(decode_check=False).probe(path)
    except Exception:
        return None  # the main thread then asks Blender itself
    if not info.fps or not info.duration:
        return None
    return float(info.fps), float(info.duration)


def _start(state: JobState, target: dict[str, Any]) -> JobState:
    state.token = core.CancelToken()
    _jobs[state.key] = state
    thread = threading.Thread(
        target=_worker,
        name=f"act-two-{state.key}",
        kwargs={"key": state.key, "token": state.token, **target},
        daemon=True,
    )
    state.thread = thread
    thread.start()
    return state


def start_generate(
    request: Any,
    *,
    api_key: str | None,
    base_url: str | None,
    scene: bpy.types.Scene,
    frame_start: int,
    match_fps: bool,
    reuse: bool,
    checked: Any = None,
) -> JobState:
    """Start a job on a worker thread. ``checked``: the press's own ``check()`` of ``request``
    (the worker then does not read, probe and hash the media a second time)."""
    reference = getattr(request.reference, "path", None)
    vse.warm_movie_decoder(Path(reference) if reference else None)
    key = uuid.uuid4().hex[:8]
    output = new_output_path(request.seed)
    state = JobState(
        key=key,
        label=f"Act-Two {key}",
        scene_name=scene.name,
        frame_start=frame_start,
        match_fps=match_fps,
        output_path=output,
    )
    return _start(
        state,
        {
            "api_key": api_key,
            "base_url": base_url,
            "request": request,
            "checked": checked,
            "output_path": output,
            "resume_job_id": None,
            "reuse": reuse,
        },
    )


def start_resume(
    job_id: str,
    *,
    api_key: str | None,
    base_url: str | None,
    scene: bpy.types.Scene,
    frame_start: int,
    match_fps: bool,
) -> JobState:
    key = uuid.uuid4().hex[:8]
    state = JobState(
        key=key,
        label=f"Act-Two {job_id[:8]}",
        scene_name=scene.name,
        frame_start=frame_start,
        match_fps=match_fps,
        output_path=Path(),
        resumed=True,
        job_id=job_id,
    )
    return _start(
        state,
        {
            "api_key": api_key,
            "base_url": base_url,
            "request": None,
            "checked": None,
            "output_path": Path(),
            "resume_job_id": job_id,
            "reuse": False,
        },
    )


def cancel(key: str) -> bool:
    state = _jobs.get(key)
    if state is None or state.finished or state.token is None:
        return False
    state.token.cancel()
    state.phase = "cancelling"
    return True


def jobs() -> list[JobState]:
    return list(_jobs.values())


def get(key: str) -> JobState | None:
    return _jobs.get(key)


def active() -> list[JobState]:
    return [s for s in _jobs.values() if not s.finished]


def clear_finished() -> None:
    for key in [k for k, s in _jobs.items() if s.finished]:
        del _jobs[key]


# --- the main-thread side -----------------------------------------------------------------------
def _apply_event(state: JobState, ev: Any) -> None:
    state.phase = ev.kind if state.phase != "cancelling" or ev.kind == "done" else state.phase
    if ev.job_id:
        state.job_id = ev.job_id
        if not state.resumed:
            state.label = f"Act-Two {ev.job_id[:8]}"
    if ev.task_id:
        state.task_id = ev.task_id
    if ev.status:
        state.status = ev.status
    state.progress = ev.progress
    if ev.eta is not None:
        state.eta, state.eta_at = float(ev.eta), time.monotonic()
    if ev.estimated_credits is not None:
        state.estimated_credits = ev.estimated_credits
    if ev.cost_credits is not None:
        state.cost_credits = ev.cost_credits


def _finish(state: JobState, outcome: str, error: str = "") -> None:
    state.finished = True
    state.outcome = outcome
    state.error = error
    state.ended = time.monotonic()
    state.token = None


def _final_location(path: Path) -> Path:
    """A result waiting in the unsaved folder moves beside the .blend once there is one.

    Only from the unsaved folder: a file elsewhere (another project's ``act_two/``, a result
    imported from the journal) may be used by another .blend, so it is referenced, never moved.
    """
    if not bpy.data.filepath:
        return path
    try:
        if path.parent.resolve() != unsaved_dir().resolve():
            return path
    except OSError:
        return path
    moved = vse.move_with_sidecars(path, results_dir())
    return moved.get(path, path)


def import_result(state: JobState, scene: bpy.types.Scene | None = None) -> None:
    """Place ``state.result_path`` on the timeline of its scene at once (main thread only)."""
    if _place_movie(state, scene):
        _place_rest(state, scene)


def _place_movie(state: JobState, scene: bpy.types.Scene | None = None) -> bool:
    """Stage one: the movie strip. True when stage two (``_place_rest``) is due."""
    path = state.result_path
    if path is None:
        return False
    if scene is None and state.detached:
        state.notice = "Another file was opened meanwhile; press Import to place it in this one."
        _finish(state, "ready")
        return False
    scene = scene or bpy.data.scenes.get(state.scene_name)
    if scene is None:
        state.notice = f"Scene '{state.scene_name}' is gone; press Import to use the current scene."
        _finish(state, "ready")
        return False
    state.phase = "importing"
    state.scene_name = scene.name
    try:
        path = _final_location(path)
        state.result_path = path
        fps, seconds = state.media if state.media else (None, None)
        state.placing = vse.place_movie(
            scene,
            path,
            frame_start=state.frame_start,
            name=state.label,
            match_fps=state.match_fps,
            fps=fps,
            duration=seconds,
        )
    except Exception as exc:  # placement problems are shown, the file stays for a manual import
        _placement_failed(state, path, exc)
        return False
    return True


def _place_rest(state: JobState, scene: bpy.types.Scene | None = None) -> None:
    """Stage two: the sound strip, the job's properties, the undo step. ``scene`` is given when
    both stages run at once (an explicit import); a staged job re-finds its scene by name."""
    placed, path = state.placing, state.result_path
    state.placing = None
    if placed is None or path is None:
        return
    if scene is None:
        scene = None if state.detached else bpy.data.scenes.get(state.scene_name)
    if scene is None:
        state.notice = "Another file was opened meanwhile; press Import to place it in this one."
        _finish(state, "ready")
        return
    try:
        result = vse.finish_placement(
            scene, placed, path, name=state.label, job_id=state.job_id, task_id=state.task_id
        )
    except Exception as exc:
        _placement_failed(state, path, exc)
        return
    state.strip_name = result.movie.name
    if not bpy.app.background:  # make the placement one undo step of its own
        with contextlib.suppress(Exception):
            bpy.ops.ed.undo_push(message=f"Import {state.label}")
    if result.fps_mismatch:
        state.notice = (
            f"The video is {result.video_fps:g} fps but the scene is "
            f"{vse.scene_fps(scene):g} fps: press Match Frame Rate so it plays at the right speed."
        )
    _finish(state, "imported")


def _placement_failed(state: JobState, path: Path, exc: Exception) -> None:
    why = str(exc) if isinstance(exc, vse.PlacementError) else messages.describe(exc)
    state.notice = f"The video is saved at {path}; press Import to try placing it again."
    _finish(state, "ready", why)


def _run_stage() -> bool:
    """Run at most one stage of main-thread work; True if one ran."""
    global _journal_dirty
    while _stages:
        stage, key = _stages.popleft()
        state = _jobs.get(key)
        if state is None or state.finished:
            continue
        try:
            if stage == "movie":
                if _place_movie(state):
                    _stages.append(("finish", key))
            else:
                _place_rest(state)
        except Exception as exc:  # a broken stage must not kill the timer
            state.placing = None
            _finish(state, "failed", messages.describe(exc))
        return True
    if _journal_dirty:
        _journal_dirty = False
        with contextlib.suppress(Exception):
            refresh_journal()
        return True
    return False


def _handle(key: str, kind: str, payload: Any) -> None:
    global _journal_dirty
    state = _jobs.get(key)
    if state is None:
        return  # a job from before the add-on was reloaded
    if kind == "event":
        _apply_event(state, payload)
    elif kind == "result":
        payload, media = payload
        state.job_id = payload.job_id or state.job_id
        state.task_id = payload.task_id or state.task_id
        if payload.cost_credits is not None:
            state.cost_credits = payload.cost_credits
        if payload.estimated_credits is not None:
            state.estimated_credits = payload.estimated_credits
        state.result_path = Path(payload.output_path)
        state.media = media
        if getattr(payload, "reused", False):
            state.notice = "Reused an identical earlier result: nothing was spent."
        _stages.append(("movie", key))
        _journal_dirty = True
    elif kind == "error":
        cancelled = isinstance(payload, core.errors.TaskCancelledError)
        _finish(state, "cancelled" if cancelled else "failed", messages.describe(payload))
        _journal_dirty = True
        if not cancelled:
            _popup(state.label, state.error)


def _popup(title: str, text: str) -> None:
    """In the UI, an error that arrives after the operator returned also gets a popup (the
    panel keeps it too). Headless there is nobody to show it to: the panel state is enough."""
    if bpy.app.background or not text:
        return
    wm = bpy.context.window_manager

    def draw(menu: Any, _context: Any) -> None:
        for line in text.strip().splitlines():
            menu.layout.label(text=line)

    with contextlib.suppress(Exception):
        window = bpy.context.window or (wm.windows[0] if wm.windows else None)
        if window is None:
            return
        with bpy.context.temp_override(window=window):
            wm.popup_menu(draw, title=title, icon="ERROR")


def process_pending(block_seconds: float = 0.0) -> int:
    """Apply queued worker messages (waiting up to ``block_seconds`` for the first when no
    main-thread work is due), then run at most one stage of that work. Returns what it did."""
    busy = bool(_stages) or _journal_dirty
    handled = _drain(0.0 if busy else block_seconds)
    if _run_stage():
        handled += 1
    return handled


def _drain(block_seconds: float) -> int:
    handled = 0
    try:
        item = _events.get(timeout=block_seconds) if block_seconds > 0 else _events.get_nowait()
    except queue.Empty:
        return 0
    while True:
        try:
            _handle(*item)
        except Exception as exc:  # never let one bad message kill the timer
            state = _jobs.get(item[0])
            if state is not None and not state.finished:
                _finish(state, "failed", messages.describe(exc))
        handled += 1
        try:
            item = _events.get_nowait()
        except queue.Empty:
            return handled


def redraw() -> None:
    wm = getattr(bpy.context, "window_manager", None)
    if wm is None:
        return
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type in {"VIEW_3D", "SEQUENCE_EDITOR"}:
                area.tag_redraw()


def tick() -> float | None:
    """The timer callback: drain, redraw, and keep running only while jobs are active."""
    with contextlib.suppress(Exception):
        process_pending()
    with contextlib.suppress(Exception):
        redraw()
    return POLL_SECONDS if active() or _stages or _journal_dirty else None


def ensure_timer() -> None:
    if not bpy.app.timers.is_registered(tick):
        bpy.app.timers.register(tick, first_interval=0.1, persistent=True)


def stop_timer() -> None:
    if bpy.app.timers.is_registered(tick):
        bpy.app.timers.unregister(tick)


def wait(state: JobState, timeout: float | None = None) -> None:
    """Background mode: pump the same main-thread step until ``state`` is finished."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not state.finished:
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError("job did not finish in time")
        process_pending(block_seconds=0.2)


# --- the journal (crash recovery) -----------------------------------------------------------------
def refresh_journal(api_key: str | None = None, base_url: str | None = None) -> None:
    """Reload the Resume list from the core's journal (local SQLite, no network)."""
    global _journal_error
    entries: list[JournalEntry] = []
    try:
        client = make_client(api_key, base_url)
        try:
            unfinished = list(client.unfinished_jobs())
            recent = list(client.jobs())
        finally:
            client.close()
    except Exception as exc:
        _journal.clear()
        _journal_error = messages.describe(exc)
        return
    _journal_error = ""
    busy = {s.job_id for s in _jobs.values() if s.job_id and not s.finished}
    unfinished_ids = set()
    for rec in unfinished:
        entry = _entry(rec, resumable=True)
        if entry.job_id in busy:
            continue
        unfinished_ids.add(entry.job_id)
        entries.append(entry)
    placed = _placed_job_ids()
    for rec in recent[-20:]:
        entry = _entry(rec, resumable=False)
        if entry.job_id in unfinished_ids or entry.job_id in busy or entry.job_id in placed:
            continue
        if entry.status != api_surface.STATUS_SUCCEEDED or not entry.output_path:
            continue
        if not Path(entry.output_path).is_file():
            continue
        entries.append(entry)
    _journal[:] = entries


def _entry(rec: Any, *, resumable: bool) -> JournalEntry:
    out = getattr(rec, "output_path", None)
    return JournalEntry(
        job_id=str(getattr(rec, "job_id", "")),
        task_id=getattr(rec, "task_id", None),
        status=str(getattr(rec, "status", "") or ""),
        output_path=str(out) if out else None,
        host=str(getattr(rec, "host", "") or ""),
        created=str(getattr(rec, "created_at", "") or ""),
        resumable=resumable,
    )


def _placed_job_ids() -> set[str]:
    ids: set[str] = set()
    for scene in bpy.data.scenes:
        for s in vse.job_strips(scene):
            ids.add(str(s[vse.JOB_PROP]))
    return ids


def journal() -> list[JournalEntry]:
    return list(_journal)


def journal_error() -> str:
    return _journal_error


def import_file(
    path: Path,
    job_id: str,
    task_id: str | None,
    scene: bpy.types.Scene,
    frame_start: int,
    match_fps: bool,
) -> JobState:
    """Place an already downloaded result (from the journal) as a finished job."""
    state = JobState(
        key=uuid.uuid4().hex[:8],
        label=f"Act-Two {job_id[:8]}",
        scene_name=scene.name,
        frame_start=frame_start,
        match_fps=match_fps,
        output_path=path,
        job_id=job_id,
        task_id=task_id,
        result_path=path,
    )
    _jobs[state.key] = state
    import_result(state, scene)
    return state


# --- saving -----------------------------------------------------------------------------------
def move_unsaved_results(blend_path: str) -> None:
    """Before a save: results in the unsaved folder move to ``//act_two/`` beside the new .blend."""
    if not blend_path:
        return
    dest = Path(blend_path).resolve().parent / RESULTS_FOLDER
    unsaved = unsaved_dir().resolve()
    moves: dict[Path, Path] = {}
    for scene in bpy.data.scenes:
        for s in vse.job_strips(scene):
            stored = s.filepath if s.type == "MOVIE" else (s.sound.filepath if s.sound else "")
            if not stored:
                continue
            src = Path(bpy.path.abspath(stored)).resolve()
            if src.parent != unsaved or not src.is_file():
                continue
            moves.update(vse.move_with_sidecars(src, dest))
    vse.relocate_files(moves, Path(blend_path).resolve().parent)
    for state in _jobs.values():
        if state.result_path is not None and state.result_path in moves:
            state.result_path = moves[state.result_path]


def file_loaded() -> None:
    """Another .blend was opened: running jobs must not drop their strips into it unasked."""
    for state in _jobs.values():
        state.detached = True


def reset() -> None:
    """Forget every job (unregister). Running workers are detached, never cancelled: their tasks
    are paid for, finish on Runway, and stay in the journal for the Resume list."""
    global _journal_dirty
    _jobs.clear()
    _stages.clear()
    _journal_dirty = False
    _journal.clear()
    with contextlib.suppress(queue.Empty):
        while True:
            _events.get_nowait()

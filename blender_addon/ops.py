"""Operators: Generate, Cancel, Resume, Import, Re-roll Seed, Match Frame Rate, Refresh.

Each operator only gathers Blender-side inputs (paths, the camera render) and hands them to the
core; the core validates, spends and downloads. Every failure is caught here and reported in plain
words (``self.report`` + the panel), never as a traceback.

Background mode (``blender -b`` or ``import bpy``) has no event loop, so timers never fire:
``bpy.ops.act_two.generate()`` then pumps the same main-thread step itself until the strip is on
the timeline and returns {'FINISHED'}, or reports the error and returns {'CANCELLED'} (which
Blender turns into a RuntimeError for the calling script). ``mode='ASYNC'`` forces the interactive
behaviour (returns at once; call the add-on's ``jobs.tick()`` to progress), which is what the tests
use to drive jobs exactly as Blender's timer would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy

from . import capture, jobs, messages, prefs, vse
from ._core import api_surface, core, errors, submodule
from .props import random_seed

_last_error = ""

_MODE_ITEMS = [
    ("AUTO", "Auto", "Wait for the result in background mode, run in the background otherwise"),
    ("SYNC", "Wait", "Block until the result is on the timeline"),
    ("ASYNC", "Background", "Return at once; the job runs in a worker thread"),
]


def last_error() -> str:
    return _last_error


def set_last_error(text: str) -> None:
    global _last_error
    _last_error = text


class _Refused(Exception):
    """A reason not to start, already worded for the artist."""


def _require_online() -> None:
    if not bpy.app.online_access:
        raise _Refused(messages.offline_message(bool(bpy.app.online_access_override)))


def _require_configured(api_key: str | None, base_url: str | None) -> None:
    """Missing key / refused URL, found by the core before anything is rendered."""
    config = submodule("config")
    problems = config.resolve_settings(api_key=api_key, base_url=base_url).problems()
    if problems:
        raise errors.ConfigurationError(problems)


def _reference_path(context: bpy.types.Context, props: Any) -> Path:
    if props.reference_source == "STRIP":
        name = props.reference_strip.strip()
        if not name:
            raise _Refused("Choose a movie strip from the sequencer as the reference video.")
        se = vse.vse_scene(context).sequence_editor
        strip = vse.all_strips(se).get(name) if se is not None else None
        if strip is None:
            raise _Refused(f"The sequencer has no strip named '{name}'.")
        if strip.type != "MOVIE":
            raise _Refused(f"Strip '{name}' is not a movie strip; choose a movie as the reference.")
        return Path(bpy.path.abspath(strip.filepath))
    if not props.reference_path.strip():
        raise _Refused("Choose a reference video (a file, or a movie strip in the sequencer).")
    return Path(bpy.path.abspath(props.reference_path))


def _character(context: bpy.types.Context, props: Any) -> tuple[Path, str]:
    source = props.character_source
    if source in ("IMAGE", "VIDEO"):
        if not props.character_path.strip():
            raise _Refused("Choose a character file, or use the camera render as the character.")
        return Path(bpy.path.abspath(props.character_path)), source.lower()
    scene = context.scene
    if source == "FRAMES":
        return capture.render_frame_range_video(scene, props.ratio, jobs.inputs_dir()), "video"
    return capture.render_camera_frame(scene, props.ratio, jobs.inputs_dir()), "image"


def _run(op: Any, context: bpy.types.Context, state: jobs.JobState, mode: str) -> set[str]:
    """Either wait here (background mode) or let the timer take over (interactive)."""
    sync = mode == "SYNC" or (mode == "AUTO" and bpy.app.background)
    if not sync:
        jobs.ensure_timer()
        op.report({"INFO"}, f"{state.label} started; follow it in the Act-Two panel.")
        return {"FINISHED"}
    jobs.wait(state)
    if state.outcome == "imported":
        if state.notice:
            op.report({"WARNING"}, state.notice)
        op.report({"INFO"}, f"{state.label}: placed as strip '{state.strip_name}'.")
        return {"FINISHED"}
    text = state.error or state.notice or f"{state.label} did not finish."
    set_last_error(text)
    op.report({"ERROR"}, text)
    return {"CANCELLED"}


class ACT_TWO_OT_generate(bpy.types.Operator):
    """Render the character, send it with the reference video to Runway Act-Two, and place the
    result in the sequencer"""

    bl_idname = "act_two.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER"}  # noqa: RUF012  (Blender reads a plain set)

    mode: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Mode", items=_MODE_ITEMS, default="AUTO", options={"SKIP_SAVE"}
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        set_last_error("")
        try:
            return self._execute(context)
        except Exception as exc:
            text = str(exc) if isinstance(exc, (_Refused, capture.CaptureError)) else None
            text = text or messages.describe(exc)
            set_last_error(text)
            self.report({"ERROR"}, text)
            return {"CANCELLED"}

    def _execute(self, context: bpy.types.Context) -> set[str]:
        props = context.scene.act_two
        _require_online()
        api_key, base_url = prefs.connection(context)
        _require_configured(api_key, base_url)
        reference = _reference_path(context, props)
        if not props.seed_lock:
            props.seed = random_seed()
        character, kind = _character(context, props)
        request = core.ActTwoRequest(
            character=core.MediaSource.from_path(character),
            reference=core.MediaSource.from_path(reference),
            character_kind=kind,
            ratio=props.ratio,
            seed=int(props.seed),
            body_control=bool(props.body_control),
            expression_intensity=int(props.expression_intensity),
            public_figure_threshold=props.public_figure_threshold,
        )
        checked = jobs.check(request, api_key, base_url)  # every problem at once, nothing sent
        target = vse.vse_scene(context)
        state = jobs.start_generate(
            request,
            checked=checked,
            api_key=api_key,
            base_url=base_url,
            scene=target,
            frame_start=target.frame_current,
            match_fps=bool(props.match_scene_fps),
            reuse=bool(props.reuse_identical and props.seed_lock),
        )
        return _run(self, context, state, self.mode)


class ACT_TWO_OT_cancel(bpy.types.Operator):
    """Stop waiting and cancel the task on Runway"""

    bl_idname = "act_two.cancel"
    bl_label = "Cancel"
    bl_options = {"REGISTER", "INTERNAL"}  # noqa: RUF012  (Blender reads a plain set)

    job_key: bpy.props.StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        if jobs.cancel(self.job_key):
            self.report({"INFO"}, "Cancelling; Runway is told to stop the task.")
            return {"FINISHED"}
        self.report({"WARNING"}, "That job is not running any more.")
        return {"CANCELLED"}


class ACT_TWO_OT_resume(bpy.types.Operator):
    """Finish a job left unfinished by a crash or restart: wait for it, download and import it"""

    bl_idname = "act_two.resume"
    bl_label = "Resume"
    bl_options = {"REGISTER"}  # noqa: RUF012  (Blender reads a plain set)

    job_id: bpy.props.StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    mode: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Mode", items=_MODE_ITEMS, default="AUTO", options={"SKIP_SAVE"}
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        set_last_error("")
        try:
            _require_online()
            if not self.job_id:
                raise _Refused("No job given to resume.")
            api_key, base_url = prefs.connection(context)
            target = vse.vse_scene(context)
            state = jobs.start_resume(
                self.job_id,
                api_key=api_key,
                base_url=base_url,
                scene=target,
                frame_start=target.frame_current,
                match_fps=bool(context.scene.act_two.match_scene_fps),
            )
            jobs.refresh_journal(api_key, base_url)
            return _run(self, context, state, self.mode)
        except Exception as exc:
            text = str(exc) if isinstance(exc, _Refused) else messages.describe(exc)
            set_last_error(text)
            self.report({"ERROR"}, text)
            return {"CANCELLED"}


class ACT_TWO_OT_import_result(bpy.types.Operator):
    """Place a downloaded Act-Two result in the sequencer at the current frame"""

    bl_idname = "act_two.import_result"
    bl_label = "Import"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012  (Blender reads a plain set)

    job_key: bpy.props.StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    job_id: bpy.props.StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    task_id: bpy.props.StringProperty(options={"SKIP_SAVE"})  # type: ignore[valid-type]
    filepath: bpy.props.StringProperty(subtype="FILE_PATH", options={"SKIP_SAVE"})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        target = vse.vse_scene(context)
        match = bool(context.scene.act_two.match_scene_fps)
        try:
            state = jobs.get(self.job_key) if self.job_key else None
            if state is not None and state.result_path is not None:
                state.scene_name = target.name
                state.frame_start = target.frame_current
                state.finished = False
                jobs.import_result(state, target)
            elif self.filepath:
                state = jobs.import_file(
                    Path(bpy.path.abspath(self.filepath)),
                    self.job_id or Path(self.filepath).stem,
                    self.task_id or None,
                    target,
                    target.frame_current,
                    match,
                )
            else:
                raise _Refused("Nothing to import: no result file was given.")
        except Exception as exc:
            text = str(exc) if isinstance(exc, _Refused) else messages.describe(exc)
            self.report({"ERROR"}, text)
            return {"CANCELLED"}
        if state.outcome != "imported":
            self.report({"ERROR"}, state.error or state.notice or "The result was not imported.")
            return {"CANCELLED"}
        jobs.refresh_journal(*prefs.connection(context))
        self.report({"INFO"}, f"Placed as strip '{state.strip_name}'.")
        return {"FINISHED"}


class ACT_TWO_OT_reroll_seed(bpy.types.Operator):
    """Pick a new random seed for another take"""

    bl_idname = "act_two.reroll_seed"
    bl_label = "New Seed"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012  (Blender reads a plain set)

    def execute(self, context: bpy.types.Context) -> set[str]:
        context.scene.act_two.seed = random_seed()
        return {"FINISHED"}


class ACT_TWO_OT_match_fps(bpy.types.Operator):
    """Set the scene frame rate to the Act-Two video's (24 fps) so it plays at the right speed"""

    bl_idname = "act_two.match_fps"
    bl_label = "Match Frame Rate"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012  (Blender reads a plain set)

    def execute(self, context: bpy.types.Context) -> set[str]:
        scene = vse.vse_scene(context)
        movies = vse.job_strips(scene)
        fps = float(movies[0].fps) if movies and movies[0].type == "MOVIE" else None
        fps = fps or float(api_surface.OUTPUT_FPS)
        vse.match_scene_fps(scene, fps)
        self.report({"INFO"}, f"Scene frame rate set to {vse.scene_fps(scene):g} fps.")
        return {"FINISHED"}


class ACT_TWO_OT_refresh_jobs(bpy.types.Operator):
    """Reload unfinished and not-yet-imported jobs from the journal"""

    bl_idname = "act_two.refresh_jobs"
    bl_label = "Refresh"
    bl_options = {"REGISTER", "INTERNAL"}  # noqa: RUF012  (Blender reads a plain set)

    def execute(self, context: bpy.types.Context) -> set[str]:
        jobs.refresh_journal(*prefs.connection(context))
        if jobs.journal_error():
            self.report({"WARNING"}, jobs.journal_error())
        return {"FINISHED"}


class ACT_TWO_OT_clear_finished(bpy.types.Operator):
    """Remove finished jobs from the panel (their strips and files stay)"""

    bl_idname = "act_two.clear_finished"
    bl_label = "Clear Finished"
    bl_options = {"REGISTER", "INTERNAL"}  # noqa: RUF012  (Blender reads a plain set)

    def execute(self, context: bpy.types.Context) -> set[str]:
        jobs.clear_finished()
        set_last_error("")
        return {"FINISHED"}


CLASSES = (
    ACT_TWO_OT_generate,
    ACT_TWO_OT_cancel,
    ACT_TWO_OT_resume,
    ACT_TWO_OT_import_result,
    ACT_TWO_OT_reroll_seed,
    ACT_TWO_OT_match_fps,
    ACT_TWO_OT_refresh_jobs,
    ACT_TWO_OT_clear_finished,
)

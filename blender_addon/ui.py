"""The "Act-Two" sidebar tab, in the 3D viewport and in the Video Sequencer.

Drawing only reads state: the settings on ``scene.act_two``, the jobs ``jobs.py`` keeps, and a
cached probe of the reference (duration and estimated cost, so the price is visible before the
button is pressed). Panels are generated for both editors from one set of draw functions, so the
two tabs cannot drift apart.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import bpy

from . import jobs, messages, ops, vse
from ._core import api_surface, submodule

CATEGORY = "Act-Two"
_probe_cache: dict[tuple[str, int, int], tuple[float | None, str]] = {}


def _lines(layout: Any, text: str, icon: str = "NONE", width: int = 58) -> None:
    first = True
    for para in text.strip().splitlines():
        for line in textwrap.wrap(para, width) or [""]:
            layout.label(text=line, icon=icon if first else "BLANK1")
            first = False


def reference_seconds(path: Path) -> tuple[float | None, str]:
    """(duration, problem) of a reference file, probed once per file version by the core."""
    try:
        st = path.stat()
    except OSError:
        return None, "File not found"
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _probe_cache:
        try:
            info = submodule("media.probe").default_prober().probe(path)
            seconds = float(info.duration) if info.duration else None
            _probe_cache[key] = (seconds, "" if seconds else "Not a video")
        except Exception as exc:
            _probe_cache[key] = (None, messages.first_line(str(exc)) or "Cannot read this file")
        if len(_probe_cache) > 64:
            _probe_cache.pop(next(iter(_probe_cache)))
    return _probe_cache[key]


def _reference_file(context: Any, props: Any) -> Path | None:
    if props.reference_source == "STRIP":
        se = vse.vse_scene(context).sequence_editor
        strip = (
            vse.all_strips(se).get(props.reference_strip) if se and props.reference_strip else None
        )
        return (
            Path(bpy.path.abspath(strip.filepath))
            if strip is not None and strip.type == "MOVIE"
            else None
        )
    return Path(bpy.path.abspath(props.reference_path)) if props.reference_path.strip() else None


def _draw_cost(layout: Any, context: Any, props: Any) -> None:
    path = _reference_file(context, props)
    if path is None:
        layout.label(text="Cost: choose a reference video", icon="INFO")
        return
    seconds, problem = reference_seconds(path)
    if seconds is None:
        layout.label(text=f"Reference: {problem}", icon="ERROR")
        return
    credits = api_surface.estimated_credits(seconds)
    usd = credits * api_surface.USD_PER_CREDIT
    lo, hi = api_surface.REFERENCE_MIN_SECONDS, api_surface.REFERENCE_MAX_SECONDS
    col = layout.column(align=True)
    col.label(text=f"Duration {seconds:.2f} s", icon="TIME")
    col.label(text=f"Estimated cost {credits} credits (${usd:.2f})", icon="FUND")
    tol = api_surface.DURATION_TOLERANCE_SECONDS
    if not (lo - tol <= seconds <= hi + tol):
        col.label(text=f"References must last {lo:g} to {hi:g} seconds", icon="ERROR")


def draw_settings(layout: Any, context: Any) -> None:
    props = context.scene.act_two
    if not bpy.app.online_access:
        box = layout.box()
        _lines(box, messages.offline_message(bool(bpy.app.online_access_override)), "ERROR")

    col = layout.column()
    col.label(text="Reference performance")
    col.row().prop(props, "reference_source", expand=True)
    if props.reference_source == "FILE":
        col.prop(props, "reference_path", text="")
    else:
        se = vse.vse_scene(context).sequence_editor
        if se is None:
            col.label(text="The sequencer is empty", icon="INFO")
        else:
            coll = "strips_all" if hasattr(se, "strips_all") else "sequences_all"
            col.prop_search(props, "reference_strip", se, coll, text="")
    _draw_cost(col, context, props)

    col = layout.column()
    col.label(text="Character")
    col.prop(props, "character_source", text="")
    src = props.character_source
    if src in ("IMAGE", "VIDEO"):
        col.prop(props, "character_path", text="")
    elif context.scene.camera is None:
        col.label(text="The scene has no active camera", icon="ERROR")
    elif src == "FRAMES":
        sc = context.scene
        col.label(
            text=f"Frames {sc.frame_start}-{sc.frame_end} from {sc.camera.name}", icon="CAMERA_DATA"
        )
    else:
        col.label(
            text=f"Frame {context.scene.frame_current} from {context.scene.camera.name}",
            icon="CAMERA_DATA",
        )

    col = layout.column()
    col.prop(props, "ratio")
    row = col.row(align=True)
    row.prop(props, "seed")
    row.prop(props, "seed_lock", text="", icon="LOCKED" if props.seed_lock else "UNLOCKED")
    row.operator("act_two.reroll_seed", text="", icon="FILE_REFRESH")
    col.prop(props, "body_control")
    col.prop(props, "expression_intensity")
    col.prop(props, "public_figure_threshold")
    col.prop(props, "match_scene_fps")
    if props.seed_lock:
        col.prop(props, "reuse_identical")

    row = layout.row()
    row.scale_y = 1.5
    row.operator("act_two.generate", icon="PLAY")
    if ops.last_error():
        box = layout.box()
        _lines(box, ops.last_error(), "ERROR")


def _fmt_seconds(s: float) -> str:
    s = round(s)
    return f"{s // 60}:{s % 60:02d}"


def _draw_fps_offer(layout: Any, context: Any) -> None:
    """Offer to match the scene to the results' frame rate whenever they differ."""
    scene = vse.vse_scene(context)
    movies = [s for s in vse.job_strips(scene) if s.type == "MOVIE"]
    if not movies or not vse.fps_differs(float(movies[0].fps), vse.scene_fps(scene)):
        return
    box = layout.box()
    wrong = vse.mismatched_movies(scene)
    box.label(
        text=f"Scene {vse.scene_fps(scene):g} fps, results {float(movies[0].fps):g} fps"
        + (" (playing too fast/slow)" if wrong else " (stretched to real time)"),
        icon="ERROR" if wrong else "INFO",
    )
    box.operator("act_two.match_fps", icon="TIME")


def draw_jobs(layout: Any, context: Any) -> None:
    _draw_fps_offer(layout, context)
    states = jobs.jobs()
    if not states:
        layout.label(text="No jobs yet")
        return
    for state in reversed(states):
        box = layout.box()
        row = box.row()
        row.label(text=state.label, icon="SEQUENCE")
        if not state.finished:
            op = row.operator("act_two.cancel", text="", icon="CANCEL")
            op.job_key = state.key
        box.progress(factor=state.bar_factor(), type="BAR", text=state.status_text())
        bits = [f"elapsed {_fmt_seconds(state.elapsed)}"]
        if state.eta_left is not None:
            bits.append(f"~{_fmt_seconds(state.eta_left)} left")
        if state.credits is not None:
            word = "cost" if state.cost_credits is not None else "est."
            bits.append(f"{word} {state.credits:g} cr")
        box.label(text=" · ".join(bits))
        if state.error and state.outcome != "cancelled":
            _lines(box, state.error, "ERROR")
        if state.notice:
            _lines(box, state.notice, "INFO")
        if state.outcome == "ready" and state.result_path is not None:
            op = box.operator("act_two.import_result", icon="IMPORT")
            op.job_key = state.key
    if any(s.finished for s in states):
        layout.operator("act_two.clear_finished", icon="TRASH")


def draw_journal(layout: Any, context: Any) -> None:
    row = layout.row()
    row.label(text="From earlier sessions")
    row.operator("act_two.refresh_jobs", text="", icon="FILE_REFRESH")
    if jobs.journal_error():
        _lines(layout, jobs.journal_error(), "ERROR")
    entries = jobs.journal()
    if not entries:
        layout.label(text="Nothing to resume")
        return
    for e in entries:
        row = layout.row()
        host = f" ({e.host})" if e.host and e.host != "blender" else ""
        row.label(text=f"{e.job_id[:8]} {e.status.lower() or 'unknown'}{host}")
        if e.resumable:
            op = row.operator("act_two.resume", text="Resume", icon="PLAY")
            op.job_id = e.job_id
        elif e.output_path:
            op = row.operator("act_two.import_result", text="Import", icon="IMPORT")
            op.filepath = e.output_path
            op.job_id = e.job_id
            op.task_id = e.task_id or ""


def _panel_classes() -> list[type]:
    classes: list[type] = []
    for space, tag in (("VIEW_3D", "VIEW3D"), ("SEQUENCE_EDITOR", "SEQ")):
        main_id = f"ACT_TWO_PT_{tag}_main"

        def main_draw(self: Any, context: Any) -> None:
            draw_settings(self.layout, context)

        def jobs_draw(self: Any, context: Any) -> None:
            draw_jobs(self.layout, context)

        def journal_draw(self: Any, context: Any) -> None:
            draw_journal(self.layout, context)

        common = {"bl_space_type": space, "bl_region_type": "UI", "bl_category": CATEGORY}
        classes.append(
            type(
                main_id,
                (bpy.types.Panel,),
                {**common, "bl_idname": main_id, "bl_label": "Runway Act-Two", "draw": main_draw},
            )
        )
        classes.append(
            type(
                f"ACT_TWO_PT_{tag}_jobs",
                (bpy.types.Panel,),
                {
                    **common,
                    "bl_idname": f"ACT_TWO_PT_{tag}_jobs",
                    "bl_label": "Jobs",
                    "bl_parent_id": main_id,
                    "draw": jobs_draw,
                },
            )
        )
        classes.append(
            type(
                f"ACT_TWO_PT_{tag}_resume",
                (bpy.types.Panel,),
                {
                    **common,
                    "bl_idname": f"ACT_TWO_PT_{tag}_resume",
                    "bl_label": "Resume",
                    "bl_parent_id": main_id,
                    "bl_options": {"DEFAULT_CLOSED"},
                    "draw": journal_draw,
                },
            )
        )
    return classes


CLASSES = tuple(_panel_classes())

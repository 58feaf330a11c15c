"""Video Sequencer helpers that work the same on Blender 4.2 through 5.2.

The sequencer API moved under our feet: ``sequences`` became ``strips`` (4.4, the old name gone in
5.0), ``frame_final_*`` gave way to ``left_handle``/``right_handle`` (5.2), and 5.0 lets the
sequencer show another scene than the 3D view. Everything that touches strips goes through the
small functions here, so the rest of the add-on reads the same on every version.

Timing: Runway returns 24 fps video. A movie strip is sized in *movie* frames, a sound strip in
*scene* time, so in a 30 fps scene the picture would run 25% fast against its own sound. We either
set the scene's frame rate to the video's (the artist's choice, or the "Match Frame Rate"
button) or stretch the picture so it plays in real time: with retiming keys on Blender 5.x, and
on 4.x (where ``retiming_keys.add`` from Python segfaults, seen on 4.5) with a Speed effect in
Stretch mode over the movie strip, whose right handle is extended past its content. Both were
checked frame by frame by rendering the sequencer (tests/blender/test_capture_vse.py).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy

JOB_PROP = "act_two_job_id"
TASK_PROP = "act_two_task_id"
MAX_CHANNEL = 128


class PlacementError(Exception):
    """The result could not be put on the timeline; the message is for the artist."""


def vse_scene(context: Any = None) -> bpy.types.Scene:
    """The scene the sequencer shows (5.0+: ``context.sequencer_scene``), else the context scene."""
    context = context or bpy.context
    return getattr(context, "sequencer_scene", None) or context.scene


def strips_of(se: Any) -> Any:
    """Top-level strip collection: ``strips`` (4.4+) or ``sequences`` (4.2/4.3)."""
    return se.strips if hasattr(se, "strips") else se.sequences


def all_strips(se: Any) -> Any:
    """Every strip including those inside meta strips."""
    return se.strips_all if hasattr(se, "strips_all") else se.sequences_all


def span(strip: Any) -> tuple[int, int]:
    """(first frame, end frame exclusive) without 5.2's deprecation warnings."""
    if hasattr(strip, "left_handle"):
        return int(strip.left_handle), int(strip.right_handle)
    return int(strip.frame_final_start), int(strip.frame_final_end)


def free_channel(se: Any, frame_start: int, frame_end: int, min_channel: int = 1) -> int:
    """Lowest channel >= ``min_channel`` with nothing overlapping [frame_start, frame_end)."""
    busy = set()
    for s in strips_of(se):
        a, b = span(s)
        if a < frame_end and b > frame_start:
            busy.add(s.channel)
    ch = min_channel
    while ch in busy:
        ch += 1
    if ch > MAX_CHANNEL:
        raise PlacementError("The sequencer has no free channel left (128 are in use here).")
    return ch


def scene_fps(scene: bpy.types.Scene) -> float:
    return float(scene.render.fps) / float(scene.render.fps_base)


def set_scene_fps(scene: bpy.types.Scene, fps: float) -> None:
    """29.97 becomes 30/1.001 (Blender's NTSC form); whole rates stay exact."""
    if abs(fps - round(fps)) > 1e-3:
        scene.render.fps, scene.render.fps_base = round(fps * 1.001), 1.001
    else:
        scene.render.fps, scene.render.fps_base = round(fps), 1.0


def fps_differs(a: float, b: float) -> bool:
    return abs(a - b) > 1e-3


def retime_supported() -> bool:
    return bpy.app.version >= (5, 0, 0)


_decoder_warm = False


def warm_movie_decoder(path: Path | None) -> float:
    """Open one video with Blender's own decoder, once per session; returns the seconds spent.

    The first clip Blender opens pays FFmpeg's one-time setup (~5-7 ms here). Paid at the
    Generate press, next to the render and the checks, it is not paid later by the tick that
    puts the result on the timeline while the artist works.
    """
    global _decoder_warm
    if _decoder_warm or path is None or not path.is_file():
        return 0.0
    started = time.perf_counter()
    try:
        clip = bpy.data.movieclips.load(str(path), check_existing=False)
    except RuntimeError:
        return time.perf_counter() - started  # not a file Blender reads: try the next one
    try:
        _decoder_warm = clip.frame_duration > 0
    finally:
        bpy.data.movieclips.remove(clip)
    return time.perf_counter() - started


def probe_movie(path: Path) -> tuple[float, int]:
    """(fps, frame count) read by Blender itself: ``new_movie`` does not fail on a bad file."""
    if not path.is_file():
        raise PlacementError(f"The result file is missing: {path}")
    clip = bpy.data.movieclips.load(str(path), check_existing=False)
    try:
        fps, frames = float(clip.fps), int(clip.frame_duration)
    finally:
        bpy.data.movieclips.remove(clip)
    if fps <= 0 or frames <= 1:
        raise PlacementError(f"Blender cannot read the result video {path.name}.")
    return fps, frames


@dataclass
class Placement:
    movie: Any
    sound: Any | None
    fps_mismatch: bool  # the strip plays at the scene rate, not in real time (not fixable here)
    video_fps: float
    speed: Any | None = None  # the 4.x Speed effect that stretches the movie to real time


def _stored_path(path: Path) -> str:
    """Relative to the .blend when saved (the project folder moves as one), else absolute."""
    if bpy.data.filepath:
        try:
            return str(bpy.path.relpath(str(path)))
        except ValueError:  # another drive on Windows
            pass
    return str(path)


def _add_sound(se: Any, path: Path, name: str, start: int, end: int, above: int) -> Any | None:
    coll = strips_of(se)
    try:
        ch = free_channel(se, start, end, above)
        # Stored path given at once: assigning ``sound.filepath`` later reloads the audio.
        sound = coll.new_sound(
            name=name, filepath=_stored_path(path), channel=ch, frame_start=start
        )
    except RuntimeError:
        return None  # this Blender build has no audio support (the bpy 4.2 wheel)
    if sound.sound is None or sound.sound.samplerate == 0:
        coll.remove(sound)  # the file has no audio stream: Blender made a 1-frame strip
        return None
    return sound


@dataclass
class MoviePlaced:
    """The first half of a placement: the movie strip is on the timeline, its sound not yet."""

    movie: Any
    speed: Any | None
    fps: float
    fps_mismatch: bool
    top_channel: int


def place_movie(
    scene: bpy.types.Scene,
    path: Path,
    *,
    frame_start: int,
    name: str,
    match_fps: bool,
    fps: float | None = None,
    duration: float | None = None,
) -> MoviePlaced:
    """Add the result's movie strip at ``frame_start`` on a free channel (retimed if needed).

    ``fps``/``duration`` from the core's header probe (read off the main thread) spare Blender's
    own probe, which loads the clip a second time; without them Blender probes the file.
    """
    if fps is None or fps <= 0 or duration is None or duration <= 0:
        fps, frames = probe_movie(path)
    else:
        if not path.is_file():
            raise PlacementError(f"The result file is missing: {path}")
        frames = max(2, round(duration * fps))
    if match_fps and fps_differs(scene_fps(scene), fps):
        set_scene_fps(scene, fps)  # before new_sound: sound strips are sized in scene time
    se = scene.sequence_editor or scene.sequence_editor_create()
    coll = strips_of(se)
    mismatch = fps_differs(scene_fps(scene), fps)
    room = frames + 2  # a header estimate can be a frame off Blender's count
    timeline_room = round(room / fps * scene_fps(scene)) if mismatch else room
    ch = free_channel(se, frame_start, frame_start + max(room, timeline_room))
    # The stored (relative) path goes straight in: assigning ``movie.filepath`` afterwards
    # makes Blender open the clip a second time (~8 ms for 30 s of 720p, on the main thread).
    movie = coll.new_movie(
        name=name,
        filepath=_stored_path(path),
        channel=ch,
        frame_start=frame_start,
        fit_method="FIT",
    )
    a, b = span(movie)
    if b - a <= 1 or abs((b - a) - frames) > 2:
        coll.remove(movie)  # Blender made a 1-frame strip: it could not read the file
        raise PlacementError(f"Blender could not load the result video {path.name}.")
    frames = b - a
    timeline_len = round(frames / fps * scene_fps(scene)) if mismatch else frames
    fps_mismatch = False
    speed = None
    if mismatch:
        if retime_supported():
            keys = movie.retiming_keys
            keys.add(timeline_frame=b)
            keys[len(keys) - 1].timeline_frame = frame_start + timeline_len
        else:
            try:
                speed = _stretch_with_speed_effect(se, movie, frame_start + timeline_len)
            except (RuntimeError, TypeError, ValueError):
                fps_mismatch = True  # the panel then offers "Match Frame Rate"
    top = speed.channel if speed is not None else ch
    return MoviePlaced(movie, speed, fps, fps_mismatch, top)


def finish_placement(
    scene: bpy.types.Scene,
    placed: MoviePlaced,
    path: Path,
    *,
    name: str,
    job_id: str,
    task_id: str | None,
) -> Placement:
    """The second half: the sound strip, the job's custom properties, the selection."""
    se = scene.sequence_editor
    movie = placed.movie
    try:
        a, b = span(movie)
    except ReferenceError:
        raise PlacementError("The new strip was removed before its sound was added.") from None
    sound = _add_sound(se, path, f"{name} audio", a, b, placed.top_channel + 1)
    for strip in (movie, sound, placed.speed):
        if strip is not None:
            strip[JOB_PROP] = job_id
            if task_id:
                strip[TASK_PROP] = task_id
    for s in all_strips(se):
        s.select = False
    movie.select = True
    se.active_strip = movie
    return Placement(
        movie=movie,
        sound=sound,
        fps_mismatch=placed.fps_mismatch,
        video_fps=placed.fps,
        speed=placed.speed,
    )


def place_result(
    scene: bpy.types.Scene,
    path: Path,
    *,
    frame_start: int,
    name: str,
    job_id: str,
    task_id: str | None,
    match_fps: bool,
    fps: float | None = None,
    duration: float | None = None,
) -> Placement:
    """Add the result as a movie strip (+ its sound) at ``frame_start`` on free channels."""
    placed = place_movie(
        scene,
        path,
        frame_start=frame_start,
        name=name,
        match_fps=match_fps,
        fps=fps,
        duration=duration,
    )
    return finish_placement(scene, placed, path, name=name, job_id=job_id, task_id=task_id)


def _stretch_with_speed_effect(se: Any, movie: Any, end: int) -> Any:
    """Blender 4.x: hold the movie strip to ``end`` and let a Speed effect (Stretch) spread the
    movie's frames over that length, so it plays in real time at the scene's frame rate."""
    coll = strips_of(se)
    start = span(movie)[0]
    movie.frame_final_end = end
    params = coll.bl_rna.functions["new_effect"].parameters
    source = {"input1": movie} if "input1" in params else {"seq1": movie}  # 4.2 says seq1
    length = {"length": end - start} if "length" in params else {"frame_end": end}
    ch = free_channel(se, start, end, movie.channel + 1)
    speed = coll.new_effect(
        name=f"{movie.name} speed", type="SPEED", channel=ch, frame_start=start, **source, **length
    )
    speed.speed_control = "STRETCH"
    return speed


def job_strips(scene: bpy.types.Scene, job_id: str | None = None) -> list[Any]:
    """Strips this add-on placed (for one job, or all), movie strips first."""
    se = scene.sequence_editor
    if se is None:
        return []
    found = [
        s for s in all_strips(se) if JOB_PROP in s and (job_id is None or s[JOB_PROP] == job_id)
    ]
    order = {"MOVIE": 0, "SOUND": 1}
    return sorted(found, key=lambda s: order.get(s.type, 2))


def mismatched_movies(scene: bpy.types.Scene) -> list[Any]:
    """Act-Two movie strips playing at the wrong speed here (neither matched nor retimed)."""
    out = []
    strips = job_strips(scene)
    stretched = {s[JOB_PROP] for s in strips if s.type == "SPEED"}
    for s in strips:
        if s.type != "MOVIE" or not fps_differs(float(s.fps), scene_fps(scene)):
            continue
        if retime_supported() and len(s.retiming_keys) > 0:
            continue
        if s[JOB_PROP] in stretched:
            continue
        out.append(s)
    return out


def match_scene_fps(scene: bpy.types.Scene, fps: float) -> None:
    """Set the scene rate to ``fps`` and re-time this add-on's strips to it.

    Movie strips drop their retiming (they now play frame for frame); sound strips are re-added,
    because Blender sized them in the old scene time.
    """
    set_scene_fps(scene, fps)
    se = scene.sequence_editor
    if se is None:
        return
    coll = strips_of(se)
    for s in [s for s in job_strips(scene) if s.type == "SPEED"]:
        coll.remove(s)
    for s in job_strips(scene):
        if s.type != "MOVIE":
            continue
        if retime_supported():
            if len(s.retiming_keys) > 0:
                s.retiming_keys.reset()
        elif s.frame_offset_end < 0:  # the 4.x hold added for the Speed effect
            s.frame_final_end = s.frame_final_end + int(s.frame_offset_end)
    for s in [s for s in job_strips(scene) if s.type == "SOUND"]:
        path = Path(bpy.path.abspath(s.sound.filepath))
        name, channel, start = s.name, s.channel, span(s)[0]
        job, task = s.get(JOB_PROP), s.get(TASK_PROP)
        coll.remove(s)
        try:
            new = coll.new_sound(name=name, filepath=str(path), channel=channel, frame_start=start)
        except RuntimeError:
            continue
        new.sound.filepath = _stored_path(path)
        new[JOB_PROP] = job
        if task:
            new[TASK_PROP] = task


def relocate_files(moves: dict[Path, Path], blend_dir: Path | None = None) -> None:
    """Point every strip that uses a moved file at its new place (after a save moved results).

    With ``blend_dir`` the new paths are stored relative to it (``//act_two/...``), as they should
    be in the .blend about to be written there.
    """
    if not moves:
        return
    resolved = {os.path.normcase(str(k.resolve())): v for k, v in moves.items()}

    def stored(target: Path) -> str:
        if blend_dir is None:
            return str(target)
        try:
            return "//" + Path(os.path.relpath(target, blend_dir)).as_posix()
        except ValueError:
            return str(target)

    def new_path(stored: str) -> Path | None:
        key = os.path.normcase(str(Path(bpy.path.abspath(stored)).resolve()))
        return resolved.get(key)

    for scene in bpy.data.scenes:
        for s in job_strips(scene):
            if s.type == "MOVIE":
                target = new_path(s.filepath)
                if target is not None:
                    s.filepath = stored(target)
            elif s.type == "SOUND" and s.sound is not None:
                target = new_path(s.sound.filepath)
                if target is not None:
                    s.sound.filepath = stored(target)


def move_with_sidecars(src: Path, dest_dir: Path) -> dict[Path, Path]:
    """Move ``src`` and its sidecars (``<name>.*``, ``<stem>.*`` beside it) into ``dest_dir``."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    moved: dict[Path, Path] = {}
    for f in sorted(src.parent.iterdir()):
        if f == src or f.name.startswith(src.name + ".") or f.name.startswith(src.stem + "."):
            target = dest_dir / f.name
            if target.exists():
                continue
            shutil.move(str(f), str(target))
            moved[f] = target
    return moved

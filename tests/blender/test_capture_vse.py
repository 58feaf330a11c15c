"""Camera capture (settings restored) and sequencer placement (channels, timing, sound)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest
from blender_helpers import build_camera_scene
from blender_media import make_video

HAS_AUDIO = bpy.app.version >= (4, 3, 0)  # the bpy 4.2 wheel is built without Audaspace


def _snapshot(scene: Any) -> dict[str, Any]:
    """Every plain render/output setting, so 'restored' means all of them, not a chosen few."""
    out: dict[str, Any] = {"frame_current": scene.frame_current}
    r = scene.render
    for label, obj in (("render", r), ("image", r.image_settings), ("ffmpeg", r.ffmpeg)):
        for p in obj.bl_rna.properties:
            if p.identifier == "rna_type" or p.type in {"POINTER", "COLLECTION"}:
                continue
            value = getattr(obj, p.identifier)
            if hasattr(value, "__len__") and not isinstance(value, str):
                value = tuple(value)
            out[f"{label}.{p.identifier}"] = value
    return out


def _user_settings(scene: Any) -> None:
    """Settings an artist might have that the capture must not lose."""
    r = scene.render
    r.resolution_x, r.resolution_y, r.resolution_percentage = 1920, 1080, 50
    r.pixel_aspect_x = 1.25
    r.use_border = True
    if hasattr(r.image_settings, "media_type"):
        r.image_settings.media_type = "VIDEO"
    r.image_settings.file_format = "FFMPEG"
    r.ffmpeg.format = "QUICKTIME"
    r.ffmpeg.audio_codec = "AAC"
    r.filepath = "//renders/user_"
    scene.frame_current = 7
    se = scene.sequence_editor_create()
    coll = se.strips if hasattr(se, "strips") else se.sequences
    length = {"length": 50} if bpy.app.version >= (5, 0, 0) else {"frame_end": 51}
    red = coll.new_effect(name="red", type="COLOR", channel=1, frame_start=1, **length)
    red.color = (1.0, 0.0, 0.0)
    r.use_sequencer = True  # with strips present, a naive render would give the red strip


def _image_size_and_red(path: Path) -> tuple[tuple[int, int], bool]:
    img = bpy.data.images.load(str(path), check_existing=False)
    try:
        size = (int(img.size[0]), int(img.size[1]))
        px = img.pixels[:]
        step = max(4, (len(px) // 4 // 200) * 4)
        samples = [px[i : i + 3] for i in range(0, len(px) - 4, step)]
        all_red = all(s[0] > 0.9 and s[1] < 0.1 and s[2] < 0.1 for s in samples)
    finally:
        bpy.data.images.remove(img)
    return size, all_red


def test_camera_capture_uses_ratio_size_and_restores_settings(
    addon: ModuleType, tmp_path: Path
) -> None:
    scene = build_camera_scene()
    _user_settings(scene)
    before = _snapshot(scene)
    png = addon.capture.render_camera_frame(scene, "720:1280", tmp_path)
    assert _snapshot(scene) == before
    size, all_red = _image_size_and_red(png)
    assert size == (720, 1280)
    assert not all_red, "the sequencer was rendered instead of the camera"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_frame_range_capture_makes_a_character_video(addon: ModuleType, tmp_path: Path) -> None:
    scene = build_camera_scene()
    _user_settings(scene)
    scene.frame_start, scene.frame_end = 1, 6
    before = _snapshot(scene)
    mp4 = addon.capture.render_frame_range_video(scene, "960:960", tmp_path)
    assert _snapshot(scene) == before
    clip = bpy.data.movieclips.load(str(mp4), check_existing=False)
    try:
        assert tuple(clip.size) == (960, 960)
        assert clip.frame_duration == 6
    finally:
        bpy.data.movieclips.remove(clip)


def test_capture_without_camera_says_what_to_do(addon: ModuleType, tmp_path: Path) -> None:
    scene = bpy.context.scene
    scene.camera = None
    before = _snapshot(scene)
    with pytest.raises(addon.capture.CaptureError, match="no active camera"):
        addon.capture.render_camera_frame(scene, "1280:720", tmp_path)
    assert _snapshot(scene) == before


@pytest.fixture(scope="module")
def result_24fps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Stands in for a downloaded Runway result: 24 fps, 4 s, with audio."""
    return make_video(tmp_path_factory.mktemp("vse") / "result.mp4", seconds=4.0, fps=24)


def _blocker(scene: Any, channel: int, start: int, length: int) -> Any:
    se = scene.sequence_editor_create()
    coll = se.strips if hasattr(se, "strips") else se.sequences
    kw = {"length": length} if bpy.app.version >= (5, 0, 0) else {"frame_end": start + length}
    return coll.new_effect(
        name=f"busy{channel}", type="COLOR", channel=channel, frame_start=start, **kw
    )


def test_place_result_on_first_free_channel_with_sound(
    addon: ModuleType, result_24fps: Path
) -> None:
    vse = addon.vse
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 24, 1.0
    _blocker(scene, 1, 1, 200)
    _blocker(scene, 2, 50, 10)
    placed = vse.place_result(
        scene,
        result_24fps,
        frame_start=20,
        name="Act-Two abc",
        job_id="job-1",
        task_id="task-1",
        match_fps=False,
    )
    movie = placed.movie
    assert movie.type == "MOVIE"
    assert movie.channel == 3  # 1 and 2 overlap [20, 116)
    assert vse.span(movie) == (20, 116)
    assert movie["act_two_job_id"] == "job-1" and movie["act_two_task_id"] == "task-1"
    assert movie.name.startswith("Act-Two abc")
    assert scene.sequence_editor.active_strip == movie
    assert not placed.fps_mismatch
    if HAS_AUDIO:
        assert placed.sound is not None
        assert placed.sound.channel == 4
        assert vse.span(placed.sound) == (20, 116)
        assert placed.sound.sound.samplerate > 0
        assert placed.sound["act_two_job_id"] == "job-1"
    else:
        assert placed.sound is None


def test_place_result_in_a_30fps_scene_keeps_real_time(
    addon: ModuleType, result_24fps: Path
) -> None:
    vse = addon.vse
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    placed = vse.place_result(
        scene,
        result_24fps,
        frame_start=1,
        name="Act-Two fps",
        job_id="job-2",
        task_id=None,
        match_fps=False,
    )
    assert vse.scene_fps(scene) == 30.0  # the artist's frame rate is left alone
    assert not placed.fps_mismatch
    assert vse.span(placed.movie) == (1, 121)  # 4 s at 30 fps: stretched to real time
    if vse.retime_supported():
        assert placed.speed is None and len(placed.movie.retiming_keys) == 2
    else:  # 4.x: a Speed effect (Stretch) over the held movie strip
        assert placed.speed.type == "SPEED" and placed.speed.speed_control == "STRETCH"
        assert vse.span(placed.speed) == (1, 121)
        assert placed.speed.channel > placed.movie.channel
    assert vse.mismatched_movies(scene) == []
    if HAS_AUDIO:
        assert vse.span(placed.sound) == (1, 121)
    # the offered fix: match the scene to the video
    assert bpy.ops.act_two.match_fps() == {"FINISHED"}
    assert vse.scene_fps(scene) == 24.0
    assert vse.span(vse.job_strips(scene, "job-2")[0]) == (1, 97)
    assert [s.type for s in vse.job_strips(scene, "job-2")] == ["MOVIE"] + ["SOUND"] * HAS_AUDIO
    assert vse.mismatched_movies(scene) == []
    if HAS_AUDIO:
        sounds = [s for s in vse.job_strips(scene, "job-2") if s.type == "SOUND"]
        assert len(sounds) == 1 and vse.span(sounds[0]) == (1, 97)


def test_place_result_matching_scene_fps(addon: ModuleType, result_24fps: Path) -> None:
    vse = addon.vse
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.001
    placed = vse.place_result(
        scene,
        result_24fps,
        frame_start=1,
        name="Act-Two match",
        job_id="job-3",
        task_id=None,
        match_fps=True,
    )
    assert (scene.render.fps, scene.render.fps_base) == (24, 1.0)
    assert vse.span(placed.movie) == (1, 97)
    if HAS_AUDIO:
        assert vse.span(placed.sound) == (1, 97)


def test_place_result_refuses_an_unreadable_file(addon: ModuleType, tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200)
    with pytest.raises(addon.vse.PlacementError):
        addon.vse.place_result(
            bpy.context.scene,
            bad,
            frame_start=1,
            name="x",
            job_id="j",
            task_id=None,
            match_fps=False,
        )
    se = bpy.context.scene.sequence_editor
    assert se is None or len(addon.vse.strips_of(se)) == 0


def _sequencer_red_at(scene: Any, frame: int, tmp: Path) -> int:
    """Render the sequencer at ``frame`` and read the red level of the movie's right half."""
    scene.frame_set(frame)
    bpy.ops.render.render(write_still=False, scene=scene.name)
    out = tmp / f"seq_{frame}.png"
    bpy.data.images["Render Result"].save_render(str(out), scene=scene)
    img = bpy.data.images.load(str(out), check_existing=False)
    try:
        w, h = img.size
        return round(img.pixels[((h // 2) * w + (3 * w) // 4) * 4] * 255)
    finally:
        bpy.data.images.remove(img)


@pytest.mark.parametrize("match", [False, True])
def test_result_plays_in_real_time_at_30fps(addon: ModuleType, tmp_path: Path, match: bool) -> None:
    """What the viewer sees: at scene time t the picture shows movie frame t * 24 (each movie
    frame i has red level 7 * i mod 255, see blender_media.make_video)."""
    movie = make_video(tmp_path / "frames.mp4", seconds=4.0, fps=24, size=(64, 64), audio=False)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    r = scene.render
    r.resolution_x, r.resolution_y, r.resolution_percentage = 64, 64, 100
    r.use_sequencer = True
    r.image_settings.file_format = "PNG"
    scene.view_settings.view_transform = "Standard"  # no tone mapping of the test colours
    addon.vse.place_result(
        scene, movie, frame_start=1, name="timing", job_id="job-t", task_id=None, match_fps=match
    )
    fps = addon.vse.scene_fps(scene)
    for seconds in (1.0, 2.0, 3.0):
        frame = 1 + round(seconds * fps)
        expected = (round(seconds * 24) * 7) % 255
        assert abs(_sequencer_red_at(scene, frame, tmp_path) - expected) <= 4, (seconds, fps)

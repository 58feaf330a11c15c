"""Whole Act-Two jobs from Blender against the sandbox over real HTTP on 127.0.0.1.

Timers never fire in bpy-module mode, so the interactive path is driven exactly as Blender's
event loop would drive it: ``generate(mode='ASYNC')`` returns at once, then the add-on's timer
callback ``jobs.tick()`` is called repeatedly (``pump``). The background-mode path is the plain
``bpy.ops.act_two.generate()`` call scripts use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy
import pytest
from blender_helpers import EXT_MODULE, ROOT, TREE_MODULE, build_camera_scene, built_zip, pump

HAS_AUDIO = bpy.app.version >= (4, 3, 0)  # the bpy 4.2 wheel is built without Audaspace
REF_FRAMES = 96  # the 4 s reference -> a 4 s, 24 fps preview


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox ticks every 0.05 s; tell the core's scheduler so (Runway's is 5 s)."""
    monkeypatch.setenv("ACT_TWO_POLL_CADENCE", "0.05")


def _settings(reference: Path, character: Path | None = None, seed: int | None = 1234) -> Any:
    props = bpy.context.scene.act_two
    props.reference_source = "FILE"
    props.reference_path = str(reference)
    if character is not None:
        props.character_source = "IMAGE"
        props.character_path = str(character)
    if seed is not None:
        props.seed_lock = True
        props.seed = seed
    return props


def _only_job(addon: ModuleType) -> Any:
    states = addon.jobs.jobs()
    assert len(states) == 1, states
    return states[0]


def _assert_placed(addon: ModuleType, scene: Any, job_id: str, start: int) -> Any:
    strips = addon.vse.job_strips(scene, job_id)
    movie = strips[0]
    assert movie.type == "MOVIE"
    assert addon.vse.span(movie) == (start, start + REF_FRAMES)
    assert movie["act_two_job_id"] == job_id
    assert job_id[:8] in movie.name
    if HAS_AUDIO:  # the sandbox copies the reference's audio into the preview
        assert len(strips) == 2 and strips[1].type == "SOUND"
        assert addon.vse.span(strips[1]) == (start, start + REF_FRAMES)
        assert strips[1].sound.samplerate > 0
    return movie


def test_camera_to_timeline_driven_by_the_timer(
    addon: ModuleType, sandbox: Any, reference_video: Path
) -> None:
    scene = build_camera_scene()
    scene.frame_current = 10
    props = _settings(reference_video, seed=None)
    props.ratio = "960:960"
    assert bpy.ops.act_two.generate(mode="ASYNC") == {"FINISHED"}
    assert bpy.app.timers.is_registered(addon.jobs.tick)
    state = _only_job(addon)
    assert not state.finished  # generate returned while the job runs in its worker thread
    seen: set[str] = set()

    def done() -> bool:
        seen.add(state.status_text().split(" ")[0])
        return bool(state.finished)

    pump(addon, done)
    assert state.outcome == "imported", state.error
    assert addon.jobs.tick() is None  # the timer stops itself once nothing runs
    assert "Running" in seen or "Queued" in seen
    assert len(bpy.data.movieclips) == 0  # the press warmed Blender's decoder, left no clip
    assert addon.vse.warm_movie_decoder(reference_video) == 0.0  # once per session
    movie = _assert_placed(addon, scene, state.job_id, 10)
    assert movie.channel == 1
    assert sandbox.count("create") == 1
    info = sandbox.task_info(state.task_id)
    assert info["ratio"] == "960:960" and info["characterKind"] == "image"
    assert state.cost_credits == 20 and state.estimated_credits == 20
    assert 0 <= props.seed <= 2**31 - 1  # an unlocked seed was rolled and shown
    rec = addon.jobs.make_client(None, None).journal.get(state.job_id)
    assert rec is not None and rec.host == "blender" and rec.state == "succeeded"
    assert Path(rec.output_path).is_file()


def test_background_mode_generate_is_synchronous(
    addon: ModuleType, sandbox: Any, reference_video: Path
) -> None:
    scene = build_camera_scene()
    scene.frame_current = 5
    _settings(reference_video)
    assert bpy.app.background
    assert bpy.ops.act_two.generate() == {"FINISHED"}
    state = _only_job(addon)
    assert state.finished and state.outcome == "imported"
    _assert_placed(addon, scene, state.job_id, 5)
    assert sandbox.count("create") == 1


def test_several_jobs_at_once(
    addon: ModuleType, sandbox: Any, reference_video: Path, character_image: Path
) -> None:
    scene = bpy.context.scene
    _settings(reference_video, character_image, seed=None)
    assert bpy.ops.act_two.generate(mode="ASYNC") == {"FINISHED"}
    assert bpy.ops.act_two.generate(mode="ASYNC") == {"FINISHED"}
    states = addon.jobs.jobs()
    assert len(states) == 2 and len(addon.jobs.active()) == 2
    pump(addon, lambda: not addon.jobs.active())
    assert [s.outcome for s in states] == ["imported", "imported"], [s.error for s in states]
    assert sandbox.count("create") == 2
    movies = [addon.vse.job_strips(scene, s.job_id)[0] for s in states]
    assert len({m.channel for m in movies}) == 2  # same frame, so different channels


def test_cancel_mid_job_deletes_the_task(
    addon: ModuleType, sandbox: Any, reference_video: Path, character_image: Path
) -> None:
    sandbox.configure(task_seconds=60.0)
    _settings(reference_video, character_image)
    assert bpy.ops.act_two.generate(mode="ASYNC") == {"FINISHED"}
    state = _only_job(addon)
    pump(addon, lambda: bool(state.task_id) and state.status in ("PENDING", "RUNNING"))
    assert bpy.ops.act_two.cancel(job_key=state.key) == {"FINISHED"}
    pump(addon, lambda: state.finished, timeout=30)
    assert state.outcome == "cancelled"
    assert "Cancelled" in state.status_text()
    assert sandbox.count("delete") == 1
    deletes = sandbox.requests("delete")
    assert deletes[0]["path"].endswith(state.task_id)
    assert addon.vse.job_strips(bpy.context.scene) == []
    # nothing left to cancel: a warning (not an error), and no second DELETE
    assert bpy.ops.act_two.cancel(job_key=state.key) == {"CANCELLED"}
    assert sandbox.count("delete") == 1


def test_online_access_off_sends_nothing(
    addon: ModuleType, sandbox: Any, reference_video: Path, character_image: Path
) -> None:
    bpy.context.preferences.system.use_online_access = False
    assert not bpy.app.online_access
    _settings(reference_video, character_image)
    with pytest.raises(RuntimeError, match="Online access is off"):
        bpy.ops.act_two.generate()
    assert "Allow Online Access" in addon.ops.last_error()
    assert sandbox.requests() == []
    assert addon.jobs.jobs() == []


def test_failed_task_is_reported_in_plain_words(
    addon: ModuleType, sandbox: Any, reference_video: Path, character_image: Path
) -> None:
    sandbox.faults.add(
        action="fail_task",
        failure_code="SAFETY.INPUT.IMAGE",
        failure="The character image did not pass moderation.",
    )
    _settings(reference_video, character_image)
    with pytest.raises(RuntimeError) as info:
        bpy.ops.act_two.generate()
    text = str(info.value)
    assert "Runway could not make this video [SAFETY.INPUT.IMAGE]" in text
    assert "Change the inputs" in text
    assert "Traceback" not in text
    state = _only_job(addon)
    assert state.outcome == "failed" and state.error == addon.ops.last_error()
    assert addon.vse.job_strips(bpy.context.scene) == []
    assert sandbox.count("create") == 1


def test_bad_input_is_refused_before_any_request(
    addon: ModuleType, sandbox: Any, short_video: Path, character_image: Path
) -> None:
    _settings(short_video, character_image)
    with pytest.raises(RuntimeError, match="nothing was spent"):
        bpy.ops.act_two.generate()
    assert "reference" in addon.ops.last_error()
    assert sandbox.requests() == []
    assert addon.jobs.jobs() == []


def test_missing_key_is_refused_before_rendering(
    addon: ModuleType, addon_name: str, sandbox: Any, reference_video: Path
) -> None:
    bpy.context.preferences.addons[addon_name].preferences.api_key = ""
    build_camera_scene()
    _settings(reference_video)
    renders_before = len(list(addon.jobs.inputs_dir().glob("character_*")))
    with pytest.raises(RuntimeError, match="API key"):
        bpy.ops.act_two.generate()
    assert "Preferences > Add-ons" in addon.ops.last_error()
    assert sandbox.requests() == []
    assert len(list(addon.jobs.inputs_dir().glob("character_*"))) == renders_before


def test_key_from_environment_is_used(
    addon: ModuleType,
    addon_name: str,
    sandbox: Any,
    reference_video: Path,
    character_image: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bpy.context.preferences.addons[addon_name].preferences.api_key = ""
    monkeypatch.setenv("RUNWAYML_API_SECRET", sandbox.api_key)
    _settings(reference_video, character_image)
    assert bpy.ops.act_two.generate() == {"FINISHED"}
    assert sandbox.count("create") == 1


def test_locked_seed_reuses_an_identical_result(
    addon: ModuleType, sandbox: Any, reference_video: Path, character_image: Path
) -> None:
    _settings(reference_video, character_image, seed=777)
    assert bpy.ops.act_two.generate() == {"FINISHED"}
    bpy.context.scene.frame_current = 200
    assert bpy.ops.act_two.generate() == {"FINISHED"}
    first, second = addon.jobs.jobs()
    assert sandbox.count("create") == 1  # the second press cost nothing
    assert "nothing was spent" in second.notice
    assert second.job_id == first.job_id  # the same paid job, placed a second time
    strip = addon.vse.all_strips(bpy.context.scene.sequence_editor)[second.strip_name]
    assert addon.vse.span(strip)[0] == 200


def test_saved_blend_has_no_key_and_results_move_beside_it(
    addon: ModuleType, sandbox: Any, reference_video: Path, tmp_path: Path
) -> None:
    build_camera_scene()
    _settings(reference_video)
    assert bpy.ops.act_two.generate() == {"FINISHED"}
    state = _only_job(addon)
    unsaved_result = state.result_path
    assert unsaved_result.parent == addon.jobs.unsaved_dir()
    blend = tmp_path / "project" / "shot.blend"
    blend.parent.mkdir()
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), compress=False)
    data = blend.read_bytes()
    key = sandbox.api_key.encode()
    assert key not in data and key[4:40] not in data
    # the result moved into //act_two/ beside the .blend and the strips follow it
    movie = addon.vse.job_strips(bpy.context.scene, state.job_id)[0]
    assert movie.filepath.startswith("//act_two/")
    moved = Path(bpy.path.abspath(movie.filepath))
    assert moved.is_file() and moved.parent == blend.parent / "act_two"
    assert not unsaved_result.exists()
    assert (moved.parent / (moved.name + ".json")).is_file()  # the sidecar came along
    # nothing the add-on or the core wrote holds the key either
    for folder in (blend.parent, Path(os.environ["ACT_TWO_DATA_DIR"]), addon.jobs.unsaved_dir()):
        for f in folder.rglob("*"):
            if f.is_file():
                assert key not in f.read_bytes(), f
    # a result finished after saving lands in //act_two/ directly
    bpy.context.scene.frame_current = 300
    assert bpy.ops.act_two.generate() == {"FINISHED"}
    latest = addon.jobs.jobs()[-1]
    assert latest.result_path.parent == blend.parent / "act_two"
    # placed from a relative path in one go: the clip and its sound really loaded
    movie, sound = addon.vse.job_strips(bpy.context.scene, latest.job_id)[:2]
    assert movie.filepath == f"//act_two/{latest.result_path.name}"
    a, b = addon.vse.span(movie)
    fps, seconds = latest.media  # read from the file's headers by the worker
    assert a == 300 and abs((b - a) - seconds * fps) <= 1 and b - a > 24
    if sound.type == "SOUND":  # (a bpy build without audio places no sound strip)
        assert sound.sound.filepath == movie.filepath and sound.sound.samplerate > 0


_CRASH_SCRIPT = r"""
import json, os, sys, time
import bpy, addon_utils
args = json.loads(sys.argv[1])
if args["zip"]:
    bpy.ops.extensions.package_install_files(
        filepath=args["zip"], repo="user_default", enable_on_install=True)
else:
    sys.path.insert(0, args["root"])
    addon_utils.enable(args["module"], default_set=True)
mod = sys.modules[args["module"]]
p = bpy.context.preferences.addons[args["module"]].preferences
p.api_key, p.base_url = args["key"], args["url"]
bpy.context.preferences.system.use_online_access = True
s = bpy.context.scene.act_two
s.reference_path, s.character_source, s.character_path = args["ref"], "IMAGE", args["char"]
s.seed_lock, s.seed = True, 4242
assert bpy.ops.act_two.generate(mode="ASYNC") == {"FINISHED"}
state = mod.jobs.jobs()[0]
deadline = time.monotonic() + 60
while not state.task_id and time.monotonic() < deadline:
    mod.jobs.tick()
    time.sleep(0.02)
print("SUBMITTED " + json.dumps({"job_id": state.job_id, "task_id": state.task_id}), flush=True)
os._exit(3)  # a crash: no unregister, no cleanup, the worker dies mid-wait
"""


def test_restart_and_resume_from_the_journal(
    addon: ModuleType,
    addon_name: str,
    sandbox: Any,
    reference_video: Path,
    character_image: Path,
    tmp_path: Path,
) -> None:
    sandbox.configure(task_seconds=2.0)
    from_zip = addon_name == EXT_MODULE
    args = {
        "zip": str(built_zip()) if from_zip else "",
        "module": EXT_MODULE if from_zip else TREE_MODULE,
        "root": str(ROOT),
        "key": sandbox.api_key,
        "url": sandbox.base_url,
        "ref": str(reference_video),
        "char": str(character_image),
    }
    env = dict(os.environ, BLENDER_USER_RESOURCES=tempfile.mkdtemp(dir=tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_SCRIPT, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("SUBMITTED ")]
    assert proc.returncode == 3 and lines, proc.stdout[-2000:] + proc.stderr[-2000:]
    crashed = json.loads(lines[-1].removeprefix("SUBMITTED "))
    assert sandbox.count("create") == 1

    # "Blender starts again": the Resume list comes from the journal
    bpy.ops.wm.read_homefile(use_empty=True)  # load_post refreshes the list
    entries = [e for e in addon.jobs.journal() if e.job_id == crashed["job_id"]]
    assert len(entries) == 1 and entries[0].resumable
    bpy.context.scene.frame_current = 30
    assert bpy.ops.act_two.resume(job_id=crashed["job_id"]) == {"FINISHED"}
    state = _only_job(addon)
    assert state.outcome == "imported", state.error
    assert state.task_id == crashed["task_id"]
    _assert_placed(addon, bpy.context.scene, crashed["job_id"], 30)
    assert sandbox.count("create") == 1  # resumed, never paid twice
    addon.jobs.refresh_journal()
    assert not [e for e in addon.jobs.journal() if e.job_id == crashed["job_id"]]


def test_reference_from_a_sequencer_strip(
    addon: ModuleType, sandbox: Any, reference_video: Path, character_image: Path
) -> None:
    scene = bpy.context.scene
    se = scene.sequence_editor_create()
    ref = addon.vse.strips_of(se).new_movie(
        name="performance", filepath=str(reference_video), channel=1, frame_start=1
    )
    props = _settings(reference_video, character_image)
    props.reference_path = ""
    props.reference_source = "STRIP"
    props.reference_strip = ref.name
    assert bpy.ops.act_two.generate() == {"FINISHED"}
    state = _only_job(addon)
    movie = addon.vse.job_strips(scene, state.job_id)[0]
    assert movie.channel > 1  # the reference strip occupies channel 1 at these frames
    assert sandbox.task_info(state.task_id)["referenceDuration"] == pytest.approx(4.0, abs=0.1)
    props.reference_strip = "no such strip"
    with pytest.raises(RuntimeError, match="no strip named"):
        bpy.ops.act_two.generate()


def test_rendered_frame_range_as_character_video(
    addon: ModuleType, sandbox: Any, reference_video: Path
) -> None:
    scene = build_camera_scene()
    scene.frame_start, scene.frame_end = 1, 4
    props = _settings(reference_video)
    props.character_source = "FRAMES"
    props.ratio = "832:1104"
    assert bpy.ops.act_two.generate() == {"FINISHED"}
    state = _only_job(addon)
    info = sandbox.task_info(state.task_id)
    assert info["characterKind"] == "video" and info["ratio"] == "832:1104"
    assert (scene.frame_start, scene.frame_end) == (1, 4)


def test_opening_another_file_holds_the_result_for_import(
    addon: ModuleType, sandbox: Any, reference_video: Path, character_image: Path
) -> None:
    _settings(reference_video, character_image)
    assert bpy.ops.act_two.generate(mode="ASYNC") == {"FINISHED"}
    state = _only_job(addon)
    bpy.ops.wm.read_homefile(use_empty=True)  # the artist opens another file meanwhile
    pump(addon, lambda: state.finished)
    assert state.outcome == "ready" and "Another file" in state.notice
    assert addon.vse.job_strips(bpy.context.scene) == []
    bpy.context.scene.frame_current = 12
    assert bpy.ops.act_two.import_result(job_key=state.key) == {"FINISHED"}
    assert state.outcome == "imported"
    _assert_placed(addon, bpy.context.scene, state.job_id, 12)


def test_job_started_unsaved_and_finished_after_saving_lands_beside_the_blend(
    addon: ModuleType,
    sandbox: Any,
    reference_video: Path,
    character_image: Path,
    tmp_path: Path,
) -> None:
    _settings(reference_video, character_image)
    assert bpy.ops.act_two.generate(mode="ASYNC") == {"FINISHED"}
    state = _only_job(addon)
    assert state.output_path.parent == addon.jobs.unsaved_dir()
    blend = tmp_path / "later.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    pump(addon, lambda: state.finished)
    assert state.outcome == "imported", state.error
    assert state.result_path.parent == tmp_path / "act_two"
    movie = addon.vse.job_strips(bpy.context.scene, state.job_id)[0]
    assert movie.filepath == f"//act_two/{state.result_path.name}"
    assert (state.result_path.parent / (state.result_path.name + ".json")).is_file()


def test_placement_is_spread_over_ticks_so_no_tick_does_it_all(
    addon: ModuleType, sandbox: Any, reference_video: Path, character_image: Path
) -> None:
    """One tick adds the movie strip, the next its sound and job properties (benchmark 4)."""
    import time

    scene = build_camera_scene()
    _settings(reference_video, character_image)
    assert bpy.ops.act_two.generate(mode="ASYNC") == {"FINISHED"}
    state = _only_job(addon)
    deadline = time.monotonic() + 90
    while state.phase != "importing" and not state.finished:
        assert time.monotonic() < deadline, (state.phase, state.error)
        addon.jobs.tick()
        time.sleep(0.02)
    assert not state.finished  # the movie is placed, the rest waits for the next tick
    se = scene.sequence_editor
    movies = [s for s in addon.vse.all_strips(se) if s.type == "MOVIE"]
    assert len(movies) == 1 and "act_two_job_id" not in movies[0]
    assert not [s for s in addon.vse.all_strips(se) if s.type == "SOUND"]
    addon.jobs.tick()
    assert state.finished and state.outcome == "imported", state.error
    _assert_placed(addon, scene, state.job_id, scene.frame_current)
    addon.jobs.tick()  # the deferred journal refresh
    assert addon.jobs.tick() is None


def test_a_file_opened_between_the_two_placement_ticks_holds_the_result(
    addon: ModuleType, sandbox: Any, reference_video: Path, character_image: Path
) -> None:
    import time

    _settings(reference_video, character_image)
    assert bpy.ops.act_two.generate(mode="ASYNC") == {"FINISHED"}
    state = _only_job(addon)
    deadline = time.monotonic() + 90
    while state.phase != "importing" and not state.finished:
        assert time.monotonic() < deadline, (state.phase, state.error)
        addon.jobs.tick()
        time.sleep(0.02)
    bpy.ops.wm.read_homefile(use_empty=True)  # the artist opens another file right then
    pump(addon, lambda: state.finished)
    assert state.outcome == "ready" and "Another file" in state.notice
    assert addon.vse.job_strips(bpy.context.scene) == []

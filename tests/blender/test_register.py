"""Install, register, unregister, package: the extension as Blender sees it."""

from __future__ import annotations

import sys
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import addon_utils
import bpy
import pytest
from blender_helpers import ROOT, build_camera_scene, built_zip


def _our_classes() -> list[str]:
    return [n for n in dir(bpy.types) if n.startswith(("ACT_TWO_", "ActTwo"))]


def _our_handlers(module_prefix: str) -> list[str]:
    found = []
    for name in dir(bpy.app.handlers):
        handlers = getattr(bpy.app.handlers, name)
        if isinstance(handlers, list):
            found += [
                f"{name}:{fn.__name__}"
                for fn in handlers
                if getattr(fn, "__module__", "").startswith(module_prefix)
            ]
    return found


def test_registered_parts_are_present(addon: ModuleType, addon_name: str) -> None:
    assert hasattr(bpy.context.scene, "act_two")
    assert "ACT_TWO_OT_generate" in dir(bpy.types)
    assert "ACT_TWO_PT_VIEW3D_main" in dir(bpy.types)
    assert "ACT_TWO_PT_SEQ_main" in dir(bpy.types)
    assert sorted(_our_handlers(addon_name)) == ["load_post:_on_load_post", "save_pre:_on_save_pre"]
    prefs = bpy.context.preferences.addons[addon_name].preferences
    assert prefs.bl_rna.properties["api_key"].subtype == "PASSWORD"


def test_unregister_leaves_no_trace(addon: ModuleType, addon_name: str) -> None:
    addon.jobs.ensure_timer()  # as if a job had been started from the UI
    assert bpy.app.timers.is_registered(addon.jobs.tick)
    addon_utils.disable(addon_name, default_set=True)
    try:
        assert _our_classes() == []
        assert not hasattr(bpy.types.Scene, "act_two")
        assert not bpy.app.timers.is_registered(addon.jobs.tick)
        assert _our_handlers(addon_name) == []
        assert addon_name not in bpy.context.preferences.addons
    finally:
        addon_utils.enable(addon_name, default_set=True)
    assert "ACT_TWO_OT_generate" in dir(bpy.types)
    assert hasattr(bpy.context.scene, "act_two")
    # the re-enabled module is a fresh import: keep the session fixture's module in sync
    assert sys.modules[addon_name].jobs.jobs() == []


def test_zip_is_valid_and_bundles_the_core(addon: ModuleType, addon_name: str) -> None:
    path = built_zip()
    assert "blender" in path.name
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
    assert manifest["id"] == "act_two" and manifest["type"] == "add-on"
    assert manifest["blender_version_min"] == "4.2.0"
    perms = manifest["permissions"]
    assert set(perms) == {"network", "files"}
    for reason in perms.values():
        assert len(reason) <= 64 and not reason.endswith(".")
    assert (
        "_vendor/runway_act_two/client.py" in names or "_vendor/runway_act_two/__init__.py" in names
    )
    assert not any(n.startswith("_vendor/runway_act_two/sandbox/") for n in names)
    assert not any("__pycache__" in n for n in names)
    with (ROOT / "pyproject.toml").open("rb") as fh:
        assert manifest["version"] == tomllib.load(fh)["project"]["version"]
    if addon_name.startswith("bl_ext."):
        # the installed extension runs on its bundled core, not on the developer's install
        assert addon._core.VENDORED
        assert addon._core.core.__name__ == f"{addon_name}._vendor.runway_act_two"


def test_core_imports_nothing_stock_blender_lacks(addon: ModuleType) -> None:
    """The vendored core must import with requests only: no av, PIL or numpy at import time."""
    core_name = addon._core.core.__name__
    loaded = [m for m in sys.modules if m.startswith(core_name)]
    assert loaded
    for mod_name in loaded:
        src = getattr(sys.modules[mod_name], "__file__", None) or ""
        if not src.endswith(".py"):
            continue
        text = Path(src).read_text(encoding="utf-8")
        for line in text.splitlines():
            stripped = line.strip()
            if line.startswith(("import ", "from ")) and not stripped.startswith("from ."):
                top = stripped.split()[1].split(".")[0]
                assert top not in {"av", "PIL", "numpy", "torch"}, f"{mod_name}: {stripped}"


class _Recorder:
    """A stand-in UILayout that accepts every call, so draw code runs without a window."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            return self

        return call

    def texts(self) -> list[str]:
        return [str(kw.get("text", "")) for _, _, kw in self.calls]


def test_panels_draw_every_state(addon: ModuleType, reference_video: Any) -> None:
    """Draw code runs for settings, jobs and journal in each state it can show."""
    build_camera_scene()
    props = bpy.context.scene.act_two
    props.reference_path = str(reference_video)
    layout = _Recorder()
    addon.ui.draw_settings(layout, bpy.context)
    texts = layout.texts()
    assert any("Estimated cost 20 credits ($0.20)" in t for t in texts), texts
    assert any("Duration 4.00 s" in t for t in texts), texts
    bpy.context.preferences.system.use_online_access = False
    layout = _Recorder()
    addon.ui.draw_settings(layout, bpy.context)
    assert "Allow Online Access" in " ".join(layout.texts())  # wrapped over lines
    props.reference_source = "STRIP"
    props.character_source = "FRAMES"
    addon.ui.draw_settings(_Recorder(), bpy.context)
    state = addon.jobs.JobState(
        key="k1",
        label="Act-Two test",
        scene_name="Scene",
        frame_start=1,
        match_fps=False,
        output_path=ROOT / "x.mp4",
    )
    addon.jobs._jobs[state.key] = state
    for phase, status, progress in [
        ("starting", "", None),
        ("status", "RUNNING", 0.4),
        ("downloading", "", 0.5),
    ]:
        state.phase, state.status, state.progress = phase, status, progress
        layout = _Recorder()
        addon.ui.draw_jobs(layout, bpy.context)
        assert any(c[0] == "progress" for c in layout.calls)
    state.phase, state.status, state.progress = "status", "RUNNING", 0.4
    assert state.status_text() == "Running 40%"
    state.finished, state.outcome, state.error = True, "failed", "Runway could not make this video."
    layout = _Recorder()
    addon.ui.draw_jobs(layout, bpy.context)
    assert "could not make this video" in " ".join(layout.texts())
    addon.ui.draw_journal(_Recorder(), bpy.context)
    # a result in a 30 fps scene: the jobs panel offers to match the frame rate
    scene = bpy.context.scene
    scene.render.fps = 30
    addon.vse.place_result(
        scene, reference_video, frame_start=1, name="r", job_id="j", task_id=None, match_fps=False
    )
    layout = _Recorder()
    addon.ui.draw_jobs(layout, bpy.context)
    assert "Scene 30 fps, results 24 fps (stretched to real time)" in layout.texts()
    assert any(c[0] == "operator" and c[1] == ("act_two.match_fps",) for c in layout.calls)


def test_zip_check_rejects_a_bad_package(tmp_path: Path) -> None:
    """The builder's own checks fail loudly (they are what `make dist` relies on)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "build_blender_zip", ROOT / "tools" / "build_blender_zip.py"
    )
    assert spec is not None and spec.loader is not None
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    good = built_zip()
    builder.check_zip(good)  # the real zip passes
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "blender_manifest.toml":
                data = data.replace(b'the results"', b'the results."')
            elif item.filename.startswith("_vendor/"):
                continue
            dst.writestr(item, data)
    with pytest.raises(builder.BuildError) as info:
        builder.check_zip(bad)
    text = str(info.value)
    assert "permission 'network'" in text
    assert "bundled core file missing" in text


def test_worker_threads_never_touch_bpy(addon: ModuleType) -> None:
    """The worker body and what it calls reach no bpy name (only the main-thread tick does)."""
    for fn in (addon.jobs._worker, addon.jobs.make_client, addon._core.client_class):
        code = fn.__code__
        names = set(code.co_names) | {
            n for c in code.co_consts if hasattr(c, "co_names") for n in c.co_names
        }
        assert "bpy" not in names, fn.__name__
    assert "bpy" not in vars(addon._core)

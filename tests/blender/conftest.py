"""Fixtures for the Blender tests: real bpy (from PyPI), the built extension zip, a live sandbox.

Run with a bpy venv, never with .venv:
    timeout 900 .venv-bpy45/bin/python -m pytest tests/blender
    timeout 900 .venv-bpy52/bin/python -m pytest tests/blender

Blender keeps its user config under BLENDER_USER_RESOURCES, which must be set before ``import
bpy``: it points at a temporary folder so the developer's real Blender setup is never touched.
The extension is installed from the zip in dist/ exactly as an artist would (rebuilt first when
the sources are newer); ACT_TWO_BLENDER_FROM_TREE=1 enables it from the source tree instead.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

_USER_DIR = tempfile.mkdtemp(prefix="act_two_bpy_user_")
os.environ["BLENDER_USER_RESOURCES"] = _USER_DIR

bpy = pytest.importorskip("bpy", reason="tests/blender needs bpy: run them with .venv-bpy45/52")

import addon_utils  # noqa: E402  (bpy must come first)
from blender_helpers import (  # noqa: E402
    EXT_MODULE,
    ROOT,
    TREE_MODULE,
    build_camera_scene,
    built_zip,
)
from blender_media import make_image, make_video  # noqa: E402


def _enable() -> str:
    if os.environ.get("ACT_TWO_BLENDER_FROM_TREE"):
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        addon_utils.enable(TREE_MODULE, default_set=True, handle_error=_raise)
        return TREE_MODULE
    result = bpy.ops.extensions.package_install_files(
        filepath=str(built_zip()), repo="user_default", enable_on_install=True
    )
    assert result == {"FINISHED"}, result
    return EXT_MODULE


def _raise(exc: BaseException) -> None:
    raise exc


@pytest.fixture(scope="session")
def addon_name() -> Iterator[str]:
    name = _enable()
    assert name in bpy.context.preferences.addons
    yield name
    # Unregister before the interpreter exits: 4.x hangs at exit on leaked timers/handlers.
    if name in bpy.context.preferences.addons:
        addon_utils.disable(name, default_set=True)
    shutil.rmtree(_USER_DIR, ignore_errors=True)


@pytest.fixture
def addon(addon_name: str) -> ModuleType:
    """The enabled add-on package (its submodules: jobs, ops, vse, capture, ...); looked up per
    test because disabling and re-enabling the add-on imports it afresh."""
    return sys.modules[addon_name]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Any]:
    from runway_act_two.sandbox import Sandbox, SandboxConfig

    sb = Sandbox(SandboxConfig(tick_seconds=0.05, task_seconds=0.5)).start()
    yield sb
    sb.stop()


@pytest.fixture
def sandbox(sandbox_server: Any, addon: ModuleType, addon_name: str) -> Iterator[Any]:
    """The sandbox, reset, with the add-on's preferences pointing at it."""
    sandbox_server.reset()
    sandbox_server.faults.clear()
    sandbox_server.configure(task_seconds=0.5, tick_seconds=0.05)
    p = bpy.context.preferences.addons[addon_name].preferences
    p.api_key = sandbox_server.api_key
    p.base_url = sandbox_server.base_url
    yield sandbox_server
    sandbox_server.wait_renders(timeout=60)
    p.api_key = ""
    p.base_url = ""


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tmp config/data dirs for the core; never a developer's real key or URL."""
    (tmp_path / "config").mkdir()
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("ACT_TWO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ACT_TWO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RUNWAYML_API_SECRET", raising=False)
    monkeypatch.delenv("RUNWAYML_BASE_URL", raising=False)


@pytest.fixture(autouse=True)
def _fresh_file(request: pytest.FixtureRequest) -> Iterator[None]:
    """An empty unsaved file per test, online access on, no jobs left from the previous test."""
    bpy.ops.wm.read_homefile(use_empty=True)
    bpy.context.preferences.system.use_online_access = True
    mod = sys.modules.get(EXT_MODULE) or sys.modules.get(TREE_MODULE)
    if mod is not None:
        mod.jobs.reset()
        mod.ops.set_last_error("")
    yield
    if mod is not None:
        for state in mod.jobs.active():
            mod.jobs.cancel(state.key)
        deadline = time.monotonic() + 30
        while mod.jobs.active() and time.monotonic() < deadline:
            mod.jobs.process_pending(block_seconds=0.1)
        mod.jobs.stop_timer()


@pytest.fixture(scope="session")
def media_dir() -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix="act_two_media_"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def reference_video(media_dir: Path) -> Path:
    """4 s, 24 fps, with audio: the result should be 96 frames long with sound."""
    return make_video(media_dir / "reference.mp4", seconds=4.0, fps=24, audio=True)


@pytest.fixture(scope="session")
def short_video(media_dir: Path) -> Path:
    """2 s: under Runway's 3 s minimum, must be refused before anything is sent."""
    return make_video(media_dir / "too_short.mp4", seconds=2.0, fps=24, audio=False)


@pytest.fixture(scope="session")
def character_image(media_dir: Path) -> Path:
    return make_image(media_dir / "character.png")


@pytest.fixture
def camera_scene() -> Any:
    return build_camera_scene()

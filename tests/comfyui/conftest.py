"""Fixtures for the ComfyUI pack's tests: isolation, real media, the sandbox.

Every test gets its own config/data dirs and no real key (tests/conftest.py does the same for the
whole suite; this keeps the folder safe on its own too).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import _media

# The pack lives at the repository root (``comfyui_nodes``), which is not an installed package.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("comfy_media")


@pytest.fixture(scope="session")
def reference_mp4(media_dir: Path) -> Path:
    return _media.mp4(media_dir / "reference.mp4", seconds=3.5)


@pytest.fixture(scope="session")
def short_mp4(media_dir: Path) -> Path:
    return _media.mp4(media_dir / "short.mp4", seconds=1.5, audio=False)


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from runway_act_two.sandbox import Sandbox, SandboxConfig

    cfg = SandboxConfig(tick_seconds=0.05, task_seconds=0.6)
    if hasattr(cfg, "data_dir"):
        cfg.data_dir = str(tmp_path_factory.mktemp("sandbox"))
    with Sandbox(cfg) as server:
        yield server


@pytest.fixture
def sb(sandbox_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The shared sandbox, reset, with the pack pointed at it through the environment."""
    if hasattr(sandbox_server, "reset"):
        sandbox_server.reset()
    monkeypatch.setenv("RUNWAYML_BASE_URL", sandbox_server.base_url)
    monkeypatch.setenv("RUNWAYML_API_SECRET", sandbox_server.api_key)
    monkeypatch.setenv("ACT_TWO_POLL_CADENCE", "0.2")  # the client polls at the sandbox's pace
    return sandbox_server

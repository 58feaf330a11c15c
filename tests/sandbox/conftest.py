"""Fixtures for the sandbox's own tests: isolation, real media made with PyAV, a running sandbox,
and the official ``runwayml`` SDK pointed at it (if the SDK cannot tell the sandbox from Runway,
the contract is right)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import media_factory as mf
import pytest
from runway_act_two.sandbox import Sandbox, SandboxConfig

TICK = 0.05
TASK_SECONDS = 0.3


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox_media")


@pytest.fixture(scope="session")
def face_png(media_dir: Path) -> Path:
    return mf.make_face_image(media_dir / "face.png", 320, 400)


@pytest.fixture(scope="session")
def face_jpg(media_dir: Path) -> Path:
    return mf.make_face_image(media_dir / "face.jpg", 400, 300)


@pytest.fixture(scope="session")
def ref_audio(media_dir: Path) -> Path:
    """A 3.2 s reference with an audio track."""
    return mf.make_mp4(media_dir / "ref_audio.mp4", 3.2, 320, 240, fps=30, audio=True)


@pytest.fixture(scope="session")
def ref_silent(media_dir: Path) -> Path:
    """A 4 s reference without audio (different size and fps)."""
    return mf.make_mp4(media_dir / "ref_silent.mp4", 4.0, 240, 320, fps=25)


@pytest.fixture(scope="session")
def ref_short(media_dir: Path) -> Path:
    return mf.make_mp4(media_dir / "ref_short.mp4", 2.0, 64, 48)


@pytest.fixture(scope="session")
def ref_long(media_dir: Path) -> Path:
    return mf.make_mp4(media_dir / "ref_long.mp4", 31.0, 64, 48, fps=12)


@pytest.fixture(scope="session")
def ref_webm(media_dir: Path) -> Path:
    """A 3 s VP8/Opus WebM reference (its audio must be re-encoded to AAC)."""
    return mf.make_webm(media_dir / "ref.webm", 3.0, 160, 120, audio=True)


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Sandbox]:
    cfg = SandboxConfig(
        tick_seconds=TICK,
        task_seconds=TASK_SECONDS,
        data_dir=str(tmp_path / "sandbox"),
        max_concurrent_generations=None,
    )
    with Sandbox(cfg) as server:
        yield server


@pytest.fixture
def sdk(sb: Sandbox) -> Iterator[Any]:
    """The official SDK, no retries unless a test asks (so counts are exact)."""
    import runwayml

    client = runwayml.RunwayML(api_key=sb.api_key, base_url=sb.base_url, max_retries=0)
    yield client
    client.close()


@pytest.fixture
def body(face_png: Path, ref_audio: Path) -> dict[str, Any]:
    """A valid create body with data URIs."""
    return {
        "model": "act_two",
        "character": {"type": "image", "uri": data_uri(face_png, "image/png")},
        "reference": {"type": "video", "uri": data_uri(ref_audio, "video/mp4")},
    }

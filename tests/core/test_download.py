"""Downloading results from the sandbox: atomic, Range-resumed, refreshed when a URL expires."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from core_helpers import count, create_raw_task, wait_status
from runway_act_two.config import resolve_settings
from runway_act_two.download import download, looks_like_video, part_path, sidecar_path
from runway_act_two.errors import DownloadError
from runway_act_two.transport import Transport


@pytest.fixture
def finished(sandbox: Any, tmp_path: Path) -> tuple[Transport, str, bytes]:
    t = Transport(resolve_settings(api_key=sandbox.api_key, base_url=sandbox.base_url))
    task_id = create_raw_task(t, tmp_path / "media", seed=3)
    obj = wait_status(t, task_id, ("SUCCEEDED", "FAILED"))
    assert obj["status"] == "SUCCEEDED", obj
    original = Path(sandbox.task_info(task_id)["outputPath"]).read_bytes()
    return t, task_id, original


def _url(t: Transport, task_id: str) -> str:
    return str(t.call("GET", f"/v1/tasks/{task_id}")["output"][0])


def test_plain_download_is_atomic_and_exact(
    finished: tuple[Transport, str, bytes], tmp_path: Path
) -> None:
    t, task_id, original = finished
    target = tmp_path / "out" / "result.mp4"
    seen: list[int] = []
    path = download(
        t.foreign_session(), _url(t, task_id), target, on_progress=lambda p: seen.append(p.done)
    )
    assert path == target and target.read_bytes() == original
    assert not part_path(target).exists()
    assert seen and seen[-1] == len(original)
    # the thread that flushed the file behind the writes ended before the file was closed
    assert not [th for th in threading.enumerate() if th.name == "act-two-flush"]


def test_truncated_transfer_resumes_with_range(
    sandbox: Any, finished: tuple[Transport, str, bytes], tmp_path: Path
) -> None:
    t, task_id, original = finished
    sandbox.faults.add(endpoint="output", action="truncate", after_bytes=len(original) // 3)
    target = tmp_path / "r.mp4"
    download(t.foreign_session(), _url(t, task_id), target, sleep=lambda s: None)
    assert target.read_bytes() == original
    assert count(sandbox, "output", 2) == 2


def test_a_part_file_from_an_earlier_process_is_resumed(
    sandbox: Any, finished: tuple[Transport, str, bytes], tmp_path: Path
) -> None:
    t, task_id, original = finished
    target = tmp_path / "p.mp4"
    half = len(original) // 2
    # Same length as the real prefix but marked: a resumed download keeps these bytes.
    marked = original[:64] + b"\xab" * (half - 64)
    part_path(target).write_bytes(marked)
    download(t.foreign_session(), _url(t, task_id), target)
    data = target.read_bytes()
    assert len(data) == len(original)
    assert data[:half] == marked and data[half:] == original[half:]


def test_expired_url_is_refreshed_from_the_task(
    sandbox: Any, finished: tuple[Transport, str, bytes], tmp_path: Path
) -> None:
    t, task_id, original = finished
    sandbox.faults.add(endpoint="output", action="expire_token")
    refreshed: list[str] = []

    def refresh() -> str:
        refreshed.append("x")
        return _url(t, task_id)

    target = tmp_path / "e.mp4"
    download(t.foreign_session(), _url(t, task_id), target, refresh_url=refresh)
    assert refreshed == ["x"] and target.read_bytes() == original


def test_expired_url_without_refresh_is_a_download_error(
    sandbox: Any, finished: tuple[Transport, str, bytes], tmp_path: Path
) -> None:
    t, task_id, _ = finished
    sandbox.faults.add(endpoint="output", action="expire_token", count=5)
    with pytest.raises(DownloadError) as info:
        download(t.foreign_session(), _url(t, task_id), tmp_path / "x.mp4", task_id=task_id)
    assert info.value.task_id == task_id and "act-two download" in str(info.value)
    assert not (tmp_path / "x.mp4").exists()


def test_output_host_errors_exhaust_attempts(
    sandbox: Any, finished: tuple[Transport, str, bytes], tmp_path: Path
) -> None:
    t, task_id, _ = finished
    sandbox.faults.add(endpoint="output", status=500, count=20)
    with pytest.raises(DownloadError):
        download(t.foreign_session(), _url(t, task_id), tmp_path / "y.mp4", sleep=lambda s: None)
    assert not (tmp_path / "y.mp4").exists()


def test_client_download_writes_sidecar_without_key(
    client: Any, sandbox: Any, tmp_path: Path
) -> None:
    task_id = create_raw_task(client.transport, tmp_path / "m", seed=11)
    wait_status(client.transport, task_id)
    out = client.download(task_id, tmp_path / "c.mp4")
    side = sidecar_path(out)
    data = json.loads(side.read_text())
    assert data["task_id"] == task_id and data["status"] == "SUCCEEDED"
    assert data["cost_credits"] is not None and data["output"] == "c.mp4"
    assert sandbox.api_key not in side.read_text()
    assert looks_like_video(out.read_bytes()[:64])


def test_client_download_refuses_unfinished_tasks(
    client: Any, sandbox: Any, tmp_path: Path
) -> None:
    sandbox.configure(task_seconds=30.0)
    task_id = create_raw_task(client.transport, tmp_path / "m")
    with pytest.raises(DownloadError) as info:
        client.download(task_id, tmp_path / "n.mp4")
    assert "nothing to download yet" in str(info.value)


def test_video_magic() -> None:
    assert looks_like_video(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 20)
    assert looks_like_video(b"\x1a\x45\xdf\xa3" + b"\x00" * 20)
    assert not looks_like_video(b"<html><body>Access denied</body></html>")
    assert not looks_like_video(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)

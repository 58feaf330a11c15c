"""A task cancelled elsewhere (Runway answers 404), our own cancel, and concurrency throttling.

Runway forgets cancelled tasks: the next poll is a 404, which the client must report as a
cancellation (not a crash, not an endless wait). Beyond the account's concurrency limit Runway
accepts the task and keeps it THROTTLED until a slot frees: every job must still finish, once.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from runway_act_two import api_surface as api

pytestmark = pytest.mark.family("cancel and throttling")


def _run_in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    return th, box


def test_task_cancelled_elsewhere_is_a_cancellation(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    from runway_act_two import errors

    sb.configure(task_seconds=30.0)
    submitted = threading.Event()
    ids: list[str] = []

    def on_event(ev: Any) -> None:
        if ev.kind == "submitted" and ev.task_id:
            ids.append(ev.task_id)
            submitted.set()

    th, box = _run_in_thread(
        lambda: client.generate(make_request(), tmp_path / "out.mp4", on_event=on_event, timeout=60)
    )
    assert submitted.wait(30)
    # Someone else (the web dashboard, another script) cancels the task.
    r = requests.delete(
        sb.base_url + api.PATH_TASK.format(id=ids[0]),
        headers={"Authorization": f"Bearer {sb.api_key}", api.VERSION_HEADER: api.API_VERSION},
        timeout=10,
    )
    assert r.status_code == 204
    th.join(60)
    assert not th.is_alive()
    assert isinstance(box.get("error"), errors.TaskCancelledError), box
    assert box["error"].exit_code == 4
    assert sb.requests("poll")[-1]["status"] == 404
    assert sb.count("create") == 1
    assert not (tmp_path / "out.mp4").exists()


def test_our_cancel_deletes_the_task_on_the_server(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    from runway_act_two import CancelToken, errors

    sb.configure(task_seconds=30.0)
    token = CancelToken()

    def on_event(ev: Any) -> None:
        if ev.kind == "status":
            token.cancel()

    with pytest.raises(errors.TaskCancelledError):
        client.generate(make_request(), tmp_path / "out.mp4", on_event=on_event, cancel=token)
    assert sb.count("delete") == 1
    (task,) = sb.tasks()
    assert task["deleted"] and task["status"] == "CANCELLED"


def test_throttled_jobs_all_finish_once(sb: Any, make_request: Any, tmp_path: Path) -> None:
    from runway_act_two.client import ActTwoClient

    sb.configure(max_concurrent_generations=1, task_seconds=0.2)
    seen: list[str] = []
    lock = threading.Lock()

    def on_event(ev: Any) -> None:
        if ev.kind == "status" and ev.status:
            with lock:
                seen.append(ev.status)

    def job(i: int) -> Any:
        c = ActTwoClient(api_key=sb.api_key, base_url=sb.base_url, data_dir=tmp_path / "data")
        try:
            return c.generate(
                make_request(seed=i), tmp_path / f"out{i}.mp4", on_event=on_event, timeout=120
            )
        finally:
            c.close()

    runs = [_run_in_thread(lambda i=i: job(i)) for i in range(3)]
    for th, _ in runs:
        th.join(180)
    errors_seen = [box.get("error") for _, box in runs if "error" in box]
    assert errors_seen == []
    assert all(box["result"].output_path.exists() for _, box in runs)
    assert sb.count("create") == 3 and len(sb.tasks()) == 3
    histories = [[h["status"] for h in t["history"]] for t in sb.tasks()]
    assert any("THROTTLED" in h for h in histories), histories  # the limit really bit
    assert all(h[-1] == "SUCCEEDED" for h in histories)
    assert "THROTTLED" in seen  # and the host was told

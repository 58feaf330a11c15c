"""Waiting: every status, cancel, timeouts, tolerated poll failures, failures with codes."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from core_helpers import Events, count
from media_factory import make_face_image, make_mp4
from runway_act_two import ActTwoClient, ActTwoRequest, CancelToken, MediaSource
from runway_act_two.errors import (
    InputValidationError,
    ServerError,
    TaskCancelledError,
    TaskFailedError,
    WaitTimeoutError,
)
from runway_act_two.transport import Transport


@pytest.fixture
def req(tmp_path: Path) -> ActTwoRequest:
    return ActTwoRequest(
        character=MediaSource.from_path(make_face_image(tmp_path / "f.png", 96, 96)),
        reference=MediaSource.from_path(make_mp4(tmp_path / "r.mp4", 3.2)),
    )


@pytest.mark.parametrize(
    ("code", "retryable"),
    [("SAFETY.INPUT.IMAGE", False), ("INTERNAL.BAD_OUTPUT.CODE01", True), (None, False)],
)
def test_failed_task(
    client: ActTwoClient,
    sandbox: Any,
    req: ActTwoRequest,
    tmp_path: Path,
    code: str | None,
    retryable: bool,
) -> None:
    sandbox.faults.add(action="fail_task", failure_code=code, failure="Sandbox says no.")
    with pytest.raises(TaskFailedError) as info:
        client.generate(req, tmp_path / "f.mp4")
    err = info.value
    assert err.failure_code == code and err.retryable is retryable and err.exit_code == 4
    assert "Sandbox says no" in str(err)
    assert ("retrying the same request may work" in str(err)) is retryable
    (rec,) = client.jobs()
    assert rec.state == "failed" and rec.status == "FAILED"
    assert not (tmp_path / "f.mp4").exists()


def test_cancel_token_deletes_the_task_promptly(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    sandbox.configure(task_seconds=60.0)
    token = CancelToken()
    running = threading.Event()
    events = Events()

    def on_event(ev: Any) -> None:
        events(ev)
        if ev.kind == "status" and ev.status == "RUNNING":
            running.set()

    errors: list[BaseException] = []
    done = threading.Event()
    cancelled_at: list[float] = []

    def work() -> None:
        try:
            client.generate(req, tmp_path / "c.mp4", on_event=on_event, cancel=token)
        except BaseException as exc:
            errors.append(exc)
        finally:
            cancelled_at.append(time.monotonic())
            done.set()

    th = threading.Thread(target=work)
    th.start()
    assert running.wait(30)
    start = time.monotonic()
    token.cancel()
    assert done.wait(30)
    th.join()
    assert isinstance(errors[0], TaskCancelledError)
    assert count(sandbox, "delete", 1) == 1
    (info,) = sandbox.tasks()
    assert info["deleted"] and info["status"] == "CANCELLED"
    assert "cancelling" in events.kinds()
    (rec,) = client.jobs()
    assert rec.state == "cancelled"
    assert cancelled_at[0] - start < 10  # generous; the design target is ~0.2 s


def test_a_token_can_stop_waiting_without_cancelling_the_task(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest
) -> None:
    """What a caller that recovers a task (not owns it) needs: stop now, delete nothing."""
    sandbox.configure(task_seconds=60.0)
    sub = client.submit(req)
    token = CancelToken()
    polled = sandbox.count("task_get")

    def stop_after_a_poll() -> None:
        deadline = time.monotonic() + 30
        while sandbox.count("task_get") == polled and time.monotonic() < deadline:
            time.sleep(0.01)
        token.cancel()

    th = threading.Thread(target=stop_after_a_poll)
    th.start()
    with pytest.raises(WaitTimeoutError, match="NOT cancelled") as info:
        client.wait(sub.task_id, cancel=token, cancel_task=False)
    th.join()
    assert info.value.task_id == sub.task_id
    assert sandbox.count("task_delete") == 0
    assert sandbox.task_info(sub.task_id)["status"] in ("PENDING", "RUNNING", "THROTTLED")


def test_task_deleted_elsewhere_is_cancelled_or_deleted(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    sandbox.configure(task_seconds=60.0)
    other = Transport(client.settings)

    def on_event(ev: Any) -> None:
        if ev.kind == "status" and ev.status == "RUNNING" and ev.task_id:
            other.call("DELETE", f"/v1/tasks/{ev.task_id}")

    with pytest.raises(TaskCancelledError) as info:
        client.generate(req, tmp_path / "g.mp4", on_event=on_event)
    assert "cancelled or deleted" in str(info.value)


def test_timeout_then_resume(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    sandbox.configure(task_seconds=60.0)
    with pytest.raises(WaitTimeoutError) as info:
        client.generate(req, tmp_path / "t.mp4", timeout=0.5)
    err = info.value
    assert err.exit_code == 6 and "act-two resume" in str(err) and "NOT cancelled" in str(err)
    (rec,) = client.unfinished_jobs()
    assert rec.task_id == err.task_id and rec.owner_pid is None
    assert sandbox.count("delete") == 0
    sandbox.configure(task_seconds=0.2)
    result = client.resume(rec.job_id)
    assert result.output_path == tmp_path / "t.mp4" and result.output_path.is_file()
    assert client.unfinished_jobs() == []
    # Resuming a finished job just returns it.
    assert client.resume(rec.job_id).output_path == result.output_path


def test_poll_failures_are_tolerated(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    sandbox.faults.add(endpoint="task_get", status=503, count=2)
    sandbox.faults.add(endpoint="task_get", action="drop_before", count=1)
    sandbox.faults.add(endpoint="task_get", status=429, count=1, retry_after_ms=20)
    sandbox.faults.add(endpoint="task_get", status=200, body="garbage", count=1)
    result = client.generate(req, tmp_path / "p.mp4")
    assert result.output_path.is_file()
    assert count(sandbox, "create", 1) == 1


def test_endless_poll_failures_give_up_but_keep_the_job_resumable(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    sandbox.faults.add(endpoint="task_get", status=503, count=100)
    with pytest.raises(ServerError) as info:
        client.generate(req, tmp_path / "q.mp4")
    assert info.value.exit_code == 3 and "act-two resume" in str(info.value)
    sandbox.faults.clear()
    (rec,) = client.unfinished_jobs()
    assert client.resume(rec.job_id).output_path.is_file()


def test_throttled_then_running(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    sandbox.configure(max_concurrent_generations=1, task_seconds=0.6)
    first = client.submit(req)
    events = Events()
    result = client.generate(req, tmp_path / "th.mp4", on_event=events)
    assert "THROTTLED" in events.statuses()
    assert events.statuses()[-1] == "SUCCEEDED"
    assert client.wait(first.task_id).status == "SUCCEEDED"
    assert result.output_path.is_file()
    # ETA and progress are reported while RUNNING.
    running = [e for e in events.items if e.kind == "status" and e.status == "RUNNING"]
    assert running and all(0.0 <= (e.progress or 0.0) <= 1.0 for e in running)


def test_expired_output_url_is_refreshed(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    sandbox.faults.add(endpoint="output", action="expire_token")
    result = client.generate(req, tmp_path / "x.mp4")
    assert result.output_path.is_file()
    assert count(sandbox, "output", 2) == 2


def test_cancel_of_a_finished_or_missing_task_is_fine(
    client: ActTwoClient, req: ActTwoRequest, tmp_path: Path
) -> None:
    result = client.generate(req, tmp_path / "k.mp4")
    client.cancel(result.task_id)  # deletes the finished task
    client.cancel(result.task_id)  # now 404: fine
    rec = client.journal.get(result.job_id)
    assert rec is not None and rec.state == "succeeded"  # the file we have stays ours


def test_resume_refuses_a_job_from_another_server(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    sandbox.configure(task_seconds=60.0)
    with pytest.raises(WaitTimeoutError):
        client.generate(req, tmp_path / "w.mp4", timeout=0.2)
    (rec,) = client.unfinished_jobs()
    other = ActTwoClient(
        api_key=sandbox.api_key, base_url="http://127.0.0.1:9", data_dir=client.data_dir
    )
    with pytest.raises(InputValidationError) as info:
        other.resume(rec.job_id)
    assert info.value.problems[0].field == "base_url"
    assert [r.job_id for r in client.unfinished_jobs()] == [rec.job_id]  # untouched


def test_malformed_task_ids_are_refused_before_sending(client: ActTwoClient, sandbox: Any) -> None:
    for bad in ("../../v1/organization", "", "a b", "x" * 300):
        for call in (client.get_task, client.cancel, client.wait):
            with pytest.raises(InputValidationError) as info:
                call(bad)
            assert info.value.problems[0].field == "task_id"
    assert sandbox.requests() == []


def test_unusable_data_dir_is_a_configuration_problem(sandbox: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    c = ActTwoClient(api_key=sandbox.api_key, base_url=sandbox.base_url, data_dir=blocker)
    with pytest.raises(InputValidationError) as info:
        c.jobs()
    assert info.value.problems[0].field == "data_dir"


def test_cancelled_status_from_the_server(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    """Runway documents CANCELLED as a task status too (besides the 404 after a DELETE)."""
    sandbox.configure(task_seconds=60.0)

    def on_event(ev: Any) -> None:
        if ev.kind == "submitted":
            sandbox.faults.add(
                endpoint="task_get",
                status=200,
                json={
                    "id": ev.task_id,
                    "status": "CANCELLED",
                    "createdAt": "2024-06-27T19:49:32.334Z",
                    "cost": {"credits": 0},
                },
            )

    with pytest.raises(TaskCancelledError) as info:
        client.generate(req, tmp_path / "cc.mp4", on_event=on_event)
    assert "cancelled on Runway" in str(info.value)
    (rec,) = client.jobs()
    assert rec.state == "cancelled" and rec.cost_credits == 0

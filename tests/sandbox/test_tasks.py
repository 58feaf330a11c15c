"""The task state machine: ticks, THROTTLED in order, progress, refunds, exact shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from runway_act_two.sandbox import Sandbox, SandboxConfig

from .helpers import create, get_task, headers, wait_for


def test_state_changes_only_on_ticks(tmp_path: Path, body: dict[str, Any]) -> None:
    cfg = SandboxConfig(tick_seconds=3600, task_seconds=0, data_dir=str(tmp_path / "d"))
    with Sandbox(cfg) as sb:
        task_id = create(sb, body).json()["id"]
        for _ in range(5):
            assert get_task(sb, task_id).json()["status"] == "PENDING"
        sb.state.tasks.tick()  # one tick: a free slot -> RUNNING
        assert get_task(sb, task_id).json()["status"] == "RUNNING"


def test_throttled_tasks_start_in_order(sb: Sandbox, body: dict[str, Any]) -> None:
    sb.configure(max_concurrent_generations=1, task_seconds=0.2)
    ids = [create(sb, body).json()["id"] for _ in range(3)]
    seen: dict[str, list[str]] = {}
    for task_id in ids:
        _, seen[task_id] = wait_for(sb, task_id, {"SUCCEEDED"})
    infos = [sb.task_info(i) for i in ids]
    assert all(i is not None for i in infos)
    histories = [[h["status"] for h in i["history"]] for i in infos if i]
    assert histories[0] == ["PENDING", "RUNNING", "SUCCEEDED"]
    assert histories[1] == histories[2] == ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED"]
    # FIFO and never two at once: each one starts after the previous one finished.
    starts = [next(h["at"] for h in i["history"] if h["status"] == "RUNNING") for i in infos if i]
    ends = [i["succeededAt"] for i in infos if i]
    assert starts[0] < ends[0] <= starts[1] < ends[1] <= starts[2]


def test_running_progress_and_succeeded_only_with_file(sb: Sandbox, body: dict[str, Any]) -> None:
    sb.configure(task_seconds=0.5)
    task_id = create(sb, body).json()["id"]
    progress: list[float] = []
    while True:
        task = get_task(sb, task_id).json()
        if task["status"] == "RUNNING":
            progress.append(task["progress"])
        if task["status"] == "SUCCEEDED":
            break
    assert progress == sorted(progress) and max(progress) < 1
    info = sb.task_info(task_id)
    assert info is not None and info["renderDone"] and Path(info["outputPath"]).is_file()
    assert info["succeededAt"] >= info["created"]


def test_cancel_pending_refunds_cancel_running_does_not(sb: Sandbox, body: dict[str, Any]) -> None:
    sb.configure(task_seconds=600, max_concurrent_generations=1)
    first = create(sb, body).json()
    wait_for(sb, first["id"], {"RUNNING"})
    second = create(sb, body).json()
    wait_for(sb, second["id"], {"THROTTLED"})
    start = sb.config.credit_balance
    assert sb.credit_balance == start - 40
    h = headers(sb)
    r = requests.delete(f"{sb.base_url}/v1/tasks/{second['id']}", headers=h, timeout=10)
    assert r.status_code == 204 and r.content == b""
    assert sb.credit_balance == start - 20  # THROTTLED: refunded
    r = requests.delete(f"{sb.base_url}/v1/tasks/{first['id']}", headers=h, timeout=10)
    assert r.status_code == 204
    assert sb.credit_balance == start - 20  # RUNNING: charged
    for t in (first, second):
        assert get_task(sb, t["id"]).status_code == 404
    third = create(sb, body).json()  # the slot is free again
    wait_for(sb, third["id"], {"RUNNING"})


def test_failed_task_shape_and_refund(sb: Sandbox, body: dict[str, Any]) -> None:
    sb.faults.add(action="fail_task", failure_code="SAFETY.INPUT.IMAGE", failure="Flagged.")
    sb.faults.add(action="fail_task", failure_code=None, failure="No code.")
    a = create(sb, body).json()["id"]
    b = create(sb, body).json()["id"]
    c = create(sb, body).json()["id"]
    ta, _ = wait_for(sb, a, {"FAILED", "SUCCEEDED"})
    tb, _ = wait_for(sb, b, {"FAILED", "SUCCEEDED"})
    tc, _ = wait_for(sb, c, {"FAILED", "SUCCEEDED"})
    assert ta["status"] == "FAILED" and ta["failureCode"] == "SAFETY.INPUT.IMAGE"
    assert ta["failure"] == "Flagged." and ta["cost"] == {"credits": 0}
    assert tb["status"] == "FAILED" and "failureCode" not in tb
    assert tc["status"] == "SUCCEEDED" and tc["cost"] == {"credits": 20}
    assert sb.credit_balance == sb.config.credit_balance - 20


def test_sdk_wait_raises_task_failed(sb: Sandbox, sdk: Any, body: dict[str, Any]) -> None:
    """The SDK's own wait loop sees FAILED and raises TaskFailedError (one SDK poll cycle)."""
    from runwayml.lib.polling import TaskFailedError

    sb.faults.add(action="fail_task", failure_code="INTERNAL.BAD_OUTPUT.CODE01")
    created = sdk.character_performance.create(
        **{k: body[k] for k in ("model", "character", "reference")}
    )
    try:
        created.wait_for_task_output(timeout=120)
        raise AssertionError("expected TaskFailedError")
    except TaskFailedError as exc:
        assert exc.task_details.failure_code == "INTERNAL.BAD_OUTPUT.CODE01"


def test_control_api_task_view(sb: Sandbox, body: dict[str, Any]) -> None:
    task_id = create(sb, body).json()["id"]
    wait_for(sb, task_id, {"SUCCEEDED"})
    r = requests.get(f"{sb.base_url}/_sandbox/tasks/{task_id}", timeout=10)
    assert r.status_code == 200
    info = r.json()
    assert info["status"] == "SUCCEEDED" and isinstance(info["succeededAt"], float)
    assert info["renderSeconds"] > 0 and info["referenceHasAudio"] is True
    r = requests.get(f"{sb.base_url}/_sandbox/tasks", timeout=10)
    assert [t["id"] for t in r.json()["tasks"]] == [task_id]

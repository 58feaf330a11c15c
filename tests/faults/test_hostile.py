"""Hostile or broken responses: malformed JSON, missing/extra fields, wrong types, huge bodies.

Whatever the server sends, the client raises one of its typed errors (or tolerates the blip and
carries on): never an uncaught KeyError/TypeError/MemoryError in a host. A create answered with
something unreadable may still have made a task, so it is ambiguous and journaled, never retried.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.family("hostile responses")

HUGE = 50 * 1024 * 1024


@pytest.mark.parametrize(
    "fault",
    [
        {"body": "{not json at all"},
        {"body": ""},
        {"json": {"estimatedCost": {"credits": 5}}},  # no id
        {"json": {"id": 12345, "estimatedCost": "lots"}},  # wrong types
        {"json": {"id": "../../v1/organization", "estimatedCost": {"credits": 5}}},
        {"json": ["id"]},
        {"huge_body_bytes": HUGE},
    ],
    ids=["malformed", "empty", "missing-id", "wrong-types", "path-in-id", "array", "huge"],
)
def test_unreadable_create_answer_is_ambiguous(
    sb: Any, client: Any, make_request: Any, fault: dict[str, Any]
) -> None:
    from runway_act_two import errors

    sb.faults.add(endpoint="create", status=200, when="after", **fault)
    with pytest.raises(errors.SubmitAmbiguousError) as info:
        client.submit(make_request())
    assert info.value.exit_code == 5
    assert sb.count("create") == 1 and len(sb.tasks()) == 1
    assert [j.state for j in client.jobs()] == ["ambiguous"]


def _submitted(client: Any, make_request: Any, sb: Any) -> str:
    sb.configure(task_seconds=0.5)
    sub = client.submit(make_request())
    task_id: str = sub.task_id
    return task_id


@pytest.mark.parametrize(
    "answer",
    [
        lambda tid: {"body": "<html>502 Bad Gateway</html>"},
        lambda tid: {"json": {"id": tid}},  # no status
        lambda tid: {
            "json": {
                "id": tid,
                "status": "RUNNING",
                "progress": "half",
                "createdAt": 5,
                "estimatedCost": "x",
            }
        },
        lambda tid: {
            "json": {
                "id": tid,
                "status": "RUNNING",
                "progress": 0.4,
                "estimatedCost": {"credits": 5},
                "brandNewField": {"a": [1, 2]},
                "model": "act_two",
            }
        },
        lambda tid: {"json": {"id": tid, "status": "RUNNING", "progress": float("nan")}},
        lambda tid: {"json": {"id": tid, "status": "SOMETHING_NEW"}},
        lambda tid: {"json": {"id": tid, "status": None, "failure": {"reason": "x"}}},
        lambda tid: {"huge_body_bytes": HUGE},
    ],
    ids=[
        "html",
        "no-status",
        "wrong-types",
        "extra-fields",
        "nan",
        "unknown-status",
        "null-status",
        "huge",
    ],
)
def test_odd_poll_answers_are_survived(
    sb: Any, client: Any, make_request: Any, tmp_path: Path, answer: Any
) -> None:
    """Two odd answers in a row, then the real ones: the job completes normally."""
    task_id = _submitted(client, make_request, sb)
    fault = answer(task_id)
    if "json" in fault:
        import json

        fault = {"body": json.dumps(fault["json"])}  # allow NaN through as JSON text
    sb.faults.add(endpoint="poll", status=200, count=2, **fault)
    task = client.wait(task_id, timeout=60)
    assert task.status == "SUCCEEDED"
    path = client.download(task_id, tmp_path / "out.mp4")
    assert Path(path).stat().st_size > 0
    assert sb.count("create") == 1


def test_garbage_forever_on_poll_is_a_typed_error(sb: Any, client: Any, make_request: Any) -> None:
    from runway_act_two import errors

    task_id = _submitted(client, make_request, sb)
    sb.faults.add(endpoint="poll", status=200, count=500, body="{oops")
    with pytest.raises(errors.ActTwoError) as info:
        client.wait(task_id, timeout=60)
    assert not isinstance(info.value, errors.TaskFailedError)  # we do not know it failed
    assert [j.task_id for j in client.jobs()] == [task_id]  # resume can still finish it


def test_succeeded_without_output_is_not_a_crash(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    from runway_act_two import errors

    task_id = _submitted(client, make_request, sb)
    client.wait(task_id, timeout=60)
    sb.faults.add(
        endpoint="poll",
        status=200,
        count=500,
        json={
            "id": task_id,
            "status": "SUCCEEDED",
            "output": ["ftp://x", 5],
            "cost": {"credits": 5},
        },
    )
    with pytest.raises(errors.ActTwoError):
        client.download(task_id, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    "fault",
    [
        {
            "status": 400,
            "json": {
                "error": 5,
                "issues": [1, {"path": "x"}, {"code": ["a"], "path": [None], "message": 7}],
            },
        },
        {"status": 400, "body": "<html>Bad Request</html>"},
        {"status": 418, "json": {"error": "I'm a teapot"}},
        {"status": 401, "json": {"error": "bad key key_" + "ab" * 64}},
        {"status": 400, "huge_body_bytes": HUGE},
    ],
    ids=["garbage-issues", "html-400", "teapot", "key-echo-401", "huge-400"],
)
def test_odd_error_answers_on_create(
    sb: Any, client: Any, make_request: Any, fault: dict[str, Any]
) -> None:
    from runway_act_two import errors

    sb.faults.add(endpoint="create", **fault)
    with pytest.raises(errors.ApiError) as info:
        client.submit(make_request())
    text = str(info.value)
    assert "key_" + "ab" * 64 not in text and sb.api_key not in text
    assert len(text) < 5000
    assert sb.count("create") == 1 and sb.tasks() == []

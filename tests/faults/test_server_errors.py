"""502/503/504 bursts (Runway's load shedding) on create and on poll; 500 on create.

Load shedding happens before a task exists, so the create may be retried; a 500 may come after
the task was made, so it is never retried blindly: the user gets SubmitAmbiguousError and the
journal keeps the attempt.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.family("5xx bursts")


@pytest.mark.parametrize("status", [502, 503, 504])
def test_create_burst_is_retried_once_created(
    sb: Any, client: Any, make_request: Any, tmp_path: Path, status: int
) -> None:
    sb.faults.add(endpoint="create", status=status, count=2)
    result = client.generate(make_request(), tmp_path / "out.mp4")
    assert result.output_path.exists()
    assert [e["status"] for e in sb.requests("create")] == [status, status, 200]
    assert len(sb.tasks()) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_poll_burst_is_tolerated(
    sb: Any, client: Any, make_request: Any, tmp_path: Path, status: int
) -> None:
    sb.faults.add(endpoint="poll", status=status, count=3)
    result = client.generate(make_request(), tmp_path / "out.mp4")
    assert result.output_path.exists()
    assert [e["status"] for e in sb.requests("poll")].count(status) == 3
    assert sb.count("create") == 1


def test_endless_503_on_create_gives_up(sb: Any, client: Any, make_request: Any) -> None:
    from runway_act_two import errors

    sb.faults.add(endpoint="create", status=503, count=50, retry_after_ms=5)
    with pytest.raises(errors.ServerError) as info:
        client.submit(make_request())
    assert info.value.exit_code == 3
    assert 2 <= sb.count("create") <= 10
    assert sb.tasks() == []


def test_endless_503_on_poll_gives_up_without_losing_the_task(
    sb: Any, client: Any, make_request: Any
) -> None:
    """The wait fails with a typed error, but the journal still knows the task (resume finds it)."""
    from runway_act_two import errors

    sub = client.submit(make_request())
    sb.faults.add(endpoint="poll", status=503, count=200, retry_after_ms=5)
    with pytest.raises(errors.ActTwoError):
        client.wait(sub.task_id, timeout=30)
    assert sb.count("create") == 1
    assert sub.task_id in {j.task_id for j in client.jobs()}


@pytest.mark.parametrize("when", ["before", "after"])
def test_500_on_create_is_ambiguous_and_not_retried(
    sb: Any, client: Any, make_request: Any, when: str
) -> None:
    from runway_act_two import errors

    sb.faults.add(endpoint="create", status=500, when=when)
    with pytest.raises(errors.SubmitAmbiguousError) as info:
        client.submit(make_request())
    assert info.value.exit_code == 5
    assert "may" in str(info.value) and "NOT retried" in str(info.value)
    assert sb.count("create") == 1
    assert len(sb.tasks()) == (1 if when == "after" else 0)
    jobs = client.jobs()
    assert len(jobs) == 1 and jobs[0].state == "ambiguous"

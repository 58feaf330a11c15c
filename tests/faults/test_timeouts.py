"""Slow responses past the timeout, and a wait that runs out of time.

A create whose answer does not come in time may have made a task: ambiguous, journaled, never
re-sent. A slow poll is just a failed poll. A wait that times out says the task may still be
running (and billed) and how to resume it; resume then finishes it without a new task.

The request timeouts are the transport's module constants (30 s for polls, 120 s for creates);
these cases shorten them for speed with ``monkeypatch`` (the constants, not any behaviour).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import wait_until

pytestmark = pytest.mark.family("timeouts")


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> float:
    from runway_act_two import client as client_mod
    from runway_act_two import transport

    monkeypatch.setattr(transport, "CREATE_READ_TIMEOUT", 0.5)
    monkeypatch.setattr(transport, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(client_mod, "POLL_TIMEOUT", 0.5)
    return 0.5


def test_slow_create_past_the_timeout_is_ambiguous(
    sb: Any, client: Any, make_request: Any, short_timeouts: float
) -> None:
    from runway_act_two import errors

    sb.faults.add(endpoint="create", action="delay", delay=1.5)
    with pytest.raises(errors.SubmitAmbiguousError) as info:
        client.submit(make_request())
    assert info.value.exit_code == 5
    # the server finishes the request after the client gave up
    wait_until(lambda: sb.count("create") == 1, what="the delayed create to finish")
    assert len(sb.tasks()) == 1  # made once, never re-sent
    assert [j.state for j in client.jobs()] == ["ambiguous"]


def test_slow_polls_are_retried(
    sb: Any, client: Any, make_request: Any, tmp_path: Path, short_timeouts: float
) -> None:
    sb.faults.add(endpoint="poll", action="delay", delay=1.0, count=2)
    result = client.generate(make_request(), tmp_path / "out.mp4")
    assert result.output_path.exists()
    assert sb.faults.pending() == []  # both slow polls were sent (and given up on)
    # the server logs a request when it has answered it: the second slow one is still sleeping
    wait_until(lambda: [e["fault"] for e in sb.requests("poll")].count("delay") == 2)
    assert sb.count("create") == 1


def test_wait_timeout_says_how_to_resume_and_resume_works(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    from runway_act_two import errors

    sb.configure(task_seconds=60.0)
    with pytest.raises(errors.WaitTimeoutError) as info:
        client.generate(make_request(), tmp_path / "out.mp4", timeout=0.5)
    err = info.value
    assert err.exit_code == 6
    assert "resume" in str(err) and err.task_id in str(err)
    (task,) = sb.tasks()
    assert task["status"] in ("PENDING", "RUNNING") and not task["deleted"]  # not cancelled
    assert sb.count("delete") == 0
    sb.configure(task_seconds=0.2)
    (job,) = client.unfinished_jobs()
    result = client.resume(job.job_id, timeout=60)
    assert result.output_path == tmp_path / "out.mp4" and result.output_path.exists()
    assert sb.count("create") == 1

"""Every failureCode family: a FAILED task is a TaskFailedError that says whether to retry.

SAFETY.* (moderation) and ASSET.* will fail the same way again: the message says not to retry.
INTERNAL.* and the other transient families may work later: the message says a retry may work.
A failed task costs nothing, so nothing is downloaded and the journal records the failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from runway_act_two import api_surface as api

pytestmark = pytest.mark.family("failureCode families")


def _retryable(code: str | None) -> bool:
    if code is None:
        return False
    if code.startswith(api.NO_RETRY_FAILURE_PREFIXES):
        return False
    return code.startswith(api.RETRYABLE_FAILURE_PREFIXES)


@pytest.mark.parametrize("code", [*api.FAILURE_CODES, None])
def test_failure_code(
    sb: Any, client: Any, make_request: Any, tmp_path: Path, code: str | None
) -> None:
    from runway_act_two import errors

    sb.faults.add(action="fail_task", failure_code=code, failure="Synthetic failure for tests.")
    with pytest.raises(errors.TaskFailedError) as info:
        client.generate(make_request(), tmp_path / "out.mp4")
    err = info.value
    assert err.exit_code == 4
    assert err.failure_code == code
    assert err.retryable is _retryable(code)
    text = str(err).lower()
    if code and code.startswith("SAFETY."):
        assert "not retry" in text or "do not" in text or "don't" in text, text
    if _retryable(code):
        assert "retry" in text or "try again" in text, text
    assert not (tmp_path / "out.mp4").exists()
    assert sb.count("create") == 1 and sb.count("output") == 0
    (task,) = sb.tasks()
    assert task["status"] == "FAILED" and task["cost"] == 0
    (job,) = client.jobs()
    assert job.task_id == task["id"] and job.state == "failed"

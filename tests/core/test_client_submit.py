"""Submit exactly once: retries only when provably safe; ambiguity is distinct and journaled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from core_helpers import count
from media_factory import make_face_image, make_mp4
from runway_act_two import ActTwoClient, ActTwoRequest, MediaSource
from runway_act_two.errors import SubmitAmbiguousError


@pytest.fixture
def req(tmp_path: Path) -> ActTwoRequest:
    return ActTwoRequest(
        character=MediaSource.from_path(make_face_image(tmp_path / "f.png", 96, 96)),
        reference=MediaSource.from_path(make_mp4(tmp_path / "r.mp4", 3.2)),
    )


def test_dropped_response_after_create_creates_exactly_one_task(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    sandbox.faults.add(endpoint="create", action="drop_after")
    with pytest.raises(SubmitAmbiguousError) as info:
        client.generate(req, tmp_path / "a.mp4")
    err = info.value
    assert err.exit_code == 5 and err.job_id
    assert "may or may not have created" in str(err) and "NOT retried" in str(err)
    assert count(sandbox, "create", 1) == 1
    assert len(sandbox.tasks()) == 1  # the task exists: it was not created twice
    rec = client.journal.get(err.job_id)
    assert rec is not None and rec.state == "ambiguous" and rec.task_id is None
    assert client.unfinished_jobs() == []  # nothing to resume without a task id
    with pytest.raises(SubmitAmbiguousError):
        client.resume(err.job_id)


@pytest.mark.parametrize(
    "fault",
    [
        {"action": "status", "status": 500, "when": "after"},
        {"action": "status", "status": 500},
        {"action": "delay", "delay": 2.0},
    ],
)
def test_other_ambiguous_outcomes(
    client: ActTwoClient,
    sandbox: Any,
    req: ActTwoRequest,
    tmp_path: Path,
    fault: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import runway_act_two.transport as transport_mod

    monkeypatch.setattr(transport_mod, "CREATE_READ_TIMEOUT", 0.5)
    sandbox.faults.add(endpoint="create", **fault)
    with pytest.raises(SubmitAmbiguousError):
        client.generate(req, tmp_path / "b.mp4")
    assert count(sandbox, "create", 1) == 1
    (rec,) = client.jobs()
    assert rec.state == "ambiguous"


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_safe_statuses_are_retried_and_one_task_results(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path, status: int
) -> None:
    sandbox.faults.add(endpoint="create", status=status, count=2, retry_after_ms=10)
    result = client.generate(req, tmp_path / f"{status}.mp4")
    assert result.output_path.is_file()
    assert count(sandbox, "create", 3) == 3
    assert len(sandbox.tasks()) == 1


def test_journal_row_exists_before_the_post(
    client: ActTwoClient, sandbox: Any, req: ActTwoRequest, tmp_path: Path
) -> None:
    seen: list[Any] = []

    def on_event(ev: Any) -> None:
        if ev.kind == "submitted":
            seen.extend(client.jobs())

    client.generate(req, tmp_path / "j.mp4", on_event=on_event)
    assert len(seen) == 1 and seen[0].task_id is not None


def test_rows_left_by_a_dead_process_are_classified(client: ActTwoClient) -> None:
    """Killed while preparing media: nothing was sent. Killed during the POST: ambiguous."""
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    j = client.journal
    common: dict[str, Any] = dict(
        fingerprint="f",
        options={},
        seed=None,
        character="c",
        reference="r",
        estimated_credits=20,
        output_path=None,
        base_url=client.settings.base_url,
        host="cli",
    )
    preparing = j.start(**common)
    submitting = j.start(**common)
    live = j.start(**common)  # ours, still alive: left alone
    j.update(preparing, owner_pid=dead.pid)
    j.update(submitting, owner_pid=dead.pid, state="submitting")
    assert client.unfinished_jobs() == []
    states = {r.job_id: r.state for r in client.jobs()}
    assert states == {preparing: "rejected", submitting: "ambiguous", live: "preparing"}


def test_an_unopenable_journal_is_reported_after_the_inputs_and_nothing_is_sent(
    sandbox: Any, tmp_path: Path, req: ActTwoRequest
) -> None:
    """The journal opens beside the checks; if it cannot, bad inputs are still what the user
    hears first, and good inputs get the journal's own message. No request either way."""
    from runway_act_two.errors import ConfigurationError, InputValidationError

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    c = ActTwoClient(api_key=sandbox.api_key, base_url=sandbox.base_url, data_dir=blocker)
    bad = ActTwoRequest(character=req.character, reference=req.character)
    with c, pytest.raises(InputValidationError, match="reference"):
        c.submit(bad)
    with c, pytest.raises(ConfigurationError, match=r"journal .* cannot be opened"):
        c.submit(req)
    assert sandbox.requests() == []


def test_submit_opens_the_journal_beside_the_checks(
    sandbox: Any, tmp_path: Path, req: ActTwoRequest
) -> None:
    c = ActTwoClient(api_key=sandbox.api_key, base_url=sandbox.base_url, data_dir=tmp_path / "d")
    with c:
        sub = c.submit(req)
        rec = c.journal.get(sub.job_id)
        assert rec is not None and rec.task_id == sub.task_id
        assert len(c.journal._open) == 1  # the helper's setup connection wrote the rows

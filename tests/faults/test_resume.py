"""The process dies after the paid create; ``act-two resume`` finishes the job, without a new task.

The journal row is written before the POST and updated with the task id after it, so a kill at
any later moment leaves enough on disk to poll and download the result that was paid for.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ._ledger import journal_rows
from .conftest import ACT_TWO, run_cli, wait_until

pytestmark = pytest.mark.family("kill and resume")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_after_submit_then_resume(
    sb: Any, character_png: Path, reference_mp4: Path, tmp_path: Path, sig: int
) -> None:
    sb.configure(task_seconds=2.0)
    env = {**os.environ, **sb.env()}
    out = tmp_path / "result.mp4"
    proc = subprocess.Popen(
        [
            *ACT_TWO,
            "generate",
            "--character",
            str(character_png),
            "--reference",
            str(reference_mp4),
            "--output",
            str(out),
            "--yes",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # "after submit": the create was answered and the client journaled the task id
        wait_until(
            lambda: any(r.task_id for r in journal_rows(tmp_path / "data")),
            what="the task id in the journal",
        )
        proc.send_signal(sig)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not out.exists()
    (task,) = sb.tasks()

    jobs = run_cli(["jobs", "--json"], env)
    assert jobs.returncode == 0, jobs.stderr
    assert task["id"] in jobs.stdout

    resumed = run_cli(["resume", "--json"], env)
    assert resumed.returncode == 0, resumed.stderr
    served = sb.task_info(task["id"])["outputPath"]
    assert out.exists() and out.read_bytes() == Path(served).read_bytes()
    assert sb.count("create") == 1 and len(sb.tasks()) == 1
    assert sb.api_key not in resumed.stdout + resumed.stderr

    again = run_cli(["resume", "--json"], env)  # nothing left to do, nothing re-downloaded
    assert again.returncode == 0, again.stderr
    assert sb.count("create") == 1


def test_killed_while_the_task_is_still_running_resumes_after_it_ends(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    """Resume in-process: the unfinished job is found from the journal and completed."""
    from runway_act_two.client import ActTwoClient

    sb.configure(task_seconds=1.0)
    sub = client.submit(make_request())  # "the process dies" right after the create
    client.close()
    fresh = ActTwoClient(api_key=sb.api_key, base_url=sb.base_url, data_dir=tmp_path / "data")
    try:
        (job,) = fresh.unfinished_jobs()
        assert job.task_id == sub.task_id
        result = fresh.resume(job.job_id, timeout=60)
        assert result.output_path.exists()
        assert fresh.unfinished_jobs() == []
    finally:
        fresh.close()
    assert sb.count("create") == 1

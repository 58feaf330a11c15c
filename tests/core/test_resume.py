"""A real ``act-two generate`` process killed mid-wait; ``act-two resume`` finishes the paid job."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from core_helpers import count
from media_factory import make_face_image, make_mp4
from runway_act_two.journal import Journal


def test_kill_mid_wait_then_resume(sandbox: Any, tmp_path: Path) -> None:
    sandbox.configure(task_seconds=3.0)
    char = make_face_image(tmp_path / "face.png", 96, 96)
    ref = make_mp4(tmp_path / "ref.mp4", 3.2)
    out = tmp_path / "result.mp4"
    env = dict(os.environ)
    env.update(sandbox.env())
    env["ACT_TWO_POLL_CADENCE"] = "0.05"
    gen = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runway_act_two.cli",
            "generate",
            "--yes",
            "--character",
            str(char),
            "--reference",
            str(ref),
            "--output",
            str(out),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        journal = Journal.in_dir(Path(env["ACT_TWO_DATA_DIR"]))
        deadline = time.monotonic() + 120
        # Wait until the task exists and is being polled, then kill without warning.
        while time.monotonic() < deadline:
            rows = journal.all() if journal.path.exists() else []
            if rows and rows[0].task_id and sandbox.count("task_get") >= 2:
                break
            assert gen.poll() is None, gen.stderr.read() if gen.stderr else ""
            time.sleep(0.02)
        gen.send_signal(signal.SIGKILL)
        gen.wait(30)
    finally:
        if gen.poll() is None:
            gen.kill()
            gen.wait()
    assert not out.exists()
    (rec,) = journal.unfinished()
    assert rec.task_id and rec.output_path == str(out)
    assert journal.get(rec.job_id).owner_pid == gen.pid  # type: ignore[union-attr]

    resume = subprocess.run(
        [sys.executable, "-m", "runway_act_two.cli", "resume", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert resume.returncode == 0, resume.stderr
    results = json.loads(resume.stdout)["results"]
    assert [r["task_id"] for r in results] == [rec.task_id]
    assert out.is_file() and Path(results[0]["sidecar"]).is_file()
    assert count(sandbox, "create", 1) == 1 and len(sandbox.tasks()) == 1
    assert journal.unfinished() == []
    assert journal.get(rec.job_id).state == "succeeded"  # type: ignore[union-attr]

"""The ``act-two`` command in-process: names, --json output and the exit-code contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from core_helpers import count
from media_factory import make_face_image, make_mp4
from runway_act_two import api_surface as api
from runway_act_two.cli import main


@pytest.fixture
def env(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(api.ENV_API_KEY, sandbox.api_key)
    monkeypatch.setenv(api.ENV_BASE_URL, sandbox.base_url)
    monkeypatch.setenv("ACT_TWO_POLL_CADENCE", "0.05")
    return sandbox


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    return {
        "char": make_face_image(tmp_path / "face.png", 96, 96),
        "ref": make_mp4(tmp_path / "ref.mp4", 3.2),
    }


def _gen(media: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [
        "generate",
        "--character",
        str(media["char"]),
        "--reference",
        str(media["ref"]),
        "--output",
        str(out),
        "--json",
        *extra,
    ]


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_help_is_there_for_newcomers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for word in (
        "generate",
        "status",
        "cancel",
        "download",
        "jobs",
        "resume",
        "credits",
        "sandbox",
        "--sandbox",
        "exit codes",
    ):
        assert word in out
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    out = capsys.readouterr().out
    for opt in (
        "--character",
        "--reference",
        "--output",
        "--ratio",
        "--seed",
        "--body-control",
        "--no-body-control",
        "--expression-intensity",
        "--public-figure-threshold",
        "--yes",
        "--json",
        "--timeout",
    ):
        assert opt in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2


def test_generate_success_json_and_every_option(
    env: Any, media: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.mp4"
    code = main(
        _gen(
            media,
            out,
            "--ratio",
            "720:1280",
            "--seed",
            "7",
            "--no-body-control",
            "--expression-intensity",
            "2",
            "--public-figure-threshold",
            "auto",
            "--yes",
        )
    )
    assert code == 0
    res = _json(capsys)
    assert res["ok"] and res["output"] == str(out) and out.is_file()
    assert res["seed"] == 7 and res["cost_credits"] == 20
    side = json.loads(Path(res["sidecar"]).read_text())
    assert side["options"] == {
        "ratio": "720:1280",
        "seed": 7,
        "bodyControl": False,
        "expressionIntensity": 2,
        "contentModeration": {"publicFigureThreshold": "auto"},
    }
    assert env.task_info(res["task_id"])["ratio"] == "720:1280"

    # The other commands on the finished task.
    assert main(["status", res["task_id"], "--json"]) == 0
    assert _json(capsys)["status"] == "SUCCEEDED"
    again = tmp_path / "again.mp4"
    assert main(["download", res["task_id"], "--output", str(again), "--json"]) == 0
    assert _json(capsys)["output"] == str(again) and again.read_bytes() == out.read_bytes()
    assert main(["jobs", "--json"]) == 0
    jobs = _json(capsys)
    assert len(jobs) == 1 and jobs[0]["state"] == "succeeded"
    assert main(["resume", "--json"]) == 0
    assert _json(capsys) == {"ok": True, "results": []}
    assert main(["credits", "--json"]) == 0
    credits = _json(capsys)
    assert credits["act_two"]["daily_generations"] == 1
    assert main(["cancel", res["task_id"], "--json"]) == 0
    assert _json(capsys)["cancelled"] is True
    assert main(["status", res["task_id"], "--json"]) == 3  # deleted: 404
    assert _json(capsys)["error"] == "TaskNotFoundError"


def test_human_output(
    env: Any, media: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "h.mp4"
    assert main([*_gen(media, out)[:-1], "--yes"]) == 0
    captured = capsys.readouterr()
    assert f"Saved {out}" in captured.out
    assert "Estimated cost" in captured.err and "20 credits" in captured.err
    assert main(["jobs"]) == 0
    assert "succeeded" in capsys.readouterr().out
    assert main(["credits"]) == 0
    assert "Balance" in capsys.readouterr().out


def test_exit_2_when_inputs_are_rejected(
    env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "generate",
            "--character",
            str(tmp_path / "nope.png"),
            "--reference",
            str(tmp_path / "nope.mp4"),
            "--output",
            str(tmp_path / "x.mp4"),
            "--json",
        ]
    )
    assert code == 2
    res = _json(capsys)
    assert res["error"] == "InputValidationError" and len(res["problems"]) >= 2
    assert env.requests() == []


def test_exit_2_for_bad_option_values(env: Any, media: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(_gen(media, tmp_path / "x.mp4", "--ratio", "1:1"))
    assert info.value.code == 2
    assert main(_gen(media, tmp_path / "x.mp4", "--expression-intensity", "9")) == 2
    assert main(_gen(media, tmp_path / "x.mp4", "--seed", "-1")) == 2


def test_exit_2_without_a_key(
    media: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_gen(media, tmp_path / "x.mp4")) == 2
    res = _json(capsys)
    assert res["problems"][0]["field"] == "api_key"
    assert api.ENV_API_KEY in res["problems"][0]["hint"]


def test_exit_3_on_api_error(
    env: Any, media: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.configure(credit_balance=1)
    assert main(_gen(media, tmp_path / "x.mp4")) == 3
    assert _json(capsys)["error"] == "NotEnoughCreditsError"
    env.configure(required_api_key=env.api_key)
    wrong = "key_" + "9" * 128
    assert main(["credits", "--api-key", wrong]) == 3
    err = capsys.readouterr().err
    assert "401" in err and wrong not in err


def test_exit_4_on_failed_task(
    env: Any, media: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.faults.add(action="fail_task", failure_code="SAFETY.OUTPUT.VIDEO")
    assert main(_gen(media, tmp_path / "x.mp4")) == 4
    res = _json(capsys)
    assert res["failure_code"] == "SAFETY.OUTPUT.VIDEO" and res["retryable"] is False


def test_exit_5_on_ambiguous_submit(
    env: Any, media: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.faults.add(endpoint="create", action="drop_after")
    assert main(_gen(media, tmp_path / "x.mp4")) == 5
    res = _json(capsys)
    assert res["error"] == "SubmitAmbiguousError" and res["job_id"]
    assert count(env, "create", 1) == 1
    assert main(["jobs"]) == 0
    assert "ambiguous" in capsys.readouterr().out


def test_exit_6_on_timeout_then_resume(
    env: Any, media: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.configure(task_seconds=60.0)
    out = tmp_path / "t.mp4"
    assert main(_gen(media, out, "--timeout", "0.3")) == 6
    res = _json(capsys)
    assert "act-two resume" in res["message"]
    env.configure(task_seconds=0.1)
    assert main(["resume", "--json"]) == 0
    results = _json(capsys)["results"]
    assert len(results) == 1 and results[0]["output"] == str(out) and out.is_file()


def test_sandbox_subcommand_delegates(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sandbox", "--help"])
    assert info.value.code == 0
    assert "--task-seconds" in capsys.readouterr().out


def test_console_script_runs_the_embedded_sandbox(tmp_path: Path, media: dict[str, Path]) -> None:
    """The README's first command: no key, no network, a real preview on disk."""
    out = tmp_path / "out" / "act_two_sandbox_preview.mp4"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAYML_")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "runway_act_two.cli",
            "generate",
            "--sandbox",
            "--yes",
            "--character",
            str(media["char"]),
            "--reference",
            str(media["ref"]),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and out.stat().st_size > 1000
    assert "nothing is charged" in proc.stderr


def test_declining_the_cost_prompt_sends_nothing(tmp_path: Path, media: dict[str, Path]) -> None:
    """On a terminal, generate asks first; answering no exits 2 and creates nothing."""
    import pty

    out = tmp_path / "declined.mp4"
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNWAYML_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "runway_act_two.cli",
            "generate",
            "--sandbox",
            "--character",
            str(media["char"]),
            "--reference",
            str(media["ref"]),
            "--output",
            str(out),
        ],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    try:
        os.write(master, b"n\n")
        _, err = proc.communicate(timeout=120)
    finally:
        os.close(master)
    text = err.decode()
    assert proc.returncode == 2, text
    assert "Continue? [y/N]" in text and "nothing was spent" in text
    assert not out.exists()


def test_config_stores_the_key_from_stdin_and_never_prints_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from runway_act_two.config import config_file, resolve_settings

    key = "key_" + "5a" * 64
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"  {key}\n"))
    assert main(["config", "--set-key"]) == 0
    assert resolve_settings().api_key == key
    assert resolve_settings().key_source == "config file"
    assert config_file().stat().st_mode & 0o077 == 0  # private to the user
    first = capsys.readouterr()
    assert main(["config", "--json"]) == 0
    captured = capsys.readouterr()
    assert key not in first.out + first.err
    assert key not in captured.out + captured.err
    assert json.loads(captured.out)["key_source"] == "config file"

    monkeypatch.setattr(sys, "stdin", io.StringIO("not-a-key\n"))
    assert main(["config", "--set-key"]) == 2
    assert resolve_settings().api_key == key  # a bad paste changes nothing
    assert main(["config", "--clear-key"]) == 0
    assert resolve_settings().api_key is None

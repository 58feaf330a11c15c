"""What the artist sees: the progress bar, the text under the node, and error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from comfyui_nodes import messages
from comfyui_nodes.convert import ConversionError
from comfyui_nodes.core import act_two
from comfyui_nodes.keys import read_key_file, resolve_api_key
from comfyui_nodes.progress import ProgressView, render
from comfyui_nodes.run import character_choice_problem

errors = act_two.errors
KEY = "key_" + "ab12" * 32


def _event(kind: str = "status", **kw: Any) -> Any:
    return act_two.JobEvent(kind=kind, **kw)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bar_follows_task_progress_and_text_shows_status_time_eta_cost() -> None:
    bars: list[int] = []
    texts: list[str] = []
    clock = Clock()
    view = ProgressView(bars.append, texts.append, clock=clock)
    view(_event("checked", estimated_credits=25))
    view(_event("submitted", task_id="t-1", estimated_credits=25, elapsed=1))
    view(_event(status="RUNNING", progress=0.4, elapsed=10, eta=15, estimated_credits=25))
    view(_event(status="RUNNING", progress=0.4, elapsed=12, eta=13, estimated_credits=25))
    view(_event("done", elapsed=30, cost_credits=25))
    assert bars == [40, 100]  # repeated values are not redrawn
    assert view.task_id == "t-1"
    running = texts[2]
    assert "running 40%" in running and "10s" in running and "~15s left" in running
    assert "25 credits" in running and "$0.25" in running
    assert texts[0].count("credits") == 1  # the cost is said once per line


def test_tick_advances_elapsed_and_eta_between_polls() -> None:
    texts: list[str] = []
    clock = Clock()
    view = ProgressView(None, texts.append, clock=clock)
    view(_event(status="RUNNING", progress=0.1, elapsed=10, eta=20))
    view.tick()  # too soon: nothing new
    assert len(texts) == 1
    clock.now += 3
    view.tick()
    assert "13s" in texts[-1] and "~17s left" in texts[-1]


def test_render_never_shows_negative_eta() -> None:
    assert "~0s left" in render(_event(status="RUNNING", progress=0.9, elapsed=5, eta=-3))


def test_character_choice() -> None:
    assert character_choice_problem(True, False) is None
    assert character_choice_problem(False, True) is None
    assert "only one" in (character_choice_problem(True, True) or "")
    assert "Connect a character" in (character_choice_problem(False, False) or "")


def test_missing_key_message_says_where_to_put_it(tmp_path: Path) -> None:
    exc = errors.ConfigurationError([errors.Problem("api_key", "no Runway API key was found")])
    text = messages.user_message(exc, user_dir=tmp_path)
    assert "RUNWAYML_API_SECRET" in text
    assert str(tmp_path / "runway_act_two" / "api_key.txt") in text
    assert "nothing was spent" in text


def test_validation_problems_use_the_node_input_names() -> None:
    exc = errors.InputValidationError(
        [errors.Problem("reference", "is 2.0 s long", "use 3-30 s"), errors.Problem("ratio", "x")]
    )
    text = messages.user_message(exc)
    assert "- reference_video: is 2.0 s long (use 3-30 s)" in text
    assert text.startswith("Nothing was sent to Runway")


@pytest.mark.parametrize(
    ("exc", "needles"),
    [
        (errors.AuthenticationError("bad key", status=401), ["rejected the API key"]),
        (errors.NotEnoughCreditsError("x", status=400), ["not have enough credits"]),
        (
            errors.TaskFailedError(
                "f", task_id="t-9", failure="face not found", failure_code="SAFETY.INPUT.IMAGE"
            ),
            ["SAFETY.INPUT.IMAGE", "face not found", "t-9", "Change the inputs"],
        ),
        (errors.WaitTimeoutError("w", task_id="t-7"), ["t-7", "fetch result"]),
        (errors.SubmitAmbiguousError("s"), ["NOT sent again"]),
        (errors.DownloadError("d", task_id="t-5"), ["t-5", "without paying"]),
        (errors.NetworkError("connection refused"), ["Could not reach Runway"]),
        (ConversionError("reference_video: bad."), ["reference_video", "Nothing was sent"]),
    ],
)
def test_core_errors_become_short_readable_messages(exc: Exception, needles: list[str]) -> None:
    text = messages.user_message(exc)
    for needle in needles:
        assert needle in text
    assert len(text) <= messages.MAX_CHARS


def test_raw_json_and_keys_never_reach_the_dialog() -> None:
    exc = errors.ApiError(
        'Runway answered 500: {"error": "boom", "debug": "Authorization: Bearer ' + KEY + '"}',
        status=500,
    )
    text = messages.user_message(exc)
    assert "{" not in text and KEY not in text
    assert text.startswith("Runway refused the request (HTTP 500)")
    odd = RuntimeError(f"weird failure with {KEY} inside")
    assert KEY not in messages.user_message(odd)


def test_key_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_api_key(tmp_path) is None
    key_file = tmp_path / "runway_act_two" / "api_key.txt"
    key_file.parent.mkdir()
    key_file.write_text("# my Runway key\n\n  " + KEY + "  \n", encoding="utf-8")
    assert read_key_file(key_file) == KEY
    assert resolve_api_key(tmp_path) == KEY
    monkeypatch.setenv("RUNWAYML_API_SECRET", "key_" + "cd34" * 32)
    assert resolve_api_key(tmp_path) == "key_" + "cd34" * 32

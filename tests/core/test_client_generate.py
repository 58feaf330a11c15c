"""ActTwoClient.generate end to end against the sandbox: fields, media paths, events, journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from core_helpers import Events, count, make_noisy_mp4
from media_factory import make_face_image, make_mp4
from runway_act_two import ActTwoClient, ActTwoRequest, MediaSource
from runway_act_two import api_surface as api
from runway_act_two.errors import InputValidationError, NotEnoughCreditsError


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "media"
    d.mkdir()
    return {
        "png": make_face_image(d / "face.png", 128, 160),
        "jpg": make_face_image(d / "face.jpg", 128, 128),
        "ref": make_mp4(d / "ref.mp4", seconds=3.5),
        "char_video": make_mp4(d / "char.mp4", seconds=3.2),
    }


def _req(media: dict[str, Path], **kw: Any) -> ActTwoRequest:
    return ActTwoRequest(
        character=MediaSource.from_path(media["png"]),
        reference=MediaSource.from_path(media["ref"]),
        **kw,
    )


def test_generate_with_every_field(
    client: ActTwoClient, sandbox: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    events = Events()
    req = _req(
        media,
        ratio="960:960",
        seed=1234,
        body_control=True,
        expression_intensity=5,
        public_figure_threshold="low",
    )
    out = tmp_path / "out" / "result.mp4"
    result = client.generate(req, out, on_event=events)
    assert result.output_path == out and out.is_file() and not result.reused
    assert result.seed == 1234 and result.estimated_credits == 20 and result.cost_credits == 20
    info = sandbox.task_info(result.task_id)
    assert info["ratio"] == "960:960" and info["characterKind"] == "image"
    assert Path(info["outputPath"]).read_bytes() == out.read_bytes()
    side = json.loads(result.sidecar_path.read_text())
    assert side["options"] == {
        "ratio": "960:960",
        "seed": 1234,
        "bodyControl": True,
        "expressionIntensity": 5,
        "contentModeration": {"publicFigureThreshold": "low"},
    }
    assert side["task_id"] == result.task_id and side["cost_credits"] == 20
    assert side["estimated_credits"] == 20 and side["job_id"] == result.job_id
    kinds = events.kinds()
    assert kinds[0] == "checked" and kinds[-1] == "done"
    assert {"submitted", "status", "downloading"} <= set(kinds)
    assert events.statuses()[-1] == "SUCCEEDED"
    assert all(e.estimated_credits in (None, 20) for e in events.items)
    rec = client.journal.get(result.job_id)
    assert rec is not None and rec.state == "succeeded" and rec.task_id == result.task_id
    assert rec.cost_credits == 20 and rec.output_path == str(out)
    assert count(sandbox, "create", 1) == 1


def test_unset_options_are_not_sent(
    client: ActTwoClient, sandbox: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    result = client.generate(_req(media), tmp_path / "o.mp4")
    side = json.loads(result.sidecar_path.read_text())
    assert side["options"] == {} and side["seed"] is None
    assert sandbox.task_info(result.task_id)["ratio"] == api.DEFAULT_RATIO


def test_video_character_and_jpeg(
    client: ActTwoClient, sandbox: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    r1 = client.generate(
        ActTwoRequest(
            character=MediaSource.from_path(media["char_video"]),
            reference=MediaSource.from_path(media["ref"]),
        ),
        tmp_path / "v.mp4",
    )
    assert sandbox.task_info(r1.task_id)["characterKind"] == "video"
    r2 = client.generate(
        ActTwoRequest(
            character=MediaSource.from_bytes(media["jpg"].read_bytes(), "face.jpg"),
            reference=MediaSource.from_path(media["ref"]),
        ),
        tmp_path / "j.mp4",
    )
    assert sandbox.task_info(r2.task_id)["characterKind"] == "image"


def test_large_reference_goes_through_the_upload_flow(
    client: ActTwoClient, sandbox: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    big = make_noisy_mp4(tmp_path / "big.mp4", seconds=3.5)
    assert big.stat().st_size * 4 / 3 > api.DATA_URI_MAX_CHARS  # would not fit a data URI
    events = Events()
    result = client.generate(
        ActTwoRequest(
            character=MediaSource.from_path(media["png"]), reference=MediaSource.from_path(big)
        ),
        tmp_path / "u.mp4",
        on_event=events,
    )
    assert result.output_path.is_file()
    assert count(sandbox, "uploads", 1) >= 1 and count(sandbox, "upload_target", 1) >= 1
    assert "uploading" in events.kinds()


def test_small_inputs_use_data_uris(
    client: ActTwoClient, sandbox: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    client.generate(_req(media), tmp_path / "d.mp4")
    assert sandbox.count("uploads") == 0 and sandbox.count("upload_target") == 0


def test_reuse_returns_an_identical_paid_result_without_requests(
    client: ActTwoClient, sandbox: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    first = client.generate(_req(media, seed=99), tmp_path / "a.mp4", reuse=True)
    n = count(sandbox, "create", 1)
    events = Events()
    again = client.generate(_req(media, seed=99), tmp_path / "b.mp4", reuse=True, on_event=events)
    assert again.reused and again.task_id == first.task_id
    assert again.output_path.read_bytes() == first.output_path.read_bytes()
    assert events.kinds() == ["reused"]
    assert sandbox.count("create") == n
    # Different seed, or no seed, or reuse=False: a new paid request.
    client.generate(_req(media, seed=100), tmp_path / "c.mp4", reuse=True)
    client.generate(_req(media), tmp_path / "d.mp4", reuse=True)
    client.generate(_req(media, seed=99), tmp_path / "e.mp4")
    assert count(sandbox, "create", n + 3) == n + 3


def test_reuse_resumes_an_unfinished_identical_task_instead_of_paying_again(
    sandbox: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    from runway_act_two.errors import WaitTimeoutError
    from runway_act_two.polling import PollConfig

    sandbox.configure(task_seconds=3.0)
    client = ActTwoClient(
        api_key=sandbox.api_key,
        base_url=sandbox.base_url,
        data_dir=tmp_path / "data",
        poll=PollConfig(cadence=0.05),
    )
    try:
        with pytest.raises(WaitTimeoutError) as info:
            client.generate(_req(media, seed=7), tmp_path / "a.mp4", reuse=True, timeout=0.3)
        task_id = info.value.task_id
        assert count(sandbox, "create", 1) == 1
        result = client.generate(_req(media, seed=7), tmp_path / "b.mp4", reuse=True)
        assert result.task_id == task_id and result.output_path == tmp_path / "b.mp4"
        assert result.output_path.is_file() and result.sidecar_path.is_file()
        assert sandbox.count("create") == 1  # the same paid task, finished, not a second one
    finally:
        client.close()


def test_missing_key_is_reported_with_input_problems_before_any_request(
    sandbox: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    c = ActTwoClient(base_url=sandbox.base_url, data_dir=tmp_path / "d")
    req = ActTwoRequest(
        character=MediaSource.from_path(tmp_path / "missing.png"),
        reference=MediaSource.from_path(media["ref"]),
        seed=-5,
    )
    with pytest.raises(InputValidationError) as info:
        c.generate(req, tmp_path / "x.mp4")
    fields = [p.field for p in info.value.problems]
    assert fields[0] == "api_key" and len(fields) >= 3
    assert info.value.exit_code == 2 and "nothing was spent" in str(info.value)
    assert sandbox.requests() == []
    assert c.jobs() == []


def test_refused_base_url_is_a_configuration_problem(
    media: dict[str, Path], tmp_path: Path
) -> None:
    c = ActTwoClient(
        api_key="key_" + "a" * 128, base_url="http://example.com", data_dir=tmp_path / "d"
    )
    with pytest.raises(InputValidationError) as info:
        c.check(_req(media))
    assert [p.field for p in info.value.problems] == ["base_url"]


def test_not_enough_credits_is_journaled_as_rejected(
    client: ActTwoClient, sandbox: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    sandbox.configure(credit_balance=3)
    with pytest.raises(NotEnoughCreditsError):
        client.generate(_req(media), tmp_path / "n.mp4")
    (rec,) = client.jobs()
    assert rec.state == "rejected" and rec.task_id is None and "credits" in (rec.error or "")
    assert client.unfinished_jobs() == []


def test_organization(client: ActTwoClient, sandbox: Any) -> None:
    sandbox.configure(credit_balance=777, max_daily_generations=50, max_concurrent_generations=3)
    org = client.organization()
    assert org.credit_balance == 777 and org.max_daily_generations == 50
    assert org.max_concurrent_generations == 3 and org.daily_generations == 0


def test_a_raising_callback_does_not_abandon_the_job(
    client: ActTwoClient, media: dict[str, Path], tmp_path: Path
) -> None:
    def bad(ev: Any) -> None:
        raise RuntimeError("host bug")

    result = client.generate(_req(media), tmp_path / "cb.mp4", on_event=bad)
    assert result.output_path.is_file()


def test_submit_then_wait_then_download(
    client: ActTwoClient, media: dict[str, Path], tmp_path: Path
) -> None:
    sub = client.submit(_req(media, seed=5))
    assert sub.estimated_credits == 20 and sub.task_id
    task = client.wait(sub.task_id)
    assert task.status == "SUCCEEDED" and task.output
    path = client.download(sub.task_id, tmp_path / "s.mp4")
    assert path.is_file()
    rec = client.journal.get(sub.job_id)
    assert rec is not None and rec.state == "succeeded"
    assert client.get_task(sub.task_id).status == "SUCCEEDED"


def test_a_host_check_is_reused_and_a_mismatched_one_ignored(
    client: ActTwoClient,
    sandbox: Any,
    media: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import runway_act_two.validation as validation

    request = _req(media, seed=5)
    checked = client.check(request)
    calls: list[object] = []
    real = validation.check_request

    def counting(req: Any, **kw: Any) -> Any:
        calls.append(req)
        return real(req, **kw)

    monkeypatch.setattr(validation, "check_request", counting)
    client.generate(request, tmp_path / "a.mp4", checked=checked)
    assert calls == []  # the host's check was used: the media was not read again
    other = _req(media, seed=6)
    result = client.generate(other, tmp_path / "b.mp4", checked=checked)
    assert calls == [other] and result.seed == 6  # a check of another request is ignored
    assert count(sandbox, "create", 2) == 2

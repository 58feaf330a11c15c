"""build_body: the wire JSON, media as planned (byte-exact data URIs, uploads), on the sandbox."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from media_factory import make_mov, make_video, make_webm
from runway_act_two import api_surface as api
from runway_act_two.config import resolve_settings
from runway_act_two.create_body import CreateBody
from runway_act_two.errors import InputValidationError, TaskCancelledError
from runway_act_two.events import CancelToken, JobEvent
from runway_act_two.media.datauri import max_bytes_for_data_uri
from runway_act_two.prepare import build_body
from runway_act_two.request import ActTwoRequest, MediaSource
from runway_act_two.transport import Transport
from runway_act_two.validation import CheckedRequest, check_request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHARACTER = EXAMPLES / "character.png"
REFERENCE = EXAMPLES / "reference.mp4"


@pytest.fixture
def transport(sandbox: Any) -> Iterator[Transport]:
    t = Transport(resolve_settings(api_key=sandbox.api_key, base_url=sandbox.base_url))
    try:
        yield t
    finally:
        t.close()


def _decode(uri: str, mime: str) -> bytes:
    prefix = f"data:{mime};base64,"
    assert uri.startswith(prefix)
    return base64.b64decode(uri[len(prefix) :], validate=True)


def _wire(body: CreateBody) -> dict[str, Any]:
    """The JSON object the server receives."""
    raw = body.to_bytes()
    assert len(raw) == len(body)  # the Content-Length announced before encoding
    fields = json.loads(raw)
    assert isinstance(fields, dict)
    return fields


def _create(transport: Transport, body: CreateBody) -> str:
    answer = transport.call("POST", api.PATH_CHARACTER_PERFORMANCE, body=body, create=True)
    assert isinstance(answer, dict)
    task_id = answer["id"]
    assert isinstance(task_id, str)
    return task_id


def _as_upload(checked: CheckedRequest, role: str) -> CheckedRequest:
    plan = getattr(checked, role)
    return replace(checked, **{role: replace(plan, method="upload")})


def test_data_uri_body_is_byte_exact_and_accepted(sandbox: Any, transport: Transport) -> None:
    checked = check_request(
        ActTwoRequest(
            MediaSource.from_path(CHARACTER),
            MediaSource.from_path(REFERENCE),
            seed=42,
            body_control=True,
            expression_intensity=4,
            ratio="1280:720",
            public_figure_threshold="low",
        )
    )
    sent = build_body(checked, transport)
    body = _wire(sent)
    assert set(body) == {
        "model",
        "character",
        "reference",
        "seed",
        "bodyControl",
        "expressionIntensity",
        "ratio",
        "contentModeration",
    }
    assert body["model"] == api.MODEL
    assert body["character"]["type"] == "image"
    assert _decode(body["character"]["uri"], "image/png") == CHARACTER.read_bytes()
    assert body["reference"]["type"] == "video"
    assert _decode(body["reference"]["uri"], "video/mp4") == REFERENCE.read_bytes()
    assert body["contentModeration"] == {"publicFigureThreshold": "low"}
    assert sandbox.count("uploads") == 0
    _create(transport, sent)
    assert sandbox.count("create") == 1


def test_unset_options_are_not_sent(transport: Transport) -> None:
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(CHARACTER), MediaSource.from_path(REFERENCE))
    )
    assert set(_wire(build_body(checked, transport))) == {"model", "character", "reference"}


@pytest.mark.parametrize(
    ("maker", "mime"), [(make_webm, "video/webm"), (make_mov, "video/quicktime")]
)
def test_reference_containers_keep_their_type(
    tmp_path: Path, sandbox: Any, transport: Transport, maker: Any, mime: str
) -> None:
    ref = maker(tmp_path / "ref.bin", 3.5)
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(CHARACTER), MediaSource.from_path(ref))
    )
    sent = build_body(checked, transport)
    assert _decode(_wire(sent)["reference"]["uri"], mime) == ref.read_bytes()
    _create(transport, sent)


def test_upload_plan_uploads_and_the_create_accepts_it(sandbox: Any, transport: Transport) -> None:
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(CHARACTER), MediaSource.from_path(REFERENCE))
    )
    events: list[JobEvent] = []
    sent = build_body(
        _as_upload(checked, "reference"), transport, on_event=events.append, job_id="j1"
    )
    body = _wire(sent)
    uri = body["reference"]["uri"]
    assert uri.startswith(api.RUNWAY_URI_SCHEME) and uri.endswith(".mp4")
    stored = sandbox.state.uploads.resolve(uri, ttl=3600)
    assert stored is not None and stored.path.read_bytes() == REFERENCE.read_bytes()
    assert events and all(e.kind == "uploading" and e.job_id == "j1" for e in events)
    fractions = [e.progress for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0  # type: ignore[type-var]
    assert body["character"]["uri"].startswith("data:image/png;base64,")
    _create(transport, sent)
    assert sandbox.count("uploads") == 1 and sandbox.count("create") == 1


def test_a_real_video_over_the_data_uri_limit_is_uploaded(
    tmp_path: Path, sandbox: Any, transport: Transport
) -> None:
    ref = make_video(tmp_path / "noisy.mp4", 3.2, 320, 240, fps=10, noise=True)
    assert ref.stat().st_size > max_bytes_for_data_uri("video/mp4")
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(CHARACTER), MediaSource.from_path(ref))
    )
    assert checked.reference.method == "upload"
    assert checked.character.method == "data_uri"
    sent = build_body(checked, transport)
    stored = sandbox.state.uploads.resolve(_wire(sent)["reference"]["uri"], ttl=3600)
    assert stored is not None and stored.path.read_bytes() == ref.read_bytes()
    _create(transport, sent)


def test_bytes_sources_as_data_uri_and_upload(sandbox: Any, transport: Transport) -> None:
    data = CHARACTER.read_bytes()
    checked = check_request(
        ActTwoRequest(MediaSource.from_bytes(data, "hero.png"), MediaSource.from_path(REFERENCE))
    )
    body = _wire(build_body(checked, transport))
    assert _decode(body["character"]["uri"], "image/png") == data
    body = _wire(build_body(_as_upload(checked, "character"), transport))
    assert body["character"]["uri"].endswith("/hero.png")
    stored = sandbox.state.uploads.resolve(body["character"]["uri"], ttl=3600)
    assert stored is not None and stored.path.read_bytes() == data


def test_urls_pass_through_untouched(sandbox: Any, transport: Transport) -> None:
    url = "https://cdn.example.com/people/actor.mp4?token=a%20b"
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(CHARACTER), MediaSource.from_url(url))
    )
    body = _wire(build_body(checked, transport))
    assert body["reference"] == {"type": "video", "uri": url}
    assert sandbox.requests() == []


def test_a_file_changed_after_the_check_is_not_sent(
    tmp_path: Path, sandbox: Any, transport: Transport
) -> None:
    ref = tmp_path / "ref.mp4"
    ref.write_bytes(REFERENCE.read_bytes())
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(CHARACTER), MediaSource.from_path(ref))
    )
    with ref.open("ab") as fh:
        fh.write(b"\x00" * 10)
    with pytest.raises(InputValidationError, match="changed"):
        build_body(checked, transport)
    with pytest.raises(InputValidationError, match="changed"):
        build_body(_as_upload(checked, "reference"), transport)
    ref.unlink()
    with pytest.raises(InputValidationError, match="no longer be read"):
        build_body(checked, transport)
    assert sandbox.requests() == []


def test_cancelled_before_anything_is_sent(sandbox: Any, transport: Transport) -> None:
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(CHARACTER), MediaSource.from_path(REFERENCE))
    )
    token = CancelToken()
    token.cancel()
    with pytest.raises(TaskCancelledError):
        build_body(_as_upload(checked, "reference"), transport, cancel=token)
    assert sandbox.requests() == []

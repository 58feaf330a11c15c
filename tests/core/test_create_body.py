"""The create body produced while it is sent: byte-exact, exact length up front, safe to cut.

A body cut before its last byte must never become a task, and must never be called ambiguous:
these tests drive real HTTP on 127.0.0.1 against the sandbox, which hangs up mid-body on request
(``drop_receiving``) or sees the client stop mid-body (a file that changed while being sent).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from media_factory import padded_mp4
from runway_act_two import api_surface as api
from runway_act_two.config import resolve_settings
from runway_act_two.create_body import (
    ENCODE_CHUNK,
    BodySourceError,
    BodyStopped,
    CreateBody,
    MediaPart,
)
from runway_act_two.errors import InputValidationError, NetworkError, TaskCancelledError
from runway_act_two.events import CancelToken
from runway_act_two.prepare import sending_error
from runway_act_two.request import ActTwoRequest, MediaSource
from runway_act_two.transport import Transport
from runway_act_two.validation import check_request

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHARACTER = EXAMPLES / "character.png"
REFERENCE = EXAMPLES / "reference.mp4"


def _payload(size: int) -> bytes:
    return bytes((i * 7 + i // 255) % 256 for i in range(size))


@pytest.mark.parametrize(
    "size",
    [0, 1, 2, 3, 4, ENCODE_CHUNK - 1, ENCODE_CHUNK, ENCODE_CHUNK + 1, 3 * ENCODE_CHUNK + 2],
)
@pytest.mark.parametrize("from_file", [True, False])
def test_media_is_byte_exact_and_the_length_is_known_first(
    tmp_path: Path, size: int, from_file: bool
) -> None:
    data = _payload(size)
    path = tmp_path / "f.mp4"
    path.write_bytes(data)
    part = (
        MediaPart("reference", "video/mp4", size, path=path)
        if from_file
        else MediaPart("reference", "video/mp4", size, data=data)
    )
    body = CreateBody({"model": "act_two", "reference": {"type": "video", "uri": part}})
    raw = body.to_bytes()
    assert len(raw) == len(body)
    assert body.complete
    wire = json.loads(raw)
    assert wire["reference"]["uri"] == "data:video/mp4;base64," + base64.b64encode(data).decode()
    assert raw == body.to_bytes()  # a second pass (a retried create) sends the same bytes


def test_other_fields_are_escaped_like_json() -> None:
    part = MediaPart("character", "image/png", 3, data=b"\x89PN")
    fields = {
        "model": "act_two",
        "character": {"type": "image", "uri": part},
        "reference": {"type": "video", "uri": 'https://x.test/a "b"\\c?\u00e9=\u2603'},
        "seed": 7,
        "contentModeration": {"publicFigureThreshold": "low"},
    }
    wire = json.loads(CreateBody(fields).to_bytes())
    assert wire["reference"]["uri"] == 'https://x.test/a "b"\\c?\u00e9=\u2603'
    assert wire["character"]["uri"] == "data:image/png;base64,iVBO"
    assert wire["seed"] == 7 and wire["contentModeration"] == {"publicFigureThreshold": "low"}


@pytest.mark.parametrize(("change", "why"), [("grow", "grew"), ("shrink", "shrank")])
def test_a_file_that_changes_stops_the_body_before_its_end(
    tmp_path: Path, change: str, why: str
) -> None:
    path = tmp_path / "ref.mp4"
    path.write_bytes(_payload(2 * ENCODE_CHUNK))
    body = CreateBody({"uri": MediaPart("reference", "video/mp4", 2 * ENCODE_CHUNK, path=path)})
    pieces = iter(body)
    next(pieces)  # the quote and the data URI prefix
    next(pieces)  # the first encoded chunk
    if change == "grow":
        with path.open("ab") as fh:
            fh.write(b"\x00" * 3)
    else:
        path.write_bytes(_payload(ENCODE_CHUNK + 3))
    with pytest.raises(BodySourceError, match=why):
        list(pieces)
    assert not body.complete


def test_should_stop_stops_the_body() -> None:
    stop = threading.Event()
    body = CreateBody(
        {
            "uri": MediaPart(
                "character", "image/png", 3 * ENCODE_CHUNK, data=bytes(3 * ENCODE_CHUNK)
            )
        },
        should_stop=stop.is_set,
    )
    pieces = iter(body)
    next(pieces)
    stop.set()
    with pytest.raises(BodyStopped):
        next(pieces)
    assert not body.complete


# --- on the wire -----------------------------------------------------------------------------
@pytest.fixture
def transport(sandbox: Any) -> Any:
    t = Transport(resolve_settings(api_key=sandbox.api_key, base_url=sandbox.base_url))
    yield t
    t.close()


def _fields(ref: Path, character: Path = CHARACTER) -> dict[str, Any]:
    return {
        "model": api.MODEL,
        "character": {
            "type": "image",
            "uri": MediaPart("character", "image/png", character.stat().st_size, path=character),
        },
        "reference": {
            "type": "video",
            "uri": MediaPart("reference", "video/mp4", ref.stat().st_size, path=ref),
        },
    }


def test_the_server_receives_one_plain_content_length_body(sandbox: Any, transport: Any) -> None:
    body = CreateBody(_fields(REFERENCE))
    answer = transport.call("POST", api.PATH_CHARACTER_PERFORMANCE, body=body, create=True)
    assert isinstance(answer, dict) and answer["id"]
    (entry,) = sandbox.requests("create")
    assert entry["status"] == 200 and entry["task_id"] == answer["id"]
    assert entry["body_sha256"] == hashlib.sha256(body.to_bytes()).hexdigest()


@pytest.fixture
def big_media(tmp_path: Path) -> tuple[Path, Path]:
    """A ~3.6 MB noise PNG and a ~3.8 MB MP4: a ~10 MB body, more than loopback's socket
    buffers hold, so a server hanging up early really stops the client mid-body."""
    from PIL import Image

    png = tmp_path / "noise.png"
    Image.frombytes("RGB", (1100, 1100), os.urandom(1100 * 1100 * 3)).save(png)
    ref = padded_mp4(REFERENCE, tmp_path / "padded.mp4", 3_800_000)
    return png, ref


def test_a_hang_up_mid_body_is_retried_safely_and_makes_one_task(
    sandbox: Any, transport: Any, big_media: tuple[Path, Path]
) -> None:
    sandbox.faults.add(endpoint="create", action="drop_receiving", after_bytes=4096, count=2)
    body = CreateBody(_fields(big_media[1], big_media[0]))
    answer = transport.call("POST", api.PATH_CHARACTER_PERFORMANCE, body=body, create=True)
    creates = sandbox.requests("create")
    assert [e["fault"] for e in creates] == ["drop_receiving", "drop_receiving", None]
    assert len(sandbox.tasks()) == 1 and sandbox.tasks()[0]["id"] == answer["id"]


def test_endless_hang_ups_mid_body_end_as_a_network_error_not_an_ambiguous_one(
    sandbox: Any, transport: Any, big_media: tuple[Path, Path]
) -> None:
    sandbox.faults.add(endpoint="create", action="drop_receiving", after_bytes=1, count=50)
    body = CreateBody(_fields(big_media[1], big_media[0]))
    with pytest.raises(NetworkError) as caught:
        transport.call("POST", api.PATH_CHARACTER_PERFORMANCE, body=body, create=True)
    assert "may or may not" not in str(caught.value)
    assert sandbox.tasks() == []


def test_a_file_changed_while_it_is_sent_is_refused_and_nothing_is_created(
    tmp_path: Path, sandbox: Any, transport: Any
) -> None:
    """The client stops mid-body; the sandbox sees an incomplete request and does nothing."""
    ref = tmp_path / "ref.mp4"
    ref.write_bytes(REFERENCE.read_bytes())
    original = ref.read_bytes()
    pieces = 0

    def cut_the_reference_once_sending_started() -> bool:
        nonlocal pieces
        pieces += 1
        if pieces == 3:  # the character is on its way; the reference is cut short on disk
            ref.write_bytes(original[: len(original) // 2])
        return False

    body = CreateBody(_fields(ref), should_stop=cut_the_reference_once_sending_started)
    with pytest.raises(BodySourceError, match="shrank") as caught:
        transport.call("POST", api.PATH_CHARACTER_PERFORMANCE, body=body, create=True)
    assert not body.complete
    deadline = time.monotonic() + 10  # the server notices the hang-up on its own thread
    while not sandbox.requests("create") and time.monotonic() < deadline:
        time.sleep(0.01)
    (entry,) = sandbox.requests("create")
    assert entry.get("incomplete_body") and entry["status"] is None
    assert sandbox.tasks() == []
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(CHARACTER), MediaSource.from_path(REFERENCE))
    )
    shown = sending_error(checked, caught.value)
    assert isinstance(shown, InputValidationError)
    assert "reference" in str(shown) and "shrank" in str(shown) and "resubmit" in str(shown)


def test_a_stop_while_the_body_is_sent_creates_nothing(sandbox: Any, transport: Any) -> None:
    token = CancelToken()
    pieces = 0

    def cancel_mid_body() -> bool:
        nonlocal pieces
        pieces += 1
        if pieces == 3:
            token.cancel()
        return token.cancelled

    body = CreateBody(_fields(REFERENCE), should_stop=cancel_mid_body)
    with pytest.raises(BodyStopped) as caught:
        transport.call("POST", api.PATH_CHARACTER_PERFORMANCE, body=body, create=True)
    assert sandbox.tasks() == []
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(CHARACTER), MediaSource.from_path(REFERENCE))
    )
    shown = sending_error(checked, caught.value)
    assert isinstance(shown, TaskCancelledError) and shown.task_id == ""

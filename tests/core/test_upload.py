"""Ephemeral uploads: against the sandbox (real flow, faults) and a recording server on 127.0.0.1
(exact multipart bytes, Content-Length, no key, constant memory, cancel)."""

from __future__ import annotations

import hashlib
import json
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from media_factory import make_big_file, make_mp4
from runway_act_two import api_surface as api
from runway_act_two.config import resolve_settings
from runway_act_two.errors import ApiError, ResponseFormatError, TaskCancelledError
from runway_act_two.events import CancelToken
from runway_act_two.media import upload as upload_module
from runway_act_two.media.upload import MultipartBody, upload, upload_filename
from runway_act_two.transport import Transport

KEY = "key_" + "ab" * 64


# --- a recording stand-in for Runway + storage --------------------------------------------------
@dataclass
class Recorder:
    store_dir: Path
    answer: dict[str, Any] | None = None  # override of the /v1/uploads answer
    storage_status: list[int] = field(default_factory=list)  # statuses to answer, then 204
    upload_requests: list[dict[str, Any]] = field(default_factory=list)
    stores: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""


def _handler(rec: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            if self.path == api.PATH_UPLOADS:
                body = json.loads(self.rfile.read(length))
                rec.upload_requests.append(
                    {"json": body, "authorization": self.headers.get("Authorization")}
                )
                answer = rec.answer or {
                    "uploadUrl": rec.base_url + "/store",
                    "fields": {"key": "uploads/abc", "policy": "p0l1cy", "x-amz-signature": "s"},
                    "runwayUri": "runway://uploads/abc/" + body["filename"],
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            # storage: stream the body to disk (never into memory), record the headers
            out = rec.store_dir / f"body-{len(rec.stores)}.bin"
            got = 0
            with out.open("wb") as fh:
                while got < length:
                    chunk = self.rfile.read(min(65536, length - got))
                    if not chunk:
                        break
                    fh.write(chunk)
                    got += len(chunk)
            rec.stores.append(
                {
                    "path": out,
                    "received": got,
                    "headers": dict(self.headers.items()),
                }
            )
            status = rec.storage_status.pop(0) if rec.storage_status else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    rec = Recorder(store_dir=tmp_path / "stored")
    rec.store_dir.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    rec.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def transport(recorder: Recorder) -> Iterator[Transport]:
    t = Transport(resolve_settings(api_key=KEY, base_url=recorder.base_url))
    try:
        yield t
    finally:
        t.close()


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], bytes, str]:
    boundary = content_type.split("boundary=", 1)[1].encode()
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    parts = body.split(b"--" + boundary)
    assert parts[0] == b""
    fields: dict[str, str] = {}
    file_bytes = b""
    file_headers = ""
    for part in parts[1:-1]:
        head, _, content = part[2:].partition(b"\r\n\r\n")
        content = content[:-2]  # the CRLF before the next delimiter
        text = head.decode()
        name = text.split('name="', 1)[1].split('"', 1)[0]
        if name == "file":
            file_bytes, file_headers = content, text
        else:
            fields[name] = content.decode()
    return fields, file_bytes, file_headers


# --- the recording server -------------------------------------------------------------------------
def test_multipart_is_byte_exact_with_fields_first_and_no_key(
    tmp_path: Path, recorder: Recorder, transport: Transport
) -> None:
    video = make_mp4(tmp_path / "my clip (1).mp4", 3.5)
    uri = upload(transport, video, mime="video/mp4")
    assert uri == "runway://uploads/abc/my_clip_1.mp4"
    assert recorder.upload_requests == [
        {
            "json": {"filename": "my_clip_1.mp4", "type": "ephemeral"},
            "authorization": f"Bearer {KEY}",
        }
    ]
    (store,) = recorder.stores
    headers = {k.lower(): v for k, v in store["headers"].items()}
    assert "authorization" not in headers
    assert "transfer-encoding" not in headers
    body = store["path"].read_bytes()
    assert int(headers["content-length"]) == len(body) == store["received"]
    fields, file_bytes, file_headers = _parse_multipart(body, headers["content-type"])
    assert fields == {"key": "uploads/abc", "policy": "p0l1cy", "x-amz-signature": "s"}
    assert list(fields) == ["key", "policy", "x-amz-signature"]  # order kept; file part last
    assert 'filename="my_clip_1.mp4"' in file_headers
    assert "Content-Type: video/mp4" in file_headers
    assert file_bytes == video.read_bytes()


def test_upload_streams_with_constant_memory(
    tmp_path: Path, recorder: Recorder, transport: Transport
) -> None:
    size = 48 * 1024 * 1024
    big = make_big_file(tmp_path / "big.mp4", size)
    progress: list[tuple[int, int]] = []
    tracemalloc.start()
    try:
        upload(transport, big, mime="video/mp4", on_progress=lambda d, t: progress.append((d, t)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, f"peak {peak:,} bytes for a {size:,}-byte upload"
    (store,) = recorder.stores
    total = store["received"]
    assert total > size
    # progress is monotonic, reaches 100 %, and is reported in steps (not per read)
    assert progress[-1] == (total, total)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert 50 <= len(progress) <= 102
    # The stored body is the multipart head, exactly `size` zero bytes (the sparse file), the tail.
    with store["path"].open("rb") as fh:
        head = fh.read(4096)
        start = head.index(b"Content-Type: video/mp4\r\n\r\n") + len(
            "Content-Type: video/mp4\r\n\r\n"
        )
        fh.seek(start)
        zeros = hashlib.sha256()
        remaining = size
        while remaining:
            chunk = fh.read(min(1 << 20, remaining))
            zeros.update(chunk)
            remaining -= len(chunk)
        tail = fh.read()
    assert zeros.hexdigest() == hashlib.sha256(bytes(size)).hexdigest()
    assert tail.startswith(b"\r\n--") and tail.endswith(b"--\r\n") and len(tail) < 100


def test_storage_5xx_is_retried_with_a_fresh_body(
    tmp_path: Path, recorder: Recorder, transport: Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upload_module, "RETRY_DELAY_BASE", 0.01)
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"z" * 1000)
    recorder.storage_status = [503, 500]
    uri = upload(transport, image, mime="image/png")
    assert uri.endswith("/a.png")
    assert len(recorder.stores) == 3
    bodies = [s["path"].read_bytes() for s in recorder.stores]
    assert all(len(b) == s["received"] for b, s in zip(bodies, recorder.stores, strict=True))
    assert len(recorder.upload_requests) == 1  # one upload slot, reused


def test_storage_4xx_is_reported(tmp_path: Path, recorder: Recorder, transport: Transport) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"z" * 100)
    recorder.storage_status = [403]
    with pytest.raises(ApiError, match="HTTP 403") as info:
        upload(transport, image, mime="image/png")
    assert info.value.status == 403
    assert len(recorder.stores) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"uploadUrl": "http://example.com/store", "fields": {}, "runwayUri": "runway://x/y.png"},
        {"uploadUrl": "https://example.com/s", "fields": {}, "runwayUri": "https://x/y.png"},
        {"uploadUrl": "https://example.com/s", "fields": [], "runwayUri": "runway://x/y.png"},
        {"fields": {}, "runwayUri": "runway://x/y.png"},
        {"uploadUrl": "https://e.com/s", "fields": {"a": {"b": 1}}, "runwayUri": "runway://x/y"},
    ],
)
def test_malformed_upload_answers_send_nothing(
    tmp_path: Path, recorder: Recorder, transport: Transport, answer: dict[str, Any]
) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    recorder.answer = answer
    with pytest.raises(ResponseFormatError):
        upload(transport, image, mime="image/png")
    assert recorder.stores == []


def test_cancel_during_upload(tmp_path: Path, recorder: Recorder, transport: Transport) -> None:
    big = make_big_file(tmp_path / "big.mov", 16 * 1024 * 1024)
    token = CancelToken()

    def progress(done: int, total: int) -> None:
        if done > total // 4:
            token.cancel()

    with pytest.raises(TaskCancelledError):
        upload(transport, big, mime="video/quicktime", on_progress=progress, cancel=token)
    assert len(recorder.upload_requests) == 1
    assert all(s["received"] < 16 * 1024 * 1024 for s in recorder.stores)


def test_cancel_before_upload_sends_nothing(
    tmp_path: Path, recorder: Recorder, transport: Transport
) -> None:
    token = CancelToken()
    token.cancel()
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(TaskCancelledError):
        upload(transport, image, mime="image/png", cancel=token)
    assert recorder.upload_requests == [] and recorder.stores == []


# --- the sandbox ----------------------------------------------------------------------------------
def _sandbox_transport(sandbox: Any) -> Transport:
    return Transport(resolve_settings(api_key=sandbox.api_key, base_url=sandbox.base_url))


def test_upload_to_the_sandbox_is_byte_exact(tmp_path: Path, sandbox: Any) -> None:
    video = make_mp4(tmp_path / "performance.mp4", 3.5, audio=True)
    t = _sandbox_transport(sandbox)
    try:
        uri = upload(t, video, mime="video/mp4")
    finally:
        t.close()
    assert uri.startswith(api.RUNWAY_URI_SCHEME)
    stored = sandbox.state.uploads.resolve(uri, ttl=3600)
    assert stored is not None
    assert stored.path.read_bytes() == video.read_bytes()
    assert sandbox.count("uploads") == 1
    assert sandbox.count("upload_target") == 1
    (target,) = sandbox.requests("upload_target")
    assert target["authorization"] is None


def test_upload_from_bytes_to_the_sandbox(tmp_path: Path, sandbox: Any) -> None:
    data = make_mp4(tmp_path / "a.mp4", 3.5).read_bytes()
    t = _sandbox_transport(sandbox)
    try:
        uri = upload(t, data, mime="video/mp4", filename="clip.MOV")
    finally:
        t.close()
    assert uri.endswith("/clip.mp4")
    stored = sandbox.state.uploads.resolve(uri, ttl=3600)
    assert stored is not None and stored.path.read_bytes() == data


@pytest.mark.parametrize(
    "fault",
    [
        {"endpoint": "upload_target", "action": "status", "status": 503},
        {"endpoint": "upload_target", "action": "drop_before"},
    ],
)
def test_sandbox_storage_faults_are_retried(
    tmp_path: Path, sandbox: Any, fault: dict[str, Any]
) -> None:
    video = make_mp4(tmp_path / "a.mp4", 3.5)
    sandbox.faults.add(fault)
    t = _sandbox_transport(sandbox)
    try:
        uri = upload(t, video, mime="video/mp4")
    finally:
        t.close()
    stored = sandbox.state.uploads.resolve(uri, ttl=3600)
    assert stored is not None and stored.path.read_bytes() == video.read_bytes()
    assert sandbox.count("upload_target") == 2
    assert sandbox.count("uploads") == 1


# --- pieces ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hint", "mime", "expected"),
    [
        ("face.PNG", "image/png", "face.png"),
        ("my photo.jpeg", "image/jpeg", "my_photo.jpg"),
        ("../../etc/passwd", "video/mp4", "passwd.mp4"),
        ("", "video/webm", "media.webm"),
        (None, "video/quicktime", "media.mov"),
        ("ü" * 300, "image/webp", "media.webp"),
        ("x" * 400 + ".mp4", "video/mp4", "x" * 100 + ".mp4"),
    ],
)
def test_upload_filename(hint: str | None, mime: str, expected: str) -> None:
    name = upload_filename(hint, mime)
    assert name == expected
    assert api.UPLOAD_FILENAME_MIN <= len(name) <= api.UPLOAD_FILENAME_MAX


def test_multipart_length_matches_what_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(bytes(range(256)) * 1000)
    body = MultipartBody({"a": "1", "é": "ü"}, path, filename="f.png", mime="image/png")
    out = b"".join(iter(lambda: body.read(7777), b""))
    assert len(out) == len(body)
    body.close()

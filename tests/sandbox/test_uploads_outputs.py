"""The storage stand-ins: multipart uploads streamed to disk, runway:// lifetime, output URLs
with expiring tokens, HEAD and Range."""

from __future__ import annotations

import io
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from runway_act_two import api_surface as api
from runway_act_two.sandbox import Sandbox
from runway_act_two.sandbox.uploads import MultipartError, UploadTooLarge, read_multipart

from .conftest import data_uri
from .helpers import create, headers, wait_for


def test_sdk_upload_then_use_runway_uri(
    sb: Sandbox, sdk: Any, face_jpg: Path, ref_audio: Path
) -> None:
    char = sdk.uploads.create_ephemeral(file=face_jpg)
    ref = sdk.uploads.create_ephemeral(file=("performance.mp4", ref_audio.read_bytes()))
    created = sdk.character_performance.create(
        model="act_two",
        character={"type": "image", "uri": char.uri},
        reference={"type": "video", "uri": ref.uri},
    )
    task, _ = wait_for(sb, created.id, {"SUCCEEDED"})
    assert task["cost"] == {"credits": 20}
    stored = sorted(p.stat().st_size for p in (sb.data_dir / "uploads").glob("*.bin"))
    assert stored == sorted([face_jpg.stat().st_size, ref_audio.stat().st_size])


def test_uploaded_file_of_wrong_kind_and_expiry(
    sb: Sandbox, sdk: Any, face_png: Path, body: dict[str, Any]
) -> None:
    up = sdk.uploads.create_ephemeral(file=face_png)
    r = create(sb, {**body, "reference": {"type": "video", "uri": up.uri}})
    assert r.status_code == 400 and r.json()["issues"][0]["code"] == "custom"
    assert r.json()["issues"][0]["message"].startswith(api.ERROR_UNSUPPORTED_ASSET)
    r = create(sb, {**body, "character": {"type": "image", "uri": up.uri}})
    assert r.status_code == 200
    sb.configure(upload_ttl_seconds=0)
    r = create(sb, {**body, "character": {"type": "image", "uri": up.uri}})
    assert r.status_code == 400 and "expired" in r.json()["issues"][0]["message"]


def test_upload_target_refuses_wrong_signature_and_unknown_id(sb: Sandbox, sdk: Any) -> None:
    h = headers(sb)
    made = requests.post(
        f"{sb.base_url}{api.PATH_UPLOADS}",
        json={"filename": "a.png", "type": "ephemeral"},
        headers=h,
        timeout=10,
    ).json()
    assert set(made) == {"uploadUrl", "fields", "runwayUri"}
    fields = {**made["fields"], "x-sandbox-signature": "0" * 64}
    r = requests.post(
        made["uploadUrl"], data=fields, files={"file": ("a.png", b"x" * 10)}, timeout=10
    )
    assert r.status_code == 403
    r = requests.post(
        made["uploadUrl"], data=made["fields"], files={"file": ("a.png", b"x" * 10)}, timeout=10
    )
    assert r.status_code == 204
    bogus = made["uploadUrl"][:-36] + "00000000-0000-4000-8000-000000000000"
    r = requests.post(bogus, data=made["fields"], files={"file": ("a.png", b"x")}, timeout=10)
    assert r.status_code == 404


def test_upload_over_the_cap_is_refused_without_reading_it(sb: Sandbox) -> None:
    h = headers(sb)
    made = requests.post(
        f"{sb.base_url}{api.PATH_UPLOADS}",
        json={"filename": "big.mp4", "type": "ephemeral"},
        headers=h,
        timeout=10,
    ).json()
    path = made["uploadUrl"][len(sb.base_url) :]
    port = int(sb.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {api.UPLOAD_MAX_BYTES * 2}\r\n\r\n".encode()
        )
        reply = s.makefile("rb").read().decode()  # the server answers, then closes
    assert reply.startswith("HTTP/1.1 400") and "EntityTooLarge" in reply


def _multipart(parts: list[tuple[str, str | None, bytes]], boundary: bytes = b"XyZ") -> bytes:
    out = b""
    for name, filename, value in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += (
            b"--"
            + boundary
            + b"\r\nContent-Disposition: "
            + disp.encode()
            + b"\r\n\r\n"
            + value
            + b"\r\n"
        )
    return out + b"--" + boundary + b"--\r\n"


def test_multipart_parser_streams_tricky_content(tmp_path: Path) -> None:
    # The payload holds CRLFs, "--XyZ" without a leading CRLF, a boundary prefix ("\r\n--Xy")
    # and spans many small chunks.
    payload = (b"\r\n--Xy\r\nz--XyZ\r\n" + bytes(range(256)) * 50 + b"\r\n--Xy") * 3
    body = _multipart([("key", None, b"k1"), ("file", "f.bin", payload), ("after", None, b"v")])
    fields, path, size = read_multipart(
        io.BytesIO(body), len(body), b"XyZ", tmp_path, 10**6, chunk=7
    )
    assert fields == {"key": "k1", "after": "v"}
    assert path is not None and path.read_bytes() == payload and size == len(payload)
    with pytest.raises(UploadTooLarge):
        read_multipart(io.BytesIO(body), len(body), b"XyZ", tmp_path, 100, chunk=64)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # the refused file was removed
    with pytest.raises(MultipartError):
        read_multipart(io.BytesIO(body[:-20]), len(body) - 20, b"XyZ", tmp_path, 10**6)
    with pytest.raises(MultipartError):
        read_multipart(io.BytesIO(b"garbage"), 7, b"XyZ", tmp_path, 10**6)


def test_output_head_range_and_tokens(sb: Sandbox, body: dict[str, Any]) -> None:
    task_id = create(sb, body).json()["id"]
    task, _ = wait_for(sb, task_id, {"SUCCEEDED"})
    url = task["output"][0]
    assert url.startswith(f"{sb.base_url}/_outputs/{task_id}.mp4?_jwt=")
    full = requests.get(url, timeout=10)
    assert full.status_code == 200 and full.headers["Accept-Ranges"] == "bytes"
    size = len(full.content)
    head = requests.head(url, timeout=10)
    assert (
        head.status_code == 200 and int(head.headers["Content-Length"]) == size and not head.content
    )
    for rng, (a, b) in (
        ("bytes=0-99", (0, 99)),
        (f"bytes={size - 10}-", (size - 10, size - 1)),
        ("bytes=-5", (size - 5, size - 1)),
        (f"bytes=100-{size * 2}", (100, size - 1)),
    ):
        r = requests.get(url, headers={"Range": rng}, timeout=10)
        assert r.status_code == 206, rng
        assert r.headers["Content-Range"] == f"bytes {a}-{b}/{size}"
        assert r.content == full.content[a : b + 1]
    r = requests.get(url, headers={"Range": f"bytes={size}-"}, timeout=10)
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{size}"
    # Tokens: tampered -> 403; another task's token -> 403; each GET mints a fresh one.
    assert requests.get(url[:-3] + "abc", timeout=10).status_code == 403
    assert requests.get(url.split("?")[0], timeout=10).status_code == 403
    again = wait_for(sb, task_id, {"SUCCEEDED"})[0]["output"][0]
    assert again != url and requests.head(again, timeout=10).status_code == 200
    # Expiry: TTL 0 makes new URLs dead on arrival; an old URL expires by its own clock.
    sb.configure(output_token_ttl_seconds=0.2)
    short = wait_for(sb, task_id, {"SUCCEEDED"})[0]["output"][0]
    time.sleep(0.3)
    r = requests.get(short, timeout=10)
    assert r.status_code == 403 and "expired" in r.json()["error"]
    sb.configure(output_token_ttl_seconds=3600)
    fresh = wait_for(sb, task_id, {"SUCCEEDED"})[0]["output"][0]
    assert requests.get(fresh, timeout=10).content == full.content
    requests.delete(f"{sb.base_url}/v1/tasks/{task_id}", headers=headers(sb), timeout=10)
    assert requests.get(fresh, timeout=10).status_code == 404
    logged = sb.requests("output")
    assert logged and all("_jwt" not in e["path"] or e["path"].endswith("_jwt=…") for e in logged)
    assert fresh.split("_jwt=")[1] not in str(logged)


def test_data_uri_media_type_must_match_content(
    sb: Sandbox, body: dict[str, Any], face_jpg: Path
) -> None:
    r = create(sb, {**body, "character": {"type": "image", "uri": data_uri(face_jpg, "image/png")}})
    assert r.status_code == 200  # a wrong image subtype is tolerated: the bytes are an image
    r = create(sb, {**body, "character": {"type": "image", "uri": "data:image/png,hello world"}})
    assert r.status_code == 400 and api.ERROR_UNSUPPORTED_ASSET in r.json()["issues"][0]["message"]


def test_outputs_can_be_paced_like_a_network_link(sb: Sandbox, body: dict[str, Any]) -> None:
    """``output_bytes_per_second`` holds a download to that rate (never faster), whole or by
    range, with the same bytes; unset, outputs leave as fast as loopback allows."""
    task_id = create(sb, body).json()["id"]
    task, _ = wait_for(sb, task_id, {"SUCCEEDED"})
    url = task["output"][0]
    full = requests.get(url, timeout=10).content
    rate = len(full) / 0.4  # the whole file should take at least 0.4 s
    sb.configure(output_bytes_per_second=rate)
    try:
        t0 = time.monotonic()
        paced = requests.get(url, timeout=10).content
        took = time.monotonic() - t0
        assert paced == full and took >= 0.4 * 0.95
        half = len(full) // 2
        t0 = time.monotonic()
        part = requests.get(url, headers={"Range": f"bytes={half}-"}, timeout=10)
        assert part.content == full[half:] and time.monotonic() - t0 >= 0.2 * 0.95
    finally:
        sb.configure(output_bytes_per_second=None)
    for bad in (0, -1, "fast", True):
        with pytest.raises(ValueError, match="output_bytes_per_second"):
            sb.configure(output_bytes_per_second=bad)

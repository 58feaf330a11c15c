"""Ephemeral uploads: ``POST /v1/uploads``, the multipart target it names, and runway:// lookup.

Runway hands out a presigned storage URL plus form ``fields``; the client POSTs the fields and the
file as multipart/form-data, then uses the ``runway://`` URI in a create. The sandbox plays the
storage too (a path under ``/_uploads/``), streams the file to disk (uploads reach 200 MB, the
sandbox must not hold them in memory), and forgets URIs after their 24 h validity.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .. import api_surface as api

UPLOAD_PREFIX = "/_uploads/"


@dataclass
class Upload:
    id: str
    filename: str
    runway_uri: str
    created: float  # epoch seconds
    path: Path | None = None  # set once the multipart POST stored the file
    size: int = 0


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class MultipartError(Exception):
    """The upload body is not the multipart form the presigned URL expects."""


class UploadTooLarge(Exception):
    """The file is bigger than Runway's 200 MB upload cap."""


class UploadStore:
    """Thread-safe registry of uploads; files live under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._by_id: dict[str, Upload] = {}
        self._secret = secrets.token_bytes(32)

    def _signature(self, upload_id: str) -> str:
        return hmac.new(self._secret, upload_id.encode(), hashlib.sha256).hexdigest()

    def create(self, filename: str, base_url: str) -> dict[str, object]:
        """Register an upload; returns Runway's ``{uploadUrl, fields, runwayUri}``."""
        upload_id = str(uuid.uuid4())
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[-100:]
        uri = f"{api.RUNWAY_URI_SCHEME}sandbox/uploads/{upload_id}/{safe}"
        with self._lock:
            self._by_id[upload_id] = Upload(upload_id, filename, uri, time.time())
        fields = {
            "key": f"uploads/{upload_id}/{safe}",
            "x-sandbox-upload-id": upload_id,
            "x-sandbox-signature": self._signature(upload_id),
        }
        return {
            "uploadUrl": f"{base_url}{UPLOAD_PREFIX}{upload_id}",
            "fields": fields,
            "runwayUri": uri,
        }

    def get(self, upload_id: str) -> Upload | None:
        with self._lock:
            return self._by_id.get(upload_id)

    def check_fields(self, upload_id: str, fields: dict[str, str]) -> bool:
        expected = self._signature(upload_id)
        return hmac.compare_digest(fields.get("x-sandbox-signature", ""), expected) and (
            fields.get("x-sandbox-upload-id") == upload_id
        )

    def store(self, upload_id: str, tmp_path: Path, size: int) -> None:
        final = self.root / f"{upload_id}.bin"
        tmp_path.replace(final)
        with self._lock:
            up = self._by_id[upload_id]
            if up.path is not None and up.path != final:
                up.path.unlink(missing_ok=True)
            up.path = final
            up.size = size

    def resolve(self, uri: str, ttl: float) -> Upload | None:
        """The upload a runway:// URI names, if it exists, holds a file and has not expired."""
        prefix = f"{api.RUNWAY_URI_SCHEME}sandbox/uploads/"
        if not uri.startswith(prefix):
            return None
        upload_id = uri[len(prefix) :].split("/", 1)[0]
        with self._lock:
            up = self._by_id.get(upload_id)
        if up is None or up.runway_uri != uri or up.path is None:
            return None
        if time.time() - up.created > ttl:
            return None
        return up

    def clear(self) -> None:
        with self._lock:
            for up in self._by_id.values():
                if up.path is not None:
                    up.path.unlink(missing_ok=True)
            self._by_id.clear()


def parse_boundary(content_type: str) -> bytes:
    """The multipart boundary from a Content-Type header."""
    main, _, params = content_type.partition(";")
    if main.strip().lower() != "multipart/form-data":
        raise MultipartError("Content-Type must be multipart/form-data")
    for part in params.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    raise MultipartError("multipart boundary missing")


def read_multipart(
    stream: Readable,
    length: int,
    boundary: bytes,
    file_dir: Path,
    max_file_bytes: int,
    chunk: int = 1 << 16,
) -> tuple[dict[str, str], Path | None, int]:
    """Stream a multipart body: small fields into memory, the ``file`` part into a temp file.

    Returns (fields, file path or None, file size). Memory stays at a few chunks whatever the
    file size; a file over ``max_file_bytes`` raises UploadTooLarge after draining the body (so
    the connection can still carry the error answer).
    """
    delim = b"\r\n--" + boundary
    remaining = length
    buf = b""

    def fill() -> bool:
        nonlocal buf, remaining
        if remaining <= 0:
            return False
        data = stream.read(min(chunk, remaining))
        if not data:
            raise MultipartError("body ended early")
        remaining -= len(data)
        buf += data
        return True

    # Preamble: the body starts with "--boundary\r\n" (we prepend CRLF to reuse ``delim``).
    buf = b"\r\n"
    while len(buf) < len(delim) + 2 and fill():
        pass
    if not buf.startswith(delim):
        raise MultipartError("body does not start with the boundary")
    buf = buf[len(delim) :]
    fields: dict[str, str] = {}
    file_path: Path | None = None
    file_size = 0
    too_large = False
    while True:
        while len(buf) < 2 and fill():
            pass
        if buf.startswith(b"--"):
            break  # closing delimiter
        if not buf.startswith(b"\r\n"):
            raise MultipartError("malformed boundary line")
        buf = buf[2:]
        while b"\r\n\r\n" not in buf:
            if len(buf) > 16384 or not fill():
                raise MultipartError("part headers too long or missing")
        head, buf = buf.split(b"\r\n\r\n", 1)
        name, filename = _disposition(head.decode("latin-1"))
        if name == "file" or filename is not None:
            fd_path = file_dir / f"part-{uuid.uuid4().hex}.tmp"
            with fd_path.open("wb") as out:
                while True:
                    idx = buf.find(delim)
                    if idx >= 0:
                        if not too_large:
                            out.write(memoryview(buf)[:idx])
                        file_size += idx
                        buf = buf[idx + len(delim) :]
                        break
                    keep = len(delim)
                    if len(buf) > keep:
                        if not too_large:
                            out.write(memoryview(buf)[:-keep])  # no copy of the chunk
                        file_size += len(buf) - keep
                        buf = buf[-keep:]
                    if file_size > max_file_bytes and not too_large:
                        too_large = True
                        out.truncate(0)
                    if not fill():
                        raise MultipartError("file part not terminated")
            if file_size > max_file_bytes:
                too_large = True
            if file_path is not None:
                file_path.unlink(missing_ok=True)
            file_path = fd_path
        else:
            value = b""
            while delim not in buf:
                if len(buf) > 1 << 20 or not fill():
                    raise MultipartError("form field too long or not terminated")
            idx = buf.find(delim)
            value, buf = buf[:idx], buf[idx + len(delim) :]
            if name is not None:
                fields[name] = value.decode("utf-8", "replace")
    while remaining > 0:  # epilogue
        stream.read(min(chunk, remaining))
        remaining -= min(chunk, remaining)
    if too_large:
        if file_path is not None:
            file_path.unlink(missing_ok=True)
        raise UploadTooLarge(f"file is larger than {max_file_bytes} bytes")
    return fields, file_path, file_size


def _disposition(head: str) -> tuple[str | None, str | None]:
    name: str | None = None
    filename: str | None = None
    for line in head.split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() != "content-disposition":
            continue
        for param in value.split(";")[1:]:
            k, _, v = param.strip().partition("=")
            v = v.strip().strip('"')
            if k.lower() == "name":
                name = v
            elif k.lower() == "filename":
                filename = v
    return name, filename

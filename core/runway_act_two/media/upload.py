"""Runway's ephemeral upload: ``POST /v1/uploads``, then the multipart POST of the file itself.

Local files too big for a 5 MB data URI (up to 200 MB) travel this way. The multipart body is
streamed from disk by a small file-like object with a known length: memory stays at one chunk
whatever the file size, ``Content-Length`` is exact (presigned storage POSTs refuse chunked
bodies), and no extra library is needed (requests-toolbelt is not in Blender's Python). The
storage POST goes through ``transport.foreign_session()``, which never carries the API key.

The upload costs nothing, so it is retried (a fresh body each time) on connection failures and
5xx; a 4xx from storage is reported with what it said.
"""

from __future__ import annotations

import io
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit

import requests

from .. import api_surface as api
from ..errors import ApiError, NetworkError, ResponseFormatError, TaskCancelledError, redact
from ..events import CancelToken

#: Bytes read from disk per step.
CHUNK_BYTES = 256 * 1024
#: Attempts of the storage POST (free to repeat: nothing is billed for uploads).
UPLOAD_ATTEMPTS = 3
#: First delay between storage attempts (doubles each time, capped at 8 s).
RETRY_DELAY_BASE = 0.5
CONNECT_TIMEOUT = 10.0
#: Per socket operation, not for the whole upload.
IO_TIMEOUT = 120.0
#: How often progress is reported (fraction of the body).
PROGRESS_STEP = 0.01

ProgressCallback = Callable[[int, int], None]


class UploadTransport(Protocol):
    """What the upload needs from ``transport.Transport`` (an API call and a key-less session)."""

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        create: bool = False,
        timeout: float | None = None,
    ) -> Any: ...

    def foreign_session(self) -> requests.Session: ...


class _Cancelled(Exception):
    """Raised inside the body stream to abort the POST when the host cancels."""


class _Chunks:
    """The body as an iterable with a length. Given a file-like object, urllib3 reads it 16 KB
    at a time (a Python call and a syscall each: ~40 % of a loopback upload's time); iterated,
    it sends ``CHUNK_BYTES`` per write."""

    def __init__(self, body: MultipartBody) -> None:
        self._body = body

    def __len__(self) -> int:
        return len(self._body)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)


def upload_filename(hint: str | None, mime: str) -> str:
    """A safe filename Runway accepts: the hint's stem (cleaned) and the extension of ``mime``."""
    ext = {**api.IMAGE_EXTENSIONS, **api.VIDEO_EXTENSIONS}.get(mime, "")
    stem = Path(hint or "").stem if hint else ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "media"
    stem = stem[: min(100, api.UPLOAD_FILENAME_MAX - len(ext))]
    name = stem + ext
    if len(name) < api.UPLOAD_FILENAME_MIN:
        name = "media" + ext
    return name


class MultipartBody(io.RawIOBase):
    """A ``multipart/form-data`` body read in chunks from disk (or from bytes), with its length.

    ``requests`` sends a file-like body with ``Content-Length: len(body)`` and reads it
    piecewise, so the file never sits in memory. The file part comes last, as presigned storage
    POSTs require.
    """

    def __init__(
        self,
        fields: dict[str, str],
        source: Path | bytes,
        *,
        filename: str,
        mime: str,
        on_progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__()
        self.boundary = "act-two-" + secrets.token_hex(16)
        b = self.boundary.encode("ascii")
        head = bytearray()
        for key, value in fields.items():
            head += b"--" + b + b"\r\n"
            head += f'Content-Disposition: form-data; name="{_quote(key)}"\r\n\r\n'.encode()
            head += value.encode("utf-8") + b"\r\n"
        head += b"--" + b + b"\r\n"
        head += (
            f'Content-Disposition: form-data; name="file"; filename="{_quote(filename)}"\r\n'
            f"Content-Type: {mime}\r\n\r\n"
        ).encode()
        self._head = bytes(head)
        self._tail = b"\r\n--" + b + b"--\r\n"
        self._source = source
        self._fh: BinaryIO | None = None
        if isinstance(source, bytes):
            self._file_size = len(source)
        else:
            self._file_size = source.stat().st_size
        self.length = len(self._head) + self._file_size + len(self._tail)
        self._pos = 0
        self._on_progress = on_progress
        self._should_stop = should_stop
        self._reported = -1.0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self.length

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self.read(CHUNK_BYTES)
            if not chunk:
                return
            yield chunk

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def read(self, size: int | None = -1) -> bytes:
        if self._should_stop is not None and self._should_stop():
            raise _Cancelled()
        if size is None or size < 0:
            size = CHUNK_BYTES
        size = min(size, CHUNK_BYTES) if size > 0 else CHUNK_BYTES
        out = b""
        head_end = len(self._head)
        file_end = head_end + self._file_size
        if self._pos < head_end:
            out = self._head[self._pos : self._pos + size]
        elif self._pos < file_end:
            offset = self._pos - head_end
            want = min(size, self._file_size - offset)
            if isinstance(self._source, bytes):
                out = self._source[offset : offset + want]
            else:
                if self._fh is None:
                    self._fh = open(self._source, "rb")  # noqa: SIM115 (closed in close())
                    self._fh.seek(offset)
                out = self._fh.read(want)
                if len(out) != want:
                    raise OSError("the file got shorter while it was being uploaded")
        elif self._pos < self.length:
            start = self._pos - file_end
            out = self._tail[start : start + size]
        self._pos += len(out)
        self._report()
        return out

    def _report(self) -> None:
        if self._on_progress is None or self.length == 0:
            return
        frac = self._pos / self.length
        if frac - self._reported >= PROGRESS_STEP or self._pos == self.length:
            if self._reported >= 1.0:
                return
            self._reported = frac
            self._on_progress(min(self._pos, self.length), self.length)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        super().close()


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", " ").replace("\n", " ")


def _check_upload_url(url: str) -> None:
    from ..config import is_loopback_host

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return
    raise ResponseFormatError(
        "Runway's upload answer names a storage URL that is not https; the file was not sent."
    )


def request_upload(transport: UploadTransport, filename: str) -> tuple[str, dict[str, str], str]:
    """``POST /v1/uploads``: returns (uploadUrl, fields, runwayUri), checked for shape."""
    answer = transport.call(
        "POST", api.PATH_UPLOADS, json={"filename": filename, "type": api.UPLOAD_TYPE_EPHEMERAL}
    )
    if not isinstance(answer, dict):
        raise ResponseFormatError("Runway's answer to the upload request is not a JSON object.")
    url, fields, uri = answer.get("uploadUrl"), answer.get("fields"), answer.get("runwayUri")
    if not isinstance(url, str) or not isinstance(uri, str) or not isinstance(fields, dict):
        raise ResponseFormatError(
            "Runway's answer to the upload request lacks uploadUrl, fields or runwayUri."
        )
    if not uri.startswith(api.RUNWAY_URI_SCHEME) or len(uri) > api.RUNWAY_URI_MAX_CHARS:
        raise ResponseFormatError("Runway's upload answer has an invalid runwayUri.")
    clean: dict[str, str] = {}
    for key, value in fields.items():
        if not isinstance(key, str) or not isinstance(value, (str, int, float)):
            raise ResponseFormatError("Runway's upload answer has malformed form fields.")
        clean[key] = str(value)
    _check_upload_url(url)
    return url, clean, uri


def upload(
    transport: UploadTransport,
    source: Path | bytes,
    *,
    mime: str,
    filename: str | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> str:
    """Upload a local file (or bytes) and return its ``runway://`` URI for the create request.

    ``on_progress(sent_bytes, total_bytes)`` follows the multipart body; ``cancel`` aborts the
    transfer (raising ``TaskCancelledError`` with an empty task id: nothing was created).
    """
    hint = filename if filename else (source.name if isinstance(source, Path) else None)
    name = upload_filename(hint, mime)
    if cancel is not None and cancel.cancelled:
        raise TaskCancelledError("Cancelled before the upload started.", task_id="")
    url, fields, uri = request_upload(transport, name)
    session = transport.foreign_session()
    should_stop = (lambda: cancel.cancelled) if cancel is not None else None
    last_error = ""
    for attempt in range(UPLOAD_ATTEMPTS):
        if attempt:
            delay = min(8.0, RETRY_DELAY_BASE * 2 ** (attempt - 1))
            if cancel is not None:
                if cancel.wait(delay):
                    raise TaskCancelledError("Cancelled during the upload.", task_id="")
            else:
                time.sleep(delay)
        body = MultipartBody(
            fields,
            source,
            filename=name,
            mime=mime,
            on_progress=on_progress,
            should_stop=should_stop,
        )
        try:
            response = session.post(
                url,
                data=_Chunks(body),
                headers={"Content-Type": body.content_type, "Content-Length": str(len(body))},
                timeout=(CONNECT_TIMEOUT, IO_TIMEOUT),
                allow_redirects=False,
            )
        except _Cancelled:
            raise TaskCancelledError("Cancelled during the upload.", task_id="") from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            last_error = f"the connection failed ({type(exc).__name__})"
            continue
        except requests.RequestException as exc:
            raise NetworkError(f"The upload of {name} failed: {type(exc).__name__}.") from None
        finally:
            body.close()
        try:
            status = response.status_code
            text = response.text[:300] if status >= 300 else ""
        finally:
            response.close()
        if 200 <= status < 300:
            return uri
        if status >= 500 or status == 429:
            last_error = f"storage answered HTTP {status}"
            continue
        raise ApiError(
            f"The upload of {name} was refused by storage (HTTP {status}): "
            f"{redact(text.strip()) or 'no details'}",
            status=status,
        )
    raise NetworkError(
        f"The upload of {name} failed after {UPLOAD_ATTEMPTS} attempts ({last_error}). Nothing "
        "was spent; try again."
    )

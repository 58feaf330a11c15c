"""The create request's JSON body, produced while it is being sent.

A data URI is the base64 of a whole file. Building it as a ``str``, ``json.dumps``-ing the body
around it and encoding the result held three copies of up to 10 MB, and ``json.dumps`` ran as one
long C call holding the GIL (Blender's main thread waited for it mid-redraw). Here the body is a
list of parts, literal JSON text and media encoded chunk by chunk, whose exact length is known
before the first byte: it goes out with an ordinary ``Content-Length`` (never chunked encoding),
with flat memory, the encoding overlapping the socket writes.

A part whose file no longer has the checked size stops the stream *before the body is complete*:
a server reading a ``Content-Length`` body cannot act on a request it never fully received, so
that failure is known not to have created a task, unlike a failure after the last byte went out.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .media.datauri import data_uri_length, prefix

#: Media parts are encoded this many source bytes at a time (a multiple of 3: no padding mid-way).
ENCODE_CHUNK = 3 * 64 * 1024


class BodySourceError(Exception):
    """A media file could not be read as checked while the body was being produced.

    Deliberately not an ``OSError``: the HTTP stack must not mistake it for a network failure.
    Raised before the body is complete, so no task can exist.
    """

    def __init__(self, role: str, why: str) -> None:
        super().__init__(f"{role}: {why}")
        self.role = role
        self.why = why


class BodyStopped(Exception):
    """The caller's ``should_stop`` asked for a stop while the body was being produced."""


@dataclass(frozen=True)
class MediaPart:
    """A data URI produced from a file (or bytes) of a known size, quotes included."""

    role: str
    mime: str
    size: int
    path: Path | None = None
    data: bytes | None = None

    def __len__(self) -> int:
        return 2 + data_uri_length(self.size, self.mime)

    def chunks(self) -> Iterator[bytes]:
        yield b'"' + prefix(self.mime).encode("ascii")
        if self.data is not None:
            view = memoryview(self.data)
            for i in range(0, len(view), ENCODE_CHUNK):
                yield base64.b64encode(view[i : i + ENCODE_CHUNK])
        else:
            yield from self._file_chunks()
        yield b'"'

    def _file_chunks(self) -> Iterator[bytes]:
        assert self.path is not None
        done = 0
        try:
            with open(self.path, "rb") as fh:
                while chunk := fh.read(ENCODE_CHUNK):
                    done += len(chunk)
                    if done > self.size:
                        raise BodySourceError(self.role, "it grew after it was checked")
                    if len(chunk) % 3 and done != self.size:
                        raise BodySourceError(self.role, "it shrank after it was checked")
                    yield base64.b64encode(chunk)
        except OSError as exc:
            raise BodySourceError(
                self.role, f"it could not be read again ({exc.strerror or exc})"
            ) from None
        if done != self.size:
            raise BodySourceError(self.role, "it shrank after it was checked")


class CreateBody:
    """An iterable JSON body with a length: what ``requests`` sends with ``Content-Length``.

    ``produced`` counts the bytes handed to the HTTP stack in the current pass, so after a
    failure ``complete`` tells whether the server could have received the whole request.
    Iterating again starts a new pass (a create retried after a refused connection, a 429 or a
    502/503/504 resends the same body).
    """

    def __init__(
        self, fields: dict[str, Any], *, should_stop: Callable[[], bool] | None = None
    ) -> None:
        self._should_stop = should_stop
        nonce = uuid.uuid4().hex
        media: dict[str, MediaPart] = {}

        def swap(value: Any) -> Any:
            if isinstance(value, MediaPart):
                token = f"act-two-media-{len(media)}-{nonce}"
                media[token] = value
                return token
            if isinstance(value, dict):
                return {k: swap(v) for k, v in value.items()}
            return value

        text = json.dumps(swap(fields), separators=(",", ":"), allow_nan=False)
        self._parts: list[bytes | MediaPart] = []
        rest = text
        for token, part in media.items():
            before, found, rest = rest.partition(f'"{token}"')
            if not found:  # pragma: no cover - json.dumps keeps a plain ASCII token verbatim
                raise ValueError("media placeholder lost while serialising the body")
            self._parts += [before.encode("utf-8"), part]
        self._parts.append(rest.encode("utf-8"))
        self._length = sum(len(p) for p in self._parts)
        self.produced = 0

    def __len__(self) -> int:
        return self._length

    @property
    def complete(self) -> bool:
        return self.produced >= self._length

    def __iter__(self) -> Iterator[bytes]:
        self.produced = 0
        for part in self._parts:
            pieces = part.chunks() if isinstance(part, MediaPart) else iter((part,))
            for piece in pieces:
                if self._should_stop is not None and self._should_stop():
                    raise BodyStopped("stopped while the request body was being sent")
                if piece:
                    self.produced += len(piece)
                    yield piece
        if self.produced != self._length:  # pragma: no cover - the parts' lengths are exact
            raise BodySourceError("body", "its length differs from the announced length")

    def to_bytes(self) -> bytes:
        """The whole body at once (for tests; sending streams it)."""
        return b"".join(self)

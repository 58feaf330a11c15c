"""Data URIs: their exact length before encoding, and building one without holding copies.

The data-URI-or-upload decision must be made from the file size alone (reading a 150 MB file to
find it is too big for a 5 MB URI would waste time and memory), so the length of the whole URI is
computed arithmetically: ``data:<mime>;base64,`` plus 4 characters per started 3 bytes. The same
arithmetic gives the create body its exact length before it is encoded (``create_body``), which
reads files in chunks whose size is a multiple of 3, so per-chunk base64 concatenates into valid
base64.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from .. import api_surface as api

_DATA_URI_RE = re.compile(r"^data:([a-z]+/[a-z0-9.+-]+)((?:;[a-z0-9-]+=[^;,]*)*);base64,", re.I)
_B64_BODY_RE = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def prefix(mime: str) -> str:
    """``data:<mime>;base64,`` — what precedes the payload."""
    return f"data:{mime};base64,"


def encoded_length(size_bytes: int) -> int:
    """Characters of the base64 encoding of ``size_bytes`` bytes (with padding)."""
    return 4 * ((max(0, size_bytes) + 2) // 3)


def data_uri_length(size_bytes: int, mime: str) -> int:
    """The exact length of the data URI for a file of ``size_bytes`` bytes of type ``mime``."""
    return len(prefix(mime)) + encoded_length(size_bytes)


def fits_data_uri(size_bytes: int, mime: str, limit: int = api.DATA_URI_MAX_CHARS) -> bool:
    """True when the WHOLE data URI fits within Runway's limit (5,242,880 characters)."""
    return data_uri_length(size_bytes, mime) <= limit


def max_bytes_for_data_uri(mime: str, limit: int = api.DATA_URI_MAX_CHARS) -> int:
    """The largest file (in bytes) whose data URI still fits ``limit``."""
    return max(0, (limit - len(prefix(mime))) // 4 * 3)


def data_uri_from_bytes(data: bytes, mime: str) -> str:
    """The data URI of in-memory ``data``."""
    return prefix(mime) + base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class ParsedDataUri:
    mime: str
    payload_offset: int  # index in the URI where the base64 payload starts


def parse_data_uri(uri: str) -> ParsedDataUri | None:
    """The media type and payload offset of a well-formed base64 data URI; None otherwise."""
    m = _DATA_URI_RE.match(uri)
    if m is None:
        return None
    return ParsedDataUri(m.group(1).lower(), m.end())


def decode_data_uri(uri: str) -> bytes | None:
    """The payload of a well-formed base64 data URI (strict alphabet and padding); else None."""
    parsed = parse_data_uri(uri)
    if parsed is None:
        return None
    body = uri[parsed.payload_offset :]
    if len(body) % 4 or not _B64_BODY_RE.match(body):
        return None
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None

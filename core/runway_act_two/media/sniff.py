"""The media type of a file from its first bytes (magic numbers), never from its name.

Runway ignores extensions and checks the content, so a ``.mp4`` that is really a PNG, or a photo
saved as ``.jpg`` that is really WebP, must be recognised for what it is before anything is sent.
Only the types Act-Two accepts are named (JPEG, PNG, WebP images; MP4, MOV, WebM videos): anything
else, including look-alikes that share a container (HEIF/AVIF images and M4A audio in ISO-BMFF,
plain Matroska), is ``None``.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Literal

#: Enough leading bytes for every signature recognised here (the WebM DocType sits in the first
#: few dozen bytes; 4 KiB leaves room for padded EBML headers).
SNIFF_BYTES = 4096

MediaKind = Literal["image", "video"]

# ISO-BMFF major brands that are not videos Act-Two takes (still images, audio-only, raw photos).
_NON_VIDEO_BRANDS = frozenset(
    {
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis",
        b"avci", b"jp2 ", b"jpx ", b"jpm ", b"mjp2", b"crx ", b"M4A ", b"M4B ", b"M4P ", b"F4A ",
        b"F4B ",
    }
)  # fmt: skip
# Top-level QuickTime atoms a classic (pre-ftyp) MOV may start with.
_QT_FIRST_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_DOCTYPE_ID = 0x4282


def sniff_mime(head: bytes) -> str | None:
    """The MIME type of content starting with ``head``; ``None`` when not a supported type.

    ``head`` should hold at least :data:`SNIFF_BYTES` bytes (or the whole file if shorter).
    Never raises for any input.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 16 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        if head[12:16] in (b"VP8 ", b"VP8L", b"VP8X"):
            return "image/webp"
        return None
    if len(head) >= 12 and head[4:8] == b"ftyp":
        size = struct.unpack(">I", head[:4])[0]
        if size < 12 and size not in (0, 1):
            return None
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in _NON_VIDEO_BRANDS:
            return None
        return "video/mp4"
    if len(head) >= 8 and head[4:8] in _QT_FIRST_ATOMS:
        size = struct.unpack(">I", head[:4])[0]
        if size >= 8 or size in (0, 1):
            return "video/quicktime"
        return None
    if head.startswith(_EBML_MAGIC):
        return "video/webm" if _ebml_doctype(head) == "webm" else None
    return None


def kind_of(mime: str | None) -> MediaKind | None:
    """``"image"`` or ``"video"`` for a MIME type returned by :func:`sniff_mime`."""
    if mime is None:
        return None
    if mime.startswith("image/"):
        return "image"
    if mime.startswith("video/"):
        return "video"
    return None


def sniff_file(path: Path) -> str | None:
    """The MIME type of the file at ``path`` (reads :data:`SNIFF_BYTES`); OSError propagates."""
    with open(path, "rb") as fh:
        return sniff_mime(fh.read(SNIFF_BYTES))


def _vint(buf: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``pos``: (value, next position) or None."""
    if pos >= len(buf):
        return None
    first = buf[pos]
    if first == 0:
        return None
    length = 1
    mask = 0x80
    while not first & mask:
        mask >>= 1
        length += 1
    if pos + length > len(buf):
        return None
    value = first if keep_marker else first & (mask - 1)
    for b in buf[pos + 1 : pos + length]:
        value = (value << 8) | b
    return value, pos + length


def _ebml_doctype(head: bytes) -> str | None:
    """The DocType string of the EBML header at the start of ``head`` (None if not found)."""
    hdr = _vint(head, 4, keep_marker=False)
    if hdr is None:
        return None
    size, pos = hdr
    end = min(len(head), pos + size)
    while pos < end:
        ident = _vint(head, pos, keep_marker=True)
        if ident is None:
            return None
        eid, pos = ident
        sz = _vint(head, pos, keep_marker=False)
        if sz is None:
            return None
        esize, pos = sz
        if eid == _DOCTYPE_ID:
            if pos + esize > len(head) or esize > 64:
                return None
            return head[pos : pos + esize].rstrip(b"\x00").decode("ascii", "replace")
        pos += esize
    return None

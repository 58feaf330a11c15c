"""What is inside a media file, from its container headers: kind, type, size, duration, fps, audio.

Act-Two bills by the reference's duration and rejects references outside 3-30 s, so the duration
must be known before anything is sent, cheaply, and in Blender's Python (no PyAV, no Pillow). The
default prober therefore parses container headers in pure Python: ISO-BMFF/QuickTime boxes (it
seeks past ``mdat`` to a ``moov`` at the end, never reading the media data), Matroska/WebM EBML
elements, and the PNG/JPEG/WebP headers. It never decodes every frame.

Headers can be intact while the media is not (a file cut short keeps a valid ``moov`` in front):
the box walk rejects boxes that run past the end of the file, and when PyAV is importable a
first-frame decode check rejects files that do not decode.

Hostile or truncated input only ever raises :class:`MediaProbeError`: reads are bounded, loops
are counted, and every parser error is converted.
"""

from __future__ import annotations

import math
import os
import re
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from .first_frame import (
    DIRECT_DECODERS,
    QUICK_OPEN_OPTIONS,
    FirstSample,
    decode_sample,
    demux_first_frame,
)
from .sniff import SNIFF_BYTES, kind_of, sniff_mime

#: Most boxes/elements one file may make us visit (real files have a few hundred to a few 1000s).
MAX_NODES = 200_000
#: Largest box or element payload read into memory (stts tables, Matroska Tracks).
MAX_READ = 16 * 1024 * 1024
#: Deepest nesting followed.
MAX_DEPTH = 16
#: Images bigger than this are not decoded for the check (the header check still applies).
MAX_DECODE_PIXELS = 64_000_000


class MediaProbeError(Exception):
    """The file is not readable media of a supported type; the message says why (no path)."""


@dataclass(frozen=True)
class MediaInfo:
    """Facts about one file. ``duration`` comes from the container header, in seconds."""

    kind: Literal["image", "video"]
    mime: str  # one of api_surface.IMAGE_MIME_TYPES / VIDEO_MIME_TYPES
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    has_audio: bool | None = None


class MediaProber(Protocol):
    """Anything that can describe a local file (hosts may bring their own, e.g. Blender's)."""

    def probe(self, path: Path) -> MediaInfo: ...


class HeaderProber:
    """The pure-Python prober, with an optional first-frame decode check (PyAV / Pillow)."""

    def __init__(self, *, decode_check: bool = True) -> None:
        self.decode_check = decode_check

    def probe(self, path: Path) -> MediaInfo:
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                # A FIFO or device would block or never end: only regular files are media.
                if os.path.isdir(path):
                    raise IsADirectoryError(path)
                raise MediaProbeError("it is not a regular file")
            with open(path, "rb") as fh:
                info, first = _probe_open(fh)
        except MediaProbeError:
            raise
        except IsADirectoryError:
            raise MediaProbeError("it is a directory, not a file") from None
        except OSError as exc:
            raise MediaProbeError(f"the file cannot be read ({exc.strerror or exc})") from None
        except (ValueError, struct.error, IndexError, OverflowError, MemoryError) as exc:
            raise MediaProbeError(f"the file is corrupt ({type(exc).__name__})") from None
        if self.decode_check:
            _decode_check(path, info, first)
        return info

    def __repr__(self) -> str:
        return f"HeaderProber(decode_check={self.decode_check})"


def default_prober() -> MediaProber:
    """Pure-Python headers, plus a first-frame decode check when PyAV/Pillow are importable."""
    return HeaderProber(decode_check=True)


# --- reading ------------------------------------------------------------------------------------
class _Reader:
    """Bounded random access to one open file; counts nodes so no input can loop forever."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        fh.seek(0, os.SEEK_END)
        self.size = fh.tell()
        self.nodes = 0

    def at(self, offset: int, n: int) -> bytes:
        """Up to ``n`` bytes at ``offset`` (fewer at the end of the file)."""
        if offset < 0 or offset >= self.size or n <= 0:
            return b""
        if n > MAX_READ:
            raise MediaProbeError("a header is implausibly large (corrupt file)")
        self.fh.seek(offset)
        return self.fh.read(min(n, self.size - offset))

    def exact(self, offset: int, n: int, what: str) -> bytes:
        data = self.at(offset, n)
        if len(data) != n:
            raise MediaProbeError(f"the file is truncated or corrupt ({what} is cut short)")
        return data

    def tick(self) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise MediaProbeError("the file has too many container entries (corrupt file)")


def _probe_open(fh: BinaryIO) -> tuple[MediaInfo, FirstSample | None]:
    """The file's facts, and for ISO-BMFF video where its first sample lies (for the decode)."""
    r = _Reader(fh)
    if r.size == 0:
        raise MediaProbeError("the file is empty")
    mime = sniff_mime(r.at(0, SNIFF_BYTES))
    kind = kind_of(mime)
    if mime is None or kind is None:
        raise MediaProbeError(
            "it is not a supported image (JPEG, PNG, WebP) or video (MP4, MOV, WebM)"
        )
    if mime == "image/png":
        w, h = _png_size(r)
    elif mime == "image/jpeg":
        w, h = _jpeg_size(r)
    elif mime == "image/webp":
        w, h = _webp_size(r)
    elif mime == "video/webm":
        return _probe_matroska(r, mime), None
    else:
        return _probe_isobmff(r, mime)
    if w <= 0 or h <= 0:
        raise MediaProbeError("the image header gives no size (corrupt image)")
    return MediaInfo("image", mime, r.size, width=w, height=h), None


# --- images ---------------------------------------------------------------------------------------
def _png_size(r: _Reader) -> tuple[int, int]:
    head = r.exact(0, 24, "the PNG header")
    if head[12:16] != b"IHDR":
        raise MediaProbeError("the PNG header is missing (corrupt image)")
    w, h = struct.unpack(">II", head[16:24])
    return int(w), int(h)


_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(r: _Reader) -> tuple[int, int]:
    pos = 2
    while pos < r.size:
        r.tick()
        b = r.at(pos, 2)
        if len(b) < 2:
            break
        if b[0] != 0xFF:
            raise MediaProbeError("the JPEG structure is corrupt")
        marker = b[1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            break  # end of image / start of scan before any frame header
        seg = r.exact(pos + 2, 2, "a JPEG segment")
        length = struct.unpack(">H", seg)[0]
        if length < 2:
            raise MediaProbeError("the JPEG structure is corrupt")
        if marker in _SOF_MARKERS:
            sof = r.exact(pos + 4, 5, "the JPEG frame header")
            h, w = struct.unpack(">HH", sof[1:5])
            return int(w), int(h)
        pos += 2 + length
    raise MediaProbeError("the JPEG has no frame header (truncated or corrupt image)")


def _webp_size(r: _Reader) -> tuple[int, int]:
    head = r.exact(0, 30, "the WebP header")
    chunk = head[12:16]
    data = head[20:30]
    if chunk == b"VP8 ":
        if data[3:6] != b"\x9d\x01\x2a":
            raise MediaProbeError("the WebP (VP8) header is corrupt")
        w, h = struct.unpack("<HH", data[6:10])
        return int(w) & 0x3FFF, int(h) & 0x3FFF
    if chunk == b"VP8L":
        if data[0] != 0x2F:
            raise MediaProbeError("the WebP (lossless) header is corrupt")
        bits = int.from_bytes(data[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        w = int.from_bytes(data[4:7], "little") + 1
        h = int.from_bytes(data[7:10], "little") + 1
        return w, h
    raise MediaProbeError("the WebP header is corrupt")


# --- ISO-BMFF / QuickTime -----------------------------------------------------------------------
@dataclass
class _Track:
    handler: bytes = b""
    width: int = 0
    height: int = 0
    timescale: int = 0
    duration: int = 0
    samples: int = 0
    sample_time: int = 0  # sum of stts deltas
    entry_width: int = 0
    entry_height: int = 0
    codec: bytes = b""  # this and the rest: only for the direct first-frame decode
    config: bytes | None = None
    first_offset: int | None = None
    first_size: int | None = None
    first_is_sync: bool = True


#: A box type: four printable characters (QuickTime uses '\xa9' in metadata atom names).
_BOX_TYPE_RE = re.compile(rb"^[\x20-\x7e\xa9]{4}$")


def _boxes(r: _Reader, start: int, end: int, top: bool) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in [start, end); rejects overruns."""
    pos = start
    while pos + 8 <= end:
        r.tick()
        head = r.exact(pos, 8, "a box header")
        size, typ = struct.unpack(">I4s", head)
        hlen = 8
        if size == 1:
            size = struct.unpack(">Q", r.exact(pos + 8, 8, "a box header"))[0]
            hlen = 16
        elif size == 0:
            size = end - pos
        if top and pos > start and not _BOX_TYPE_RE.match(typ):
            return  # bytes after the last box that are not a box (some writers append junk)
        if size < hlen:
            raise MediaProbeError("a box has an impossible size (corrupt file)")
        box_end = pos + size
        if box_end > end:
            where = "the file" if top else "its parent"
            raise MediaProbeError(
                f"the file is truncated: the '{typ.decode('latin-1')}' box runs past the end of "
                f"{where} ({box_end - end} bytes missing)"
            )
        yield typ, pos + hlen, box_end
        pos = box_end
    if not top and pos != end and end - pos >= 8:
        raise MediaProbeError("a box list is corrupt")


def _full_box(r: _Reader, start: int, end: int, n: int, what: str) -> tuple[int, bytes]:
    """(version, the first ``n`` payload bytes after version/flags)."""
    data = r.exact(start, min(n + 4, end - start), what)
    if len(data) < 4:
        raise MediaProbeError(f"the {what} is cut short (corrupt file)")
    return data[0], data[4:]


def _probe_isobmff(r: _Reader, mime: str) -> tuple[MediaInfo, FirstSample | None]:
    moov: tuple[int, int] | None = None
    fragmented = False
    for typ, start, end in _boxes(r, 0, r.size, top=True):
        if typ == b"moov":
            if moov is not None:
                raise MediaProbeError("the file has two movie headers (corrupt file)")
            moov = (start, end)
        elif typ == b"moof":
            fragmented = True
    if moov is None:
        raise MediaProbeError(
            "the movie header (moov) is missing: the file is truncated or was never finished"
        )
    movie_timescale = 0
    movie_duration = 0
    fragment_duration = 0
    tracks: list[_Track] = []
    for typ, start, end in _boxes(r, moov[0], moov[1], top=False):
        if typ == b"mvhd":
            ver, d = _full_box(r, start, end, 28, "movie header")
            if ver == 1:
                movie_timescale, movie_duration = struct.unpack(">IQ", d[16:28])
            else:
                movie_timescale, movie_duration = struct.unpack(">II", d[8:16])
        elif typ == b"trak":
            tracks.append(_parse_trak(r, start, end))
        elif typ == b"mvex":
            fragmented = True
            for t2, s2, e2 in _boxes(r, start, end, top=False):
                if t2 == b"mehd":
                    ver, d = _full_box(r, s2, e2, 8, "movie extends header")
                    fragment_duration = int.from_bytes(d[:8] if ver == 1 else d[:4], "big")
    if movie_timescale == 0 and not tracks:
        raise MediaProbeError("the movie header is missing or corrupt")
    video = [t for t in tracks if t.handler == b"vide"]
    if not video:
        raise MediaProbeError("the file has no video track")
    vt = video[0]
    if vt.samples == 0 and not fragmented:
        raise MediaProbeError("the video track has no frames (truncated or empty file)")
    duration: float | None = None
    if movie_timescale > 0 and movie_duration > 0 and movie_duration != 0xFFFFFFFF:
        duration = movie_duration / movie_timescale
    elif movie_timescale > 0 and fragment_duration > 0:
        duration = fragment_duration / movie_timescale
    else:
        spans = [t.duration / t.timescale for t in tracks if t.timescale > 0 and t.duration > 0]
        duration = max(spans) if spans else None
    fps: float | None = None
    if vt.samples > 0 and vt.sample_time > 0 and vt.timescale > 0:
        fps = vt.samples * vt.timescale / vt.sample_time
    elif vt.samples > 0 and vt.duration > 0 and vt.timescale > 0:
        fps = vt.samples * vt.timescale / vt.duration
    width = vt.width or vt.entry_width or None
    height = vt.height or vt.entry_height or None
    info = MediaInfo(
        "video",
        mime,
        r.size,
        width=width,
        height=height,
        duration=_finite(duration),
        fps=_rate(fps),
        has_audio=any(t.handler == b"soun" for t in tracks),
    )
    return info, _first_sample(vt, r.size)


def _parse_trak(r: _Reader, start: int, end: int) -> _Track:
    t = _Track()
    stack: list[tuple[int, int, int, bytes]] = [(start, end, 0, b"trak")]
    while stack:
        s, e, depth, parent = stack.pop()
        if depth > MAX_DEPTH:
            raise MediaProbeError("the file nests too deeply (corrupt file)")
        for typ, bs, be in _boxes(r, s, e, top=False):
            if typ in (b"mdia", b"minf", b"stbl"):
                stack.append((bs, be, depth + 1, typ))
            elif typ == b"tkhd":
                ver, d = _full_box(r, bs, be, 84, "track header")
                off = 32 if ver == 1 else 20
                off += 52
                if len(d) >= off + 8:
                    w, h = struct.unpack(">II", d[off : off + 8])
                    t.width, t.height = int(w) >> 16, int(h) >> 16
            elif typ == b"mdhd":
                ver, d = _full_box(r, bs, be, 28, "media header")
                if ver == 1:
                    t.timescale, t.duration = struct.unpack(">IQ", d[16:28])
                else:
                    t.timescale, t.duration = struct.unpack(">II", d[8:16])
            elif typ == b"hdlr" and parent == b"mdia":
                # QuickTime also puts a data-handler hdlr ('alis', 'url ') under minf.
                _, d = _full_box(r, bs, be, 8, "handler")
                t.handler = d[4:8]
            elif typ == b"stts":
                _read_stts(r, bs, be, t)
            elif typ == b"stsd":
                _, d = _full_box(r, bs, be, 44, "sample description")
                if len(d) >= 44:
                    t.entry_width, t.entry_height = struct.unpack(">HH", d[36:40])
                    t.codec = d[8:12]
                    if t.codec in DIRECT_DECODERS:  # nothing else is decoded directly
                        entry_end = min(be, bs + 8 + int.from_bytes(d[4:8], "big"))
                        t.config = _codec_config(r, bs + 8 + _VISUAL_ENTRY_BYTES, entry_end)
            elif typ in (b"stco", b"co64", b"stsz", b"stss"):
                _sample_facts(r, typ, bs, be, t)
    return t


def _sample_facts(r: _Reader, typ: bytes, start: int, end: int, t: _Track) -> None:
    """Where sample 1 lies and whether it is a sync sample. Never raises: only the fast
    first-frame decode uses these, and a file with odd tables is still judged by the demuxer."""
    try:
        if typ in (b"stco", b"co64"):
            n = 8 if typ == b"co64" else 4
            _, d = _full_box(r, start, end, 4 + n, "chunk offsets")
            if len(d) == 4 + n and int.from_bytes(d[:4], "big") > 0:
                t.first_offset = int.from_bytes(d[4:], "big")
        elif typ == b"stsz":
            _, d = _full_box(r, start, end, 12, "sample sizes")
            if len(d) >= 8:
                fixed, count = struct.unpack(">II", d[:8])
                if fixed:
                    t.first_size = fixed
                elif count and len(d) == 12:
                    t.first_size = int.from_bytes(d[8:12], "big")
        elif typ == b"stss":
            # Without this table every sample is a sync sample; with it, sample 1 must be one.
            _, d = _full_box(r, start, end, 8, "sync samples")
            count, first = struct.unpack(">II", d) if len(d) == 8 else (0, 0)
            t.first_is_sync = count > 0 and first == 1
    except MediaProbeError:
        t.first_is_sync = False


#: Bytes of a visual sample entry before its child boxes (ISO/IEC 14496-12 VisualSampleEntry).
_VISUAL_ENTRY_BYTES = 8 + 78
#: Decoder configuration boxes inside a visual sample entry (their payload is FFmpeg's extradata).
_CONFIG_BOXES = (b"avcC", b"hvcC")


def _codec_config(r: _Reader, start: int, end: int) -> bytes | None:
    """The avcC/hvcC payload of a sample entry, or None. Never raises: only the fast first-frame
    decode uses it, and a file with odd boxes here is still judged by the demuxer."""
    try:
        for typ, bs, be in _boxes(r, start, end, top=False):
            if typ in _CONFIG_BOXES and be - bs <= MAX_READ:
                return r.exact(bs, be - bs, "the codec configuration")
    except MediaProbeError:
        return None
    return None


def _first_sample(t: _Track, file_size: int) -> FirstSample | None:
    if t.first_offset is None or not t.first_size or not t.first_is_sync:
        return None
    if t.first_offset + t.first_size > file_size:
        return None
    return FirstSample(t.codec, t.config, t.first_offset, t.first_size)


def _read_stts(r: _Reader, start: int, end: int, t: _Track) -> None:
    _, d = _full_box(r, start, end, 4, "time-to-sample table")
    if len(d) < 4:
        raise MediaProbeError("the time-to-sample table is cut short (corrupt file)")
    count = struct.unpack(">I", d)[0]
    table_len = count * 8
    if start + 8 + table_len > end:
        raise MediaProbeError("the time-to-sample table is cut short (corrupt file)")
    if table_len > MAX_READ:
        return  # too big to sum cheaply; fps falls back to the track duration
    table = r.exact(start + 8, table_len, "the time-to-sample table")
    samples = 0
    total = 0
    for n, delta in struct.iter_unpack(">II", table):
        samples += n
        total += n * delta
    t.samples, t.sample_time = samples, total


# --- Matroska / WebM ------------------------------------------------------------------------------
_SEGMENT = 0x18538067
_INFO = 0x1549A966
_TRACKS = 0x1654AE6B
_CLUSTER = 0x1F43B675
_TIMECODE_SCALE = 0x2AD7B1
_DURATION = 0x4489
_TRACK_ENTRY = 0xAE
_TRACK_TYPE = 0x83
_DEFAULT_DURATION = 0x23E383
_VIDEO = 0xE0
_PIXEL_WIDTH = 0xB0
_PIXEL_HEIGHT = 0xBA
_CLUSTER_TIMECODE = 0xE7
_SIMPLE_BLOCK = 0xA3
_BLOCK_GROUP = 0xA0
_BLOCK = 0xA1
_LEVEL1 = frozenset(
    {0x114D9B74, _INFO, _TRACKS, _CLUSTER, 0x1C53BB6B, 0x1941A469, 0x1043A770, 0x1254C367}
)
_UNKNOWN = -1


def _vint_at(buf: bytes, pos: int, keep_marker: bool) -> tuple[int, int]:
    """(value, length) of the EBML vint at ``buf[pos]``; unknown sizes return ``_UNKNOWN``."""
    if pos >= len(buf) or buf[pos] == 0:
        raise MediaProbeError("an EBML element header is corrupt")
    first = buf[pos]
    length = 8 - first.bit_length() + 1
    if pos + length > len(buf):
        raise MediaProbeError("the file is truncated (an EBML element header is cut short)")
    mask = (1 << (8 - length)) - 1
    value = first if keep_marker else first & mask
    all_ones = (first & mask) == mask
    for b in buf[pos + 1 : pos + length]:
        value = (value << 8) | b
        all_ones = all_ones and b == 0xFF
    if not keep_marker and all_ones:
        return _UNKNOWN, length
    return value, length


def _element_at(r: _Reader, pos: int) -> tuple[int, int, int]:
    """(id, data start, size or _UNKNOWN) of the element at file offset ``pos``."""
    head = r.at(pos, 12)
    eid, n1 = _vint_at(head, 0, keep_marker=True)
    size, n2 = _vint_at(head, n1, keep_marker=False)
    return eid, pos + n1 + n2, size


def _elements_in(buf: bytes) -> Iterator[tuple[int, bytes]]:
    """Children of an in-memory element payload (sizes must be known)."""
    pos = 0
    while pos < len(buf):
        eid, n1 = _vint_at(buf, pos, keep_marker=True)
        size, n2 = _vint_at(buf, pos + n1, keep_marker=False)
        start = pos + n1 + n2
        if size == _UNKNOWN or start + size > len(buf):
            raise MediaProbeError("an EBML element runs past its parent (corrupt file)")
        yield eid, buf[start : start + size]
        pos = start + size


def _uint(b: bytes) -> int:
    return int.from_bytes(b[:8], "big") if b else 0


def _float(b: bytes) -> float | None:
    if len(b) == 4:
        return float(struct.unpack(">f", b)[0])
    if len(b) == 8:
        return float(struct.unpack(">d", b)[0])
    return None


def _probe_matroska(r: _Reader, mime: str) -> MediaInfo:
    eid, start, size = _element_at(r, 0)
    if size == _UNKNOWN:
        raise MediaProbeError("the EBML header is corrupt")
    pos = start + size
    segment: tuple[int, int] | None = None
    while pos < r.size:
        r.tick()
        eid, start, size = _element_at(r, pos)
        end = r.size if size == _UNKNOWN else start + size
        if eid == _SEGMENT:
            if end > r.size:
                raise MediaProbeError(
                    f"the file is truncated: the segment runs past the end ({end - r.size} bytes "
                    "missing)"
                )
            segment = (start, end)
            break
        if size == _UNKNOWN:
            break
        pos = end
    if segment is None:
        raise MediaProbeError("the WebM segment is missing (truncated or corrupt file)")

    scale = 1_000_000
    raw_duration: float | None = None
    tracks: list[dict[int, object]] = []
    info_seen = tracks_seen = False
    first_cluster: int | None = None
    pos = segment[0]
    while pos < segment[1]:
        r.tick()
        eid, start, size = _element_at(r, pos)
        if size == _UNKNOWN:
            if eid == _CLUSTER:
                first_cluster = pos if first_cluster is None else first_cluster
            break  # only clusters have unknown sizes in practice; headers come before them
        end = start + size
        if end > segment[1]:
            raise MediaProbeError("the file is truncated (a WebM element runs past the end)")
        if eid == _INFO:
            info_seen = True
            for cid, payload in _elements_in(r.exact(start, size, "the WebM info")):
                if cid == _TIMECODE_SCALE:
                    scale = _uint(payload) or 1_000_000
                elif cid == _DURATION:
                    raw_duration = _float(payload)
        elif eid == _TRACKS:
            tracks_seen = True
            for cid, payload in _elements_in(r.exact(start, size, "the WebM tracks")):
                if cid == _TRACK_ENTRY:
                    tracks.append(_parse_track_entry(payload))
        elif eid == _CLUSTER and first_cluster is None:
            first_cluster = pos
        if info_seen and tracks_seen and raw_duration is not None:
            break
        pos = end
    if not tracks_seen:
        raise MediaProbeError("the WebM track list is missing (truncated or corrupt file)")
    video = [t for t in tracks if t.get(_TRACK_TYPE) == 1]
    if not video:
        raise MediaProbeError("the file has no video track")
    vt = video[0]
    default_ns = vt.get(_DEFAULT_DURATION)
    frame_s = (default_ns / 1e9) if isinstance(default_ns, int) and default_ns > 0 else None
    duration: float | None = None
    if raw_duration is not None and math.isfinite(raw_duration) and raw_duration > 0:
        duration = raw_duration * scale / 1e9
    elif first_cluster is not None:
        last = _scan_clusters(r, first_cluster, segment[1])
        if last is not None:
            duration = last * scale / 1e9 + (frame_s or 0.0)
    w, h = vt.get(_PIXEL_WIDTH), vt.get(_PIXEL_HEIGHT)
    return MediaInfo(
        "video",
        mime,
        r.size,
        width=w if isinstance(w, int) and w > 0 else None,
        height=h if isinstance(h, int) and h > 0 else None,
        duration=_finite(duration),
        fps=_rate(1.0 / frame_s) if frame_s else None,
        has_audio=any(t.get(_TRACK_TYPE) == 2 for t in tracks),
    )


def _parse_track_entry(payload: bytes) -> dict[int, object]:
    out: dict[int, object] = {}
    for cid, data in _elements_in(payload):
        if cid in (_TRACK_TYPE, _DEFAULT_DURATION):
            out[cid] = _uint(data)
        elif cid == _VIDEO:
            for vid, vdata in _elements_in(data):
                if vid in (_PIXEL_WIDTH, _PIXEL_HEIGHT):
                    out[vid] = _uint(vdata)
    return out


def _scan_clusters(r: _Reader, pos: int, end: int) -> int | None:
    """The latest block timestamp (in timecode units) when the header has no Duration.

    Recorders that stream WebM (browsers' MediaRecorder) never write a Duration; the block
    headers are walked (payloads skipped by seeking) to find the last timestamp.
    """
    last: int | None = None
    cluster_tc = 0
    while pos < end:
        r.tick()
        eid, start, size = _element_at(r, pos)
        if eid == _CLUSTER:
            pos = start  # descend: children follow (size known or not)
            cluster_tc = 0
            continue
        if size == _UNKNOWN:
            break
        if start + size > end:
            raise MediaProbeError("the file is truncated (a WebM block runs past the end)")
        if eid == _CLUSTER_TIMECODE:
            cluster_tc = _uint(r.exact(start, size, "a cluster timestamp"))
        elif eid in (_SIMPLE_BLOCK, _BLOCK_GROUP):
            block_start = start
            if eid == _BLOCK_GROUP:
                inner = r.at(start, 12)
                bid, n1 = _vint_at(inner, 0, keep_marker=True)
                _, n2 = _vint_at(inner, n1, keep_marker=False)
                if bid != _BLOCK:
                    pos = start + size
                    continue
                block_start = start + n1 + n2
            head = r.at(block_start, 12)
            _, tn = _vint_at(head, 0, keep_marker=False)
            if len(head) < tn + 2:
                raise MediaProbeError("the file is truncated (a WebM block is cut short)")
            rel = struct.unpack(">h", head[tn : tn + 2])[0]
            ts = cluster_tc + rel
            last = ts if last is None else max(last, ts)
        elif eid in _LEVEL1:
            pass  # Cues, Tags...: skipped like any other element
        pos = start + size
    return last


# --- helpers --------------------------------------------------------------------------------------
def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def _rate(value: float | None) -> float | None:
    """A frame rate rounded to what matters (24.000000384 from nanosecond durations is 24)."""
    finite = _finite(value)
    return None if finite is None else round(finite, 3)


def _decode_check(path: Path, info: MediaInfo, first: FirstSample | None = None) -> None:
    """Decode one frame (images: the image) so a file that does not decode is rejected."""
    if info.kind == "image":
        if (info.width or 0) * (info.height or 0) > MAX_DECODE_PIXELS:
            return
        try:
            from PIL import Image
        except ImportError:
            pass
        else:
            try:
                with Image.open(path) as im:
                    if info.mime == "image/png":
                        # Every chunk is read and its CRC checked (a cut or damaged file fails)
                        # without inflating the pixels: a 1080p render checks in a few ms.
                        im.verify()
                    else:
                        # JPEG can decode at 1/8 scale: every byte is still read and checked.
                        im.draft(im.mode, (max(1, im.width // 8), max(1, im.height // 8)))
                        im.load()
            except Exception as exc:  # Pillow raises many kinds for bad data
                raise MediaProbeError(f"the image does not decode ({_short(exc)})") from None
            return
    try:
        import av  # noqa: F401
    except ImportError:
        return
    # The headers located the first sample: decoding it directly skips the demuxer (see
    # first_frame). Any failure there is judged again by the demuxer below.
    if first is not None:
        try:
            if decode_sample(path, first):
                return
        except Exception:  # judged by the demuxer below
            pass
    # The container facts are already known from the headers, so FFmpeg's own stream analysis
    # (decoding frames ahead to guess parameters: ~2/3 of the check's time on a 720p MP4) is
    # cut short first; only a file that then yields no frame pays for the full analysis.
    try:
        if demux_first_frame(path, QUICK_OPEN_OPTIONS):
            return
    except Exception:  # judged by the full open below
        pass
    try:
        found = demux_first_frame(path, None)
    except Exception as exc:  # PyAV raises many kinds (FFmpegError, ValueError, ...)
        raise MediaProbeError(f"the {info.kind} does not decode ({_short(exc)})") from None
    if found is None:
        raise MediaProbeError("no picture stream could be decoded")
    if not found:
        raise MediaProbeError(f"the {info.kind} does not decode (no frame could be decoded)")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # PyAV messages quote the file name; keep only the reason.
    if ": '" in text:
        text = text.split(": '", 1)[0]
    return text[:160]

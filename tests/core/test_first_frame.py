"""The direct first-sample decode: it finds the same bytes FFmpeg's demuxer does, decodes them,
and never decides alone that a file is bad (the demuxer stays the judge)."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from media_factory import make_mov, make_mp4, make_video
from runway_act_two.media.first_frame import (
    FirstSample,
    decode_sample,
    demux_first_frame,
)
from runway_act_two.media.probe import MediaProbeError, _probe_open, default_prober


def _first_sample(path: Path) -> FirstSample | None:
    with open(path, "rb") as fh:
        return _probe_open(fh)[1]


def _first_packet(path: Path) -> bytes:
    with av.open(str(path)) as c:
        for packet in c.demux(c.streams.video[0]):
            if packet.size:
                return bytes(packet)
    raise AssertionError("no packet")


def _patched(src: Path, box: bytes, at: int, value: int) -> Path:
    """A copy of ``src`` with the 32-bit field ``at`` bytes into its first ``box`` set."""
    data = bytearray(src.read_bytes())
    pos = data.find(box)
    assert pos > 0
    data[pos + at : pos + at + 4] = struct.pack(">I", value)
    edited = src.with_name("edited" + src.suffix)
    edited.write_bytes(bytes(data))
    return edited


def _encode(path: Path, codec: str, fmt: str = "mp4") -> Path:
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream(codec, rate=24)
        vs.width, vs.height, vs.pix_fmt = 160, 120, "yuv420p"
        if codec == "libx265":
            vs.options = {"preset": "ultrafast", "x265-params": "log-level=none"}
        for i in range(84):
            img = np.full((120, 160, 3), (i * 3) % 256, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 24)
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda p: make_mp4(p / "a.mp4", 3.5),
        lambda p: make_mp4(p / "a.mp4", 3.5, audio=True, faststart=True),
        lambda p: make_mov(p / "a.mov", 3.5, audio=True),
        lambda p: make_video(p / "a.mp4", 3.2, fps=Fraction(30000, 1001), audio=True),
    ],
)
def test_the_headers_locate_the_demuxers_first_packet_and_it_decodes(
    tmp_path: Path, make: object
) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    first = _first_sample(path)
    assert first is not None
    assert first.codec == b"avc1"
    assert first.config is not None and first.config[0] == 1  # avcC configurationVersion
    data = path.read_bytes()[first.offset : first.offset + first.size]
    assert data == _first_packet(path)
    assert decode_sample(path, first) is True


def test_hevc_is_decoded_directly(tmp_path: Path) -> None:
    if "libx265" not in av.codecs_available:
        pytest.skip("this PyAV build has no HEVC encoder")
    path = _encode(tmp_path / "h.mp4", "libx265")
    first = _first_sample(path)
    assert first is not None and first.codec in (b"hvc1", b"hev1")
    assert decode_sample(path, first) is True
    default_prober().probe(path)


def test_other_codecs_go_to_the_demuxer(tmp_path: Path) -> None:
    path = _encode(tmp_path / "m.mp4", "mpeg4")
    first = _first_sample(path)
    assert first is not None and first.codec == b"mp4v"
    assert decode_sample(path, first) is False  # not handled directly ...
    assert default_prober().probe(path).kind == "video"  # ... and still accepted


def test_a_first_sample_that_is_not_a_sync_sample_is_left_to_the_demuxer(tmp_path: Path) -> None:
    src = make_mp4(tmp_path / "a.mp4", 3.5)
    data = src.read_bytes()
    stss = data.find(b"stss")
    assert struct.unpack(">II", data[stss + 8 : stss + 16])[1] == 1
    edited = _patched(src, b"stss", 12, 2)  # "sample 1 is not a keyframe"
    assert _first_sample(edited) is None
    assert default_prober().probe(edited).kind == "video"


def test_a_damaged_first_sample_gets_the_demuxers_verdict(tmp_path: Path) -> None:
    src = make_mp4(tmp_path / "a.mp4", 3.5)
    first = _first_sample(src)
    assert first is not None
    data = bytearray(src.read_bytes())
    data[first.offset : first.offset + first.size] = b"\xff" * first.size
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    try:
        demuxer_says = demux_first_frame(bad, None)
    except av.FFmpegError:
        demuxer_says = False
    if demuxer_says:
        assert default_prober().probe(bad).kind == "video"
    else:
        with pytest.raises(MediaProbeError, match="decode"):
            default_prober().probe(bad)


def test_sample_offsets_past_the_end_are_not_used(tmp_path: Path) -> None:
    src = make_mp4(tmp_path / "a.mp4", 3.5, faststart=True)
    edited = _patched(src, b"stco", 12, src.stat().st_size + 10)
    assert _first_sample(edited) is None

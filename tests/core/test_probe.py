"""Container-header probing on real media, truncated and corrupted media, and hostile bytes."""

from __future__ import annotations

import contextlib
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from media_factory import (
    make_jpeg,
    make_mov,
    make_mp4,
    make_png,
    make_webm,
    make_webp,
    truncated_copy,
)
from runway_act_two.media.probe import (
    HeaderProber,
    MediaInfo,
    MediaProbeError,
    default_prober,
)

HEADERS_ONLY = HeaderProber(decode_check=False)


@pytest.mark.parametrize(
    ("maker", "mime"),
    [
        (make_png, "image/png"),
        (make_jpeg, "image/jpeg"),
        (make_webp, "image/webp"),
        (lambda p, w, h: make_webp(p, w, h, lossless=True), "image/webp"),
    ],
)
def test_image_dimensions(tmp_path: Path, maker: object, mime: str) -> None:
    path = tmp_path / "img"
    maker(path, 97, 61)  # type: ignore[operator]
    for prober in (HEADERS_ONLY, default_prober()):
        info = prober.probe(path)
        assert info == MediaInfo("image", mime, path.stat().st_size, width=97, height=61)


@pytest.mark.parametrize("container", ["mp4", "mp4-faststart", "mov", "webm"])
@pytest.mark.parametrize(("seconds", "fps", "audio"), [(3.5, 24, True), (5.0, 30, False)])
def test_video_facts_from_headers(
    tmp_path: Path, container: str, seconds: float, fps: int, audio: bool
) -> None:
    path = tmp_path / "clip"
    if container == "webm":
        make_webm(path, seconds, 96, 64, fps=fps, audio=audio)
        mime = "video/webm"
    elif container == "mov":
        make_mov(path, seconds, 96, 64, fps=fps, audio=audio)
        mime = "video/quicktime"
    else:
        make_mp4(path, seconds, 96, 64, fps=fps, audio=audio, faststart="fast" in container)
        mime = "video/mp4"
    for prober in (HEADERS_ONLY, default_prober()):
        info = prober.probe(path)
        assert info.kind == "video"
        assert info.mime == mime
        assert (info.width, info.height) == (96, 64)
        assert info.duration is not None
        assert abs(info.duration - seconds) < 0.1
        assert info.fps == pytest.approx(fps, abs=0.01)
        assert info.has_audio is audio
        assert info.size_bytes == path.stat().st_size


def test_duration_agrees_with_pyav(tmp_path: Path) -> None:
    import av

    path = make_mp4(tmp_path / "a.mp4", 4.0, audio=True)
    with av.open(str(path)) as c:
        assert c.duration is not None
        expected = c.duration / 1_000_000
    duration = HEADERS_ONLY.probe(path).duration
    assert duration is not None
    assert abs(duration - expected) < 0.01


def _webm_without_duration(src: Path, dst: Path) -> Path:
    """Replace the Info Duration element by a Void element of the same size (like MediaRecorder)."""
    data = bytearray(src.read_bytes())
    idx = data.find(b"\x44\x89\x88")  # Duration, 8-byte float
    assert idx > 0
    data[idx : idx + 11] = b"\xec\x89" + b"\x00" * 9  # Void (0xEC), size 9
    dst.write_bytes(bytes(data))
    return dst


def test_webm_without_duration_is_measured_from_blocks(tmp_path: Path) -> None:
    src = make_webm(tmp_path / "a.webm", 4.0, fps=24)
    path = _webm_without_duration(src, tmp_path / "b.webm")
    info = HEADERS_ONLY.probe(path)
    assert info.duration is not None
    assert abs(info.duration - 4.0) < 0.1


@pytest.mark.parametrize("container", ["mp4", "mp4-faststart", "mov", "webm"])
@pytest.mark.parametrize("keep", [0.97, 0.5, 0.1, 40])
def test_truncated_videos_are_rejected(tmp_path: Path, container: str, keep: float | int) -> None:
    src = tmp_path / "src"
    if container == "webm":
        make_webm(src, 3.5)
    elif container == "mov":
        make_mov(src, 3.5, audio=True)
    else:
        make_mp4(src, 3.5, audio=True, faststart="fast" in container)
    cut = truncated_copy(src, tmp_path / "cut", keep)
    with pytest.raises(MediaProbeError):
        default_prober().probe(cut)
    with pytest.raises(MediaProbeError):
        HEADERS_ONLY.probe(cut)


@pytest.mark.parametrize("maker", [make_png, make_jpeg, make_webp])
def test_truncated_images_do_not_decode(tmp_path: Path, maker: object) -> None:
    src = tmp_path / "src"
    maker(src, 200, 150)  # type: ignore[operator]
    cut = truncated_copy(src, tmp_path / "cut", 0.6)
    with pytest.raises(MediaProbeError, match="decode"):
        default_prober().probe(cut)


def test_png_with_damaged_pixel_data_is_rejected(tmp_path: Path) -> None:
    """PNG integrity is checked by chunk CRCs (no inflate): one flipped IDAT byte must fail."""
    src = make_png(tmp_path / "a.png", 200, 150)
    data = bytearray(src.read_bytes())
    data[data.find(b"IDAT") + 20] ^= 0xFF
    bad = tmp_path / "bad.png"
    bad.write_bytes(bytes(data))
    assert default_prober().probe(src).kind == "image"
    with pytest.raises(MediaProbeError, match="decode"):
        default_prober().probe(bad)


def test_video_with_intact_headers_but_garbage_frames_is_rejected(tmp_path: Path) -> None:
    """The headers parse, but the picture data is noise: only the decode check catches it."""
    src = make_mp4(tmp_path / "a.mp4", 3.5, faststart=True)
    data = bytearray(src.read_bytes())
    mdat = data.find(b"mdat")
    assert mdat > 0
    size = struct.unpack(">I", data[mdat - 4 : mdat])[0]
    data[mdat + 4 : mdat - 4 + size] = b"\x00" * (size - 8)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    assert HEADERS_ONLY.probe(bad).duration is not None
    with pytest.raises(MediaProbeError, match="decode"):
        default_prober().probe(bad)


def test_trailing_junk_after_the_last_box_is_ignored(tmp_path: Path) -> None:
    src = make_mp4(tmp_path / "a.mp4", 3.5, faststart=True)
    padded = tmp_path / "padded.mp4"
    padded.write_bytes(src.read_bytes() + b"\xff\x00\x13\x37" * 64)
    info = default_prober().probe(padded)
    assert info.duration is not None and abs(info.duration - 3.5) < 0.1


def test_unreadable_and_unsupported_files(tmp_path: Path) -> None:
    prober = default_prober()
    with pytest.raises(MediaProbeError, match="cannot be read"):
        prober.probe(tmp_path / "missing.mp4")
    with pytest.raises(MediaProbeError, match="directory"):
        prober.probe(tmp_path)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(MediaProbeError, match="empty"):
        prober.probe(empty)
    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a" + b"\x00" * 64)
    with pytest.raises(MediaProbeError, match="not a supported"):
        prober.probe(gif)


def test_audio_only_mp4_has_no_video_track(tmp_path: Path) -> None:
    import av
    import numpy as np

    path = tmp_path / "a.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        st_ = out.add_stream("aac", rate=44100, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono"
        )
        frame.sample_rate = 44100
        for p in st_.encode(frame):
            out.mux(p)
        for p in st_.encode(None):
            out.mux(p)
    with pytest.raises(MediaProbeError, match="no video track"):
        HEADERS_ONLY.probe(path)


def test_huge_box_sizes_do_not_allocate(tmp_path: Path) -> None:
    """A box claiming 2**63 bytes, or a table claiming billions of entries, is just an error."""
    path = tmp_path / "hostile.mp4"
    ftyp = struct.pack(">I4s4sI4s", 20, b"ftyp", b"isom", 0, b"isom")
    stts = struct.pack(">I4sII", 16, b"stts", 0, 0xFFFFFFFF)
    moov = struct.pack(">I4s", 8 + len(stts), b"moov") + stts
    big = struct.pack(">I4sQ", 1, b"mdat", 2**63)
    path.write_bytes(ftyp + moov + big)
    with pytest.raises(MediaProbeError):
        default_prober().probe(path)


_MP4_CACHE: dict[str, bytes] = {}


def _sample(kind: str, tmp_path: Path) -> bytes:
    if kind not in _MP4_CACHE:
        maker = {"mp4": make_mp4, "webm": make_webm, "png": make_png, "jpeg": make_jpeg}[kind]
        path = tmp_path / f"sample-{kind}"
        if kind in ("mp4", "webm"):
            maker(path, 0.5)  # type: ignore[operator]
        else:
            maker(path)  # type: ignore[operator]
        _MP4_CACHE[kind] = path.read_bytes()
    return _MP4_CACHE[kind]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_only_raise_probe_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x"
    path.write_bytes(data)
    with contextlib.suppress(MediaProbeError):
        default_prober().probe(path)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["mp4", "webm", "png", "jpeg"]),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_mutated_real_files_only_raise_probe_errors(
    tmp_path: Path, kind: str, edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(_sample(kind, tmp_path))
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        del data[cut % len(data) :]
    path = tmp_path / "mutant"
    path.write_bytes(bytes(data))
    try:
        info = default_prober().probe(path)
    except MediaProbeError:
        return
    assert info.size_bytes == len(data)


def test_probing_works_without_pyav_and_pillow(tmp_path: Path) -> None:
    """Blender's Python has neither: headers alone must still give every fact."""
    import json
    import subprocess
    import sys

    video = make_mp4(tmp_path / "a.mp4", 3.5, audio=True)
    image = make_png(tmp_path / "a.png", 30, 20)
    script = (
        "import sys, json\n"
        "sys.modules['av'] = None; sys.modules['PIL'] = None; sys.modules['numpy'] = None\n"
        "from pathlib import Path\n"
        "from runway_act_two.media.probe import default_prober\n"
        "p = default_prober()\n"
        "out = [p.probe(Path(a)).__dict__ for a in sys.argv[1:]]\n"
        "assert 'av' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(video), str(image)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    facts = json.loads(done.stdout)
    assert facts[0]["mime"] == "video/mp4" and abs(facts[0]["duration"] - 3.5) < 0.1
    assert facts[0]["has_audio"] is True
    assert (facts[1]["width"], facts[1]["height"]) == (30, 20)


def _top_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, typ = struct.unpack(">I4s", data[pos : pos + 8])
        out.append((typ, pos, size))
        pos += size
    return out


def test_64bit_mdat_and_a_moov_after_a_huge_mdat_are_read_by_seeking(tmp_path: Path) -> None:
    """A 300 MB (sparse) mdat with a 64-bit size before the moov: found without reading it."""
    import tracemalloc

    src = make_mp4(tmp_path / "a.mp4", 3.5, audio=True)  # moov at the end
    data = src.read_bytes()
    boxes = {typ: (pos, size) for typ, pos, size in _top_boxes(data)}
    assert boxes[b"mdat"][0] < boxes[b"moov"][0]
    ftyp_end = boxes[b"ftyp"][0] + boxes[b"ftyp"][1]
    moov_pos, moov_size = boxes[b"moov"]
    huge = 300 * 1024 * 1024
    path = tmp_path / "huge.mp4"
    with path.open("wb") as fh:
        fh.write(data[:ftyp_end])
        fh.write(struct.pack(">I4sQ", 1, b"mdat", 16 + huge))
        fh.seek(huge, 1)  # sparse: never written, never read
        fh.write(data[moov_pos : moov_pos + moov_size])
    tracemalloc.start()
    try:
        info = HEADERS_ONLY.probe(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.duration is not None and abs(info.duration - 3.5) < 0.1
    assert info.has_audio is True and (info.width, info.height) == (160, 120)
    assert peak < 1024 * 1024

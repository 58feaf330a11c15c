"""Real media for tests, made with PyAV and Pillow (small, low bitrate, fast).

Every engineer's tests use these helpers so the whole suite exercises real containers and codecs:
PNG/JPEG/WebP images, H.264 MP4 and MOV, VP8 WebM, truncated copies, and big (sparse) files for
size-limit checks. Typical clips take well under a second to make.
"""

from __future__ import annotations

import shutil
import struct
from fractions import Fraction
from pathlib import Path

__all__ = [
    "make_big_file",
    "make_face_image",
    "make_jpeg",
    "make_mov",
    "make_mp4",
    "make_png",
    "make_video",
    "make_webm",
    "make_webp",
    "truncated_copy",
]


def _face(w: int, h: int, phase: float = 0.0) -> object:
    """A simple friendly drawn face on a plain background (a PIL image)."""
    import math

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (w, h), (90, 150, 200))
    d = ImageDraw.Draw(img)
    cx, cy, r = w / 2, h / 2, min(w, h) * 0.38
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(250, 210, 170), outline=(120, 80, 50))
    ey = cy - r * 0.25
    er = max(1.0, r * 0.09)
    blink = 0.2 if (phase % 1.0) > 0.92 else 1.0
    for ex in (cx - r * 0.35, cx + r * 0.35):
        d.ellipse((ex - er, ey - er * blink, ex + er, ey + er * blink), fill=(40, 30, 30))
    mouth_open = abs(math.sin(phase * math.pi * 2)) * r * 0.18 + 1
    d.ellipse(
        (cx - r * 0.3, cy + r * 0.35 - mouth_open / 2, cx + r * 0.3, cy + r * 0.35 + mouth_open),
        fill=(150, 40, 50),
    )
    return img


def make_face_image(path: Path, w: int = 320, h: int = 320, fmt: str | None = None) -> Path:
    """A character image with a clear drawn face; the format follows the suffix unless given."""
    img = _face(w, h)
    fmt = fmt or {".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}.get(path.suffix.lower(), "PNG")
    img.save(path, fmt)  # type: ignore[attr-defined]
    return path


def make_png(path: Path, w: int = 64, h: int = 48) -> Path:
    return make_face_image(path, w, h, "PNG")


def make_jpeg(path: Path, w: int = 64, h: int = 48) -> Path:
    return make_face_image(path, w, h, "JPEG")


def make_webp(path: Path, w: int = 64, h: int = 48, *, lossless: bool = False) -> Path:
    img = _face(w, h)
    img.save(path, "WEBP", lossless=lossless)  # type: ignore[attr-defined]
    return path


def make_video(
    path: Path,
    seconds: float = 3.5,
    width: int = 160,
    height: int = 120,
    *,
    fps: int | Fraction = 24,
    audio: bool = False,
    container: str = "mp4",
    faststart: bool = False,
    noise: bool = False,
    frames: int | None = None,
) -> Path:
    """A real encoded clip: H.264 (+AAC) for mp4/mov, VP8 (+Opus) for webm.

    ``fps`` may be fractional (``Fraction(30000, 1001)``); ``frames`` overrides ``seconds`` where
    an exact frame count matters (durations at the 3 s / 30 s limits under odd rates).

    ``faststart`` moves the moov box to the front (MP4/MOV), as web-ready files have it.
    ``noise`` encodes random pixels losslessly: a real video that is big for its length (for
    data-URI-vs-upload cases; 320x240 noise is about 230 KB per frame).
    """
    import av
    import numpy as np

    options = {"movflags": "+faststart"} if faststart and container in ("mp4", "mov") else {}
    fmt = {"mp4": "mp4", "mov": "mov", "webm": "webm"}[container]
    fps = Fraction(fps)
    n = frames if frames is not None else max(1, round(seconds * fps))
    seconds = float(n / fps)
    with av.open(str(path), "w", format=fmt, options=options) as out:
        if container == "webm":
            vs = out.add_stream("libvpx", rate=fps)
            vs.bit_rate = 200_000
        else:
            vs = out.add_stream("libx264", rate=fps)
            vs.options = {"preset": "ultrafast", "crf": "0" if noise else "35"}
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        ast = None
        if audio:
            codec = "libopus" if container == "webm" else "aac"
            rate = 48000 if container == "webm" else 44100
            ast = out.add_stream(codec, rate=rate, layout="mono")
        yy, xx = np.mgrid[0:height, 0:width]
        rng = np.random.default_rng(1234)
        for i in range(n):
            img = np.empty((height, width, 3), dtype=np.uint8)
            if noise:
                img[:] = rng.integers(0, 256, size=img.shape, dtype=np.uint8)
            else:
                img[:, :, 0] = (xx * 2 + i * 6) % 256
                img[:, :, 1] = (yy * 2) % 256
                img[:, :, 2] = (i * 9) % 256
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = 1 / fps
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
        if ast is not None:
            rate = ast.codec_context.sample_rate
            total = round(seconds * rate)
            step = ast.codec_context.frame_size or 960
            t = 0
            while t < total:
                k = step
                tt = np.arange(t, t + k) / rate
                wave = (0.2 * np.sin(2 * np.pi * 220 * tt))[None, :]
                fmt_name = ast.codec_context.format.name
                if fmt_name.startswith("s16"):
                    data = (wave * 32767).astype(np.int16)
                else:
                    data = wave.astype(np.float32)
                af = av.AudioFrame.from_ndarray(data, format=fmt_name, layout="mono")
                af.sample_rate = rate
                af.pts = t
                af.time_base = Fraction(1, rate)
                for p in ast.encode(af):
                    out.mux(p)
                t += k
            for p in ast.encode(None):
                out.mux(p)
    return path


def make_mp4(
    path: Path,
    seconds: float = 3.5,
    width: int = 160,
    height: int = 120,
    fps: int = 24,
    audio: bool = False,
    *,
    faststart: bool = False,
) -> Path:
    return make_video(
        path, seconds, width, height, fps=fps, audio=audio, container="mp4", faststart=faststart
    )


def make_mov(
    path: Path, seconds: float = 3.5, width: int = 160, height: int = 120, fps: int = 24,
    audio: bool = False,
) -> Path:  # fmt: skip
    return make_video(path, seconds, width, height, fps=fps, audio=audio, container="mov")


def make_webm(
    path: Path, seconds: float = 3.5, width: int = 160, height: int = 120, fps: int = 24,
    audio: bool = False,
) -> Path:  # fmt: skip
    return make_video(path, seconds, width, height, fps=fps, audio=audio, container="webm")


def truncated_copy(src: Path, dst: Path, keep: float | int = 0.5) -> Path:
    """A copy of ``src`` cut short: ``keep`` is a fraction (float < 1) or a byte count (int)."""
    data = src.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else int(keep)
    dst.write_bytes(data[:n])
    return dst


def make_big_file(path: Path, size: int, head_from: Path | None = None) -> Path:
    """A sparse file of ``size`` bytes, optionally starting with the bytes of ``head_from``.

    For size-based checks (the 200 MB upload cap, the 5 MB data URI limit): the content need not
    be valid media when the check under test only looks at the size and the leading magic bytes.
    """
    with open(path, "wb") as out:
        if head_from is not None:
            with open(head_from, "rb") as src:
                shutil.copyfileobj(src, out)
        out.truncate(size)
    return path


def padded_mp4(src: Path, dst: Path, total_bytes: int, *, sparse: bool = True) -> Path:
    """``src`` plus a trailing ISO-BMFF ``free`` box: a valid MP4 of exactly ``total_bytes``,
    for size limits that need real media under them. ``sparse=False`` writes the zeros out
    (benchmarks that read the file should pay for real disk blocks)."""
    head = src.read_bytes()
    pad = total_bytes - len(head)
    if pad < 16:
        raise ValueError(f"{total_bytes} bytes is smaller than {src.name} plus a box header")
    tmp = dst.with_name(dst.name + ".part")
    with open(tmp, "wb") as fh:
        fh.write(head)
        fh.write(struct.pack(">I4sQ", 1, b"free", pad))  # 64-bit box: size=1, type, largesize
        if sparse:
            fh.truncate(total_bytes)
        else:
            left, chunk = pad - 16, bytes(4 << 20)
            while left > 0:
                fh.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
    tmp.replace(dst)
    return dst

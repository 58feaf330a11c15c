"""Real media for the fault matrix, made with PyAV/Pillow: good files and deliberately bad ones.

Small frame sizes keep generation fast (the whole bad-media set takes a few seconds), but every
file is what it claims to be: real H.264 in a real MP4, a real PNG. The bad files are damaged the
way real files get damaged: cut short by a failed copy, empty, renamed, too short or too long.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path


def png(path: Path, size: tuple[int, int] = (320, 240)) -> Path:
    import numpy as np
    from PIL import Image

    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 128)], axis=-1).astype(np.uint8)
    Image.fromarray(img).save(path)
    return path


def mp4(
    path: Path,
    *,
    seconds: float = 3.5,
    fps: Fraction | int = 24,
    size: tuple[int, int] = (160, 120),
    bit_rate: int | None = None,
    noise: bool = False,
    frames: int | None = None,
) -> Path:
    """An H.264 MP4. ``frames`` overrides ``seconds`` (exact frame counts for odd rates)."""
    import av
    import numpy as np

    w, h = size
    rate = Fraction(fps)
    n = frames if frames is not None else round(seconds * rate)
    rng = np.random.default_rng(3)
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=rate)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        if bit_rate:
            vs.bit_rate = bit_rate
        vs.options = {"preset": "ultrafast"}
        if noise:
            vs.options = {"preset": "ultrafast", "crf": "0"}
        for i in range(n):
            if noise:
                arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            else:
                arr = np.full((h, w, 3), (i * 7) % 256, np.uint8)
                arr[: h // 2, : w // 2] = (200, 80, 40)
            for pkt in vs.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
    return path


def truncated(src: Path, dst: Path, fraction: float = 0.4) -> Path:
    """The first ``fraction`` of ``src``: an interrupted copy (the index box at the end is gone)."""
    data = src.read_bytes()
    dst.write_bytes(data[: max(1, int(len(data) * fraction))])
    return dst


def padded(src: Path, dst: Path, total_bytes: int) -> Path:
    """``src`` plus a trailing ISO-BMFF ``free`` box: a sparse file of exactly ``total_bytes``."""
    head = src.read_bytes()
    pad = total_bytes - len(head)
    with open(dst, "wb") as fh:
        fh.write(head)
        fh.write(struct.pack(">I4sQ", 1, b"free", pad))
        fh.truncate(total_bytes)
    return dst

"""Media the benchmarks feed the clients, generated with PyAV/numpy into a cache outside the repo.

The content is busy on purpose (gradients, moving shapes, film grain) so PNG and H.264 spend bits
the way real renders and phone footage do: a flat test card would compress to nothing and make
every encode and upload look free. Large upload files are a real short MP4 followed by a top-level
``free`` box: a valid ISO-BMFF file of any size in well under a second, instead of minutes of
encoding noise, and the bytes on the wire are what the upload path streams either way.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from benchmarks._common import MEDIA_DIR


def _rng(seed: int):  # type: ignore[no-untyped-def]
    import numpy as np

    return np.random.default_rng(seed)


def png_1080p(path: Path | None = None, *, seed: int = 7) -> Path:
    """A 1920x1080 RGB PNG of ~2.5-3.5 MB: small enough for a data URI, big enough to matter."""
    import numpy as np
    from PIL import Image

    path = path or MEDIA_DIR / "character_1080p.png"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = 1080, 1920
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 128 + 100 * np.sin(x / 140.0) * np.cos(y / 90.0)
    img[..., 1] = 90 + 80 * np.cos((x + y) / 210.0)
    img[..., 2] = 160 - 60 * np.sin(y / 60.0)
    # a face-like disc so the picture is not pure texture
    disc = (x - w / 2) ** 2 / 300**2 + (y - h / 2) ** 2 / 380**2 < 1
    img[disc] = (224, 180, 150)
    img += _rng(seed).normal(0, 5.0, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, optimize=False)
    return path


def reference_video(
    path: Path | None = None,
    *,
    seconds: float = 30.0,
    size: tuple[int, int] = (1280, 720),
    fps: int = 24,
    bit_rate: int = 4_000_000,
    audio: bool = True,
    seed: int = 11,
    preset: str = "ultrafast",
) -> Path:
    """An H.264 MP4 (with AAC audio) of a moving scene; the bit rate sets its size.

    ``ultrafast`` (Constrained Baseline, no B-frames) is what the sandbox's previews use and is
    quick to make; x264's default ``medium`` (High profile, B-frames) is what a typical encoder
    writes, and costs a decoder noticeably more to open.
    """
    import av
    import numpy as np

    w, h = size
    tag = "" if preset == "ultrafast" else f"_{preset}"
    path = path or MEDIA_DIR / f"reference_{seconds:g}s_{h}p_{bit_rate // 1000}k{tag}.mp4"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.mp4")
    rng = _rng(seed)
    grain = rng.integers(0, 24, (8, h, w, 1), dtype=np.uint8)
    y, x = np.mgrid[0:h, 0:w]
    base = np.empty((h, w, 3), np.uint8)
    base[..., 0] = (x * 255 // max(1, w - 1)).astype(np.uint8)
    base[..., 1] = (y * 255 // max(1, h - 1)).astype(np.uint8)
    base[..., 2] = 96
    with av.open(str(tmp), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.bit_rate = bit_rate
        vs.options = {"preset": preset, "g": str(fps * 2)}
        astream = None
        if audio:
            astream = out.add_stream("aac", rate=48000)
            astream.bit_rate = 96_000
        n = round(seconds * fps)
        for i in range(n):
            frame = base.copy()
            cx = int((w / 2) + (w / 3) * np.sin(i / 20.0))
            cy = int((h / 2) + (h / 4) * np.cos(i / 15.0))
            r = h // 6
            frame[max(0, cy - r) : cy + r, max(0, cx - r) : cx + r] = (230, 190, 160)
            frame += grain[i % len(grain)]
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            for pkt in vs.encode(vf):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
        if astream is not None:
            samples = 1024
            total = int(seconds * 48000)
            t = 0
            while t < total:
                k = min(samples, total - t)
                tt = (np.arange(t, t + k) / 48000.0).astype(np.float32)
                tone = (0.1 * np.sin(2 * np.pi * 220 * tt)).astype(np.float32)
                af = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="fltp", layout="mono")
                af.sample_rate = 48000
                af.pts = t
                af.time_base = Fraction(1, 48000)
                for pkt in astream.encode(af):
                    out.mux(pkt)
                t += k
            for pkt in astream.encode():
                out.mux(pkt)
    tmp.replace(path)
    return path


def padded_mp4(total_bytes: int, *, base: Path | None = None) -> Path:
    """A valid MP4 of exactly ``total_bytes``: a real 5 s clip plus a trailing ``free`` box of
    zeros written out (not sparse: the bytes an upload reads come from real disk blocks)."""
    from tests.media_factory import padded_mp4 as pad

    base = base or reference_video(
        MEDIA_DIR / "pad_base_5s.mp4", seconds=5, size=(640, 360), bit_rate=500_000
    )
    path = MEDIA_DIR / f"upload_{total_bytes // 2**20}MB.mp4"
    if path.exists() and path.stat().st_size == total_bytes:
        return path
    return pad(base, path, total_bytes, sparse=False)

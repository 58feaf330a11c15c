"""Real media for the ComfyUI tests, made with PyAV and torch (small, fast, and what they claim).

The reference video carries an AAC audio track so the tests can check that the result VIDEO keeps
the audio the (sandbox) API returns.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any


def image_tensor(height: int = 96, width: int = 128, batch: int = 1, channels: int = 3) -> Any:
    """A ComfyUI IMAGE: float32 [B, H, W, C] in 0..1, a gradient with a 'face' block."""
    import torch

    y = torch.linspace(0, 1, height).view(height, 1).expand(height, width)
    x = torch.linspace(0, 1, width).view(1, width).expand(height, width)
    planes = [x, y, torch.full((height, width), 0.5), torch.ones(height, width)][:channels]
    img = torch.stack(planes, dim=-1)
    img[height // 4 : height // 2, width // 3 : 2 * width // 3, : min(channels, 3)] = 0.9
    out = img.unsqueeze(0).repeat(batch, 1, 1, 1).clone()
    for b in range(batch):  # every image of the batch differs
        out[b, 0, 0, 0] = b / max(1, batch)
    return out.contiguous()


def mp4(
    path: Path,
    *,
    seconds: float = 3.5,
    fps: int = 24,
    size: tuple[int, int] = (160, 120),
    audio: bool = True,
) -> Path:
    """An H.264 MP4 (+ AAC audio) of ``seconds``."""
    import av
    import numpy as np

    w, h = size
    n = round(seconds * fps)
    with av.open(str(path), "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=Fraction(fps))
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast"}
        astream = out.add_stream("aac", rate=44100) if audio else None
        for i in range(n):
            arr = np.full((h, w, 3), (i * 7) % 256, np.uint8)
            arr[: h // 2, : w // 2] = (200, 80, 40)
            for pkt in vs.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
        if astream is not None:
            rate = 44100
            total = int(seconds * rate)
            t = np.arange(total, dtype=np.float32) / rate
            wave = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            step = 1024
            for start in range(0, total, step):
                chunk = wave[start : start + step]
                frame = av.AudioFrame.from_ndarray(
                    chunk.reshape(1, -1), format="flt", layout="mono"
                )
                frame.sample_rate = rate
                frame.pts = start
                for pkt in astream.encode(frame):
                    out.mux(pkt)
            for pkt in astream.encode():
                out.mux(pkt)
    return path


def probe(path: Path) -> dict[str, Any]:
    """Frame count, size, fps, duration and audio presence, read with PyAV (decodes video)."""
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = sum(1 for _ in c.decode(v))
        duration = float(c.duration / av.time_base) if c.duration else None
        return {
            "frames": frames,
            "size": (v.width, v.height),
            "fps": float(v.average_rate) if v.average_rate else None,
            "duration": duration,
            "has_audio": len(c.streams.audio) > 0,
        }

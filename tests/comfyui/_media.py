"""Real media for the ComfyUI tests, made with PyAV and torch (small, fast, and what they claim).

The reference video carries an AAC audio track so the tests can check that the result VIDEO keeps
the audio the (sandbox) API returns.
"""

from __future__ import annotations

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
    """An H.264 MP4 (+ AAC audio) of ``seconds``, from the project's shared media factory."""
    from media_factory import make_mp4

    return make_mp4(path, seconds, size[0], size[1], fps=fps, audio=audio)


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

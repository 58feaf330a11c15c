"""Small real media for the Blender tests, made with PyAV and Pillow (no ffmpeg binary here)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path


def make_video(
    path: Path,
    *,
    seconds: float = 4.0,
    fps: int = 24,
    size: tuple[int, int] = (320, 180),
    audio: bool = True,
) -> Path:
    """An H.264 MP4 with a moving gradient and (optionally) a 440 Hz AAC tone."""
    import av
    import numpy as np

    container = av.open(str(path), "w")
    video = container.add_stream("libx264", rate=fps)
    video.width, video.height = size
    video.pix_fmt = "yuv420p"
    sound = container.add_stream("aac", rate=48000) if audio else None
    frames = round(seconds * fps)
    for i in range(frames):
        img = np.zeros((size[1], size[0], 3), np.uint8)
        img[:, :, 0] = (i * 7) % 255
        img[:, : size[0] // 2, 1] = 200
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = i
        frame.time_base = Fraction(1, fps)
        for packet in video.encode(frame):
            container.mux(packet)
    for packet in video.encode():
        container.mux(packet)
    if sound is not None:
        rate, total, t = 48000, int(seconds * 48000), 0
        while t < total:
            n = min(1024, total - t)
            samples = 0.2 * np.sin(2 * np.pi * 440 * (np.arange(t, t + n) / rate))
            af = av.AudioFrame.from_ndarray(
                samples.astype(np.float32).reshape(1, -1), format="fltp", layout="mono"
            )
            af.sample_rate = rate
            af.pts = t
            for packet in sound.encode(af):
                container.mux(packet)
            t += n
        for packet in sound.encode():
            container.mux(packet)
    container.close()
    return path


def make_image(path: Path, size: tuple[int, int] = (512, 512)) -> Path:
    """A PNG with a simple drawn face (the sandbox does not judge faces, Runway would)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (90, 120, 160))
    d = ImageDraw.Draw(img)
    w, h = size
    d.ellipse((w * 0.25, h * 0.2, w * 0.75, h * 0.8), fill=(230, 190, 160))
    d.ellipse((w * 0.37, h * 0.4, w * 0.45, h * 0.47), fill=(30, 30, 30))
    d.ellipse((w * 0.55, h * 0.4, w * 0.63, h * 0.47), fill=(30, 30, 30))
    d.arc((w * 0.4, h * 0.5, w * 0.6, h * 0.68), 20, 160, fill=(120, 30, 30), width=4)
    img.save(path)
    return path

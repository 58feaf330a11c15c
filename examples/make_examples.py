"""Generate the example media the project ships: a character image and a reference performance.

    python examples/make_examples.py            # writes examples/character.png and reference.mp4

Both are drawn from code (no third-party media, no licence questions) with Pillow and PyAV:

* ``character.png`` (1280x720): a friendly cartoon character with a clear, frontal face, the kind
  of input Act-Two needs (a visible face that stays in frame).
* ``reference.mp4`` (5 s, 24 fps, 640x360, H.264 + AAC): a drawn face that talks (the mouth opens
  with the syllables), blinks, raises its brows and nods, with a synthetic voice-like track. It
  is a valid 3-30 s reference for the sandbox and small enough to be sent as a data URI.

The output is deterministic for a given Pillow/PyAV version.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
FPS = 24
SECONDS = 5.0
SAMPLE_RATE = 44100
# Syllable onsets (s) of the "voice": the mouth follows the same envelope as the sound.
SYLLABLES = [0.30, 0.55, 0.80, 1.20, 1.45, 2.10, 2.35, 2.60, 2.95, 3.50, 3.75, 4.00, 4.30]


def mouth_open(t: float) -> float:
    """0..1: how open the mouth is at time ``t`` (a decaying bump per syllable)."""
    v = 0.0
    for s in SYLLABLES:
        if 0 <= t - s < 0.22:
            v = max(v, math.sin(math.pi * (t - s) / 0.22))
    return v


def draw_character(w: int = 1280, h: int = 720) -> Any:
    """The character image: a round cartoon face with hair, ears, cheeks and a smile."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (w, h), (120, 180, 230))
    d = ImageDraw.Draw(img)
    for i in range(h):  # soft vertical sky gradient
        c = int(150 + 70 * i / h)
        d.line([(0, i), (w, i)], fill=(c - 40, c, 245))
    d.rectangle((0, int(h * 0.85), w, h), fill=(110, 170, 90))
    cx, cy, r = w // 2, int(h * 0.5), int(h * 0.32)
    # Shoulders and shirt.
    d.ellipse((cx - r * 1.5, cy + r * 0.85, cx + r * 1.5, cy + r * 2.6), fill=(230, 90, 70))
    # Ears, face, hair.
    for ex in (cx - r * 0.98, cx + r * 0.98):
        d.ellipse(
            (ex - r * 0.16, cy - r * 0.15, ex + r * 0.16, cy + r * 0.22), fill=(240, 190, 150)
        )
    d.ellipse(
        (cx - r, cy - r, cx + r, cy + r), fill=(250, 210, 170), outline=(150, 100, 70), width=4
    )
    d.chord(
        (cx - r * 1.02, cy - r * 1.08, cx + r * 1.02, cy + r * 0.2), 180, 360, fill=(90, 55, 35)
    )
    for k in range(5):  # a fringe of curls along the hairline
        x = cx - r * 0.8 + k * r * 0.4
        d.ellipse((x - r * 0.22, cy - r * 0.62, x + r * 0.22, cy - r * 0.42), fill=(90, 55, 35))
    _draw_features(d, cx, cy, r, mouth=0.45, blink=False, brow=0.0)
    return img


def _draw_features(
    d: Any, cx: float, cy: float, r: float, *, mouth: float, blink: bool, brow: float
) -> None:
    ey = cy - r * 0.12
    for sx in (-1, 1):
        ex = cx + sx * r * 0.36
        if blink:
            d.line(
                (ex - r * 0.12, ey, ex + r * 0.12, ey),
                fill=(40, 30, 30),
                width=max(2, int(r * 0.03)),
            )
        else:
            d.ellipse(
                (ex - r * 0.13, ey - r * 0.15, ex + r * 0.13, ey + r * 0.15),
                fill="white",
                outline=(60, 40, 30),
                width=2,
            )
            d.ellipse(
                (ex - r * 0.07, ey - r * 0.06, ex + r * 0.07, ey + r * 0.1), fill=(60, 40, 30)
            )
            d.ellipse((ex - r * 0.02, ey - r * 0.03, ex + r * 0.025, ey + r * 0.015), fill="white")
        by = ey - r * (0.26 + 0.08 * brow)
        d.line(
            (ex - r * 0.15, by + sx * 0, ex + r * 0.15, by - r * 0.03),
            fill=(80, 50, 30),
            width=max(3, int(r * 0.045)),
        )
    # Nose and cheeks.
    d.arc(
        (cx - r * 0.08, cy - r * 0.02, cx + r * 0.08, cy + r * 0.14),
        20,
        160,
        fill=(170, 110, 80),
        width=3,
    )
    for sx in (-1, 1):
        x = cx + sx * r * 0.55
        d.ellipse((x - r * 0.12, cy + r * 0.12, x + r * 0.12, cy + r * 0.26), fill=(245, 170, 160))
    # Mouth: a smile that opens with the voice.
    my = cy + r * 0.42
    mw = r * (0.34 - 0.06 * mouth)
    mh = r * (0.04 + 0.22 * mouth)
    d.chord(
        (cx - mw, my - mh * 0.4, cx + mw, my + mh),
        0,
        180,
        fill=(140, 40, 50),
        outline=(90, 30, 30),
        width=3,
    )
    if mouth > 0.3:
        d.chord(
            (cx - mw * 0.6, my + mh * 0.35, cx + mw * 0.6, my + mh * 0.95),
            0,
            180,
            fill=(220, 100, 110),
        )


def draw_frame(t: float, w: int = 640, h: int = 360) -> Any:
    """One frame of the performance at time ``t``."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (w, h), (60, 64, 72))
    d = ImageDraw.Draw(img)
    d.rectangle((0, int(h * 0.8), w, h), fill=(45, 48, 55))
    nod = math.sin(t * 2 * math.pi * 0.6) * h * 0.02
    sway = math.sin(t * 2 * math.pi * 0.35) * w * 0.02
    cx, cy, r = w / 2 + sway, h * 0.47 + nod, h * 0.3
    d.ellipse((cx - r * 1.4, cy + r * 0.9, cx + r * 1.4, cy + r * 2.5), fill=(70, 110, 160))
    d.ellipse(
        (cx - r, cy - r, cx + r, cy + r), fill=(225, 185, 150), outline=(120, 85, 60), width=3
    )
    d.chord((cx - r, cy - r * 1.05, cx + r, cy + r * 0.1), 180, 360, fill=(50, 35, 25))
    blink = any(abs(t - b) < 0.07 for b in (1.0, 2.8, 4.4))
    brow = max(0.0, math.sin(math.pi * (t - 3.4) / 0.8)) if 3.4 <= t <= 4.2 else 0.0
    _draw_features(d, cx, cy, r, mouth=mouth_open(t), blink=blink, brow=brow)
    return img


def voice(n: int) -> Any:
    """A voice-like mono signal: a gliding pitch with harmonics, shaped by the syllables."""
    import numpy as np

    t = np.arange(n) / SAMPLE_RATE
    pitch = 150 + 25 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 6))
    env = np.zeros(n)
    for s in SYLLABLES:
        i0, i1 = int(s * SAMPLE_RATE), int((s + 0.22) * SAMPLE_RATE)
        i1 = min(i1, n)
        if i0 < n:
            env[i0:i1] = np.maximum(
                env[i0:i1], np.sin(np.pi * np.arange(i1 - i0) / (0.22 * SAMPLE_RATE))
            )
    return (0.25 * tone * env).astype(np.float32)


def make_reference(path: Path) -> Path:
    """Encode the 5 s performance (H.264 + AAC) to ``path``."""
    import av
    import numpy as np

    n_frames = round(SECONDS * FPS)
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = 640, 360, "yuv420p"
        vs.options = {"preset": "medium", "crf": "28"}
        ast = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        ast.bit_rate = 64_000
        for i in range(n_frames):
            frame = av.VideoFrame.from_image(draw_frame(i / FPS))
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
        samples = voice(round(SECONDS * SAMPLE_RATE))
        step = 1024
        for start in range(0, len(samples), step):
            chunk = samples[start : start + step]
            if len(chunk) < step:
                chunk = np.pad(chunk, (0, step - len(chunk)))
            af = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
            af.sample_rate = SAMPLE_RATE
            af.pts = start
            af.time_base = Fraction(1, SAMPLE_RATE)
            for p in ast.encode(af):
                out.mux(p)
        for p in ast.encode(None):
            out.mux(p)
    return path


def main() -> None:
    character = HERE / "character.png"
    draw_character().save(character, "PNG", optimize=True)
    reference = make_reference(HERE / "reference.mp4")
    for p in (character, reference):
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()

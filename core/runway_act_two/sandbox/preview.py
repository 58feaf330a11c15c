"""The sandbox's output: a real MP4 that nobody can mistake for Runway's.

The file has the shape a real Act-Two output has (H.264, 24 fps, the ratio's frame size, the
reference's duration and audio), so hosts exercise their real import paths (VSE strips, ComfyUI
VIDEO, players), while its picture says what it is: the character frame and the reference side by
side under a big "SANDBOX PREVIEW — not Runway output" band, with a running timecode.

Speed matters (a 30 s preview must be ready in a few seconds on two cores), so frames are composed
directly in YUV 4:2:0 numpy planes: the static layout is drawn once with Pillow, each frame copies
it, pastes the (small) reference picture and the timecode digits from pre-rendered glyphs, and
libx264 encodes with the ``ultrafast`` preset. An AAC audio track is copied packet for packet;
any other codec is re-encoded to AAC once up front; either way the audio packets are interleaved
with the video packets by time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import api_surface as api

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image, ImageFont

    from .tasks import TaskRecord

LABEL = "SANDBOX PREVIEW — not Runway output"
BG_RGB = (28, 28, 34)
BAND_RGB = (255, 212, 0)
TEXT_RGB = (20, 20, 20)
AUDIO_RATE = 48_000


@dataclass(frozen=True)
class RenderStats:
    frames: int
    seconds: float
    has_audio: bool
    width: int
    height: int


def render_task(rec: TaskRecord, out: Path) -> None:
    """TaskStore's render hook: one task's preview, written atomically to ``out``."""
    render_preview(
        character=rec.character_path,
        character_kind=rec.character_kind,
        reference=rec.reference_path,
        ratio=rec.ratio,
        out=out,
        duration=rec.reference_duration,
    )


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: bitmap font only
        return ImageFont.load_default()


def _fit(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """Largest even size with the source's aspect that fits the box."""
    scale = min(box_w / max(1, src_w), box_h / max(1, src_h))
    w = max(2, int(src_w * scale) // 2 * 2)
    h = max(2, int(src_h * scale) // 2 * 2)
    return min(w, box_w // 2 * 2), min(h, box_h // 2 * 2)


def _character_image(path: Path, kind: str) -> Image.Image:
    from PIL import Image, ImageOps

    if kind == "image":
        with Image.open(path) as im:
            return ImageOps.exif_transpose(im).convert("RGB")
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            img: Image.Image = frame.to_image()  # type: ignore[no-untyped-call,unused-ignore]
            return img.convert("RGB")
    raise ValueError("the character video has no frames")


@dataclass
class _Layout:
    width: int
    height: int
    char_box: tuple[int, int, int, int]  # x, y, w, h
    ref_box: tuple[int, int, int, int]
    band_h: int
    time_y: int
    time_h: int
    cap_h: int  # caption strip at the top of each panel (pictures go below it)

    def picture(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        x, y, w, h = box
        return x, y + self.cap_h, w, h - self.cap_h


def _layout(width: int, height: int) -> _Layout:
    band_h = max(40, height // 9) // 2 * 2
    time_h = max(30, height // 14) // 2 * 2
    margin = max(8, min(width, height) // 60) // 2 * 2
    top = band_h + margin
    bottom = height - time_h - margin
    if width >= height:
        pw = (width - 3 * margin) // 2 // 2 * 2
        ph = (bottom - top) // 2 * 2
        char_box = (margin, top, pw, ph)
        ref_box = ((2 * margin + pw) // 2 * 2, top, pw, ph)
    else:
        pw = (width - 2 * margin) // 2 * 2
        ph = (bottom - top - margin) // 2 // 2 * 2
        char_box = (margin, top, pw, ph)
        ref_box = (margin, (top + ph + margin) // 2 * 2, pw, ph)
    cap_h = max(16, time_h * 7 // 10) // 2 * 2
    return _Layout(width, height, char_box, ref_box, band_h, height - time_h, time_h, cap_h)


def _background(layout: _Layout, character: Image.Image) -> Image.Image:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (layout.width, layout.height), BG_RGB)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, layout.width, layout.band_h), fill=BAND_RGB)
    size = layout.band_h * 6 // 10
    left, right = LABEL.split(" — ")
    font = _font(size)

    def width_of(f: Any) -> float:
        return float(draw.textlength(f"{left}  {right}", font=f)) + size * 1.6

    while size > 10 and width_of(font) > layout.width * 0.94:
        size -= 2
        font = _font(size)
    # The em dash is drawn as a bar: Pillow's built-in font has no glyph for it.
    x = (layout.width - width_of(font)) / 2
    mid = layout.band_h / 2
    draw.text((x, mid), left, fill=TEXT_RGB, font=font, anchor="lm")
    x += draw.textlength(left + " ", font=font)
    draw.rectangle(
        (x, mid - max(1, size // 14), x + size * 1.2, mid + max(1, size // 14)), fill=TEXT_RGB
    )
    x += size * 1.2 + draw.textlength(" ", font=font)
    draw.text((x, mid), right, fill=TEXT_RGB, font=font, anchor="lm")
    small = _font(max(10, layout.cap_h * 8 // 10))
    for box, caption in ((layout.char_box, "character"), (layout.ref_box, "reference")):
        x, y, w, h = box
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=(0, 0, 0))
        draw.text(
            (x + 6, y + layout.cap_h / 2), caption, fill=(255, 255, 255), font=small, anchor="lm"
        )
        if caption == "character":
            px, py, pw, ph = layout.picture(box)
            cw, ch = _fit(character.width, character.height, pw, ph)
            thumb = character.resize((cw, ch), Image.Resampling.BILINEAR)
            img.paste(thumb, (px + (pw - cw) // 2, py + (ph - ch) // 2))
    draw.rectangle((0, layout.time_y, layout.width, layout.height), fill=(0, 0, 0))
    return img


class _Timecode:
    """Pre-rendered luma glyphs, pasted per frame into the Y plane (no text drawing per frame)."""

    CHARS = "0123456789:./ "

    def __init__(self, height: int) -> None:
        import numpy as np
        from PIL import Image, ImageDraw

        font = _font(max(10, height * 6 // 10))
        probe = ImageDraw.Draw(Image.new("L", (4, 4)))
        digit_w = int(max(probe.textlength(c, font=font) for c in "0123456789")) + 1
        self.cell_h = height
        self.glyphs: dict[str, np.ndarray[Any, Any]] = {}
        for c in set(self.CHARS):
            # Digits share one width so the timecode does not jitter as it counts.
            w = digit_w if c.isdigit() else int(probe.textlength(c, font=font)) + 2
            g = Image.new("L", (w, height), 0)
            ImageDraw.Draw(g).text((0, height / 2), c, fill=255, font=font, anchor="lm")
            arr = np.asarray(g, dtype=np.uint16)
            self.glyphs[c] = (16 + arr * 219 // 255).astype(np.uint8)  # limited-range luma

    def paste(self, y_plane: np.ndarray[Any, Any], x: int, y: int, text: str) -> None:
        for c in text:
            glyph = self.glyphs[c]
            w = glyph.shape[1]
            if x + w > y_plane.shape[1]:
                break
            y_plane[y : y + self.cell_h, x : x + w] = glyph
            x += w


def _fmt(t: float) -> str:
    ms = round(t * 1000)
    return f"{ms // 60000:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _copy_audio(reference: Path, duration: float) -> list[Any]:
    """The reference's AAC packets as they are (remuxing costs nothing; re-encoding ~0.4 s)."""
    import av

    packets: list[Any] = []
    with av.open(str(reference)) as src:
        stream = src.streams.audio[0]
        for packet in src.demux(stream):
            if packet.dts is None or packet.size == 0:
                continue
            if _ptime(packet) >= duration:
                break
            packets.append(packet)
    return packets


def _encode_audio(reference: Path, out_stream: Any, duration: float) -> list[Any]:
    """Decode the reference's first audio track and encode it to AAC packets (not yet muxed)."""
    import av

    packets: list[Any] = []
    with av.open(str(reference)) as src:
        resampler = av.AudioResampler(format="fltp", layout=out_stream.layout.name, rate=AUDIO_RATE)
        for frame in src.decode(audio=0):
            if frame.time is not None and frame.time > duration + 0.1:
                break
            for rf in resampler.resample(frame):
                rf.pts = None
                packets.extend(out_stream.encode(rf))
        for rf in resampler.resample(None):
            rf.pts = None
            packets.extend(out_stream.encode(rf))
        packets.extend(out_stream.encode(None))
    return packets


def render_preview(
    *,
    character: Path,
    character_kind: str,
    reference: Path,
    ratio: str,
    out: Path,
    duration: float | None = None,
) -> RenderStats:
    """Write the labelled preview MP4 for one request to ``out`` (atomically, via a temp file)."""
    import av
    import numpy as np

    started = time.perf_counter()
    width, height = api.RATIO_SIZES[ratio]
    fps = api.OUTPUT_FPS
    layout = _layout(width, height)
    bg_img = _background(layout, _character_image(character, character_kind))
    bg_frame = av.VideoFrame.from_image(bg_img)  # type: ignore[no-untyped-call,unused-ignore]
    bg = bg_frame.reformat(format="yuv420p").to_ndarray()
    tc = _Timecode(layout.time_h * 8 // 10)
    tc_y = layout.time_y + (layout.time_h - tc.cell_h) // 2

    src = av.open(str(reference))
    try:
        vin = src.streams.video[0]
        vin.thread_type = "AUTO"
        has_audio = bool(src.streams.audio)
        if duration is None:
            duration = (src.duration or 0) / 1_000_000 or float(vin.frames or 0) / float(
                vin.average_rate or fps
            )
        n_frames = max(1, round(duration * fps))
        rx, ry, rw, rh = layout.picture(layout.ref_box)
        tw, th = _fit(vin.codec_context.width, vin.codec_context.height, rw, rh)
        tx, ty = (rx + (rw - tw) // 2) // 2 * 2, (ry + (rh - th) // 2) // 2 * 2

        tmp = out.with_name(out.name + ".part")
        dst = av.open(str(tmp), mode="w", format="mp4")
        try:
            vout = dst.add_stream("libx264", rate=fps)
            vout.width, vout.height = width, height
            vout.pix_fmt = "yuv420p"
            vout.options = {"preset": "ultrafast", "crf": "30"}
            vout.codec_context.time_base = Fraction(1, fps)
            aout: Any = None
            audio_packets: list[Any] = []
            if has_audio:
                ain = src.streams.audio[0]
                if ain.codec_context.name == "aac":
                    aout = dst.add_stream_from_template(ain)
                    audio_packets = _copy_audio(reference, duration)
                    for packet in audio_packets:
                        packet.stream = aout
                else:
                    layout_name = "mono" if (ain.codec_context.channels or 2) == 1 else "stereo"
                    aout = dst.add_stream("aac", rate=AUDIO_RATE, layout=layout_name)
                    audio_packets = _encode_audio(reference, aout, duration)
            ai = 0

            frames = src.decode(vin)
            first_t: float | None = None
            current: Any = None  # latest reference frame shown
            pending: Any = next(frames, None)
            planes: tuple[Any, Any, Any] | None = None
            total = _fmt(duration)
            for i in range(n_frames):
                t = i / fps
                advanced = False
                while pending is not None:
                    pt = pending.time if pending.time is not None else 0.0
                    if first_t is None:
                        first_t = pt
                    if current is not None and pt - first_t > t + 1e-6:
                        break
                    current, pending, advanced = pending, next(frames, None), True
                if advanced or planes is None:
                    small = current.reformat(
                        width=tw, height=th, format="yuv420p", interpolation="FAST_BILINEAR"
                    ).to_ndarray()
                    planes = _planes(small, tw, th)
                arr = bg.copy()
                yp, up, vp = _planes(arr, width, height)
                yp[ty : ty + th, tx : tx + tw] = planes[0]
                up[ty // 2 : (ty + th) // 2, tx // 2 : (tx + tw) // 2] = planes[1]
                vp[ty // 2 : (ty + th) // 2, tx // 2 : (tx + tw) // 2] = planes[2]
                tc.paste(yp, 12, tc_y, f"{_fmt(t)} / {total}  {i + 1:04d}/{n_frames:04d}")
                frame = av.VideoFrame.from_ndarray(arr, format="yuv420p")
                frame.pts = i
                frame.time_base = Fraction(1, fps)
                for packet in vout.encode(frame):
                    dst.mux(packet)
                while ai < len(audio_packets) and _ptime(audio_packets[ai]) <= t:
                    dst.mux(audio_packets[ai])
                    ai += 1
            for packet in vout.encode(None):
                dst.mux(packet)
            for packet in audio_packets[ai:]:
                if _ptime(packet) < duration:
                    dst.mux(packet)
        finally:
            dst.close()
    finally:
        src.close()
    tmp.replace(out)
    del np  # imported to fail early when numpy is missing
    return RenderStats(n_frames, time.perf_counter() - started, has_audio, width, height)


def _planes(arr: np.ndarray[Any, Any], w: int, h: int) -> tuple[Any, Any, Any]:
    """Views of the Y, U, V planes of a packed yuv420p array (PyAV's (h*3/2, w) layout)."""
    flat = arr.reshape(-1)
    y_end = w * h
    u_end = y_end + (w // 2) * (h // 2)
    return (
        flat[:y_end].reshape(h, w),
        flat[y_end:u_end].reshape(h // 2, w // 2),
        flat[u_end : u_end + (w // 2) * (h // 2)].reshape(h // 2, w // 2),
    )


def _ptime(packet: Any) -> float:
    if packet.pts is None or packet.time_base is None:
        return 0.0
    return float(packet.pts * packet.time_base)

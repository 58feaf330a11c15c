"""Render the character from the scene camera without leaving a trace in the render settings.

Artists tune their output settings carefully (format, size, codec, output path); a tool that
quietly changes them loses work. Every setting touched here goes through ``_Override``, which
records the old value before writing the new one and puts every value back, in the same order
(Blender 5 needs ``media_type`` before ``file_format`` both ways), even when the render fails.

The camera frame is rendered at the pixel size of the chosen output ratio (1280x720 for
"1280:720"), so the character is framed the way the result will be. The sequencer is switched off
during the capture: with strips in the timeline (the reference video, say) Blender would otherwise
render the sequencer instead of the camera.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import bpy

from ._core import api_surface


class CaptureError(Exception):
    """A capture that cannot happen (no camera, nothing rendered); the message is for the artist."""


class _Override:
    """Set RNA attributes now, restore them all later (same order), whatever happens between."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def set(self, obj: Any, attr: str, value: Any) -> None:
        if not hasattr(obj, attr):
            return  # property absent in this Blender version (e.g. media_type before 5.0)
        old = getattr(obj, attr)
        if not isinstance(old, (str, int, float, bool)) and hasattr(old, "__len__"):
            old = tuple(old)  # an RNA array: keep a copy, not a live view
        self._saved.append((obj, attr, old))
        if old != value:
            setattr(obj, attr, value)

    def restore(self) -> None:
        for obj, attr, old in self._saved:
            try:
                if getattr(obj, attr) != old:
                    setattr(obj, attr, old)
            except (TypeError, AttributeError, ValueError):
                pass  # a dependent enum that the restored parent value already set back
        self._saved.clear()


def ratio_size(ratio: str) -> tuple[int, int]:
    size = api_surface.RATIO_SIZES.get(ratio)
    if size is None:
        raise CaptureError(
            f"Unknown ratio {ratio!r}; choose one of {', '.join(api_surface.RATIOS)}"
        )
    return size


def _frame_size(ov: _Override, scene: bpy.types.Scene, ratio: str) -> None:
    r = scene.render
    w, h = ratio_size(ratio)
    ov.set(r, "resolution_x", w)
    ov.set(r, "resolution_y", h)
    ov.set(r, "resolution_percentage", 100)
    ov.set(r, "pixel_aspect_x", 1.0)
    ov.set(r, "pixel_aspect_y", 1.0)
    ov.set(r, "use_border", False)
    ov.set(r, "use_sequencer", False)  # render the camera, not the timeline


def _require_camera(scene: bpy.types.Scene) -> None:
    if scene.camera is None:
        raise CaptureError(
            f"Scene '{scene.name}' has no active camera. Add a camera and make it active "
            "(select it, then View > Cameras > Set Active Object as Camera), or choose an image "
            "file as the character."
        )


def render_camera_frame(scene: bpy.types.Scene, ratio: str, folder: Path) -> Path:
    """Render the current frame from ``scene.camera`` to a PNG in ``folder``; return its path."""
    _require_camera(scene)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"character_{time.strftime('%Y%m%d_%H%M%S')}_{time.monotonic_ns() % 10**6}.png"
    ov = _Override()
    try:
        _frame_size(ov, scene, ratio)
        img = scene.render.image_settings
        ov.set(img, "media_type", "IMAGE")
        ov.set(img, "file_format", "PNG")
        ov.set(img, "color_mode", "RGB")  # Runway wants no alpha
        ov.set(img, "color_depth", "8")
        ov.set(img, "compression", 15)
        bpy.ops.render.render(write_still=False, scene=scene.name)
        result = bpy.data.images.get("Render Result")
        if result is None:
            raise CaptureError("Blender produced no render result for the camera frame.")
        result.save_render(str(out), scene=scene)
    except RuntimeError as exc:
        raise CaptureError(f"Rendering the camera frame failed: {exc}".strip()) from None
    finally:
        ov.restore()
    if not out.is_file() or out.stat().st_size == 0:
        raise CaptureError("The camera render could not be saved as a PNG file.")
    return out


def render_frame_range_video(scene: bpy.types.Scene, ratio: str, folder: Path) -> Path:
    """Render the scene's frame range from the camera to an H.264 MP4 (the character video)."""
    _require_camera(scene)
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="render_", dir=folder))
    frame = scene.frame_current
    ov = _Override()
    try:
        _frame_size(ov, scene, ratio)
        r = scene.render
        img = r.image_settings
        ov.set(img, "media_type", "VIDEO")
        ov.set(img, "file_format", "FFMPEG")
        ov.set(img, "color_mode", "RGB")
        ff = r.ffmpeg
        ov.set(ff, "format", "MPEG4")
        ov.set(ff, "codec", "H264")
        ov.set(ff, "constant_rate_factor", "HIGH")
        ov.set(ff, "ffmpeg_preset", "GOOD")
        ov.set(ff, "audio_codec", "NONE")
        ov.set(r, "use_file_extension", True)
        ov.set(r, "filepath", str(work / "character_"))
        bpy.ops.render.render(animation=True, scene=scene.name)
    except RuntimeError as exc:
        raise CaptureError(f"Rendering the frame range failed: {exc}".strip()) from None
    finally:
        ov.restore()
        if scene.frame_current != frame:
            scene.frame_set(frame)
    videos = sorted(work.glob("*.mp4"))
    if len(videos) != 1 or videos[0].stat().st_size == 0:
        raise CaptureError("The frame-range render did not produce one MP4 file.")
    out = folder / f"character_{videos[0].stem.removeprefix('character_')}_{work.name}.mp4"
    videos[0].replace(out)
    work.rmdir()
    return out

"""ComfyUI values -> files the core can validate and send, and back.

This module never imports ComfyUI: it works on the *shapes* of ComfyUI's values (an IMAGE is a
``[B, H, W, C]`` float tensor in 0..1; a VIDEO is an object with ComfyUI's ``VideoInput`` methods),
so CI tests it with real torch tensors and real PyAV files without a ComfyUI checkout.

Why files: the core validates media from container headers (duration, size, type) and streams
uploads from disk, so a VIDEO that already lives in a file (LoadVideo) is handed over by path and is
never decoded or copied. Only videos that exist as frames in memory (CreateVideo) are encoded, once,
to a temporary MP4.
"""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

#: Magic bytes -> extension for in-memory video sources (the core sniffs content anyway; the
#: extension only names the file sent to Runway's upload endpoint).
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"


@runtime_checkable
class VideoLike(Protocol):
    """The subset of ComfyUI's ``VideoInput`` this pack uses (present since 0.3.4x)."""

    def save_to(self, path: Any, *args: Any, **kwargs: Any) -> Any: ...


class ConversionError(ValueError):
    """A ComfyUI value could not be turned into a file (the message says which input and why)."""


# --- IMAGE --------------------------------------------------------------------------------------
def image_to_png_bytes(image: Any, *, input_name: str = "character_image") -> bytes:
    """Encode the FIRST image of an IMAGE batch as PNG.

    Act-Two takes one character image, so a batch contributes its first frame only (the node's
    tooltip says so). PNG is lossless and deterministic: the same tensor always gives the same
    bytes, which keeps the core's request fingerprint (and so result reuse) stable across runs.
    """
    import numpy as np
    from PIL import Image

    array = _to_numpy(image)
    if array.ndim == 4:
        if array.shape[0] == 0:
            raise ConversionError(f"{input_name}: the IMAGE batch is empty.")
        array = array[0]
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ConversionError(
            f"{input_name}: expected an IMAGE tensor [batch, height, width, channels], "
            f"got shape {tuple(_shape(image))}."
        )
    height, width, channels = array.shape
    if height == 0 or width == 0:
        raise ConversionError(f"{input_name}: the image has no pixels ({width}x{height}).")
    if channels not in (1, 3, 4):
        raise ConversionError(
            f"{input_name}: expected 1, 3 or 4 channels, got {channels} (shape {array.shape})."
        )
    array = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
    pixels = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
    if channels == 1:
        pil = Image.fromarray(pixels[:, :, 0], mode="L")
    elif channels == 3:
        pil = Image.fromarray(pixels, mode="RGB")
    else:
        pil = Image.fromarray(pixels, mode="RGBA")
    buf = io.BytesIO()
    pil.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def image_to_png_file(image: Any, path: Path, *, input_name: str = "character_image") -> Path:
    """``image_to_png_bytes`` written to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_to_png_bytes(image, input_name=input_name))
    return path


def _to_numpy(value: Any) -> Any:
    import numpy as np

    detach = getattr(value, "detach", None)
    if callable(detach):  # a torch tensor (possibly on a GPU, possibly requiring grad)
        value = detach().to("cpu")
        if str(getattr(value, "dtype", "")) in ("torch.bfloat16", "torch.float16"):
            value = value.float()
        return value.numpy()
    return np.asarray(value)


def _shape(value: Any) -> tuple[int, ...]:
    shape = getattr(value, "shape", None)
    return tuple(int(s) for s in shape) if shape is not None else ()


# --- VIDEO --------------------------------------------------------------------------------------
def video_to_file(video: Any, workdir: Path, stem: str) -> Path:
    """A local file holding ``video``, for the core to probe and send.

    - A video already backed by a file (``VideoFromFile(path)``, what LoadVideo makes) is returned
      as that path: nothing is decoded, copied or re-encoded.
    - A video backed by bytes in memory (``VideoFromFile(BytesIO)``, what API nodes return) is
      copied to ``workdir`` as is (no re-encode).
    - A trimmed ``VideoFromFile`` (newer ComfyUI versions) is saved through its own ``save_to``,
      which writes only the trimmed part.
    - Anything else (``VideoFromComponents`` from CreateVideo: frames already in memory) is saved
      to ``workdir/<stem>.mp4`` through its own ``save_to``. ComfyUI 0.3.64 cannot save those to a
      BytesIO ("Could not determine output format"), so the path form is used on every version.
    """
    if video is None:
        raise ConversionError(f"{stem}: no video connected.")
    source = _file_source(video)
    if isinstance(source, Path):
        return source
    workdir.mkdir(parents=True, exist_ok=True)
    if source is not None:
        head = source.read(64)
        source.seek(0)
        target = workdir / f"{stem}{_extension_for(head)}"
        with open(target, "wb") as fh:
            shutil.copyfileobj(source, fh, length=1024 * 1024)
        source.seek(0)
        return target
    if not isinstance(video, VideoLike):
        raise ConversionError(
            f"{stem}: expected a VIDEO (from Load Video, Create Video or another video node), "
            f"got {type(video).__name__}."
        )
    target = workdir / f"{stem}.mp4"
    try:
        video.save_to(str(target))
    except Exception as exc:  # ComfyUI/PyAV errors vary by version; name the input that failed
        raise ConversionError(f"{stem}: could not write the video to a file ({exc}).") from exc
    if not target.is_file() or target.stat().st_size == 0:
        raise ConversionError(f"{stem}: the video produced an empty file.")
    return target


def _file_source(video: Any) -> Path | io.BufferedIOBase | io.BytesIO | None:
    """The file or buffer behind a VideoFromFile-like object, without triggering an encode.

    ``VideoInput.get_stream_source()``'s default implementation *encodes* into a BytesIO (and
    fails for frame-backed videos on 0.3.64), so it is only called on classes that override it.
    """
    if _is_frame_backed(video) or _is_trimmed(video):
        return None
    getter = getattr(video, "get_stream_source", None)
    if not callable(getter) or not _overrides_stream_source(video):
        return None
    try:
        source = getter()
    except Exception:
        return None
    if isinstance(source, (str, os.PathLike)):
        path = Path(os.fspath(source))
        return path if path.is_file() else None
    if hasattr(source, "read") and hasattr(source, "seek"):
        source.seek(0)
        return source  # type: ignore[no-any-return]
    return None


def _is_trimmed(video: Any) -> bool:
    """True for a newer ComfyUI ``VideoFromFile`` that carries a trim window (``as_trimmed``).

    Its stream source is still the WHOLE file, so handing that over would send (and bill) the
    untrimmed video; its own ``save_to`` writes just the window. 0.3.64 has no trim window. The
    window lives in private attributes only, so it is read from the instance's ``__dict__``.
    """
    try:
        attrs = vars(video)
    except TypeError:
        return False
    return any(
        value
        for name, value in attrs.items()
        if name.endswith(("__start_time", "__duration")) and isinstance(value, int | float)
    )


def _is_frame_backed(video: Any) -> bool:
    return any(c.__name__ == "VideoFromComponents" for c in type(video).__mro__)


def _overrides_stream_source(video: Any) -> bool:
    """True unless ``get_stream_source`` is the abstract base's encode-into-memory default."""
    for klass in type(video).__mro__:
        if "get_stream_source" in vars(klass):
            return klass.__name__ != "VideoInput"
    return False


def _extension_for(head: bytes) -> str:
    if head.startswith(_EBML_MAGIC):
        return ".webm"
    if head[4:8] == b"ftyp" and head[8:10] == b"qt":
        return ".mov"
    return ".mp4"

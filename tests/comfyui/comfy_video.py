"""ComfyUI's VIDEO classes for tests: the real ones when a ComfyUI checkout is importable, else
minimal stand-ins with the same names and the same methods the pack uses.

ComfyUI is not on PyPI, so CI uses the stand-ins. They behave like 0.3.64's classes where it
matters: ``VideoFromFile`` opens the container for dimensions/duration and hands out its path or
BytesIO through ``get_stream_source``; ``VideoFromComponents`` keeps decoded frames in memory and
can only ``save_to`` a path; the abstract ``VideoInput.get_stream_source`` encodes into memory (the
pack must never call it). Tests patch ``get_components`` to fail, because decoding every frame of
a 30 s clip costs gigabytes, and the pack must not do it to validate or upload.

Set ``ACT_TWO_COMFYUI_DIR`` to a checkout and run the tests with a Python that has ComfyUI's
requirements to use the real classes instead.
"""

from __future__ import annotations

import io
import os
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

REAL = False


def _try_real() -> tuple[Any, Any, Any] | None:
    root = os.environ.get("ACT_TWO_COMFYUI_DIR")
    if not root:
        return None
    added = root not in sys.path
    if added:
        sys.path.insert(0, root)
    try:
        from comfy_api.latest import InputImpl, Types
    except Exception:  # this Python lacks ComfyUI's requirements: use the stand-ins
        if added:
            sys.path.remove(root)
        return None
    return InputImpl.VideoFromFile, InputImpl.VideoFromComponents, Types.VideoComponents


class VideoInput(ABC):
    @abstractmethod
    def get_components(self) -> Any: ...

    @abstractmethod
    def save_to(
        self, path: Any, format: Any = "auto", codec: Any = "auto", metadata: Any = None
    ) -> None: ...

    def get_stream_source(self) -> Any:
        buffer = io.BytesIO()
        self.save_to(buffer)  # what ComfyUI's default does (and what fails for components)
        buffer.seek(0)
        return buffer


@dataclass
class VideoComponentsStandIn:
    images: Any
    frame_rate: Fraction
    audio: Any = None
    metadata: Any = None


class VideoFromFileStandIn(VideoInput):
    """0.3.64's VideoFromFile, plus the trim window newer versions added (``as_trimmed``)."""

    def __init__(
        self, file: str | io.BytesIO, *, start_time: float = 0, duration: float = 0
    ) -> None:
        self.__file = file
        self.__start_time = start_time
        self.__duration = duration

    def get_stream_source(self) -> Any:
        if isinstance(self.__file, io.BytesIO):
            self.__file.seek(0)
        return self.__file

    def get_dimensions(self) -> tuple[int, int]:
        import av

        with av.open(self.get_stream_source()) as c:
            v = c.streams.video[0]
            return v.width, v.height

    def get_duration(self) -> float:
        import av

        with av.open(self.get_stream_source()) as c:
            return float(c.duration / av.time_base)

    def get_components(self) -> Any:
        import av
        import torch

        with av.open(self.get_stream_source()) as c:
            frames = [
                torch.from_numpy(f.to_ndarray(format="rgb24")).float() / 255
                for f in c.decode(video=0)
            ]
            rate = Fraction(c.streams.video[0].average_rate)
        return VideoComponentsStandIn(images=torch.stack(frames), frame_rate=rate)

    def save_to(
        self, path: Any, format: Any = "auto", codec: Any = "auto", metadata: Any = None
    ) -> None:
        if self.__start_time or self.__duration:  # newer ComfyUI re-encodes just the window
            self._save_trimmed(path)
            return
        src = self.get_stream_source()
        if hasattr(src, "read"):
            data = src.read()
        else:
            with open(src, "rb") as fh:
                data = fh.read()
        if hasattr(path, "write"):
            path.write(data)
        else:
            with open(path, "wb") as fh:
                fh.write(data)

    def _save_trimmed(self, path: str) -> None:
        import av

        end = self.__start_time + self.__duration if self.__duration else float("inf")
        with av.open(self.get_stream_source()) as src, av.open(path, "w") as out:
            vin = src.streams.video[0]
            vs = out.add_stream("h264", rate=vin.average_rate)
            vs.width, vs.height, vs.pix_fmt = vin.width, vin.height, "yuv420p"
            for frame in src.decode(vin):
                t = float(frame.pts * vin.time_base)
                if self.__start_time <= t < end:
                    frame.pts = None
                    for pkt in vs.encode(frame.reformat(format="yuv420p")):
                        out.mux(pkt)
            for pkt in vs.encode(None):
                out.mux(pkt)


class VideoFromComponentsStandIn(VideoInput):
    def __init__(self, components: VideoComponentsStandIn) -> None:
        self.__components = components

    def get_components(self) -> Any:
        return self.__components

    def get_dimensions(self) -> tuple[int, int]:
        images = self.__components.images
        return int(images.shape[2]), int(images.shape[1])

    def get_duration(self) -> float:
        return float(self.__components.images.shape[0] / self.__components.frame_rate)

    def save_to(
        self, path: Any, format: Any = "auto", codec: Any = "auto", metadata: Any = None
    ) -> None:
        import av

        if not isinstance(path, str):  # 0.3.64: "Could not determine output format"
            raise ValueError("Could not determine output format")
        comp = self.__components
        with av.open(path, mode="w") as out:
            rate = Fraction(round(comp.frame_rate * 1000), 1000)
            vs = out.add_stream("h264", rate=rate)
            vs.width = int(comp.images.shape[2])
            vs.height = int(comp.images.shape[1])
            vs.pix_fmt = "yuv420p"
            for frame in comp.images:
                img = (frame * 255).clamp(0, 255).byte().cpu().numpy()
                vf = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
                for pkt in vs.encode(vf):
                    out.mux(pkt)
            for pkt in vs.encode(None):
                out.mux(pkt)


# The stand-ins carry ComfyUI's class names: the pack recognizes classes by name, not identity.
VideoFromFileStandIn.__name__ = "VideoFromFile"
VideoFromComponentsStandIn.__name__ = "VideoFromComponents"

_real = _try_real()
if _real is not None:
    VideoFromFile, VideoFromComponents, VideoComponents = _real
    REAL = True
else:
    VideoFromFile = VideoFromFileStandIn
    VideoFromComponents = VideoFromComponentsStandIn
    VideoComponents = VideoComponentsStandIn


def from_frames(images: Any, fps: float = 24.0, audio: Any = None) -> Any:
    """What ComfyUI's CreateVideo node returns."""
    return VideoFromComponents(
        VideoComponents(images=images, frame_rate=Fraction(fps), audio=audio)
    )

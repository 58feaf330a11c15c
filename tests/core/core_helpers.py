"""Small helpers shared by the core tests."""

from __future__ import annotations

import time
from typing import Any


def count(sandbox: Any, endpoint: str, expect: int, timeout: float = 5.0) -> int:
    """The sandbox's request count for ``endpoint``, once it reached ``expect`` (or timed out).

    The sandbox logs a request after its answer is on the wire, so the client can be faster
    than the log; waiting for the expected figure (then reading it) removes that race without
    hiding an extra request that already happened.
    """
    end = time.monotonic() + timeout
    n = sandbox.count(endpoint)
    while n < expect and time.monotonic() < end:
        time.sleep(0.01)
        n = sandbox.count(endpoint)
    return int(n)


# -- media and raw tasks (for tests that need a task without going through the client) ---------
def make_png(path: Any, size: tuple[int, int] = (256, 320)) -> Any:
    """A small real PNG with a face-like pattern."""
    from pathlib import Path

    from PIL import Image, ImageDraw

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, (200, 170, 150))
    d = ImageDraw.Draw(img)
    w, h = size
    d.ellipse((w * 0.2, h * 0.15, w * 0.8, h * 0.85), fill=(230, 200, 180))
    d.ellipse((w * 0.33, h * 0.38, w * 0.43, h * 0.45), fill=(40, 40, 40))
    d.ellipse((w * 0.57, h * 0.38, w * 0.67, h * 0.45), fill=(40, 40, 40))
    d.line((w * 0.4, h * 0.65, w * 0.6, h * 0.65), fill=(120, 40, 40), width=4)
    img.save(path, "PNG")
    return path


def make_mp4(
    path: Any, seconds: float = 3.2, size: tuple[int, int] = (160, 120), fps: int = 12
) -> Any:
    """A small real H.264 MP4 of ``seconds`` (PyAV)."""
    from pathlib import Path

    import av
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(round(seconds * fps)):
            arr = np.full((size[1], size[0], 3), (i * 7) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def data_uri(path: Any, mime: str) -> str:
    import base64
    from pathlib import Path

    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode()


def create_raw_task(transport: Any, tmp: Any, **options: Any) -> str:
    """Create a task with a hand-built body (data URIs); returns its id."""
    from pathlib import Path

    tmp = Path(tmp)
    png = make_png(tmp / "char.png")
    mp4 = make_mp4(tmp / "ref.mp4")
    body = {
        "model": "act_two",
        "character": {"type": "image", "uri": data_uri(png, "image/png")},
        "reference": {"type": "video", "uri": data_uri(mp4, "video/mp4")},
        **options,
    }
    answer = transport.call("POST", "/v1/character_performance", json=body, create=True)
    return str(answer["id"])


def wait_status(
    transport: Any, task_id: str, statuses: tuple[str, ...] = ("SUCCEEDED",), timeout: float = 60.0
) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        obj = transport.call("GET", f"/v1/tasks/{task_id}")
        if obj["status"] in statuses or time.monotonic() > end:
            return dict(obj)
        time.sleep(0.02)


def make_noisy_mp4(
    path: Any, seconds: float = 3.5, size: tuple[int, int] = (320, 240), fps: int = 24
) -> Any:
    """A real MP4 of random noise, large enough (several MB) to need the upload path."""
    from pathlib import Path

    import av
    import numpy as np

    path = Path(path)
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "0"}
        for _ in range(round(seconds * fps)):
            arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


class Events:
    """Collects JobEvents (a host's callback)."""

    def __init__(self) -> None:
        self.items: list[Any] = []

    def __call__(self, ev: Any) -> None:
        self.items.append(ev)

    def kinds(self) -> list[str]:
        out: list[str] = []
        for ev in self.items:
            if not out or out[-1] != ev.kind:
                out.append(ev.kind)
        return out

    def statuses(self) -> list[str]:
        out: list[str] = []
        for ev in self.items:
            if ev.kind == "status" and ev.status and (not out or out[-1] != ev.status):
                out.append(ev.status)
        return out

"""The few places where benchmarks touch the project's public API and the official SDK.

Kept in one module so that when a signature moves, one file changes, and so that every benchmark
builds "our client" and "the official SDK" the same way (same sandbox, same key, same media).
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import ROOT, scratch_dir


def our_client(sb: Any, data_dir: Path) -> Any:
    from runway_act_two.client import ActTwoClient

    data_dir.mkdir(parents=True, exist_ok=True)
    return ActTwoClient(api_key=sb.api_key, base_url=sb.base_url, data_dir=data_dir, host="bench")


def sdk_client(sb: Any) -> Any:
    from runwayml import RunwayML

    return RunwayML(api_key=sb.api_key, base_url=sb.base_url)


def data_uri(path: Path, mime: str) -> str:
    """What a user of the official SDK writes to send a local file inline."""
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".mp4": "video/mp4", ".mov": "video/quicktime"}


def mime_of(path: Path) -> str:
    return _MIME[path.suffix.lower()]


@dataclass(frozen=True)
class SmallMedia:
    """A small character and a 3.5 s reference: cheap to send and to render, many at once."""

    character: Path
    reference: Path

    @classmethod
    def make(cls, directory: Path) -> SmallMedia:
        import sys

        sys.path.insert(0, str(ROOT))
        from tests.media_factory import make_mp4, make_png

        directory.mkdir(parents=True, exist_ok=True)
        return cls(
            make_png(directory / "character.png", 320, 240),
            make_mp4(directory / "reference.mp4", 3.5, 160, 120),
        )

    def request(self) -> Any:
        from runway_act_two import ActTwoRequest, MediaSource

        return ActTwoRequest(
            character=MediaSource.from_path(self.character),
            reference=MediaSource.from_path(self.reference),
        )

    def sdk_body(self) -> dict[str, Any]:
        return {
            "character": {"type": "image", "uri": data_uri(self.character, "image/png")},
            "reference": {"type": "video", "uri": data_uri(self.reference, "video/mp4")},
        }


class LagLab:
    """One sandbox per task duration (if the sandbox's duration is global), read back per task."""

    def __init__(self, sandboxes: dict[float, Any]) -> None:
        self._sb = sandboxes

    def sandbox_for(self, seconds: float) -> Any:
        return self._sb[seconds]

    def succeeded_at(self, seconds: float, task_id: str) -> float | None:
        """Epoch seconds at which the sandbox made the task SUCCEEDED (its tick time)."""
        info = self._sb[seconds].task_info(task_id)
        return None if info is None else info.get("succeededAt")

    def polls(self, seconds: float, task_id: str) -> int:
        path = f"/v1/tasks/{task_id}"
        return sum(1 for e in self._sb[seconds].requests("task_get") if e["path"] == path)


@contextlib.contextmanager
def lag_sandbox(tick: float, durations: tuple[float, ...]) -> Iterator[LagLab]:
    from runway_act_two.sandbox import Sandbox, SandboxConfig

    with contextlib.ExitStack() as stack:
        sbs = {}
        for d in durations:
            cfg = SandboxConfig(
                tick_seconds=tick,
                task_seconds=d,
                max_concurrent_generations=None,
                max_daily_generations=None,
                data_dir=str(scratch_dir("act_two_bench_sb_")),
            )
            sbs[d] = stack.enter_context(Sandbox(cfg))
        yield LagLab(sbs)

"""What a media file is (kind, type, duration, audio), for the sandbox's server-side checks.

The project has ONE media-inspection implementation, ``runway_act_two.media`` (sniff + probe),
shared by the client's pre-flight checks and this server, so both sides agree on what a valid
input is. This module only adapts it to the few facts the sandbox needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..media.probe import MediaProbeError, default_prober
from ..media.sniff import sniff_file


class MediaCheckError(Exception):
    """The file is not readable media of a supported type."""


@dataclass(frozen=True)
class MediaFacts:
    kind: str  # "image" | "video"
    mime: str | None
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None
    has_audio: bool = False


def sniff(path: Path) -> str | None:
    """The MIME type of the file's content (None: not a supported image or video)."""
    try:
        return sniff_file(path)
    except OSError:
        return None


def probe(path: Path) -> MediaFacts:
    """Facts about one local file; raises MediaCheckError for unreadable or unsupported media."""
    try:
        info = default_prober().probe(path)
    except MediaProbeError as exc:
        raise MediaCheckError(str(exc)) from None
    return MediaFacts(
        kind=info.kind,
        mime=info.mime,
        size_bytes=info.size_bytes,
        width=info.width,
        height=info.height,
        duration=info.duration,
        fps=info.fps,
        has_audio=bool(info.has_audio),
    )

"""The typed Act-Two request, as the user states it (before any file is read).

A request names its media by source (path, bytes, https URL, runway:// URI) and holds options with
``None`` meaning "not sent": the API then applies its own default. Turning it into a wire body
needs the media prepared (data URI or upload), which happens in ``validation`` and ``media`` so
that every check runs before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

CharacterKind = Literal["image", "video"]


@dataclass(frozen=True)
class MediaSource:
    """Where one input comes from. Exactly one of ``path``, ``data``, ``url`` is set."""

    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None  # https://... or runway://...
    filename: str | None = None  # a name for ``data`` (used for uploads and messages)

    @classmethod
    def from_path(cls, path: str | Path) -> MediaSource:
        return cls(path=Path(path).expanduser())

    @classmethod
    def from_bytes(cls, data: bytes, filename: str = "media") -> MediaSource:
        return cls(data=bytes(data), filename=filename)

    @classmethod
    def from_url(cls, url: str) -> MediaSource:
        return cls(url=url)

    @classmethod
    def parse(cls, text: str | Path) -> MediaSource:
        """A command-line argument: a URL when it has a scheme, else a local path."""
        s = str(text)
        if "://" in s.split("?", 1)[0][:16] or s.startswith("data:"):
            return cls.from_url(s)
        return cls.from_path(s)

    def describe(self) -> str:
        if self.path is not None:
            return str(self.path)
        if self.url is not None:
            return self.url if len(self.url) < 80 else self.url[:77] + "..."
        return f"<{len(self.data or b'')} bytes: {self.filename}>"


@dataclass(frozen=True)
class ActTwoRequest:
    """Every field of ``POST /v1/character_performance``; ``None`` means "leave it to the API"."""

    character: MediaSource
    reference: MediaSource
    character_kind: CharacterKind | None = None  # None: sniffed from the content
    ratio: str | None = None
    seed: int | None = None
    body_control: bool | None = None
    expression_intensity: int | None = None
    public_figure_threshold: str | None = None

    def options(self) -> dict[str, object]:
        """The option fields in wire names, unset ones left out (used in journals and sidecars)."""
        out: dict[str, object] = {}
        if self.ratio is not None:
            out["ratio"] = self.ratio
        if self.seed is not None:
            out["seed"] = self.seed
        if self.body_control is not None:
            out["bodyControl"] = self.body_control
        if self.expression_intensity is not None:
            out["expressionIntensity"] = self.expression_intensity
        if self.public_figure_threshold is not None:
            out["contentModeration"] = {"publicFigureThreshold": self.public_figure_threshold}
        return out

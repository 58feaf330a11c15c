"""Runway Act-Two for creative tools: a money-safe client, a strict local sandbox, host layers.

Hosts import from here only; the submodules are free to move.
"""

from __future__ import annotations

from . import api_surface, errors
from .events import CancelToken, JobEvent
from .request import ActTwoRequest, MediaSource

__version__ = "0.1.0"

__all__ = [
    "ActTwoRequest",
    "CancelToken",
    "JobEvent",
    "MediaSource",
    "__version__",
    "api_surface",
    "errors",
]

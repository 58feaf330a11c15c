"""Runway Act-Two for creative tools: a money-safe client, a strict local sandbox, host layers.

Hosts import from here only; the submodules are free to move.
"""

from __future__ import annotations

__version__ = "0.1.0"

from . import api_surface, errors
from .client import ActTwoClient, JobResult, Submission
from .config import Settings, resolve_settings
from .events import CancelToken, JobEvent
from .journal import JobRecord
from .request import ActTwoRequest, MediaSource
from .task import Organization, Task

__all__ = [
    "ActTwoClient",
    "ActTwoRequest",
    "CancelToken",
    "JobEvent",
    "JobRecord",
    "JobResult",
    "MediaSource",
    "Organization",
    "Settings",
    "Submission",
    "Task",
    "__version__",
    "api_surface",
    "errors",
    "resolve_settings",
]

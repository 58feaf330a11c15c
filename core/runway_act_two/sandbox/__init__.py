"""The sandbox: a strict local stand-in for Runway's Act-Two API that returns labelled previews.

``Sandbox`` runs it in-process (tests, the main command); ``main`` runs it in the foreground for
``act-two sandbox``. See docs/sandbox.md.
"""

from __future__ import annotations

from .config import SandboxConfig
from .faults import Fault, FaultBook
from .runner import main
from .server import Sandbox, new_api_key

__all__ = ["Fault", "FaultBook", "Sandbox", "SandboxConfig", "main", "new_api_key"]

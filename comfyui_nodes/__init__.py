"""Runway Act-Two for ComfyUI: a node pack over the ``runway_act_two`` core.

ComfyUI loads this package from ``custom_nodes/`` and calls ``comfy_entrypoint`` (the V3 node
API). The node classes import ComfyUI, so they are imported only there; the rest of the pack
(conversion, job running, progress, messages) imports without ComfyUI, which is how CI tests it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["comfy_entrypoint"]


async def comfy_entrypoint() -> Any:
    """Called by ComfyUI (0.3.64+) when it loads the pack."""
    from .nodes import ActTwoExtension, install_examples

    install_examples()
    return ActTwoExtension()

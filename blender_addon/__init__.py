"""Runway Act-Two for Blender: from the scene camera to a strip in the Video Sequencer.

A thin layer over the bundled core (``runway_act_two``): settings on ``scene.act_two``, the key
in the add-on preferences, operators under ``bpy.ops.act_two``, a sidebar tab named "Act-Two".
``unregister()`` removes every class, timer and handler this module added, because Blender 4.x
hangs or crashes at exit when a Python callback outlives its add-on.
"""

from __future__ import annotations

import contextlib
from typing import Any

import bpy
from bpy.app.handlers import persistent

from . import jobs, ops, prefs, props, ui

_CLASSES: tuple[type, ...] = (*prefs.CLASSES, *props.CLASSES, *ops.CLASSES, *ui.CLASSES)


@persistent
def _on_save_pre(*args: Any) -> None:
    """Move results of a so far unsaved file beside the .blend being written (//act_two/)."""
    target = args[0] if args and isinstance(args[0], str) and args[0] else bpy.data.filepath
    with contextlib.suppress(Exception):
        jobs.move_unsaved_results(target)


@persistent
def _on_load_post(*_args: Any) -> None:
    """After opening a file (or starting Blender), offer unfinished jobs from the journal."""
    jobs.file_loaded()
    with contextlib.suppress(Exception):
        jobs.refresh_journal(*prefs.connection())


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    props.register_props()
    bpy.app.handlers.save_pre.append(_on_save_pre)
    bpy.app.handlers.load_post.append(_on_load_post)
    with contextlib.suppress(Exception):
        jobs.refresh_journal(*prefs.connection())


def unregister() -> None:
    jobs.stop_timer()
    for handlers, fn in (
        (bpy.app.handlers.save_pre, _on_save_pre),
        (bpy.app.handlers.load_post, _on_load_post),
    ):
        while fn in handlers:
            handlers.remove(fn)
    props.unregister_props()
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
    jobs.reset()
    ops.set_last_error("")

"""Helpers shared by the Blender tests (imported after conftest has set BLENDER_USER_RESOURCES).

A plain module rather than conftest attributes, so test files import them by a name no other
test folder's conftest can shadow.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import bpy

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
EXT_ID = "act_two"
EXT_MODULE = f"bl_ext.user_default.{EXT_ID}"
TREE_MODULE = "blender_addon"


def _newest_source_mtime() -> float:
    newest = 0.0
    for base in (ROOT / "blender_addon", ROOT / "core" / "runway_act_two"):
        for p in base.rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts and "sandbox" not in p.parts:
                newest = max(newest, p.stat().st_mtime)
    newest = max(newest, (ROOT / "tools" / "build_blender_zip.py").stat().st_mtime)
    return newest


def built_zip() -> Path:
    """dist/'s Blender zip, rebuilt when any source is newer (so tests never test a stale zip)."""
    zips = sorted(DIST.glob("*blender*.zip"))
    if not zips or zips[-1].stat().st_mtime < _newest_source_mtime():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "tools" / "build_blender_zip.py"),
                "--bpy-python",
                sys.executable,
            ],
            check=True,
            cwd=ROOT,
        )
        zips = sorted(DIST.glob("*blender*.zip"))
    assert zips, "tools/build_blender_zip.py produced no zip in dist/"
    return zips[-1]


def build_camera_scene(scene: Any = None) -> Any:
    """Cube, sun and an active camera; Cycles on CPU at 1 sample so captures stay quick."""
    import bmesh

    scene = scene or bpy.context.scene
    mesh = bpy.data.meshes.new("CubeMesh")
    bm = bmesh.new()
    bmesh.ops.create_cube(bm, size=2.0)
    bm.to_mesh(mesh)
    bm.free()
    scene.collection.objects.link(bpy.data.objects.new("Cube", mesh))
    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", type="SUN"))
    sun.rotation_euler = (0.6, 0.2, 0.8)
    scene.collection.objects.link(sun)
    cam = bpy.data.objects.new("Camera", bpy.data.cameras.new("Camera"))
    cam.location = (6.0, -6.0, 4.5)
    cam.rotation_euler = (1.1, 0.0, 0.785)
    scene.collection.objects.link(cam)
    scene.camera = cam
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 1
    scene.cycles.use_denoising = False
    return scene


def pump(addon: ModuleType, until: Callable[[], bool], timeout: float = 90.0) -> None:
    """Drive the add-on's timer callback the way Blender's event loop would, until ``until()``."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            states = [(s.label, s.phase, s.status, s.error) for s in addon.jobs.jobs()]
            raise AssertionError(f"timed out after {timeout}s; jobs: {states}")
        interval = addon.jobs.tick()
        time.sleep(min(interval or 0.05, 0.05))

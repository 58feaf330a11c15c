"""``scene.act_two``: the settings of one Act-Two generation, saved with the scene.

These names are a public scripting contract (docs/blender.md): render-farm scripts set them and
call ``bpy.ops.act_two.generate()``. Nothing secret lives here; the key is in the add-on
preferences. Option ranges and values come from the core's ``api_surface`` so the panel can never
offer something Runway refuses. The seed is limited to Blender's 32-bit signed integer range
(0..2147483647), a subset of Runway's 0..4294967295.
"""

from __future__ import annotations

import random

import bpy

from ._core import api_surface

SEED_UI_MAX = 2**31 - 1

_RATIO_LABELS = {
    "1280:720": "Landscape 16:9 (1280x720)",
    "720:1280": "Portrait 9:16 (720x1280)",
    "960:960": "Square 1:1 (960x960)",
    "1104:832": "Landscape 4:3 (1104x832)",
    "832:1104": "Portrait 3:4 (832x1104)",
    "1584:672": "Cinema 21:9 (1584x672)",
}


def _ratio_items() -> list[tuple[str, str, str]]:
    return [
        (r, _RATIO_LABELS.get(r, r), f"Output video of {r.replace(':', 'x')} pixels")
        for r in api_surface.RATIOS
    ]


def random_seed() -> int:
    return random.randint(api_surface.SEED_MIN, SEED_UI_MAX)


class ActTwoSettings(bpy.types.PropertyGroup):
    reference_source: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Reference",
        description="Where the performance video comes from",
        items=[
            ("FILE", "File", "A video file on disk"),
            ("STRIP", "Sequencer Strip", "A movie strip already in the Video Sequencer"),
        ],
        default="FILE",
    )
    reference_path: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Reference Video",
        description="Video of a person performing (3 to 30 seconds); its length sets the cost",
        subtype="FILE_PATH",
    )
    reference_strip: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Reference Strip",
        description="Name of a movie strip in the sequencer whose whole file is the reference",
    )
    character_source: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Character",
        description="What becomes the character Runway animates",
        items=[
            ("CAMERA", "Camera Render", "Render the current frame from the scene camera"),
            ("IMAGE", "Image File", "An image file on disk"),
            ("FRAMES", "Rendered Frames", "Render the scene's frame range into a character video"),
            ("VIDEO", "Video File", "A character video file on disk"),
        ],
        default="CAMERA",
    )
    character_path: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Character File",
        description="Character image (JPEG, PNG, WebP) or video, with a clearly visible face",
        subtype="FILE_PATH",
    )
    ratio: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Ratio",
        description="Output frame size; the camera render uses the same size",
        items=_ratio_items(),
        default=api_surface.DEFAULT_RATIO,
    )
    seed: bpy.props.IntProperty(  # type: ignore[valid-type]
        name="Seed",
        description="Same seed and inputs give similar results; change it for another take",
        min=api_surface.SEED_MIN,
        max=SEED_UI_MAX,
        default=0,
    )
    seed_lock: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Lock Seed",
        description="Keep this seed; when off, every Generate picks a new random seed",
        default=False,
    )
    body_control: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Body Control",
        description="Apply body movements and gestures too, not only facial expressions",
        default=True,
    )
    expression_intensity: bpy.props.IntProperty(  # type: ignore[valid-type]
        name="Expression Intensity",
        description="How strongly the character's expressions follow the performance",
        min=api_surface.EXPRESSION_INTENSITY_MIN,
        max=api_surface.EXPRESSION_INTENSITY_MAX,
        default=api_surface.EXPRESSION_INTENSITY_DEFAULT,
    )
    public_figure_threshold: bpy.props.EnumProperty(  # type: ignore[valid-type]
        name="Public Figures",
        description="Content moderation for recognizable public figures",
        items=[
            ("auto", "Auto", "Runway's standard moderation"),
            ("low", "Low", "Less strict about recognizable public figures"),
        ],
        default="auto",
    )
    reuse_identical: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Reuse Identical Results",
        description=(
            "With a locked seed, reuse an earlier result of exactly the same inputs instead of "
            "paying again"
        ),
        default=True,
    )
    match_scene_fps: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Match Scene Frame Rate",
        description=(
            "Set the scene frame rate to the result's (24 fps) when importing; otherwise the "
            "strip is retimed to play at real speed where Blender supports it"
        ),
        default=False,
    )


CLASSES = (ActTwoSettings,)


def register_props() -> None:
    bpy.types.Scene.act_two = bpy.props.PointerProperty(type=ActTwoSettings)


def unregister_props() -> None:
    if hasattr(bpy.types.Scene, "act_two"):
        del bpy.types.Scene.act_two

"""Add-on preferences: the API key and the base URL.

Why here and not on the scene: preferences live in ``userpref.blend`` on the artist's machine, so
the key never travels inside a shared .blend file. An empty key falls back to the core's own lookup
(``RUNWAYML_API_SECRET``, then the core's config file), which is how render farms pass it. The
base URL is a preference too, so artists can point the add-on at the local sandbox and build a
scene without spending credits.
"""

from __future__ import annotations

import os

import bpy

from ._core import api_surface


class ActTwoPreferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    api_key: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="API key",
        description=(
            "Your Runway API key (key_...). Stored in Blender's user preferences, never in "
            f".blend files. Leave empty to use the {api_surface.ENV_API_KEY} environment variable"
        ),
        subtype="PASSWORD",
    )
    base_url: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Base URL",
        description=(
            "Runway API address. Leave empty for Runway "
            f"({api_surface.DEFAULT_BASE_URL}); use http://127.0.0.1:<port> for the local sandbox"
        ),
        default="",
    )

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.prop(self, "api_key")
        if not self.api_key:
            if os.environ.get(api_surface.ENV_API_KEY):
                layout.label(text=f"Using the key from {api_surface.ENV_API_KEY}.", icon="INFO")
            else:
                layout.label(
                    text="Paste your key from the Runway developer portal (API Keys).",
                    icon="INFO",
                )
        layout.prop(self, "base_url")
        layout.label(
            text="Start a local sandbox with `act-two sandbox` to try the add-on for free.",
            icon="INFO",
        )


def get(context: bpy.types.Context | None = None) -> ActTwoPreferences | None:
    """The preferences, or None when the add-on was registered without addon_utils (scripts)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon is not None else None


def connection(context: bpy.types.Context | None = None) -> tuple[str | None, str | None]:
    """(api_key, base_url) to hand to the core; None lets the core use its own fallbacks."""
    p = get(context)
    if p is None:
        return None, None
    key = p.api_key.strip() or None
    url = p.base_url.strip() or None
    return key, url


CLASSES = (ActTwoPreferences,)

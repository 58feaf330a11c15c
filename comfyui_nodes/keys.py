"""Where the pack finds the Runway API key inside ComfyUI (never a widget).

A widget value is saved in the workflow JSON, sent to ``/history`` and written into every saved
image's and video's metadata, so the key must never be one. It comes from the environment
(``RUNWAYML_API_SECRET``, the name Runway's own SDKs read) or from a one-line file in ComfyUI's
user directory, which ComfyUI never serves or embeds. Without either, the core's own config file
(``act-two config``) still applies, so one key set up for the command line works here too.
"""

from __future__ import annotations

import os
from pathlib import Path

from .core import act_two

#: ``<ComfyUI user dir>/runway_act_two/api_key.txt``
KEY_DIR_NAME = "runway_act_two"
KEY_FILE_NAME = "api_key.txt"


def key_file_path(user_dir: Path | None) -> Path | None:
    return None if user_dir is None else user_dir / KEY_DIR_NAME / KEY_FILE_NAME


def read_key_file(path: Path) -> str | None:
    """The first non-empty, non-comment line of ``path``; None when absent or empty."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (FileNotFoundError, IsADirectoryError, PermissionError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return line
    return None


def resolve_api_key(user_dir: Path | None) -> str | None:
    """Environment first (a deployment's override), then the key file; None lets the core look."""
    env = os.environ.get(act_two.api_surface.ENV_API_KEY, "").strip()
    if env:
        return env
    path = key_file_path(user_dir)
    return read_key_file(path) if path is not None else None


def where_to_put_the_key(user_dir: Path | None) -> str:
    """One sentence for error messages: the places this pack reads the key from."""
    env = act_two.api_surface.ENV_API_KEY
    path = key_file_path(user_dir)
    if path is None:
        return f"Set the {env} environment variable before starting ComfyUI."
    return (
        f"Set the {env} environment variable before starting ComfyUI, or put the key "
        f"(one line) in {path}."
    )

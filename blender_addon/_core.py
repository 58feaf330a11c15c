"""Find the Act-Two core: the copy bundled in the extension zip, else an installed one.

The zip built by ``tools/build_blender_zip.py`` vendors the core as ``<this package>._vendor.
runway_act_two`` so artists install one file with no pip. In the source tree (developers, tests that
enable the add-on from the tree) there is no ``_vendor`` folder and the installed ``runway_act_two``
is used. The choice is made by the folder's presence, not by catching ImportError, so a broken
vendored copy fails loudly instead of silently picking up some other installed version.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

_VENDORED = Path(__file__).resolve().parent / "_vendor" / "runway_act_two" / "__init__.py"


def _load() -> ModuleType:
    if _VENDORED.is_file():
        return importlib.import_module(f"{__package__}._vendor.runway_act_two")
    return importlib.import_module("runway_act_two")


core = _load()
api_surface = importlib.import_module(f"{core.__name__}.api_surface")
errors = importlib.import_module(f"{core.__name__}.errors")
VENDORED = _VENDORED.is_file()


def submodule(name: str) -> ModuleType:
    """A core submodule by dotted name (``"media.probe"``), from whichever copy is in use."""
    return importlib.import_module(f"{core.__name__}.{name}")


def client_class() -> type:
    """``ActTwoClient``; looked up at call time so the add-on registers even while the core's
    client module is missing (the panel then says the core is incomplete instead of failing)."""
    cls = getattr(core, "ActTwoClient", None)
    if cls is None:
        cls = submodule("client").ActTwoClient
    return cls

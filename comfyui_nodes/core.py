"""Where the pack gets the core from: the copy vendored into the pack, else the installed one.

The distributed zip carries ``runway_act_two`` inside the pack (``_vendor/runway_act_two``) so an
artist only unzips into ``custom_nodes/``; in the source tree (and in CI) the installed package is
used. The vendored copy is chosen by its presence, not by trying an import, so a bug inside it is
reported instead of silently falling back to some other installed version.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

VENDORED = (
    Path(__file__).resolve().parent / "_vendor" / "runway_act_two" / "__init__.py"
).is_file()

if TYPE_CHECKING:
    import runway_act_two as act_two
elif VENDORED:
    act_two = importlib.import_module(f"{__package__}._vendor.runway_act_two")
else:
    import runway_act_two as act_two

__all__ = ["VENDORED", "act_two"]

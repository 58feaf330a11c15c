"""Local media: what a file is (sniff), what is in it (probe), how it travels (data URI, upload).

One implementation serves the client's pre-flight checks, the sandbox's server-side checks and the
download check, so every side agrees on what a valid input is. Only the standard library is
imported here; PyAV and Pillow are used lazily (and optionally) by ``probe``.
"""

from __future__ import annotations

"""Turning a request's ``uri`` into a local file, the way Runway fetches assets, but offline.

``data:`` URIs are decoded, ``runway://`` URIs come from the sandbox's own uploads, and ``https``
URLs resolve only through the configured allow-map (URL -> local file): the sandbox never touches
the network, and an unmapped URL fails with Runway's own "Failed to fetch asset" wording. Every
file is then sniffed and probed with the project's shared media code, so "is this really a video
of 3-30 s" is decided by the same implementation on both sides of the wire.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path

from .. import api_surface as api
from .mediainfo import MediaCheckError, MediaFacts, probe, sniff
from .uploads import UploadStore


class AssetError(Exception):
    """The asset cannot be used; the message is the ``custom`` issue's message."""


@dataclass(frozen=True)
class Asset:
    path: Path
    facts: MediaFacts
    temporary: bool  # decoded from a data URI (the sandbox owns the file)


def decode_data_uri(uri: str, inputs_dir: Path) -> tuple[Path, str]:
    """Write a data URI's bytes to a file; returns (path, declared MIME type)."""
    header, sep, payload = uri.partition(",")
    if not sep or not header.startswith("data:"):
        raise AssetError(api.ERROR_INVALID_DATA_URI)
    params = header[len("data:") :].split(";")
    mime = params[0].strip().lower()
    if "/" not in mime:
        raise AssetError(f"{api.ERROR_INVALID_DATA_URI} The media type is missing.")
    try:
        if "base64" in (p.strip().lower() for p in params[1:]):
            data = base64.b64decode(payload, validate=True)
        else:
            data = urllib.parse.unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise AssetError(f"{api.ERROR_INVALID_DATA_URI} The base64 payload is malformed.") from None
    if not data:
        raise AssetError(f"{api.ERROR_INVALID_DATA_URI} It holds no data.")
    inputs_dir.mkdir(parents=True, exist_ok=True)
    path = inputs_dir / f"data-{uuid.uuid4().hex}"
    path.write_bytes(data)
    return path, mime


def resolve(
    uri: str,
    kind: str,
    *,
    inputs_dir: Path,
    uploads: UploadStore,
    upload_ttl: float,
    url_map: dict[str, str],
) -> Asset:
    """The local file and media facts for one ``uri`` declared as ``kind`` (image|video)."""
    temporary = False
    declared: str | None = None
    if uri.startswith("data:"):
        path, declared = decode_data_uri(uri, inputs_dir)
        temporary = True
    elif uri.startswith(api.RUNWAY_URI_SCHEME):
        up = uploads.resolve(uri, upload_ttl)
        if up is None or up.path is None:
            raise AssetError(
                "Failed to fetch asset. The runway:// URI is unknown or has expired "
                "(uploads are valid for 24 hours); upload the file again."
            )
        path = up.path
    else:
        host = urllib.parse.urlsplit(uri).hostname or ""
        if not host or host.replace(".", "").isdigit() or ":" in host:
            raise AssetError("URLs must be hosted on a domain.")
        local = url_map.get(uri)
        if local is None or not Path(local).is_file():
            raise AssetError(
                f"{api.ERROR_FETCH_ASSET} (The sandbox never goes to the internet: map this URL "
                "to a local file with the url_map setting.)"
            )
        path = Path(local)
    try:
        sniffed = sniff(path)
        if sniffed is None or not sniffed.startswith(f"{kind}/"):
            found = sniffed or "not a supported image or video"
            raise AssetError(
                f"{api.ERROR_UNSUPPORTED_ASSET} Expected {kind} content, found {found}."
            )
        if declared is not None and not declared.startswith(f"{kind}/"):
            raise AssetError(
                f"{api.ERROR_INVALID_DATA_URI} It declares {declared} but must hold a {kind}."
            )
        try:
            facts = probe(path)
        except MediaCheckError as exc:
            raise AssetError(
                f"{api.ERROR_UNSUPPORTED_ASSET} The {kind} is unreadable ({exc})."
            ) from None
        if facts.kind != kind:
            raise AssetError(f"{api.ERROR_UNSUPPORTED_ASSET} Expected {kind} content.")
        if kind == "video" and not facts.duration:
            raise AssetError(f"{api.ERROR_UNSUPPORTED_ASSET} The video has no duration.")
    except AssetError:
        if temporary:
            path.unlink(missing_ok=True)
        raise
    return Asset(path, facts, temporary)


def check_reference_duration(seconds: float) -> str | None:
    """The issue message for a reference outside 3-30 s (container rounding tolerated)."""
    tol = api.DURATION_TOLERANCE_SECONDS
    if seconds < api.REFERENCE_MIN_SECONDS - tol or seconds > api.REFERENCE_MAX_SECONDS + tol:
        return (
            f"The reference video must be between {api.REFERENCE_MIN_SECONDS:g} and "
            f"{api.REFERENCE_MAX_SECONDS:g} seconds long; it is {seconds:.2f} seconds."
        )
    return None

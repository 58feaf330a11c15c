"""Where the API key, the base URL and our files come from.

The key is looked up the way the official SDK does (``RUNWAYML_API_SECRET``) so a user who already
set it up for Runway's own tools needs nothing else, with an explicit argument first (hosts keep it
in their own preferences) and a small ``config.json`` last (for people who do not want it in their
shell profile). Resolution never raises: whatever is missing or refused becomes a ``Problem`` that
is reported together with the input problems, before anything is sent.

Plain ``http://`` is refused except for loopback addresses: the key travels in a header, and
the only legitimate plain-http server is the local sandbox.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .api_surface import DEFAULT_BASE_URL, ENV_API_KEY, ENV_BASE_URL
from .errors import Problem

ENV_CONFIG_DIR = "ACT_TWO_CONFIG_DIR"
ENV_DATA_DIR = "ACT_TWO_DATA_DIR"
APP_DIR_NAME = "act-two"
CONFIG_FILE_NAME = "config.json"
KEY_HELP_URL = "https://dev.runwayml.com/"


def _platform_dir(kind: str) -> Path:
    """The per-user config/data dir; platformdirs when installed, else the same rules by hand."""
    try:
        import platformdirs  # type: ignore[import-not-found,unused-ignore]  # optional
    except ImportError:  # pragma: no cover - depends on the environment
        pass
    else:
        if kind == "config":
            return Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False))
        return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))
    home = Path.home()
    if sys.platform == "win32":  # pragma: no cover - platform specific
        base = os.environ.get("APPDATA") if kind == "config" else os.environ.get("LOCALAPPDATA")
        return Path(base or home / "AppData" / "Roaming") / APP_DIR_NAME
    if sys.platform == "darwin":  # pragma: no cover - platform specific
        return home / "Library" / "Application Support" / APP_DIR_NAME
    var = "XDG_CONFIG_HOME" if kind == "config" else "XDG_DATA_HOME"
    default = home / ".config" if kind == "config" else home / ".local" / "share"
    return Path(os.environ.get(var) or default) / APP_DIR_NAME


def config_dir() -> Path:
    """The directory holding ``config.json`` (``ACT_TWO_CONFIG_DIR`` overrides it)."""
    override = os.environ.get(ENV_CONFIG_DIR)
    return Path(override).expanduser() if override else _platform_dir("config")


def data_dir() -> Path:
    """The directory holding the journal and default results (``ACT_TWO_DATA_DIR`` overrides)."""
    override = os.environ.get(ENV_DATA_DIR)
    return Path(override).expanduser() if override else _platform_dir("data")


def config_file() -> Path:
    return config_dir() / CONFIG_FILE_NAME


def clean_key(raw: str | None) -> str | None:
    """Strip the whitespace and quotes that copy-paste leaves around a key; '' becomes None."""
    if raw is None:
        return None
    key = raw.strip().strip("\"'").strip()
    return key or None


def is_loopback_host(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost`` (the only hosts plain http may reach)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_problem(url: str) -> Problem | None:
    """Why ``url`` may not be used as the API base URL, or None when it may."""
    hint = f"use {DEFAULT_BASE_URL}, or http://127.0.0.1:<port> for the local sandbox"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return Problem("base_url", "is not a valid URL", hint)
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host:
        if is_loopback_host(host):
            return None
        return Problem(
            "base_url",
            f"plain http is refused for {host!r}: the API key would travel unencrypted",
            hint,
        )
    return Problem("base_url", "must start with https:// and name a host", hint)


@dataclass(frozen=True)
class Settings:
    """The resolved connection settings. ``repr``/``str`` never show the key."""

    api_key: str | None = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    key_source: str = "none"  # "argument" | "environment" | "config file" | "none"
    config_error: str | None = None  # why config.json could not be read (when it was needed)

    def __repr__(self) -> str:
        key = "set" if self.api_key else "missing"
        return (
            f"Settings(api_key=<{key}>, base_url={self.base_url!r}, key_source={self.key_source!r})"
        )

    __str__ = __repr__

    def problems(self) -> list[Problem]:
        """Configuration problems, phrased so that a newcomer knows where to put things."""
        out: list[Problem] = []
        if not self.api_key:
            where = (
                f"set the {ENV_API_KEY} environment variable, or write "
                f'{{"api_key": "key_..."}} to {config_file()}'
            )
            message = "no Runway API key was found"
            if self.config_error:
                message += f" ({self.config_error})"
            out.append(Problem("api_key", message, f"{where}; create a key at {KEY_HELP_URL}"))
        elif any(c.isspace() for c in self.api_key):
            out.append(
                Problem(
                    "api_key",
                    "the API key contains whitespace",
                    "paste the key again as one unbroken word starting with key_",
                )
            )
        problem = base_url_problem(self.base_url)
        if problem is not None:
            out.append(problem)
        return out

    @property
    def is_loopback(self) -> bool:
        try:
            return is_loopback_host(urlsplit(self.base_url).hostname)
        except ValueError:
            return False


def _key_from_config_file() -> tuple[str | None, str | None]:
    """(key, error) from config.json; a missing file is not an error."""
    path = config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{path} could not be read: {exc.strerror or type(exc).__name__}"
    try:
        data = json.loads(text)
    except ValueError:
        return None, f"{path} is not valid JSON"
    if not isinstance(data, dict):
        return None, f"{path} must hold a JSON object"
    value = data.get("api_key")
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, f'"api_key" in {path} must be a string'
    return clean_key(value), None


def resolve_settings(api_key: str | None = None, base_url: str | None = None) -> Settings:
    """Key: argument > RUNWAYML_API_SECRET > config.json. Base URL: argument > env > default."""
    config_error: str | None = None
    key = clean_key(api_key)
    source = "argument" if key else "none"
    if key is None:
        key = clean_key(os.environ.get(ENV_API_KEY))
        if key:
            source = "environment"
    if key is None:
        key, config_error = _key_from_config_file()
        if key:
            source = "config file"
    url = (base_url or "").strip() or (os.environ.get(ENV_BASE_URL) or "").strip()
    url = (url or DEFAULT_BASE_URL).rstrip("/")
    return Settings(api_key=key, base_url=url, key_source=source, config_error=config_error)


def save_api_key(key: str | None) -> Path:
    """Write the key to config.json (mode 0600), keeping other settings; returns the path.

    ``None`` removes the key and keeps the rest of the file.
    """
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, object] = {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            data = loaded
    except (OSError, ValueError):
        pass
    if key is None:
        data.pop("api_key", None)
    else:
        data["api_key"] = clean_key(key) or ""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)
    return path


def clear_api_key() -> Path:
    """Remove the stored key (the environment variable, if set, still applies)."""
    return save_api_key(None)

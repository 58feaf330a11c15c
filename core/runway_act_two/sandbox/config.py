"""The sandbox's knobs, as one dataclass that a JSON/TOML file, CLI flags or tests fill in.

Everything a test or an artist may want to vary (how fast tasks move, how many run at once, the
credit balance, which https URLs resolve to which local files) lives here so the server code has
no magic numbers. Defaults mimic the real service (5 s ticks) so a demo feels like Runway; tests
pass fractions of a second.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .. import api_surface as api


@dataclass
class SandboxConfig:
    """How the sandbox behaves. Every field can be changed at runtime via ``/_sandbox/config``."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port (the real one is Sandbox.base_url)
    # Visible task state changes only on ticks (Runway: "no more often than every 5 s").
    tick_seconds: float = api.TASK_UPDATE_CADENCE_SECONDS
    # How long a task stays RUNNING before it may succeed (the preview must also be rendered).
    task_seconds: float = 20.0
    credit_balance: int = 10_000
    max_concurrent_generations: int | None = 2
    max_daily_generations: int | None = 200
    max_monthly_credit_spend: int = 100_000
    output_token_ttl_seconds: float = api.OUTPUT_URL_TTL_SECONDS
    upload_ttl_seconds: float = api.UPLOAD_URI_TTL_SECONDS
    # https URL -> local file. The sandbox never goes to the network; other URLs fail to fetch.
    url_map: dict[str, str] = field(default_factory=dict)
    # Any well-formed key is accepted; set to require one exact key.
    required_api_key: str | None = None
    # Where uploads and outputs live; None: a temporary directory removed on stop.
    data_dir: str | None = None
    # Status for a missing/wrong X-Runway-Version (Runway's real answer is undocumented).
    version_error_status: int = 400
    # Concurrent preview renders (the machine has few cores; renders queue behind each other).
    render_workers: int = 1
    # Outputs served at most this fast (bytes/s per download), like a CDN link; None: loopback.
    output_bytes_per_second: float | None = None

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def update(self, values: dict[str, Any]) -> None:
        """Apply a partial update, refusing unknown keys (a typo must not be silently ignored)."""
        unknown = set(values) - self.field_names()
        if unknown:
            raise ValueError(f"unknown sandbox config keys: {', '.join(sorted(unknown))}")
        for key, value in values.items():
            setattr(self, key, _coerce(key, value))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FLOATS = {"tick_seconds", "task_seconds", "output_token_ttl_seconds", "upload_ttl_seconds"}
_INTS = {"port", "credit_balance", "max_monthly_credit_spend", "version_error_status"}
_OPT_INTS = {"max_concurrent_generations", "max_daily_generations"}


def _coerce(key: str, value: Any) -> Any:
    """Type-check one config value so a bad file fails at load, not mid-request."""
    if key in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{key} must be a non-negative number")
        return float(value)
    if key in _INTS or key == "render_workers":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{key} must be an integer")
        if key == "render_workers" and value < 1:
            raise ValueError("render_workers must be at least 1")
        return value
    if key in _OPT_INTS:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{key} must be a non-negative integer or null")
        return value
    if key == "output_bytes_per_second":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError(f"{key} must be a positive number or null")
        return float(value)
    if key == "url_map":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError("url_map must map URL strings to file paths")
        return dict(value)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def load_file(path: str | Path) -> dict[str, Any]:
    """Read a JSON or TOML file (by extension; JSON otherwise) into a dict."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    data: Any = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{p}: the top level must be an object")
    return data


def load_config(path: str | Path, base: SandboxConfig | None = None) -> SandboxConfig:
    """A config file: SandboxConfig fields, plus an optional ``faults`` list (read elsewhere)."""
    data = load_file(path)
    data.pop("faults", None)
    config = base or SandboxConfig()
    config.update(data)
    return config

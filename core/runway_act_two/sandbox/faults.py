"""Scripted misbehaviour: the failures a money-safe client must survive, on demand.

A fault is a rule "for the next N requests to endpoint E, do X". Rules come from a faults file,
CLI flags, ``POST /_sandbox/faults`` or ``Sandbox.faults.add(...)``; they are consumed in order,
so a test can say "two 503s then a dropped connection" and count exactly what the client did.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import api_surface as api

# Canonical endpoint names (also the request-log names and the counters' keys).
ENDPOINTS = (
    "create",
    "task_get",
    "task_delete",
    "uploads",
    "upload_target",
    "organization",
    "usage",
    "output",
)
ALIASES = {
    "poll": "task_get",
    "get": "task_get",
    "delete": "task_delete",
    "upload": "upload_target",
    "upload_create": "uploads",
    "download": "output",
    "character_performance": "create",
}
ACTIONS = (
    "status",  # answer with ``status`` (+ headers/body) instead of the real response
    "delay",  # only wait ``delay`` seconds, then answer normally
    "drop_before",  # close the connection without an answer, before doing anything
    "drop_after",  # do the work (e.g. create the task), then close without an answer
    "drop_receiving",  # read only ``after_bytes`` of the request body, then close (a proxy
    # hanging up mid-upload: the server never has the whole request)
    "truncate",  # output/upload target: send Content-Length, then close after ``after_bytes``
    "expire_token",  # output: answer 403 as if the URL's token had expired
    "fail_task",  # the next ``count`` created tasks end FAILED with failure_code/failure
)


def canonical_endpoint(name: str) -> str:
    """Map an alias (``poll``, ``delete``) to its canonical endpoint name; ``*`` stays."""
    name = ALIASES.get(name, name)
    if name != "*" and name not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {name!r}; use one of {', '.join(ENDPOINTS)} or *")
    return name


@dataclass
class Fault:
    """One scripted misbehaviour, applied to the next ``count`` matching requests."""

    endpoint: str = "*"
    action: str = "status"
    count: int = 1
    status: int = 503
    # Extra headers, and the usual retry hints as shortcuts.
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | str | None = None  # Retry-After (seconds or an HTTP date)
    retry_after_ms: float | None = None  # retry-after-ms
    should_retry: bool | None = None  # x-should-retry: true|false
    # Body: ``json`` (any JSON value), ``body`` (raw text, e.g. malformed JSON), or a huge body.
    json: Any = None
    body: str | None = None
    huge_body_bytes: int | None = None
    # For ``status`` on create: "before" (no task) or "after" (the task exists; answer replaced).
    when: str = "before"
    delay: float = 0.0  # seconds to wait before the action (any action)
    after_bytes: int = 0  # truncate: bytes sent before the connection is closed
    failure_code: str | None = "INTERNAL.BAD_OUTPUT.CODE01"  # fail_task; None: no failureCode
    failure: str = "The sandbox was told to fail this task."

    def __post_init__(self) -> None:
        self.endpoint = canonical_endpoint(self.endpoint)
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; use one of {ACTIONS}")
        if self.when not in ("before", "after"):
            raise ValueError("when must be 'before' or 'after'")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.action == "fail_task":
            self.endpoint = "create"
        if self.action == "drop_receiving" and self.endpoint in ("upload_target", "output"):
            raise ValueError("drop_receiving applies to JSON API endpoints only")
        if self.action in ("truncate", "expire_token"):
            if self.endpoint not in ("*", "output"):
                raise ValueError(f"{self.action} applies to the output endpoint only")
            self.endpoint = "output"
        if not (100 <= self.status <= 599):
            raise ValueError("status must be an HTTP status code")

    def response_headers(self) -> dict[str, str]:
        out = dict(self.headers)
        if self.retry_after is not None:
            ra = self.retry_after
            out[api.RETRY_AFTER_HEADER] = f"{ra:g}" if isinstance(ra, int | float) else str(ra)
        if self.retry_after_ms is not None:
            out[api.RETRY_AFTER_MS_HEADER] = f"{self.retry_after_ms:g}"
        if self.should_retry is not None:
            out["x-should-retry"] = "true" if self.should_retry else "false"
        return out

    def response_body(self) -> tuple[bytes, str]:
        """The body bytes and content type for a ``status`` fault."""
        import json as _json

        if self.huge_body_bytes is not None:
            filler = "x" * max(0, self.huge_body_bytes - 13)  # exactly that many bytes
            return _json.dumps({"error": filler}).encode(), "application/json"
        if self.body is not None:
            return self.body.encode("utf-8"), "application/json"
        if self.json is not None:
            return _json.dumps(self.json).encode(), "application/json"
        return _json.dumps({"error": f"Sandbox fault: HTTP {self.status}"}).encode(), (
            "application/json"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_faults(data: Any) -> list[Fault]:
    """Accept a list of fault objects, or ``{"faults": [...]}``, or a single fault object."""
    if isinstance(data, dict) and "faults" in data:
        data = data["faults"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ValueError("faults must be a list of objects")
    known = set(Fault.__dataclass_fields__)
    out: list[Fault] = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"fault #{i} must be an object")
        unknown = set(item) - known
        if unknown:
            raise ValueError(f"fault #{i}: unknown keys {', '.join(sorted(unknown))}")
        try:
            out.append(Fault(**item))
        except TypeError as exc:
            raise ValueError(f"fault #{i}: {exc}") from None
    return out


#: Actions applied at their own moment (task creation, body reading), not with the answer.
_TAKEN_APART = ("fail_task", "drop_receiving")


class FaultBook:
    """The queue of pending faults, consumed in order by matching requests (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, *faults: Fault | dict[str, Any], **one: Any) -> list[Fault]:
        """Add faults (objects or dicts); ``add(endpoint="create", status=503)`` adds one."""
        items: list[Fault] = []
        for f in faults:
            items.extend([f] if isinstance(f, Fault) else parse_faults(f))
        if one:
            items.extend(parse_faults(one))
        with self._lock:
            self._faults.extend(items)
        return items

    def take(self, endpoint: str, *, actions: tuple[str, ...] | None = None) -> Fault | None:
        """Consume one use of the first fault matching ``endpoint`` (and one of ``actions``)."""
        with self._lock:
            for f in self._faults:
                if f.endpoint not in ("*", endpoint):
                    continue
                if actions is not None and f.action not in actions:
                    continue
                if actions is None and f.action in _TAKEN_APART:
                    continue
                f.count -= 1
                if f.count <= 0:
                    self._faults.remove(f)
                return Fault(**{**asdict(f), "count": 1})
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

"""Tolerant parsing of Runway's task, create and organization JSON into small dataclasses.

The server is trusted for money, not for shape: a field that is missing, of the wrong type, NaN,
huge or nested where a scalar belongs must never crash a host (a Blender session, a ComfyUI
queue). Everything here either returns a well-typed object or raises ``ResponseFormatError``;
the only facts we insist on are the ones we cannot work without (a task's id and status).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from . import api_surface as api
from .errors import ResponseFormatError

#: Task ids are UUIDs; we accept any short, URL-safe id so a format change does not strand a job,
#: but never something that could change the request path.
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_MAX_STR = 2000
_MAX_OUTPUTS = 16


def _num(value: Any) -> float | None:
    """A finite JSON number, else None (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        f = float(value)
    except (OverflowError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _str(value: Any, limit: int = _MAX_STR) -> str | None:
    if not isinstance(value, str):
        return None
    return value if len(value) <= limit else value[:limit]


def _credits(obj: Any) -> float | None:
    if isinstance(obj, dict):
        return _num(obj.get("credits"))
    return None


def safe_task_id(value: Any) -> str:
    """Validate a task id before it is put into a URL path."""
    if not isinstance(value, str) or not _SAFE_ID.match(value):
        raise ResponseFormatError("the server returned a task id that is not a valid id")
    return value


@dataclass(frozen=True)
class Task:
    """A task as last seen on the server."""

    id: str
    status: str
    created_at: str | None = None
    progress: float | None = None
    output: list[str] = field(default_factory=list)
    failure: str | None = None
    failure_code: str | None = None
    estimated_credits: float | None = None
    cost_credits: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        return self.status in api.TERMINAL_STATUSES

    @property
    def is_live(self) -> bool:
        return not self.is_terminal

    @property
    def failure_retryable(self) -> bool:
        """Whether the same request may work later (SAFETY.* and ASSET.* never will)."""
        code = self.failure_code or ""
        if any(code.startswith(p) for p in api.NO_RETRY_FAILURE_PREFIXES):
            return False
        return any(code.startswith(p) for p in api.RETRYABLE_FAILURE_PREFIXES)


def parse_task(obj: Any) -> Task:
    """A ``GET /v1/tasks/{id}`` body as a Task; raises ResponseFormatError, nothing else."""
    try:
        return _parse_task(obj)
    except ResponseFormatError:
        raise
    except Exception as exc:  # defensive: no shape of JSON may crash a host
        raise ResponseFormatError(f"unreadable task object ({type(exc).__name__})") from None


def _parse_task(obj: Any) -> Task:
    if not isinstance(obj, dict):
        raise ResponseFormatError("the task answer is not a JSON object")
    task_id = safe_task_id(obj.get("id"))
    status_raw = obj.get("status")
    if not isinstance(status_raw, str) or not status_raw.strip():
        raise ResponseFormatError(f"task {task_id} has no status")
    status = status_raw.strip().upper()[:40]
    progress = _num(obj.get("progress"))
    if progress is not None:
        progress = min(1.0, max(0.0, progress))
    outputs: list[str] = []
    raw_out = obj.get("output")
    if isinstance(raw_out, list):
        for item in raw_out[:_MAX_OUTPUTS]:
            s = _str(item, 16_384)
            if s and s.lower().startswith(("https://", "http://")):
                outputs.append(s)
    failure = _str(obj.get("failure"))
    if failure is None and isinstance(obj.get("failure"), dict):  # seen in broken clones
        failure = _str(obj["failure"].get("message")) or _str(obj["failure"].get("reason"))
    failure_code = _str(obj.get("failureCode"), 200)
    return Task(
        id=task_id,
        status=status,
        created_at=_str(obj.get("createdAt"), 64),
        progress=progress,
        output=outputs,
        failure=failure,
        failure_code=failure_code,
        estimated_credits=_credits(obj.get("estimatedCost")),
        cost_credits=_credits(obj.get("cost")),
        raw=obj,
    )


@dataclass(frozen=True)
class Created:
    """The create answer: ``{"id", "estimatedCost": {"credits"}}``."""

    task_id: str
    estimated_credits: float | None


def parse_created(obj: Any) -> Created:
    if not isinstance(obj, dict):
        raise ResponseFormatError("the create answer is not a JSON object")
    return Created(
        task_id=safe_task_id(obj.get("id")), estimated_credits=_credits(obj.get("estimatedCost"))
    )


@dataclass(frozen=True)
class Organization:
    """``GET /v1/organization`` reduced to what a user asks: balance, limits, today's usage."""

    credit_balance: float | None
    max_monthly_credit_spend: float | None
    max_concurrent_generations: int | None  # None: unlimited (or not reported)
    max_daily_generations: int | None
    daily_generations: int | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def balance_usd(self) -> float | None:
        if self.credit_balance is None:
            return None
        return self.credit_balance * api.USD_PER_CREDIT


def _int(value: Any) -> int | None:
    n = _num(value)
    if n is None or abs(n) > 2**53:
        return None
    return int(n)


def parse_organization(obj: Any, model: str = api.MODEL) -> Organization:
    """Tolerant: every missing piece is None."""
    if not isinstance(obj, dict):
        raise ResponseFormatError("the organization answer is not a JSON object")
    tier = obj.get("tier") if isinstance(obj.get("tier"), dict) else {}
    assert isinstance(tier, dict)
    models = tier.get("models") if isinstance(tier.get("models"), dict) else {}
    assert isinstance(models, dict)
    limits = models.get(model) if isinstance(models.get(model), dict) else {}
    assert isinstance(limits, dict)
    usage = obj.get("usage") if isinstance(obj.get("usage"), dict) else {}
    assert isinstance(usage, dict)
    used_models = usage.get("models") if isinstance(usage.get("models"), dict) else {}
    assert isinstance(used_models, dict)
    used = used_models.get(model) if isinstance(used_models.get(model), dict) else {}
    assert isinstance(used, dict)
    return Organization(
        credit_balance=_num(obj.get("creditBalance")),
        max_monthly_credit_spend=_num(tier.get("maxMonthlyCreditSpend")),
        max_concurrent_generations=_int(limits.get("maxConcurrentGenerations")),
        max_daily_generations=_int(limits.get("maxDailyGenerations")),
        daily_generations=_int(used.get("dailyGenerations")),
        raw=obj,
    )

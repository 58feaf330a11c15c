"""Raw-HTTP helpers that validate every task object the sandbox emits against the exact
per-status field sets of Runway's OpenAPI schema (each variant has additionalProperties: false)."""

from __future__ import annotations

import re
import time
from typing import Any

import requests
from runway_act_two import api_surface as api
from runway_act_two.sandbox import Sandbox

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

# status -> (required keys, optional keys)
TASK_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "PENDING": ({"id", "createdAt", "status", "estimatedCost"}, set()),
    "THROTTLED": ({"id", "createdAt", "status", "estimatedCost"}, set()),
    "RUNNING": ({"id", "createdAt", "status", "progress", "estimatedCost"}, set()),
    "SUCCEEDED": ({"id", "createdAt", "status", "output", "cost"}, set()),
    "FAILED": ({"id", "createdAt", "status", "failure", "cost"}, {"failureCode"}),
    "CANCELLED": ({"id", "createdAt", "status", "cost"}, set()),
}


def headers(sb: Sandbox, **extra: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {sb.api_key}",
        api.VERSION_HEADER: api.API_VERSION,
        **extra,
    }


def check_task_shape(obj: Any) -> None:
    """Fail unless ``obj`` is exactly one of the documented task variants."""
    assert isinstance(obj, dict), obj
    status = obj.get("status")
    assert status in TASK_FIELDS, obj
    required, optional = TASK_FIELDS[status]
    keys = set(obj)
    assert required <= keys, f"missing {required - keys} in {obj}"
    assert keys <= required | optional, f"extra {keys - required - optional} in {obj}"
    assert api.TASK_ID_PATTERN.match(obj["id"])
    assert ISO_Z.match(obj["createdAt"]), obj["createdAt"]
    if "estimatedCost" in obj:
        assert set(obj["estimatedCost"]) == {"credits"}
        assert isinstance(obj["estimatedCost"]["credits"], int | float)
    if "cost" in obj:
        assert set(obj["cost"]) == {"credits"}
        assert type(obj["cost"]["credits"]) is int
    if status == "RUNNING":
        assert isinstance(obj["progress"], int | float) and 0 <= obj["progress"] <= 1
    if status == "SUCCEEDED":
        assert isinstance(obj["output"], list) and obj["output"]
        assert all(isinstance(u, str) for u in obj["output"])
    if status == "FAILED":
        assert isinstance(obj["failure"], str)
        if "failureCode" in obj:
            assert isinstance(obj["failureCode"], str)


def get_task(sb: Sandbox, task_id: str) -> requests.Response:
    r = requests.get(f"{sb.base_url}/v1/tasks/{task_id}", headers=headers(sb), timeout=30)
    assert r.headers["Content-Type"].startswith("application/json")
    if r.status_code == 200:
        check_task_shape(r.json())
    return r


def wait_for(
    sb: Sandbox, task_id: str, statuses: set[str], timeout: float = 60.0
) -> tuple[dict[str, Any], list[str]]:
    """Poll (shape-checking each answer) until the status is in ``statuses``; returns the task
    and the sequence of distinct statuses seen."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        r = get_task(sb, task_id)
        assert r.status_code == 200, r.text
        task: dict[str, Any] = r.json()
        if not seen or seen[-1] != task["status"]:
            seen.append(task["status"])
        if task["status"] in statuses:
            return task, seen
        assert time.monotonic() < deadline, f"task stuck in {seen}"
        time.sleep(0.02)


def create(sb: Sandbox, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{sb.base_url}{api.PATH_CHARACTER_PERFORMANCE}", json=body, headers=headers(sb), timeout=60
    )

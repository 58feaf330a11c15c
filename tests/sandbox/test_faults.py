"""Every fault kind, driven through the control API, the Python object and the official SDK."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from runway_act_two import api_surface as api
from runway_act_two.sandbox import Sandbox

from .helpers import create, headers, wait_for

KW = ("model", "character", "reference")


def _sdk(sb: Sandbox, **kw: Any) -> Any:
    import runwayml

    return runwayml.RunwayML(api_key=sb.api_key, base_url=sb.base_url, **kw)


def test_status_burst_with_retry_after_ms_is_retried_by_sdk(
    sb: Sandbox, body: dict[str, Any]
) -> None:
    sb.faults.add(endpoint="create", status=503, count=2, retry_after_ms=10)
    with _sdk(sb, max_retries=2) as c:
        created = c.character_performance.create(**{k: body[k] for k in KW})
    log = sb.requests("create")
    assert [e["status"] for e in log] == [503, 503, 200]
    assert [e["retry_count"] for e in log] == ["0", "1", "2"]
    assert [e["fault"] for e in log] == ["status", "status", None]
    assert len({e["body_sha256"] for e in log}) == 1  # the SDK re-sent the same body
    assert [t["id"] for t in sb.tasks()] == [created.id]


def test_fault_headers_and_bodies(sb: Sandbox) -> None:
    h = headers(sb)
    url = f"{sb.base_url}{api.PATH_ORGANIZATION}"
    sb.faults.add(
        endpoint="organization",
        status=429,
        retry_after=2,
        retry_after_ms=1500,
        should_retry=False,
        headers={"X-Extra": "1"},
    )
    r = requests.get(url, headers=h, timeout=10)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "2" and r.headers["retry-after-ms"] == "1500"
    assert r.headers["x-should-retry"] == "false" and r.headers["X-Extra"] == "1"
    assert set(r.json()) == {"error"}
    sb.faults.add(endpoint="organization", status=200, body='{"creditBalance": ')
    r = requests.get(url, headers=h, timeout=10)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()
    sb.faults.add(endpoint="organization", status=200, json={"creditBalance": "lots"})
    assert requests.get(url, headers=h, timeout=10).json() == {"creditBalance": "lots"}
    sb.faults.add(endpoint="organization", status=500, huge_body_bytes=5_000_000)
    r = requests.get(url, headers=h, timeout=30)
    assert r.status_code == 500 and len(r.content) == 5_000_000
    assert requests.get(url, headers=h, timeout=10).status_code == 200  # faults are used up


def test_should_retry_false_stops_sdk_retries(sb: Sandbox, body: dict[str, Any]) -> None:
    import runwayml

    sb.faults.add(endpoint="create", status=503, count=3, should_retry=False)
    with _sdk(sb, max_retries=2) as c, pytest.raises(runwayml.InternalServerError):
        c.character_performance.create(**{k: body[k] for k in KW})
    assert sb.count("create") == 1 and sb.tasks() == []


def test_delay_makes_the_sdk_time_out(sb: Sandbox) -> None:
    import runwayml

    sb.faults.add(endpoint="organization", action="delay", delay=3.0)
    with _sdk(sb, max_retries=0, timeout=0.3) as c, pytest.raises(runwayml.APITimeoutError):
        c.organization.retrieve()
    with _sdk(sb, max_retries=0) as c:
        assert c.organization.retrieve().credit_balance == sb.config.credit_balance


def test_drop_before_create_makes_no_task(sb: Sandbox, body: dict[str, Any]) -> None:
    import runwayml

    sb.faults.add(endpoint="create", action="drop_before")
    with _sdk(sb, max_retries=0) as c, pytest.raises(runwayml.APIConnectionError):
        c.character_performance.create(**{k: body[k] for k in KW})
    assert sb.count("create") == 1 and sb.tasks() == []
    assert sb.requests("create")[0]["status"] is None
    assert sb.credit_balance == sb.config.credit_balance


def test_drop_after_create_leaves_a_paid_task_and_sdk_retry_duplicates_it(
    sb: Sandbox, body: dict[str, Any]
) -> None:
    import runwayml

    sb.faults.add(endpoint="create", action="drop_after")
    with _sdk(sb, max_retries=0) as c, pytest.raises(runwayml.APIConnectionError):
        c.character_performance.create(**{k: body[k] for k in KW})
    (task,) = sb.tasks()
    assert (
        task["status"] in ("PENDING", "RUNNING")
        and sb.credit_balance == sb.config.credit_balance - 20
    )
    sb.faults.add(endpoint="create", action="drop_after")
    with _sdk(sb, max_retries=1) as c:  # the official SDK retries the POST: a duplicate task
        c.character_performance.create(**{k: body[k] for k in KW})
    assert len(sb.tasks()) == 3 and sb.count("create") == 3


def test_status_after_create(sb: Sandbox, body: dict[str, Any]) -> None:
    sb.faults.add(endpoint="create", status=504, when="after")
    r = create(sb, body)
    assert r.status_code == 504
    (task,) = sb.tasks()
    assert sb.requests("create")[0]["task_id"] == task["id"]


def test_fault_on_poll_and_delete(sb: Sandbox, body: dict[str, Any]) -> None:
    task_id = create(sb, body).json()["id"]
    sb.faults.add(endpoint="poll", status=502, count=2)
    sb.faults.add(endpoint="delete", status=500)
    h = headers(sb)
    url = f"{sb.base_url}/v1/tasks/{task_id}"
    assert [requests.get(url, headers=h, timeout=10).status_code for _ in range(3)] == [
        502,
        502,
        200,
    ]
    assert requests.delete(url, headers=h, timeout=10).status_code == 500
    assert requests.delete(url, headers=h, timeout=10).status_code == 204
    assert sb.count("poll") == 3 and sb.count("delete") == 2


def test_upload_faults(sb: Sandbox, ref_audio: Path) -> None:
    import runwayml

    sb.faults.add(endpoint="upload_target", status=500)
    with _sdk(sb, max_retries=0) as c:
        with pytest.raises(runwayml.APIStatusError, match="Upload failed with status 500"):
            c.uploads.create_ephemeral(file=ref_audio)
        sb.faults.add(endpoint="uploads", status=429, retry_after_ms=5)
        with pytest.raises(runwayml.RateLimitError):
            c.uploads.create_ephemeral(file=ref_audio)
        assert c.uploads.create_ephemeral(file=ref_audio).uri.startswith("runway://")
    assert sb.count("uploads") == 3 and sb.count("upload_target") == 2


def test_truncated_and_expired_downloads(sb: Sandbox, body: dict[str, Any]) -> None:
    task_id = create(sb, body).json()["id"]
    task, _ = wait_for(sb, task_id, {"SUCCEEDED"})
    url = task["output"][0]
    size = int(requests.head(url, timeout=10).headers["Content-Length"])
    sb.faults.add(endpoint="output", action="truncate", after_bytes=1000)
    with requests.get(url, stream=True, timeout=10) as r:
        assert r.status_code == 200 and int(r.headers["Content-Length"]) == size
        got = b""
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            for chunk in r.iter_content(100):
                got += chunk
    assert len(got) == 1000
    sb.faults.add(endpoint="output", action="expire_token")
    r = requests.get(url, timeout=10)
    assert r.status_code == 403 and "expired" in r.json()["error"]
    assert len(requests.get(url, timeout=10).content) == size


def test_faults_via_control_endpoint_and_log_redaction(sb: Sandbox, body: dict[str, Any]) -> None:
    faults = [
        {"endpoint": "create", "status": 429, "retry_after": 1},
        {"endpoint": "poll", "action": "delay", "delay": 0.01, "count": 2},
    ]
    r = requests.post(f"{sb.base_url}/_sandbox/faults", json={"faults": faults}, timeout=10)
    assert r.status_code == 200 and len(r.json()["faults"]) == 2
    r = requests.post(f"{sb.base_url}/_sandbox/faults", json={"endpoint": "nope"}, timeout=10)
    assert r.status_code == 400
    assert create(sb, body).status_code == 429
    assert requests.delete(f"{sb.base_url}/_sandbox/faults", timeout=10).json() == {"faults": []}
    log = requests.get(f"{sb.base_url}/_sandbox/log", timeout=10).json()
    assert log["counts"]["create"] == 1
    text = json.dumps(log)
    assert sb.api_key not in text and sb.api_key[4:20] not in text
    assert log["requests"][0]["authorization"] == "Bearer …redacted"
    r = requests.post(f"{sb.base_url}/_sandbox/reset", timeout=10)
    assert r.status_code == 200 and sb.requests() == []


def test_control_config(sb: Sandbox) -> None:
    r = requests.post(f"{sb.base_url}/_sandbox/config", json={"credit_balance": 77}, timeout=10)
    assert r.status_code == 200 and r.json()["credit_balance"] == 77
    assert sb.credit_balance == 77
    r = requests.post(f"{sb.base_url}/_sandbox/config", json={"tick": 1}, timeout=10)
    assert r.status_code == 400 and "unknown" in r.json()["error"]
    r = requests.post(f"{sb.base_url}/_sandbox/config", json={"task_seconds": "x"}, timeout=10)
    assert r.status_code == 400


def test_fault_validation() -> None:
    from runway_act_two.sandbox.faults import parse_faults

    for bad in (
        {"endpoint": "nope"},
        {"action": "explode"},
        {"count": 0},
        {"status": 99},
        {"when": "later"},
        {"endpoint": "create", "action": "truncate"},
        {"colour": "red"},
        [1],
    ):
        with pytest.raises(ValueError):
            parse_faults(bad)
    (f,) = parse_faults({"endpoint": "poll", "action": "fail_task"})
    assert f.endpoint == "create"
    (g,) = parse_faults({"action": "expire_token"})
    assert g.endpoint == "output"

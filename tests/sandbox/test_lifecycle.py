"""Start/stop: loopback only, clean shutdown, temp files gone, reset forgets everything."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from runway_act_two.sandbox import Sandbox, SandboxConfig

from .conftest import data_uri
from .helpers import create, headers, wait_for


def test_stop_releases_port_and_temp_dir(body: dict[str, Any]) -> None:
    sb = Sandbox(SandboxConfig(tick_seconds=0.05, task_seconds=0.2))
    with sb:
        port = int(sb.base_url.rsplit(":", 1)[1])
        data_dir = sb.data_dir
        task_id = create(sb, body).json()["id"]
        wait_for(sb, task_id, {"SUCCEEDED"})
        assert data_dir.is_dir()
        assert list((data_dir / "inputs").iterdir()) == []  # decoded data URIs are removed
        assert "key_" not in repr(sb) and sb.api_key not in repr(sb)
    assert not data_dir.exists()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    sb.stop()  # idempotent


def test_loopback_only() -> None:
    with pytest.raises(ValueError):
        Sandbox(SandboxConfig(host="0.0.0.0")).start()


def test_stop_while_a_request_is_delayed(body: dict[str, Any]) -> None:
    """A fault delay must not hold the shutdown (the delay wakes on stop)."""
    import threading

    sb = Sandbox(SandboxConfig(tick_seconds=0.05)).start()
    sb.faults.add(endpoint="organization", action="delay", delay=600)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            requests.get(f"{sb.base_url}/v1/organization", headers=headers(sb), timeout=30)
        except requests.RequestException as exc:
            errors.append(exc)

    t = threading.Thread(target=call)
    t.start()
    deadline = time.monotonic() + 30
    while sb.faults.pending() and time.monotonic() < deadline:  # the request took the fault
        time.sleep(0.01)
    assert not sb.faults.pending()
    sb.stop()
    t.join(timeout=60)
    assert not t.is_alive()


def test_reset(sb: Sandbox, body: dict[str, Any], ref_webm: Path) -> None:
    webm = {**body, "reference": {"type": "video", "uri": data_uri(ref_webm, "video/webm")}}
    task_id = create(sb, webm).json()["id"]
    wait_for(sb, task_id, {"SUCCEEDED"})
    sb.faults.add(endpoint="create", status=500)
    assert sb.requests() and sb.tasks() and sb.credit_balance < sb.config.credit_balance
    sb.reset()
    assert sb.requests() == [] and sb.tasks() == [] and sb.faults.pending() == []
    assert sb.credit_balance == sb.config.credit_balance
    assert create(sb, body).status_code == 200

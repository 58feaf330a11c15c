"""Dropped connections: before the request left this machine, and after the server acted on it.

A connection that could not even be opened, or that ended before the last byte of the create
body left, provably created nothing, so the create is retried. Once the body was sent, a silent
drop may hide a created (paid) task: the client must not send the create again, must say so with
SubmitAmbiguousError (exit code 5), and must journal it.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from .conftest import TASK_SECONDS, TICK, run_cli

pytestmark = pytest.mark.family("connection drops")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_nothing_listening_is_a_network_error_not_ambiguous(
    sb: Any, make_request: Any, tmp_path: Path
) -> None:
    from runway_act_two import errors
    from runway_act_two.client import ActTwoClient

    client = ActTwoClient(
        api_key=sb.api_key, base_url=f"http://127.0.0.1:{_free_port()}", data_dir=tmp_path / "data"
    )
    try:
        with pytest.raises(errors.NetworkError) as info:
            client.submit(make_request())
    finally:
        client.close()
    assert not isinstance(info.value, errors.SubmitAmbiguousError)
    assert "Could not reach" in str(info.value)
    assert sb.count("create") == 0


def test_refused_connections_are_retried_until_the_server_is_up(
    make_request: Any, tmp_path: Path
) -> None:
    """The first create attempts hit a closed port; the server comes up; exactly one task."""
    from runway_act_two.client import ActTwoClient
    from runway_act_two.sandbox import Sandbox, SandboxConfig

    port = _free_port()
    late = Sandbox(
        SandboxConfig(
            port=port, tick_seconds=TICK, task_seconds=TASK_SECONDS, max_concurrent_generations=None
        )
    )
    timer = threading.Timer(0.5, late.start)
    client = ActTwoClient(
        api_key=late.api_key, base_url=f"http://127.0.0.1:{port}", data_dir=tmp_path / "data"
    )
    try:
        timer.start()
        result = client.generate(make_request(), tmp_path / "out.mp4")
        assert result.output_path.exists()
        assert late.count("create") == 1
        assert len(late.tasks()) == 1
    finally:
        timer.cancel()
        client.close()
        late.stop()


def test_drop_before_create_is_ambiguous_and_journaled(
    sb: Any, client: Any, make_request: Any
) -> None:
    from runway_act_two import errors

    sb.faults.add(endpoint="create", action="drop_before")
    with pytest.raises(errors.SubmitAmbiguousError):
        client.submit(make_request())
    assert sb.count("create") == 1  # sent once, never again
    assert sb.tasks() == []
    assert [j.state for j in client.jobs()] == ["ambiguous"]


def test_hang_up_while_the_body_is_received_is_retried_and_makes_one_task(
    sb: Any, client: Any, make_request: Any, tmp_path: Path, reference_mp4: Path
) -> None:
    """A proxy hangs up after 64 KB of a ~10 MB create body: the server never had the whole
    request, so the client may (and does) send it again; one task, no ambiguity."""
    import os

    from media_factory import padded_mp4
    from PIL import Image

    png = tmp_path / "noise.png"
    Image.frombytes("RGB", (1100, 1100), os.urandom(1100 * 1100 * 3)).save(png)
    ref = padded_mp4(reference_mp4, tmp_path / "padded.mp4", 3_800_000)
    sb.faults.add(endpoint="create", action="drop_receiving", after_bytes=65536, count=2)
    sub = client.submit(make_request(character=png, reference=ref))
    creates = sb.requests("create")
    assert [e["fault"] for e in creates] == ["drop_receiving", "drop_receiving", None]
    assert [t["id"] for t in sb.tasks()] == [sub.task_id]
    assert [j.state for j in client.jobs()] == ["submitted"]


def test_drop_after_create_exactly_one_task(sb: Any, client: Any, make_request: Any) -> None:
    from runway_act_two import errors

    sb.faults.add(endpoint="create", action="drop_after")
    with pytest.raises(errors.SubmitAmbiguousError) as info:
        client.submit(make_request())
    assert info.value.exit_code == 5
    assert info.value.job_id
    assert sb.count("create") == 1
    assert len(sb.tasks()) == 1
    jobs = client.jobs()
    assert [j.state for j in jobs] == ["ambiguous"]
    assert jobs[0].job_id == info.value.job_id


def test_drop_after_create_from_the_command_line(
    sb: Any, character_png: Path, reference_mp4: Path, tmp_path: Path
) -> None:
    import os

    sb.faults.add(endpoint="create", action="drop_after")
    env = {**os.environ, **sb.env()}
    proc = run_cli(
        [
            "generate",
            "--character",
            str(character_png),
            "--reference",
            str(reference_mp4),
            "--output",
            str(tmp_path / "out.mp4"),
            "--yes",
        ],
        env,
    )
    assert proc.returncode == 5, proc.stderr
    assert "NOT retried" in proc.stderr + proc.stdout
    assert sb.api_key not in proc.stderr + proc.stdout
    jobs = run_cli(["jobs", "--json"], env)
    assert jobs.returncode == 0, jobs.stderr
    rows = json.loads(jobs.stdout)
    assert [r["state"] for r in rows] == ["ambiguous"]
    assert sb.count("create") == 1 and len(sb.tasks()) == 1


def test_dropped_polls_are_tolerated(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    sb.faults.add(endpoint="poll", action="drop_before", count=2)
    result = client.generate(make_request(), tmp_path / "out.mp4")
    assert result.output_path.exists()
    assert [e["fault"] for e in sb.requests("poll")].count("drop_before") == 2
    assert sb.count("create") == 1

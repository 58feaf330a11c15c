"""The API key never appears in logs, the journal, sidecars, exceptions, reprs or CLI output."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from media_factory import make_face_image, make_mp4
from runway_act_two import ActTwoClient, ActTwoRequest, MediaSource
from runway_act_two.cli import main
from runway_act_two.errors import ActTwoError
from runway_act_two.polling import PollConfig


def test_key_never_leaks(
    sandbox: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = sandbox.api_key
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    client = ActTwoClient(
        api_key=key, base_url=sandbox.base_url, data_dir=data, poll=PollConfig(cadence=0.05)
    )
    req = ActTwoRequest(
        character=MediaSource.from_path(make_face_image(tmp_path / "f.png", 96, 96)),
        reference=MediaSource.from_path(make_mp4(tmp_path / "r.mp4", 3.2)),
        seed=3,
    )
    texts: list[str] = [
        repr(client),
        str(client.settings),
        repr(client.transport),
        repr(client.journal),
    ]
    result = client.generate(req, tmp_path / "ok.mp4")
    texts.append(repr(result))
    # A server that echoes the key back in error bodies (hostile or buggy).
    failures: list[BaseException] = []
    for fault in (
        {
            "endpoint": "create",
            "status": 400,
            "json": {
                "error": f"bad key {key}",
                "issues": [{"message": f"Bearer {key}", "path": ["x"], "code": "c"}],
            },
        },
        {"endpoint": "create", "status": 500, "body": f"oops {key}"},
        {"endpoint": "create", "action": "drop_after"},
        {"endpoint": "create", "status": 401, "json": {"error": key}},
    ):
        sandbox.faults.add(**fault)
        with pytest.raises(ActTwoError) as info:
            client.generate(req, tmp_path / "x.mp4")
        failures.append(info.value)
    sandbox.faults.add(action="fail_task", failure=f"failed with {key}")
    with pytest.raises(ActTwoError) as info:
        client.generate(req, tmp_path / "y.mp4")
    failures.append(info.value)
    for exc in failures:
        texts += [str(exc), repr(exc), repr(exc.args)]
    # A key that does not look like a Runway key (whitespace-free but odd) is scrubbed as well.
    odd = "sk-" + "Z" * 40
    bad = ActTwoClient(api_key=odd, base_url=sandbox.base_url, data_dir=data)
    with pytest.raises(ActTwoError) as info:
        bad.organization()
    texts += [str(info.value), repr(bad), repr(bad.settings)]
    # The CLI with the key passed as an option.
    monkeypatch.setenv("ACT_TWO_POLL_CADENCE", "0.05")
    main(["credits", "--api-key", key, "--base-url", sandbox.base_url, "--json"])
    main(["jobs", "--json"])
    cap = capsys.readouterr()
    texts += [cap.out, cap.err, caplog.text]
    for rec in caplog.records:
        texts.append(rec.getMessage())
    # Files: the journal (all its pages, WAL included) and every sidecar.
    blobs = [p.read_bytes() for p in data.rglob("*") if p.is_file()]
    blobs += [p.read_bytes() for p in tmp_path.rglob("*.json")]
    assert blobs
    for text in texts:
        assert key not in text and odd not in text, text[:200]
    for blob in blobs:
        assert key.encode() not in blob and odd.encode() not in blob

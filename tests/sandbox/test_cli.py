"""``act-two sandbox`` (sandbox.main): prints an export line, serves, stops on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from runway_act_two import api_surface as api
from runway_act_two.sandbox.runner import build_parser, config_from_args


def test_main_serves_until_interrupted(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"faults": [{"endpoint": "organization", "status": 503}]}))
    code = "import sys; from runway_act_two.sandbox import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--tick", "0.05", "--balance", "42", "--faults", str(faults)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("RUNWAYML_")},
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("export "):
                break
        m = re.match(
            rf"export {api.ENV_BASE_URL}=(http://127\.0\.0\.1:\d+) "
            rf"{api.ENV_API_KEY}=(key_[0-9a-f]{{128}})$",
            lines[-1].strip(),
        )
        assert m, lines
        base, key = m.groups()
        h = {"Authorization": f"Bearer {key}", api.VERSION_HEADER: api.API_VERSION}
        assert requests.get(f"{base}/v1/organization", headers=h, timeout=10).status_code == 503
        org = requests.get(f"{base}/v1/organization", headers=h, timeout=10).json()
        assert org["creditBalance"] == 42
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_config_file_and_flags(tmp_path: Path) -> None:
    cfg = tmp_path / "sandbox.toml"
    cfg.write_text(
        "task_seconds = 2.5\nmax_concurrent_generations = 1\n"
        '[url_map]\n"https://a.example.com/x.png" = "/tmp/x.png"\n'
        '[[faults]]\nendpoint = "create"\nstatus = 429\ncount = 2\n'
    )
    args = build_parser().parse_args(
        [
            "--config",
            str(cfg),
            "--tick",
            "0.1",
            "--fault",
            '{"endpoint": "poll", "action": "delay", "delay": 1}',
        ]
    )
    config, faults = config_from_args(args)
    assert config.task_seconds == 2.5 and config.tick_seconds == 0.1
    assert config.max_concurrent_generations == 1
    assert config.url_map == {"https://a.example.com/x.png": "/tmp/x.png"}
    assert [(f.endpoint, f.action, f.count) for f in faults] == [  # type: ignore[attr-defined]
        ("create", "status", 2),
        ("task_get", "delay", 1),
    ]
    bad = tmp_path / "bad.json"
    bad.write_text('{"tick_seconds": "fast"}')
    with pytest.raises(ValueError):
        config_from_args(build_parser().parse_args(["--config", str(bad)]))


def test_main_reports_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from runway_act_two.sandbox import main

    bad = tmp_path / "bad.json"
    bad.write_text('{"nonsense": 1}')
    assert main(["--config", str(bad)]) == 2
    assert "unknown sandbox config keys: nonsense" in capsys.readouterr().err

"""Shared fixtures: every test runs with private config/data dirs and no real Runway settings.

The autouse fixture guarantees a developer's real key (``RUNWAYML_API_SECRET``) or config file is
never used by a test, and that journals and results land in tmp dirs. ``sandbox`` is a real
server on 127.0.0.1 with fast ticks; ``client`` is an ``ActTwoClient`` pointed at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

#: Fast sandbox timing for tests: ticks of 50 ms, tasks that run half a second.
TEST_TICK = 0.05
TEST_TASK_SECONDS = 0.5


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path_factory.mktemp("act-two-home")
    monkeypatch.setenv("ACT_TWO_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("ACT_TWO_DATA_DIR", str(base / "data"))
    monkeypatch.delenv("RUNWAYML_API_SECRET", raising=False)
    monkeypatch.delenv("RUNWAYML_BASE_URL", raising=False)
    monkeypatch.delenv("ACT_TWO_POLL_CADENCE", raising=False)


@pytest.fixture
def sandbox() -> Iterator[object]:
    """A running strict sandbox on 127.0.0.1 with fast ticks."""
    from runway_act_two.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(tick_seconds=TEST_TICK, task_seconds=TEST_TASK_SECONDS)) as sb:
        yield sb


@pytest.fixture
def client(sandbox: object, tmp_path: Path) -> Iterator[object]:
    """An ActTwoClient pointed at ``sandbox`` (its journal in a tmp dir)."""
    from runway_act_two import ActTwoClient
    from runway_act_two.polling import PollConfig

    c = ActTwoClient(
        api_key=sandbox.api_key,  # type: ignore[attr-defined]
        base_url=sandbox.base_url,  # type: ignore[attr-defined]
        data_dir=tmp_path / "client-data",
        poll=PollConfig(cadence=TEST_TICK),
    )
    try:
        yield c
    finally:
        c.close()

"""The fault matrix harness: one fast sandbox, a money ledger per case, one summary line per family.

Every case drives the real client over real HTTP against the sandbox's fault injection and then
asks the sandbox what it saw. Besides each case's own assertions, the ledger checks the two things
that cost users money whatever the fault: a create the user made once must exist once on the
server (duplicate creates), and every task the server created must be findable through the local
journal (lost outputs). Those totals are printed at the end of the run and copied to the README.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from media_factory import make_mp4, make_png

from . import _ledger

# Ticks and task durations are tiny so the whole matrix stays well under two minutes.
TICK = 0.05
TASK_SECONDS = 0.3


@dataclass
class FamilyStats:
    cases: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    creates: int = 0
    tasks: int = 0
    duplicates: int = 0
    lost: int = 0
    notes: list[str] = field(default_factory=list)


_FAMILIES: dict[str, FamilyStats] = defaultdict(FamilyStats)
_LEDGER: dict[str, dict[str, int]] = {}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "family(name): the fault-matrix family a case belongs to")


def _family_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("family")
    if marker and marker.args:
        return str(marker.args[0])
    return Path(str(item.fspath)).stem.removeprefix("test_").replace("_", " ")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    outcome = yield
    rep = outcome.get_result()
    if "/faults/" not in str(item.fspath).replace(os.sep, "/"):
        return
    fam = _FAMILIES[_family_of(item)]
    if rep.when == "setup" and rep.skipped:
        fam.cases += 1
        fam.skipped += 1
    elif rep.when == "setup" and rep.failed:
        fam.cases += 1
        fam.failed += 1
    elif rep.when == "call":
        fam.cases += 1
        if rep.passed:
            fam.passed += 1
        elif rep.skipped:
            fam.skipped += 1
        else:
            fam.failed += 1
    elif rep.when == "teardown":
        led = _LEDGER.pop(item.nodeid, None)
        if led:
            fam.creates += led["creates"]
            fam.tasks += led["tasks"]
            fam.duplicates += led["duplicates"]
            fam.lost += led["lost"]
        if rep.failed:  # a ledger violation fails the case in teardown
            fam.failed += 1
            fam.passed = max(0, fam.passed - 1)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FAMILIES:
        return
    tr = terminalreporter
    tr.section("fault matrix")
    width = max(len(n) for n in _FAMILIES)
    tot = FamilyStats()
    for name in sorted(_FAMILIES):
        f = _FAMILIES[name]
        for attr in (
            "cases",
            "passed",
            "failed",
            "skipped",
            "creates",
            "tasks",
            "duplicates",
            "lost",
        ):
            setattr(tot, attr, getattr(tot, attr) + getattr(f, attr))
        tr.write_line(
            f"{name.ljust(width)}  {f.cases:3d} cases  {f.passed:3d} passed  {f.failed:2d} failed"
            f"{f'  {f.skipped} skipped' if f.skipped else ''}  creates seen {f.creates:3d}"
            f"  tasks {f.tasks:3d}  duplicate creates {f.duplicates}  lost outputs {f.lost}"
        )
    tr.write_line(
        f"TOTAL: {tot.cases} cases, {tot.passed} passed, {tot.failed} failed"
        f"{f', {tot.skipped} skipped' if tot.skipped else ''}; {len(_FAMILIES)} families; "
        f"creates seen {tot.creates}, tasks created {tot.tasks}; "
        f"duplicate creates {tot.duplicates}; lost outputs {tot.lost}"
    )


# --- isolation -----------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch a developer's real key, config or journal (tests/conftest.py does the same)."""
    monkeypatch.setenv("ACT_TWO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ACT_TWO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("RUNWAYML_API_SECRET", raising=False)
    monkeypatch.delenv("RUNWAYML_BASE_URL", raising=False)
    # The client's poll scheduler learns the server's tick; tell it this sandbox ticks fast
    # (inherited by the ``act-two`` subprocesses too).
    monkeypatch.setenv("ACT_TWO_POLL_CADENCE", str(TICK))


# --- media ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fault_media")


@pytest.fixture(scope="session")
def character_png(media_dir: Path) -> Path:
    return make_png(media_dir / "character.png", 320, 240)


@pytest.fixture(scope="session")
def reference_mp4(media_dir: Path) -> Path:
    return make_mp4(media_dir / "reference.mp4", 3.5)


# --- the sandbox and the client ------------------------------------------------------------------
#: The config every case starts from (a case may change it through ``sb.configure``).
DEFAULTS: dict[str, Any] = {
    "tick_seconds": TICK,
    "task_seconds": TASK_SECONDS,
    "max_concurrent_generations": None,
    "max_daily_generations": None,
    "credit_balance": 1_000_000,
}


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        from runway_act_two.sandbox import Sandbox, SandboxConfig
    except ImportError as exc:  # pragma: no cover - only while the sandbox is being written
        pytest.skip(f"the sandbox is not importable: {exc}")
    cfg = SandboxConfig(data_dir=str(tmp_path_factory.mktemp("sandbox")), render_workers=2)
    cfg.update(DEFAULTS)
    with Sandbox(cfg) as server:
        yield server


@pytest.fixture
def sb(sandbox_server: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The shared sandbox, reset for this case; afterwards the money ledger is settled."""
    sandbox_server.reset()
    sandbox_server.configure(**DEFAULTS)
    yield sandbox_server
    sandbox_server.faults.clear()
    led = _ledger.settle(sandbox_server, tmp_path / "data")
    _LEDGER[request.node.nodeid] = led
    if led["duplicates"] or led["lost"]:
        pytest.fail(f"money ledger violated: {led}")


@pytest.fixture
def client(sb: Any, tmp_path: Path) -> Iterator[Any]:
    from runway_act_two.client import ActTwoClient

    c = ActTwoClient(api_key=sb.api_key, base_url=sb.base_url, data_dir=tmp_path / "data")
    yield c
    c.close()


@pytest.fixture
def make_request(character_png: Path, reference_mp4: Path) -> Any:
    """``make_request(**options)``: a valid request with the default small media."""
    from runway_act_two import ActTwoRequest, MediaSource

    def make(character: Path | None = None, reference: Path | None = None, **kw: Any) -> Any:
        return ActTwoRequest(
            character=MediaSource.from_path(character or character_png),
            reference=MediaSource.from_path(reference or reference_mp4),
            **kw,
        )

    return make


#: The ``act-two`` command, run the way an installed console script runs it.
ACT_TWO = [
    sys.executable,
    "-c",
    "import sys; from runway_act_two.cli import main; sys.exit(main())",
]


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120) -> Any:
    import subprocess

    return subprocess.run(
        [*ACT_TWO, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def wait_until(cond: Any, timeout: float = 60.0, what: str = "condition") -> None:
    """Poll ``cond`` until true (for the server side of a request the client gave up on)."""
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout:g} s")
        time.sleep(0.02)

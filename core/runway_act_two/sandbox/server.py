"""``Sandbox``: the sandbox server in this process, as a context manager.

Tests and the main command start it in-process (``with Sandbox(config) as sb``), point a client at
``sb.base_url`` with ``sb.api_key``, script faults with ``sb.faults`` and read what happened with
``sb.requests()``, ``sb.count()`` and ``sb.tasks()``. ``runner.main`` runs it in the foreground.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from .. import api_surface as api
from .config import SandboxConfig
from .faults import FaultBook
from .routes import Handler, SandboxHTTPServer
from .state import SandboxState


def new_api_key() -> str:
    """A well-formed key (``key_`` + 128 hex) the sandbox accepts."""
    return "key_" + secrets.token_hex(64)


class Sandbox:
    """The sandbox server in this process; a context manager that starts and stops it cleanly."""

    def __init__(self, config: SandboxConfig | None = None, *, api_key: str | None = None) -> None:
        self.config = config or SandboxConfig()
        self.api_key = api_key or self.config.required_api_key or new_api_key()
        self._tmp: str | None = None
        self._server: SandboxHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        if self.config.data_dir:
            data_dir = Path(self.config.data_dir)
        else:
            self._tmp = tempfile.mkdtemp(prefix="act-two-sandbox-")
            data_dir = Path(self._tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        self.state = SandboxState(self.config, data_dir)

    def __repr__(self) -> str:
        return f"Sandbox(base_url={self.state.base_url!r})"

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        if self.config.host not in ("127.0.0.1", "localhost"):
            raise ValueError("the sandbox only serves on the loopback interface (127.0.0.1)")
        server = SandboxHTTPServer(("127.0.0.1", self.config.port), Handler)
        server.state = self.state
        server.stop_event = self._stop
        self._server = server
        port = server.server_address[1]
        self.state.base_url = f"http://127.0.0.1:{port}"
        serve = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sandbox-http",
            daemon=True,
        )
        ticker = threading.Thread(target=self._tick_loop, name="sandbox-tick", daemon=True)
        self._threads = [serve, ticker]
        for t in self._threads:
            t.start()
        return self

    def _tick_loop(self) -> None:
        while not self._stop.wait(max(0.005, self.config.tick_seconds)):
            self.state.tasks.tick()

    def stop(self) -> None:
        """Stop serving, finish renders in flight, remove the temp data dir. Idempotent."""
        if self._server is not None:
            self._stop.set()
            self._server.shutdown()
            self._server.server_close()
            for t in self._threads:
                t.join(timeout=10)
            self._server = None
        self.state.tasks.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests use -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.state.base_url

    @property
    def faults(self) -> FaultBook:
        return self.state.faults

    @property
    def data_dir(self) -> Path:
        return self.state.data_dir

    def env(self) -> dict[str, str]:
        """Environment variables that point a client (ours or the official SDK) here."""
        return {api.ENV_BASE_URL: self.base_url, api.ENV_API_KEY: self.api_key}

    def requests(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        """The request log (key redacted), optionally only one endpoint's entries."""
        from .faults import canonical_endpoint

        log = self.state.log()
        if endpoint is None:
            return log
        name = canonical_endpoint(endpoint)
        return [e for e in log if e["endpoint"] == name]

    def count(self, endpoint: str) -> int:
        """How many requests hit ``endpoint`` (create, poll/task_get, delete, uploads, ...)."""
        from .faults import canonical_endpoint

        return self.state.counts().get(canonical_endpoint(endpoint), 0)

    def task_info(self, task_id: str) -> dict[str, Any] | None:
        """One task as the control API shows it (history, succeededAt, render facts)."""
        found = self.state.tasks.internal(task_id)
        return found[0] if found else None

    def tasks(self) -> list[dict[str, Any]]:
        """Every task created since the last reset, deleted ones included."""
        return self.state.tasks.internal()

    def configure(self, **values: Any) -> None:
        """Change config at runtime (same keys as SandboxConfig)."""
        self.config.update(values)
        if "credit_balance" in values:
            self.state.account.set_balance(self.config.credit_balance)

    @property
    def credit_balance(self) -> int:
        return self.state.account.balance

    def reset(self) -> None:
        self.state.reset()

    def wait_renders(self, timeout: float | None = 120) -> None:
        self.state.tasks.wait_renders(timeout)

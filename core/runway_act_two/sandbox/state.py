"""Everything the request handlers share: config, stores, faults, output tokens, the log.

One object per sandbox, so the HTTP layer stays a thin translation of requests into calls here
and tests can read the same state (log, counters, tasks) the server writes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .config import SandboxConfig
from .faults import FaultBook
from .org import Account
from .tasks import TaskRecord, TaskStore
from .uploads import UploadStore

OUTPUT_PREFIX = "/_outputs/"
MAX_LOG_ENTRIES = 100_000


class SandboxState:
    """Everything the request handlers share: config, stores, faults, the log."""

    def __init__(self, config: SandboxConfig, data_dir: Path) -> None:
        from .preview import render_task

        self.config = config
        self.data_dir = data_dir
        self.base_url = ""
        self.faults = FaultBook()
        self.account = Account(config)
        self.uploads = UploadStore(data_dir / "uploads")
        self.inputs_dir = data_dir / "inputs"
        self.inputs_dir.mkdir(parents=True, exist_ok=True)
        self.tasks = TaskStore(config, self.account, data_dir / "outputs", render_task)
        self._token_secret = secrets.token_bytes(32)
        self._log_lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self._seq = 0
        self._counts: Counter[str] = Counter()

    # --- log --------------------------------------------------------------------------------
    def record(self, entry: dict[str, Any]) -> None:
        with self._log_lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._log.append(entry)
            if len(self._log) > MAX_LOG_ENTRIES:  # a sandbox left running for days stays small
                del self._log[: len(self._log) - MAX_LOG_ENTRIES]
            self._counts[entry["endpoint"]] += 1

    def log(self) -> list[dict[str, Any]]:
        with self._log_lock:
            return [dict(e) for e in self._log]

    def counts(self) -> dict[str, int]:
        with self._log_lock:
            return dict(self._counts)

    def reset(self) -> None:
        self.faults.clear()
        self.tasks.clear()
        self.uploads.clear()
        self.account.reset()
        with self._log_lock:
            self._log.clear()
            self._counts.clear()
            self._seq = 0

    # --- output tokens ----------------------------------------------------------------------
    def mint_token(self, task_id: str) -> str:
        """A JWT-shaped HS256 token naming the task and its expiry."""
        exp = time.time() + self.config.output_token_ttl_seconds
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps({"sub": task_id, "exp": round(exp, 3)}).encode())
        sig = hmac.new(self._token_secret, f"{header}.{payload}".encode(), hashlib.sha256)
        return f"{header}.{payload}.{_b64(sig.digest())}"

    def check_token(self, task_id: str, token: str) -> str | None:
        """None if valid, else why not ("invalid" / "expired")."""
        parts = token.split(".")
        if len(parts) != 3:
            return "invalid"
        sig = hmac.new(self._token_secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256)
        if not hmac.compare_digest(_b64(sig.digest()), parts[2]):
            return "invalid"
        try:
            payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return "invalid"
        if payload.get("sub") != task_id:
            return "invalid"
        if time.time() >= float(payload.get("exp", 0)):
            return "expired"
        return None

    def output_urls(self, rec: TaskRecord) -> list[str]:
        return [f"{self.base_url}{OUTPUT_PREFIX}{rec.id}.mp4?_jwt={self.mint_token(rec.id)}"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

"""The local SQLite journal: no paid result is ever lost, none is paid for twice by accident.

A row is written BEFORE the create POST (``preparing``, then ``submitting`` just before it) and
updated right after it (task id, estimated cost), so a crash at any point leaves a trace:
``resume`` finishes every job that has a task id and no result yet, and an attempt whose answer
never arrived stays visible as ``ambiguous`` (it may have been billed). Blender, ComfyUI and the
CLI may run at once, so the database uses WAL mode and a busy timeout, and a job being worked on
is *claimed* by its process (a dead owner's claim is void) so two processes never download the
same result into the same file. Each thread keeps one connection: closing the last connection to a
WAL database checkpoints it with an fsync, which made short-lived connections cost milliseconds
on the way to every paid request.

The journal holds descriptions of the inputs (paths, URLs), options and costs; never the API key
and never media payloads (data URIs are reduced to their length).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import redact

JOURNAL_FILE = "journal.sqlite3"
BUSY_TIMEOUT_MS = 15_000

# Job states.
PREPARING = "preparing"  # row written; media being prepared, nothing sent to the create endpoint
SUBMITTING = "submitting"  # the create POST is on its way; not answered yet
SUBMITTED = "submitted"  # task exists on Runway; waiting/downloading
AMBIGUOUS = "ambiguous"  # the create may or may not have created a task
REJECTED = "rejected"  # the create was answered with an error: nothing was created
SUCCEEDED = "succeeded"  # result on disk
FAILED = "failed"
CANCELLED = "cancelled"
UNFINISHED_STATES = (SUBMITTED,)
FINAL_STATES = (SUCCEEDED, FAILED, CANCELLED, REJECTED)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    host TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    fingerprint TEXT,
    base_url TEXT,
    character TEXT,
    reference TEXT,
    options TEXT NOT NULL DEFAULT '{}',
    seed INTEGER,
    estimated_credits REAL,
    task_id TEXT,
    status TEXT,
    cost_credits REAL,
    output_path TEXT,
    sidecar_path TEXT,
    error TEXT,
    submitted_at REAL,
    finished_at REAL,
    owner_pid INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_task ON jobs(task_id);
CREATE INDEX IF NOT EXISTS jobs_fp ON jobs(fingerprint);
"""

_COLUMNS = (
    "job_id",
    "created_at",
    "updated_at",
    "host",
    "state",
    "fingerprint",
    "base_url",
    "character",
    "reference",
    "options",
    "seed",
    "estimated_credits",
    "task_id",
    "status",
    "cost_credits",
    "output_path",
    "sidecar_path",
    "error",
    "submitted_at",
    "finished_at",
    "owner_pid",
)


@dataclass(frozen=True)
class JobRecord:
    """One journal row."""

    job_id: str
    created_at: float
    updated_at: float
    host: str
    state: str
    fingerprint: str | None
    base_url: str | None
    character: str | None
    reference: str | None
    options: dict[str, Any]
    seed: int | None
    estimated_credits: float | None
    task_id: str | None
    status: str | None
    cost_credits: float | None
    output_path: str | None
    sidecar_path: str | None
    error: str | None
    submitted_at: float | None
    finished_at: float | None
    owner_pid: int | None

    @property
    def unfinished(self) -> bool:
        return self.state in UNFINISHED_STATES and self.task_id is not None

    def to_json(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in _COLUMNS}


def describe_source(text: str | None) -> str | None:
    """What the journal may say about an input: never a media payload."""
    if text is None:
        return None
    if text.startswith("data:"):
        return f"data URI ({len(text)} characters)"
    return text if len(text) <= 2048 else text[:2045] + "..."


def _pid_alive(pid: int | None) -> bool:
    if not pid or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


class Journal:
    """Thin, process-safe access to the jobs table."""

    def __init__(self, path: Path, *, secret: str | None = None) -> None:
        self.path = Path(path)
        self._secret = secret
        self._local = threading.local()
        self._open: list[sqlite3.Connection] = []  # every thread's connection, for close()
        # The connection that set the file up, for the first thread that needs one: a client
        # opens its journal on a helper thread while the inputs are checked (see
        # ``ActTwoClient._check_for_job``), and a fresh connection costs 1-2 ms more.
        self._spare: sqlite3.Connection | None = None
        self._open_lock = threading.Lock()
        self._pid = os.getpid()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # WAL mode is a property of the file, set once here. Switching it (and creating the
        # schema) while another process or thread does the same can fail at once with "database
        # is locked", without waiting for the busy timeout: retry that for a while.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                with self._connect() as db:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.executescript(_SCHEMA)
                self._spare, self._local = db, threading.local()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02 + random.random() * 0.05)

    @classmethod
    def in_dir(cls, directory: Path, *, secret: str | None = None) -> Journal:
        return cls(Path(directory) / JOURNAL_FILE, secret=secret)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (opened on first use, kept until ``close()``)."""
        if self._pid != os.getpid():  # a forked child must not share its parent's handles
            self._local, self._open, self._pid = threading.local(), [], os.getpid()
            self._spare = None
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            with self._open_lock:
                db, self._spare = self._spare, None
            if db is not None:
                self._local.db = db
        if db is None:
            db = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,  # so close() may run on another thread, and the
                # setup connection may pass to the first thread that needs one
            )
            try:
                db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                db.execute("PRAGMA synchronous=NORMAL")
            except BaseException:
                db.close()
                raise
            self._local.db = db
            with self._open_lock:
                self._open.append(db)
        if db.in_transaction:  # an earlier statement died mid-transaction: never inherit it
            db.rollback()
        yield db

    def close(self) -> None:
        """Close every thread's connection (the journal reopens on next use)."""
        with self._open_lock:
            conns, self._open, self._spare = self._open, [], None
        self._local = threading.local()
        for db in conns:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    def _clean(self, text: str | None) -> str | None:
        return None if text is None else redact(text, self._secret)

    # -- writes --------------------------------------------------------------------------------
    def start(
        self,
        *,
        fingerprint: str | None,
        options: dict[str, Any],
        seed: int | None,
        character: str | None,
        reference: str | None,
        estimated_credits: float | None,
        output_path: str | None,
        base_url: str | None,
        host: str,
    ) -> str:
        """The row written before the create POST; returns the new job id."""
        job_id = uuid.uuid4().hex[:16]
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO jobs (job_id, created_at, updated_at, host, state, fingerprint, "
                "base_url, character, reference, options, seed, estimated_credits, output_path, "
                "owner_pid) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    job_id,
                    now,
                    now,
                    host,
                    PREPARING,
                    fingerprint,
                    base_url,
                    self._clean(describe_source(character)),
                    self._clean(describe_source(reference)),
                    json.dumps(options, sort_keys=True),
                    seed,
                    estimated_credits,
                    output_path,
                    os.getpid(),
                ),
            )
        return job_id

    def update(self, job_id: str, **fields: Any) -> None:
        if not fields:
            return
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"unknown journal columns: {sorted(unknown)}")
        if "error" in fields:
            fields["error"] = self._clean(fields["error"])
        if "options" in fields and not isinstance(fields["options"], str):
            fields["options"] = json.dumps(fields["options"], sort_keys=True)
        fields["updated_at"] = time.time()
        cols = ", ".join(f"{k}=?" for k in fields)
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET {cols} WHERE job_id=?", (*fields.values(), job_id))

    def submitted(self, job_id: str, task_id: str, estimated_credits: float | None) -> None:
        self.update(
            job_id,
            state=SUBMITTED,
            task_id=task_id,
            status="PENDING",
            estimated_credits=estimated_credits,
            submitted_at=time.time(),
        )

    def claim(self, job_id: str) -> bool:
        """Take ownership for this process unless another live process holds it."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT owner_pid FROM jobs WHERE job_id=?", (job_id,)).fetchone()
                if row is None:
                    db.execute("ROLLBACK")
                    return False
                owner = row[0]
                if owner not in (None, os.getpid()) and _pid_alive(owner):
                    db.execute("ROLLBACK")
                    return False
                db.execute(
                    "UPDATE jobs SET owner_pid=?, updated_at=? WHERE job_id=?",
                    (os.getpid(), time.time(), job_id),
                )
                db.execute("COMMIT")
                return True
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def release(self, job_id: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET owner_pid=NULL WHERE job_id=? AND owner_pid=?",
                (job_id, os.getpid()),
            )

    # -- reads ---------------------------------------------------------------------------------
    def _rows(self, where: str = "", args: tuple[Any, ...] = ()) -> list[JobRecord]:
        with self._connect() as db:
            cur = db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM jobs {where} ORDER BY created_at", args
            )
            return [_record(row) for row in cur.fetchall()]

    def get(self, job_id: str) -> JobRecord | None:
        rows = self._rows("WHERE job_id=?", (job_id,))
        return rows[0] if rows else None

    def by_task(self, task_id: str) -> JobRecord | None:
        rows = self._rows("WHERE task_id=?", (task_id,))
        return rows[-1] if rows else None

    def all(self) -> list[JobRecord]:
        return self._rows()

    def unfinished(self) -> list[JobRecord]:
        """Jobs with a task on Runway and no result on disk yet."""
        marks = ",".join("?" * len(UNFINISHED_STATES))
        return self._rows(f"WHERE state IN ({marks}) AND task_id IS NOT NULL", UNFINISHED_STATES)

    def find_reusable(self, fingerprint: str) -> JobRecord | None:
        """A succeeded job for the same request with an explicit seed whose file still exists."""
        for rec in reversed(
            self._rows(
                "WHERE fingerprint=? AND state=? AND seed IS NOT NULL", (fingerprint, SUCCEEDED)
            )
        ):
            if rec.output_path and Path(rec.output_path).is_file():
                return rec
        return None


def _record(row: tuple[Any, ...]) -> JobRecord:
    data = dict(zip(_COLUMNS, row, strict=True))
    try:
        opts = json.loads(data["options"] or "{}")
    except ValueError:
        opts = {}
    data["options"] = opts if isinstance(opts, dict) else {}
    return JobRecord(**data)

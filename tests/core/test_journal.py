"""The SQLite journal: rows before/after the POST, resume bookkeeping, several processes at once."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from runway_act_two.journal import (
    AMBIGUOUS,
    PREPARING,
    SUBMITTED,
    SUCCEEDED,
    Journal,
    describe_source,
)

SECRET = "key_" + "f" * 128


def _start(j: Journal, **kw: object) -> str:
    args: dict[str, object] = dict(
        fingerprint="fp1",
        options={"seed": 7},
        seed=7,
        character="/tmp/c.png",
        reference="/tmp/r.mp4",
        estimated_credits=25,
        output_path="/tmp/out.mp4",
        base_url="http://127.0.0.1:1",
        host="cli",
    )
    args.update(kw)
    return j.start(**args)  # type: ignore[arg-type]


def test_lifecycle_and_unfinished(tmp_path: Path) -> None:
    j = Journal.in_dir(tmp_path)
    job = _start(j)
    rec = j.get(job)
    assert rec is not None and rec.state == PREPARING and rec.task_id is None
    assert rec.owner_pid == os.getpid() and rec.options == {"seed": 7}
    assert j.unfinished() == []  # no task id yet: nothing to resume
    j.submitted(job, "tid-1", 30)
    rec = j.get(job)
    assert rec is not None and rec.state == SUBMITTED and rec.estimated_credits == 30
    assert [r.job_id for r in j.unfinished()] == [job] and rec.unfinished
    assert j.by_task("tid-1") == rec
    j.update(job, state=SUCCEEDED, cost_credits=25, output_path=str(tmp_path / "o.mp4"))
    assert j.unfinished() == []
    assert j.get(job).to_json()["cost_credits"] == 25  # type: ignore[union-attr]


def test_wal_mode_and_file_location(tmp_path: Path) -> None:
    j = Journal.in_dir(tmp_path / "deep" / "dir")
    assert j.path == tmp_path / "deep" / "dir" / "journal.sqlite3" and j.path.exists()
    db = sqlite3.connect(j.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_find_reusable_requires_seed_success_and_existing_file(tmp_path: Path) -> None:
    j = Journal.in_dir(tmp_path)
    out = tmp_path / "out.mp4"
    a = _start(j, output_path=str(out))
    j.submitted(a, "t-a", 25)
    assert j.find_reusable("fp1") is None  # not finished
    j.update(a, state=SUCCEEDED)
    assert j.find_reusable("fp1") is None  # file missing
    out.write_bytes(b"video")
    assert j.find_reusable("fp1") is not None
    assert j.find_reusable("other") is None
    b = _start(j, fingerprint="fp2", seed=None, options={}, output_path=str(out))
    j.update(b, state=SUCCEEDED, task_id="t-b")
    assert j.find_reusable("fp2") is None  # random seed: a new run is a new result


def test_never_stores_key_or_payloads(tmp_path: Path) -> None:
    j = Journal(tmp_path / "j.sqlite3", secret=SECRET)
    payload = "data:image/png;base64," + "QUJD" * 5000
    job = _start(j, character=payload, reference=f"https://x.example.com/r.mp4?k={SECRET}")
    j.update(job, state=AMBIGUOUS, error=f"server said Bearer {SECRET} and {SECRET}")
    rec = j.get(job)
    assert rec is not None and rec.character == f"data URI ({len(payload)} characters)"
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert SECRET.encode() not in blob and b"QUJDQUJD" not in blob
    assert describe_source(None) is None


def _worker(path: str, n: int) -> None:
    j = Journal(Path(path))
    for i in range(n):
        job = _start(j, fingerprint=f"{os.getpid()}-{i}")
        j.submitted(job, f"{os.getpid()}-{i}", 5)


def test_several_processes_write_at_once(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    Journal(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(str(path), 25)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    rows = Journal(path).all()
    assert len(rows) == 100 and all(r.state == SUBMITTED for r in rows)


def test_claim_respects_a_live_owner_and_voids_a_dead_one(tmp_path: Path) -> None:
    j = Journal.in_dir(tmp_path)
    job = _start(j)
    j.submitted(job, "t1", 5)
    assert j.claim(job)  # ours already
    # Another live process owns it.
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        j.update(job, owner_pid=holder.pid)
        assert not j.claim(job)
    finally:
        holder.kill()
        holder.wait()
    assert j.claim(job)  # the owner is dead: its claim is void
    j.release(job)
    assert j.get(job).owner_pid is None  # type: ignore[union-attr]
    assert not j.claim("nope")


def test_rows_survive_a_corrupt_options_column(tmp_path: Path) -> None:
    j = Journal.in_dir(tmp_path)
    job = _start(j)
    db = sqlite3.connect(j.path)
    db.execute("UPDATE jobs SET options='[' WHERE job_id=?", (job,))
    db.commit()
    db.close()
    assert j.get(job).options == {}  # type: ignore[union-attr]
    assert json.dumps(j.get(job).to_json())  # type: ignore[union-attr]


def test_many_processes_opening_a_new_journal_at_once_never_see_it_locked(tmp_path: Path) -> None:
    """Blender, ComfyUI and the CLI may open the same (new) journal at the same moment."""
    import threading

    from runway_act_two.journal import Journal

    errors: list[BaseException] = []
    barrier = threading.Barrier(12)

    def open_and_write(i: int) -> None:
        try:
            barrier.wait()
            for k in range(10):  # every new client opens the journal anew, while others write
                j = Journal(tmp_path / "fresh" / "journal.sqlite3")
                job = j.start(
                    fingerprint=f"f{i}",
                    options={},
                    seed=i,
                    character=None,
                    reference=None,
                    estimated_credits=5,
                    output_path=None,
                    base_url="http://127.0.0.1:1",
                    host="test",
                )
                if k < 9:
                    j.update(job, state="rejected")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_write, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(Journal(tmp_path / "fresh" / "journal.sqlite3").all()) == 120


def test_threads_share_one_journal_and_close_releases_every_connection(tmp_path: Path) -> None:
    """Each thread writes through its own kept connection (no per-write checkpoint); close()
    releases them all, and the journal reopens on next use."""
    import threading

    j = Journal.in_dir(tmp_path)
    ids: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(20):
            job = _start(j)
            j.update(job, state=AMBIGUOUS)
            with lock:
                ids.append(job)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 120
    assert all(j.get(job).state == AMBIGUOUS for job in ids)  # type: ignore[union-attr]
    wal = j.path.with_name(j.path.name + "-wal")
    assert wal.exists()  # kept connections keep the write-ahead log
    j.close()
    # Nothing holds the file open any more, so the next last connection to close folds the
    # log back into the database and deletes it.
    sqlite3.connect(j.path).close()
    assert not wal.exists()
    assert j.get(ids[0]) is not None  # reopened
    j.close()


def test_the_setup_connection_passes_to_the_first_thread_that_needs_one(tmp_path: Path) -> None:
    """A client opens its journal on a helper thread; the thread that then writes the job's rows
    uses that same connection instead of opening a second one."""
    import threading

    opened: list[Journal] = []
    helper = threading.Thread(target=lambda: opened.append(Journal.in_dir(tmp_path)))
    helper.start()
    helper.join()
    j = opened[0]
    job = _start(j)
    assert j.get(job) is not None
    assert len(j._open) == 1  # one connection in all: the helper's, now this thread's
    other: list[int] = []
    t = threading.Thread(target=lambda: other.append(len(_start(j))))
    t.start()
    t.join()
    assert other and len(j._open) == 2  # a second thread still gets its own
    j.close()
    assert j._open == [] and j.get(job) is not None  # reopened after close
    j.close()

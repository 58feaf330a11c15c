"""The money ledger: after every fault case, compare what the server billed with what we know.

Two numbers matter to a user whatever went wrong in between:

* duplicate creates: tasks the server created beyond one per job the user started (a blind
  retry of a create that had in fact succeeded bills twice);
* lost outputs: tasks the server created (and did not fail or cancel) that the local journal
  cannot lead the user back to: neither their task id is journaled nor was the attempt recorded
  as ambiguous (which tells the user to look on Runway's dashboard).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_PAID_STATES = {"PENDING", "THROTTLED", "RUNNING", "SUCCEEDED"}


def journal_rows(data_dir: Path) -> list[Any]:
    """Every journal row in ``data_dir`` (empty when no journal was ever written there)."""
    if not (data_dir / "journal.sqlite3").exists():
        return []
    from runway_act_two.journal import Journal

    return list(Journal.in_dir(data_dir).all())


def settle(sandbox: Any, data_dir: Path) -> dict[str, int]:
    tasks = sandbox.tasks()
    creates = sandbox.count("create")
    rows = journal_rows(data_dir)
    known_ids = {r.task_id for r in rows if r.task_id}
    ambiguous = sum(1 for r in rows if not r.task_id and r.state == "ambiguous")
    jobs_that_posted = sum(1 for r in rows if r.task_id or r.state in ("ambiguous", "submitting"))
    created = len(tasks)
    duplicates = max(0, created - jobs_that_posted)
    unaccounted = [
        t
        for t in tasks
        if t["id"] not in known_ids and (t["status"] in _PAID_STATES and not t["deleted"])
    ]
    lost = max(0, len(unaccounted) - ambiguous)
    return {"creates": creates, "tasks": created, "duplicates": duplicates, "lost": lost}

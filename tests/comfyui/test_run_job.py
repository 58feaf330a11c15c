"""The async side of a job: worker thread, event relay, interrupt -> cancel, concurrency.

These drive ``run_job`` with small job functions that behave like the core does with a
``CancelToken`` (sleep on it, stop when it is set); the end-to-end runs against the sandbox are in
test_sandbox_jobs.py.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from comfyui_nodes.core import act_two
from comfyui_nodes.run import JobInterrupted, run_job


def _event(kind: str = "status", **kw: Any) -> Any:
    return act_two.JobEvent(kind=kind, **kw)  # type: ignore[arg-type]


def test_result_and_events_arrive_on_the_loop_thread() -> None:
    seen: list[tuple[str, bool]] = []
    loop_thread: list[threading.Thread] = []

    def job(token: Any, emit: Any) -> str:
        emit(_event(status="RUNNING", progress=0.5))
        emit(_event("done"))
        return "result"

    def on_event(ev: Any) -> None:
        seen.append((ev.kind, threading.current_thread() is loop_thread[0]))

    async def main() -> str:
        loop_thread.append(threading.current_thread())
        return await run_job(job, is_interrupted=lambda: False, on_event=on_event)

    assert asyncio.run(main()) == "result"
    assert seen == [("status", True), ("done", True)]


def test_job_errors_propagate_unchanged() -> None:
    def job(token: Any, emit: Any) -> None:
        raise act_two.errors.NotEnoughCreditsError("no credits", status=400)

    with pytest.raises(act_two.errors.NotEnoughCreditsError):
        asyncio.run(run_job(job, is_interrupted=lambda: False))


def test_interrupt_cancels_the_job_and_waits_for_it() -> None:
    started = threading.Event()
    finished = threading.Event()
    interrupted = threading.Event()

    def job(token: Any, emit: Any) -> None:
        started.set()
        assert token.wait(60), "the token was never cancelled"
        finished.set()  # the core sends DELETE here before raising
        raise act_two.errors.TaskCancelledError("cancelled", task_id="t")

    async def main() -> None:
        async def press_cancel() -> None:
            await asyncio.to_thread(started.wait, 30)
            interrupted.set()

        await asyncio.gather(
            run_job(job, is_interrupted=interrupted.is_set, poll_seconds=0.05),
            press_cancel(),
        )

    with pytest.raises(JobInterrupted):
        asyncio.run(main())
    assert finished.is_set()  # the worker finished its cancel before the node gave up


def test_an_exception_from_the_progress_hook_cancels_the_job() -> None:
    """ComfyUI's ProgressBar hook raises its interrupt exception itself."""

    class HostInterrupt(Exception):
        pass

    cancelled = threading.Event()

    def job(token: Any, emit: Any) -> None:
        emit(_event(status="RUNNING", progress=0.1))
        if token.wait(60):
            cancelled.set()

    def hook(ev: Any) -> None:
        raise HostInterrupt()

    with pytest.raises(HostInterrupt):
        asyncio.run(run_job(job, is_interrupted=lambda: False, on_event=hook))
    assert cancelled.is_set()


def test_a_cancelled_coroutine_cancels_its_job() -> None:
    """When another node fails, ComfyUI's loop cancels the remaining node tasks."""
    cancelled = threading.Event()
    started = threading.Event()

    def job(token: Any, emit: Any) -> None:
        started.set()
        if token.wait(60):
            cancelled.set()

    async def main() -> None:
        task = asyncio.ensure_future(run_job(job, is_interrupted=lambda: False))
        await asyncio.to_thread(started.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert cancelled.is_set()


def test_two_jobs_in_one_prompt_run_at_the_same_time() -> None:
    barrier = threading.Barrier(2, timeout=30)

    def job(token: Any, emit: Any) -> int:
        return barrier.wait()  # breaks (BrokenBarrierError) unless both run concurrently

    async def main() -> list[int]:
        return list(
            await asyncio.gather(
                run_job(job, is_interrupted=lambda: False),
                run_job(job, is_interrupted=lambda: False),
            )
        )

    assert sorted(asyncio.run(main())) == [0, 1]


def test_the_loop_stays_responsive_while_a_job_blocks() -> None:
    release = threading.Event()
    ticks: list[int] = []

    def job(token: Any, emit: Any) -> str:
        release.wait(30)
        return "ok"

    async def main() -> str:
        async def heartbeat() -> None:
            for i in range(5):
                ticks.append(i)
                await asyncio.sleep(0.01)
            release.set()

        result, _ = await asyncio.gather(run_job(job, is_interrupted=lambda: False), heartbeat())
        return result

    assert asyncio.run(main()) == "ok"
    assert ticks == [0, 1, 2, 3, 4]

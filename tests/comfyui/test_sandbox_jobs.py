"""The pack's job layer end to end against the sandbox: real HTTP, real tensors, real videos.

Everything below the ComfyUI schema runs here exactly as inside ComfyUI: IMAGE/VIDEO values are
converted, the sync core runs in a worker thread under ``run_job``, interrupts become cancels,
identical requests are never paid twice (also with a fresh client, as after a restart), and the
result comes back as a VIDEO.
"""

from __future__ import annotations

import asyncio
import io
import threading
from pathlib import Path
from typing import Any

import pytest

from comfyui_nodes import messages
from comfyui_nodes.convert import ConversionError
from comfyui_nodes.core import act_two
from comfyui_nodes.keys import resolve_api_key
from comfyui_nodes.progress import ProgressView
from comfyui_nodes.run import (
    ActTwoInputs,
    JobInterrupted,
    PackPaths,
    credits_job,
    fetch_job,
    generate_job,
    run_job,
)

from . import _media, comfy_video

errors = act_two.errors
FAST = {"tick_seconds": 0.1, "task_seconds": 1.0, "max_concurrent_generations": None}


@pytest.fixture
def paths(tmp_path: Path) -> PackPaths:
    return PackPaths(
        output_dir=tmp_path / "comfy_output",
        temp_dir=tmp_path / "comfy_temp",
        user_dir=tmp_path / "comfy_user",
    )


@pytest.fixture
def fast(sb: Any) -> Any:
    sb.configure(**FAST)
    return sb


def _inputs(reference: Path, **kw: Any) -> ActTwoInputs:
    base: dict[str, Any] = {
        "reference_video": comfy_video.VideoFromFile(str(reference)),
        "character_image": _media.image_tensor(),
        "ratio": "1280:720",
        "body_control": True,
        "expression_intensity": 3,
        "seed": 42,
        "public_figure_threshold": "auto",
    }
    base.update(kw)
    return ActTwoInputs(**base)


def _run(job: Any, view: ProgressView | None = None, interrupted: Any = None) -> Any:
    flag = interrupted or threading.Event()
    return asyncio.run(
        run_job(
            job,
            is_interrupted=flag.is_set,
            on_event=view,
            on_tick=view.tick if view else None,
            poll_seconds=0.05,
        )
    )


def _wait_for(predicate: Any, timeout: float = 60.0) -> None:
    done = threading.Event()
    while not predicate():
        if done.wait(0.02) or timeout <= 0:
            raise AssertionError("condition not reached")
        timeout -= 0.02


def test_image_character_to_video_with_audio(
    fast: Any, paths: PackPaths, reference_mp4: Path
) -> None:
    bars: list[int] = []
    view = ProgressView(bars.append, None)
    result = _run(generate_job(_inputs(reference_mp4), paths, resolve_api_key(None)), view)
    assert not result.reused
    out = Path(result.output_path)
    assert out.parent == paths.output_dir / "act_two"
    info = _media.probe(out)
    assert info["size"] == (1280, 720)
    assert info["duration"] == pytest.approx(3.5, abs=0.2)
    assert info["has_audio"]  # the result VIDEO keeps the audio the API returned
    video = comfy_video.VideoFromFile(str(out))  # what the node returns
    assert video.get_dimensions() == (1280, 720)
    assert fast.count("create") == 1
    task = fast.task_info(result.task_id)
    assert task["characterKind"] == "image"
    assert bars and bars[-1] == 100
    assert any("running" in t or "pending" in t for t in view.texts)
    assert any("credits" in t and "$" in t for t in view.texts)
    assert all(str(paths.output_dir) not in t for t in view.texts)  # short lines, no paths
    assert not list(paths.temp_dir.iterdir())  # converted inputs were cleaned up


def test_video_character_made_from_frames_and_reference_from_memory(
    fast: Any, paths: PackPaths, reference_mp4: Path
) -> None:
    frames = _media.image_tensor(96, 128, batch=24)
    inputs = _inputs(
        reference_mp4,
        character_image=None,
        character_video=comfy_video.from_frames(frames, fps=12),
        reference_video=comfy_video.VideoFromFile(io.BytesIO(reference_mp4.read_bytes())),
        ratio="960:960",
    )
    result = _run(generate_job(inputs, paths, None))
    assert _media.probe(Path(result.output_path))["size"] == (960, 960)
    assert fast.task_info(result.task_id)["characterKind"] == "video"
    # The frames are encoded again for the next run, to the same bytes: still the same request.
    again = _run(generate_job(inputs, paths, None))
    assert again.reused and fast.count("create") == 1


def test_requeue_after_restart_never_pays_again_and_a_new_seed_rerolls(
    fast: Any, paths: PackPaths, reference_mp4: Path
) -> None:
    first = _run(generate_job(_inputs(reference_mp4), paths, None))
    before = len(fast.requests())
    # A "restart": new inputs objects, a new client, the same data dir (ACT_TWO_DATA_DIR).
    view = ProgressView(None, None)
    again = _run(generate_job(_inputs(reference_mp4), paths, None), view)
    assert again.reused and again.task_id == first.task_id
    assert Path(again.output_path) == Path(first.output_path)
    assert len(fast.requests()) == before  # not a single request
    assert any("reused" in t for t in view.texts)
    rerolled = _run(generate_job(_inputs(reference_mp4, seed=43), paths, None))
    assert not rerolled.reused and rerolled.task_id != first.task_id
    assert fast.count("create") == 2


def test_after_a_timeout_queuing_again_resumes_the_same_task(
    fast: Any, paths: PackPaths, reference_mp4: Path
) -> None:
    fast.configure(task_seconds=4)
    with pytest.raises(errors.WaitTimeoutError) as info:
        _run(generate_job(_inputs(reference_mp4, timeout=0.5), paths, None))
    text = messages.user_message(info.value)
    assert "fetch result" in text and info.value.task_id in text
    assert fast.count("task_delete") == 0  # giving up does not cancel
    resumed = _run(generate_job(_inputs(reference_mp4), paths, None))
    assert resumed.task_id == info.value.task_id and fast.count("create") == 1
    assert _media.probe(Path(resumed.output_path))["size"] == (1280, 720)


def test_identical_nodes_in_one_prompt_pay_once(
    fast: Any, paths: PackPaths, reference_mp4: Path
) -> None:
    async def both() -> list[Any]:
        jobs = [generate_job(_inputs(reference_mp4), paths, None) for _ in range(2)]
        return list(await asyncio.gather(*(run_job(j, is_interrupted=lambda: False) for j in jobs)))

    a, b = asyncio.run(both())
    assert fast.count("create") == 1
    assert a.task_id == b.task_id and (a.reused or b.reused)


def test_two_nodes_run_concurrently(fast: Any, paths: PackPaths, reference_mp4: Path) -> None:
    fast.configure(task_seconds=1.5)
    order: list[str] = []

    def recorder(name: str) -> Any:
        return lambda ev: order.append(f"{name}:{ev.kind}")

    async def both() -> list[Any]:
        return list(
            await asyncio.gather(
                run_job(
                    generate_job(_inputs(reference_mp4, seed=1), paths, None),
                    is_interrupted=lambda: False,
                    on_event=recorder("a"),
                ),
                run_job(
                    generate_job(_inputs(reference_mp4, seed=2), paths, None),
                    is_interrupted=lambda: False,
                    on_event=recorder("b"),
                ),
            )
        )

    results = asyncio.run(both())
    assert len({r.task_id for r in results}) == 2
    # Both tasks existed on Runway before either was finished: they ran side by side.
    first_done = min(order.index("a:done"), order.index("b:done"))
    assert order.index("a:submitted") < first_done and order.index("b:submitted") < first_done


def test_interrupt_cancels_the_task_on_runway(
    fast: Any, paths: PackPaths, reference_mp4: Path
) -> None:
    fast.configure(task_seconds=60)
    interrupted = threading.Event()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            _run(generate_job(_inputs(reference_mp4), paths, None), interrupted=interrupted)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    _wait_for(lambda: fast.count("create") == 1)
    interrupted.set()
    worker.join(60)
    assert outcome and isinstance(outcome[0], JobInterrupted)
    assert fast.count("task_delete") == 1
    (task,) = fast.tasks()
    assert task["deleted"] or task["status"] == "CANCELLED"


def test_bad_inputs_are_refused_before_any_request(
    fast: Any, paths: PackPaths, reference_mp4: Path, short_mp4: Path
) -> None:
    with pytest.raises(errors.InputValidationError) as info:
        _run(generate_job(_inputs(short_mp4), paths, None))
    text = messages.user_message(info.value)
    assert "reference_video" in text and "nothing was spent" in text
    with pytest.raises(ConversionError) as both:
        _run(
            generate_job(
                _inputs(
                    reference_mp4, character_video=comfy_video.VideoFromFile(str(reference_mp4))
                ),
                paths,
                None,
            )
        )
    assert "only one" in messages.user_message(both.value)
    assert fast.requests() == []


def test_missing_key_says_where_to_put_it_and_sends_nothing(
    fast: Any, paths: PackPaths, reference_mp4: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    key = resolve_api_key(paths.user_dir)
    assert key is None
    with pytest.raises(errors.InputValidationError) as info:
        _run(generate_job(_inputs(reference_mp4), paths, key))
    text = messages.user_message(info.value, user_dir=paths.user_dir)
    assert "RUNWAYML_API_SECRET" in text
    assert str(paths.user_dir / "runway_act_two" / "api_key.txt") in text
    assert fast.requests() == []


def test_key_file_works_and_the_key_never_leaks(
    fast: Any,
    paths: PackPaths,
    reference_mp4: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    key = fast.api_key
    monkeypatch.delenv("RUNWAYML_API_SECRET")
    key_file = paths.user_dir / "runway_act_two" / "api_key.txt"  # type: ignore[operator]
    key_file.parent.mkdir(parents=True)
    key_file.write_text(key + "\n", encoding="utf-8")
    view = ProgressView(None, None)
    result = _run(
        generate_job(_inputs(reference_mp4), paths, resolve_api_key(paths.user_dir)), view
    )
    # Nothing the pack or the core wrote holds the key: results, sidecars, journal, scratch.
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != key_file:
            assert key.encode() not in path.read_bytes(), path
    import av

    with av.open(str(result.output_path)) as container:
        assert key not in repr(dict(container.metadata))
    assert all(key not in t for t in view.texts)
    assert key not in repr(result)


def test_failed_task_is_a_readable_message(
    fast: Any, paths: PackPaths, reference_mp4: Path
) -> None:
    from runway_act_two.sandbox import Fault

    fast.faults.add(
        Fault(
            endpoint="create",
            action="fail_task",
            failure_code="SAFETY.INPUT.IMAGE",
            failure="No face was found.",
        )
    )
    with pytest.raises(errors.TaskFailedError) as info:
        _run(generate_job(_inputs(reference_mp4, seed=7), paths, None))
    text = messages.user_message(info.value)
    assert "SAFETY.INPUT.IMAGE" in text and "No face was found" in text
    assert "{" not in text and fast.api_key not in text


def test_fetch_result_by_task_id_then_from_disk(
    fast: Any, paths: PackPaths, reference_mp4: Path, tmp_path: Path
) -> None:
    from runway_act_two import ActTwoRequest, MediaSource
    from runway_act_two.client import ActTwoClient

    png = tmp_path / "c.png"
    png.write_bytes(_png_bytes())
    with ActTwoClient() as client:  # a task started elsewhere (e.g. the command line)
        sub = client.submit(
            ActTwoRequest(
                character=MediaSource.from_path(png),
                reference=MediaSource.from_path(reference_mp4),
                seed=5,
            )
        )
    path = _run(fetch_job(sub.task_id, paths, None))
    assert _media.probe(path)["has_audio"]
    before = len(fast.requests())
    again = _run(fetch_job(sub.task_id, paths, None))
    assert again == path and len(fast.requests()) == before
    assert fast.count("create") == 1


def test_interrupting_a_fetch_leaves_the_task_running(
    fast: Any, paths: PackPaths, reference_mp4: Path, tmp_path: Path
) -> None:
    from runway_act_two import ActTwoRequest, MediaSource
    from runway_act_two.client import ActTwoClient

    fast.configure(task_seconds=60)
    png = tmp_path / "c.png"
    png.write_bytes(_png_bytes())
    with ActTwoClient() as client:
        sub = client.submit(
            ActTwoRequest(
                character=MediaSource.from_path(png),
                reference=MediaSource.from_path(reference_mp4),
                seed=6,
            )
        )
    interrupted = threading.Event()
    polls = fast.count("task_get")
    at_press: list[int] = []

    def press() -> None:
        _wait_for(lambda: fast.count("task_get") > polls)
        at_press.append(fast.count("task_get"))
        interrupted.set()

    presser = threading.Thread(target=press)
    presser.start()
    with pytest.raises(JobInterrupted):
        _run(fetch_job(sub.task_id, paths, None), interrupted=interrupted)
    presser.join(30)
    # the waiting stopped at the press (at most a poll already on its way), not slices later
    assert fast.count("task_get") <= at_press[0] + 1
    assert fast.count("task_delete") == 0
    assert fast.task_info(sub.task_id)["status"] in ("PENDING", "RUNNING", "THROTTLED")


def test_credit_balance_text(fast: Any, paths: PackPaths) -> None:
    fast.configure(credit_balance=1234)
    text = _run(credits_job(paths, None))
    assert "1234 credits" in text and "$12.34" in text
    assert fast.count("create") == 0


def _png_bytes() -> bytes:
    from comfyui_nodes.convert import image_to_png_bytes

    return image_to_png_bytes(_media.image_tensor())

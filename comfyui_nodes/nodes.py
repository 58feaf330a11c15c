"""The ComfyUI nodes (V3 schema): only translation between ComfyUI and the core.

Imported only inside ComfyUI (``comfy_entrypoint``). Everything that can run without ComfyUI lives
in ``convert``/``run``/``progress``/``messages``/``keys``, which CI tests with real tensors, real
videos and the sandbox; this module adds the schema and the few ComfyUI calls, each
feature-detected so 0.3.64 and newer versions both work.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from comfy_api.latest import ComfyExtension, ui

try:  # 0.3.64 exports ``io``; newer versions also (or instead) export ``IO``
    from comfy_api.latest import io
except ImportError:  # pragma: no cover - depends on the ComfyUI version
    from comfy_api.latest import IO as io

from .core import act_two
from .examples import install_example_media
from .keys import resolve_api_key
from .messages import ActTwoNodeError, to_node_error
from .progress import BAR_TOTAL, ProgressView
from .run import (
    ActTwoInputs,
    JobInterrupted,
    PackPaths,
    character_choice_problem,
    credits_job,
    fetch_job,
    generate_job,
    run_job,
)

api = act_two.api_surface

PACK_PREFIX = "ActTwoPack_"
_SLIDER = getattr(getattr(io, "NumberDisplay", None), "slider", None)
CATEGORY = "video/Runway Act-Two"
PUBLIC_FIGURE_OPTIONS = list(api.PUBLIC_FIGURE_THRESHOLDS)

_KEY_HELP = (
    f"Uses your own Runway API key from the {api.ENV_API_KEY} environment variable or "
    "<ComfyUI user dir>/runway_act_two/api_key.txt (never a widget, so it is never saved in "
    "workflows or media)."
)
_COST = (
    f"Costs {api.CREDITS_PER_SECOND} credits (${api.CREDITS_PER_SECOND * api.USD_PER_CREDIT:.2f}) "
    "per second of output; the output is as long as the reference video."
)
_VIDEO_LIMITS = (
    "MP4, MOV or WebM, up to 200 MB (small files are sent inline, larger ones uploaded)."
)
_IMAGE_LIMITS = "Sent as a PNG (small images inline, larger ones uploaded; up to 200 MB)."


# --- ComfyUI services, feature-detected ------------------------------------------------------
def _pack_paths() -> PackPaths:
    import folder_paths

    def directory(getter_name: str) -> Path | None:
        getter = getattr(folder_paths, getter_name, None)
        return Path(getter()) if callable(getter) else None

    output = directory("get_output_directory") or Path.cwd() / "output"
    return PackPaths(
        output_dir=output,
        temp_dir=directory("get_temp_directory"),
        user_dir=directory("get_user_directory"),
    )


def _is_interrupted() -> bool:
    import comfy.model_management as mm

    return bool(mm.processing_interrupted())


def _interrupt_exception() -> BaseException:
    import comfy.model_management as mm

    return mm.InterruptProcessingException()  # type: ignore[no-any-return]


def _bar_setter(node_id: str | None) -> Any:
    try:
        import comfy.utils
    except ImportError:
        return None
    try:
        bar = comfy.utils.ProgressBar(BAR_TOTAL, node_id=node_id)
    except TypeError:  # versions whose ProgressBar takes no node_id (the context knows it)
        bar = comfy.utils.ProgressBar(BAR_TOTAL)
    return lambda value: bar.update_absolute(value, BAR_TOTAL)


def _text_setter(node_id: str | None) -> Any:
    if node_id is None:
        return None
    try:
        from server import PromptServer
    except ImportError:
        return None
    instance = getattr(PromptServer, "instance", None)
    send = getattr(instance, "send_progress_text", None)
    if not callable(send):
        return None

    def set_text(text: str) -> None:
        # the text under the node is a nicety; never fail a paid job on it
        with contextlib.suppress(Exception):
            send(text, node_id)

    return set_text


def _video_from_file(path: Path) -> Any:
    try:
        from comfy_api.latest import InputImpl

        return InputImpl.VideoFromFile(str(path))
    except ImportError:
        from comfy_api.input_impl import VideoFromFile

        return VideoFromFile(str(path))


def _node_id(cls: Any) -> str | None:
    hidden = getattr(cls, "hidden", None)
    value = getattr(hidden, "unique_id", None) if hidden is not None else None
    return str(value) if value is not None else None


async def _run(
    job_factory: Any, paths: PackPaths, view: ProgressView, *, interrupted_text: str
) -> Any:
    """Run a job; map interrupts to ComfyUI's exception and core errors to readable messages."""
    try:
        return await run_job(
            job_factory, is_interrupted=_is_interrupted, on_event=view, on_tick=view.tick
        )
    except JobInterrupted:
        view.show(interrupted_text)
        raise _interrupt_exception() from None
    except Exception as exc:
        if type(exc).__name__ == "InterruptProcessingException":
            raise
        raise to_node_error(exc, user_dir=paths.user_dir) from exc


# --- the main node -----------------------------------------------------------------------------
class RunwayActTwo(io.ComfyNode):  # type: ignore[misc]
    """Runway Act-Two (character performance) with the artist's own Runway key."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        ratios = list(api.RATIOS)
        return io.Schema(
            node_id=PACK_PREFIX + "RunwayActTwo",
            display_name="Runway Act-Two",
            category=CATEGORY,
            description=(
                "Animates a character (an image or a video) with the facial expressions and, "
                "optionally, the body movement of a person in a reference video, using Runway "
                "Act-Two. Outputs the result as a VIDEO (with the audio Runway returns) and its "
                "Runway task id. For IMAGE frames, audio and fps, connect the VIDEO to the Get "
                f"Video Components node. {_COST} Queuing an unchanged graph with the same seed "
                "reuses the earlier paid result (also after a restart); change the seed to "
                f"re-roll. {_KEY_HELP} Interrupting cancels the Runway task."
            ),
            inputs=[
                io.Image.Input(
                    "character_image",
                    optional=True,
                    tooltip=(
                        "The character as an image (only the FIRST image of a batch is used; "
                        "sent as PNG). A recognizable face must be visible and stay in frame. "
                        "The character keeps its static environment. Connect this OR "
                        f"character_video, not both. {_IMAGE_LIMITS}"
                    ),
                ),
                io.Video.Input(
                    "character_video",
                    optional=True,
                    tooltip=(
                        "The character as a video: it keeps its own animated environment and "
                        "some of its own movement. A recognizable face must be visible and stay "
                        "in frame. Connect this OR character_image, not both. "
                        f"{_VIDEO_LIMITS}"
                    ),
                ),
                io.Video.Input(
                    "reference_video",
                    tooltip=(
                        "The performance: a video of a person acting, "
                        f"{api.REFERENCE_MIN_SECONDS:g}-{api.REFERENCE_MAX_SECONDS:g} s long "
                        "(checked from the file header before anything is sent). The output has "
                        f"the same duration at {api.OUTPUT_FPS} fps. {_VIDEO_LIMITS} {_COST}"
                    ),
                ),
                io.Combo.Input(
                    "ratio",
                    options=ratios,
                    default=api.DEFAULT_RATIO,
                    tooltip=(
                        "Output size in pixels (width:height): " + ", ".join(ratios) + ". "
                        "Inputs of another shape are centre-cropped by Runway."
                    ),
                ),
                io.Boolean.Input(
                    "body_control",
                    default=True,
                    tooltip=(
                        "On: body movement and gestures are transferred too. Off: facial "
                        "expressions only."
                    ),
                ),
                io.Int.Input(
                    "expression_intensity",
                    default=api.EXPRESSION_INTENSITY_DEFAULT,
                    min=api.EXPRESSION_INTENSITY_MIN,
                    max=api.EXPRESSION_INTENSITY_MAX,
                    step=1,
                    display_mode=_SLIDER,
                    tooltip=(
                        f"{api.EXPRESSION_INTENSITY_MIN}-{api.EXPRESSION_INTENSITY_MAX}: how "
                        "strongly the character's expressions follow the performance "
                        f"(Runway's default is {api.EXPRESSION_INTENSITY_DEFAULT})."
                    ),
                ),
                io.Int.Input(
                    "seed",
                    default=0,
                    min=api.SEED_MIN,
                    max=api.SEED_MAX,
                    control_after_generate=True,
                    tooltip=(
                        f"{api.SEED_MIN}-{api.SEED_MAX}. The same seed with the same inputs "
                        "gives a similar result and reuses the earlier paid result instead of "
                        "paying again; a new seed re-rolls (and is billed). Set 'control after "
                        "generate' to fixed to keep it."
                    ),
                ),
                io.Combo.Input(
                    "public_figure_threshold",
                    options=PUBLIC_FIGURE_OPTIONS,
                    default=PUBLIC_FIGURE_OPTIONS[0],
                    tooltip=(
                        "Content moderation for recognizable public figures: 'auto' (Runway's "
                        "default) or 'low' (less strict)."
                    ),
                ),
                io.Int.Input(
                    "timeout",
                    optional=True,
                    default=0,
                    min=0,
                    max=24 * 3600,
                    step=10,
                    tooltip=(
                        "Seconds to wait for Runway before giving up; 0 waits until the task "
                        "ends (Cancel still stops it). Giving up does not cancel the "
                        "task: queue again or use 'Runway Act-Two: fetch result' to get it "
                        "without paying again."
                    ),
                ),
            ],
            outputs=[
                io.Video.Output(
                    display_name="video",
                    tooltip="The generated video (24 fps, with audio when Runway returns it).",
                ),
                io.String.Output(
                    display_name="task_id",
                    tooltip="The Runway task id (for 'Runway Act-Two: fetch result').",
                ),
            ],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    def validate_inputs(cls, input_types: Any = None) -> bool | str:
        """Before the prompt is queued: exactly one character input must be connected.

        Asking for ``input_types`` makes ComfyUI skip its own type check of linked inputs, so the
        three media sockets are checked here too.
        """
        linked = input_types if isinstance(input_types, dict) else {}
        problem = character_choice_problem("character_image" in linked, "character_video" in linked)
        if problem:
            return problem
        for name, expected in (
            ("character_image", "IMAGE"),
            ("character_video", "VIDEO"),
            ("reference_video", "VIDEO"),
        ):
            got = linked.get(name)
            if got is not None and got not in (expected, "*"):
                return f"{name} expects {expected}, but a {got} is connected."
        return True

    @classmethod
    def fingerprint_inputs(cls, **kwargs: Any) -> Any:
        """Widget values that decide what is paid for: a new seed means a new generation.

        ComfyUI already keys its cache on inputs; this states it and covers versions that key
        differently. Across restarts, the core's journal (request fingerprint + ``reuse=True``)
        returns the earlier result without any request.
        """
        keys = (
            "seed",
            "ratio",
            "body_control",
            "expression_intensity",
            "public_figure_threshold",
        )
        return tuple((k, kwargs.get(k)) for k in keys)

    @classmethod
    async def execute(
        cls,
        reference_video: Any,
        ratio: str,
        body_control: bool,
        expression_intensity: int,
        seed: int,
        public_figure_threshold: str,
        character_image: Any = None,
        character_video: Any = None,
        timeout: int | None = None,
    ) -> io.NodeOutput:
        problem = character_choice_problem(character_image is not None, character_video is not None)
        if problem:
            raise ActTwoNodeError(problem + " Nothing was sent.")
        node_id = _node_id(cls)
        paths = _pack_paths()
        inputs = ActTwoInputs(
            reference_video=reference_video,
            character_image=character_image,
            character_video=character_video,
            ratio=ratio,
            body_control=bool(body_control),
            expression_intensity=int(expression_intensity),
            seed=int(seed),
            public_figure_threshold=public_figure_threshold,
            timeout=float(timeout) if timeout else None,
        )
        view = ProgressView(_bar_setter(node_id), _text_setter(node_id))
        job = generate_job(inputs, paths, resolve_api_key(paths.user_dir))
        result = await _run(
            job,
            paths,
            view,
            interrupted_text="Act-Two: interrupted; the task was cancelled on Runway.",
        )
        view.show(_summary(result))
        return io.NodeOutput(_video_from_file(Path(result.output_path)), str(result.task_id))


def _summary(result: Any) -> str:
    credits = result.cost_credits if result.cost_credits is not None else result.estimated_credits
    money = ""
    if credits is not None:
        money = f", {credits:g} credits (~${float(credits) * api.USD_PER_CREDIT:,.2f})"
    if result.reused:
        return f"Act-Two: reused the earlier result, nothing spent (task {result.task_id})."
    return f"Act-Two: done{money} (task {result.task_id})."


# --- fetch result ------------------------------------------------------------------------------
class RunwayActTwoFetchResult(io.ComfyNode):  # type: ignore[misc]
    """Recover a result by task id (after a restart, a timeout, or a job started elsewhere)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=PACK_PREFIX + "RunwayActTwoFetchResult",
            display_name="Runway Act-Two: fetch result",
            category=CATEGORY,
            description=(
                "Waits for an existing Runway task and returns its video, without creating a new "
                "(paid) task. Use it after a timeout, a restart, or for a task started from the "
                f"command line. A result already downloaded is reused. {_KEY_HELP}"
            ),
            inputs=[
                io.String.Input(
                    "task_id",
                    default="",
                    tooltip="A Runway task id (a UUID), e.g. from the Act-Two node's task_id "
                    "output or `act-two jobs`.",
                ),
                io.Int.Input(
                    "timeout",
                    optional=True,
                    default=0,
                    min=0,
                    max=24 * 3600,
                    step=10,
                    tooltip="Seconds to wait for the task to finish; 0 waits until it ends.",
                ),
            ],
            outputs=[io.Video.Output(display_name="video")],
            hidden=[io.Hidden.unique_id],
        )

    @classmethod
    async def execute(cls, task_id: str, timeout: int | None = None) -> io.NodeOutput:
        task_id = (task_id or "").strip()
        if not api.TASK_ID_PATTERN.match(task_id):
            raise ActTwoNodeError(
                "task_id: expected a Runway task id like 17f20503-6c24-4c16-946b-35dbbce2af2f, "
                f"got {task_id[:60]!r}."
            )
        node_id = _node_id(cls)
        paths = _pack_paths()
        view = ProgressView(_bar_setter(node_id), _text_setter(node_id))
        job = fetch_job(
            task_id,
            paths,
            resolve_api_key(paths.user_dir),
            float(timeout) if timeout else None,
        )
        path = await _run(
            job, paths, view, interrupted_text="Act-Two: stopped waiting; the task keeps running."
        )
        view.show(f"Act-Two: fetched task {task_id}.")
        return io.NodeOutput(_video_from_file(Path(path)))


# --- credits -----------------------------------------------------------------------------------
class RunwayActTwoCredits(io.ComfyNode):  # type: ignore[misc]
    """Shows the account's credit balance (asks Runway every time it runs)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=PACK_PREFIX + "RunwayCredits",
            display_name="Runway Act-Two: credit balance",
            category=CATEGORY,
            description=(
                "Shows your Runway credit balance and today's Act-Two usage (free; no task is "
                f"created). {_KEY_HELP}"
            ),
            inputs=[],
            outputs=[io.String.Output(display_name="balance")],
            hidden=[io.Hidden.unique_id],
            is_output_node=True,
        )

    @classmethod
    def fingerprint_inputs(cls, **kwargs: Any) -> Any:
        # Never cached: the balance changes. A NEW NaN object each time: ComfyUI compares lists of
        # fingerprints, and list equality treats the one shared ``math.nan`` as equal to itself.
        return float("nan")

    @classmethod
    async def execute(cls) -> io.NodeOutput:
        node_id = _node_id(cls)
        paths = _pack_paths()
        text_setter = _text_setter(node_id)
        view = ProgressView(None, text_setter)
        job = credits_job(paths, resolve_api_key(paths.user_dir))
        text = await _run(job, paths, view, interrupted_text="Act-Two: interrupted.")
        if text_setter is not None:
            text_setter(text)
        return io.NodeOutput(text, ui=ui.PreviewText(text))


NODES: list[type[io.ComfyNode]] = [RunwayActTwo, RunwayActTwoFetchResult, RunwayActTwoCredits]


def install_examples() -> None:
    """Put the example workflow's media into ComfyUI's input directory (see ``examples``)."""
    import logging

    import folder_paths

    getter = getattr(folder_paths, "get_input_directory", None)
    if not callable(getter):
        return
    try:
        install_example_media(Path(getter()))
    except OSError as exc:  # a read-only input dir must not stop the nodes from loading
        logging.getLogger(__name__).warning("Act-Two: example media not installed: %s", exc)


class ActTwoExtension(ComfyExtension):  # type: ignore[misc]
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return list(NODES)


__all__ = ["NODES", "ActTwoExtension", "install_examples"]

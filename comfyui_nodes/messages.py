"""Core errors -> the short sentence ComfyUI's error dialog shows.

ComfyUI puts ``str(exception)`` in a dialog, so each message answers "what happened, was money
spent, what do I do" in plain words, names node inputs as the artist sees them, and never carries
raw JSON or the key (the core already redacts; ``redact`` runs again here for anything else).
"""

from __future__ import annotations

from pathlib import Path

from .convert import ConversionError
from .core import act_two
from .keys import where_to_put_the_key

errors = act_two.errors

#: Longest message shown; the dialog is small and the full story is in ComfyUI's log.
MAX_CHARS = 900

#: Core field names -> this node's input names.
_FIELD_NAMES = {
    "character": "character_image / character_video",
    "reference": "reference_video",
    "ratio": "ratio",
    "seed": "seed",
    "expressionIntensity": "expression_intensity",
    "expression_intensity": "expression_intensity",
    "bodyControl": "body_control",
    "body_control": "body_control",
    "contentModeration.publicFigureThreshold": "public_figure_threshold",
    "public_figure_threshold": "public_figure_threshold",
}


class ActTwoNodeError(Exception):
    """What the pack raises into ComfyUI: the message is the whole story for the artist."""


def user_message(exc: BaseException, *, user_dir: Path | None = None) -> str:
    """A short, readable message for ``exc`` (never raw JSON, never the key)."""
    text = _message(exc, user_dir)
    text = errors.redact(text)
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 1].rstrip() + "…"
    return text


def to_node_error(exc: BaseException, *, user_dir: Path | None = None) -> ActTwoNodeError:
    return ActTwoNodeError(user_message(exc, user_dir=user_dir))


def _message(exc: BaseException, user_dir: Path | None) -> str:
    if isinstance(exc, ActTwoNodeError):
        return str(exc)
    if isinstance(exc, ConversionError):
        return f"{exc} Nothing was sent."
    if isinstance(exc, errors.InputValidationError):
        return _validation(exc, user_dir)
    if isinstance(exc, errors.AuthenticationError):
        return "Runway rejected the API key (wrong, revoked, or the account is suspended). " + (
            where_to_put_the_key(user_dir)
        )
    if isinstance(exc, errors.NotEnoughCreditsError):
        return (
            "Your Runway account does not have enough credits for this generation; nothing was "
            "spent. Buy credits at https://dev.runwayml.com, or use a shorter reference video."
        )
    if isinstance(exc, errors.RateLimitError):
        wait = getattr(exc, "retry_after", None)
        after = f" Try again in about {wait:.0f} s." if wait else " Try again later."
        return f"Runway is limiting requests: {_first_line(exc)}.{after}"
    if isinstance(exc, errors.SubmitAmbiguousError):
        return (
            "The connection broke while Runway was creating the task, so it may or may not exist "
            "(and may be billed). It was NOT sent again to avoid paying twice. Run "
            "`act-two jobs` / `act-two resume` from a terminal to recover it, or queue again "
            "once you have checked your Runway dashboard."
        )
    if isinstance(exc, errors.TaskFailedError):
        code = f" [{exc.failure_code}]" if exc.failure_code else ""
        why = exc.failure or _first_line(exc)
        again = (
            " This kind of failure may work if you queue again."
            if exc.retryable
            else " Change the inputs before trying again."
        )
        return f"Runway could not generate the video{code}: {why}.{again} Task {exc.task_id}."
    if isinstance(exc, errors.TaskCancelledError):
        return f"The task was cancelled on Runway (task {exc.task_id})."
    if isinstance(exc, errors.WaitTimeoutError):
        return (
            f"Stopped waiting, but the task may still be running on Runway (task {exc.task_id}). "
            "Queue the same graph again, or use 'Runway Act-Two: fetch result' with this task "
            "id, to get the video without paying again."
        )
    if isinstance(exc, errors.DownloadError):
        task = f" (task {exc.task_id})" if exc.task_id else ""
        return (
            f"The video was generated but could not be downloaded{task}: {_first_line(exc)}. "
            "Queue again or use 'Runway Act-Two: fetch result' to download it without paying "
            "again."
        )
    if isinstance(exc, errors.NetworkError):
        return f"Could not reach Runway: {_first_line(exc)}. Check the connection and queue again."
    if isinstance(exc, errors.ApiError):
        status = f" (HTTP {exc.status})" if exc.status else ""
        lines = [f"Runway refused the request{status}: {_first_line(exc)}"]
        lines += [f"- {_rename(i.render())}" for i in exc.issues]
        return "\n".join(lines)
    if isinstance(exc, errors.ActTwoError):
        return _plain(exc.message)
    return f"Runway Act-Two failed: {type(exc).__name__}: {_plain(str(exc))}"


def _validation(exc: act_two.errors.InputValidationError, user_dir: Path | None) -> str:
    problems = list(exc.problems)
    key_missing = isinstance(exc, errors.ConfigurationError) or any(
        "key" in p.field.lower() for p in problems
    )
    noun = "problem" if len(problems) == 1 else "problems"
    lines = [f"Nothing was sent to Runway and nothing was spent ({len(problems)} {noun}):"]
    lines += [f"- {_rename(p.render())}" for p in problems]
    if key_missing:
        lines.append(where_to_put_the_key(user_dir))
    return "\n".join(lines)


def _rename(text: str) -> str:
    field, sep, rest = text.partition(":")
    name = _FIELD_NAMES.get(field.strip())
    return f"{name}:{rest}" if sep and name else text


def _first_line(exc: BaseException) -> str:
    text = _plain(str(exc))
    return text.splitlines()[0].rstrip(".") if text else type(exc).__name__


def _plain(text: str) -> str:
    """Drop anything that looks like a raw JSON body; keep the sentence before it."""
    brace = min((i for i in (text.find("{"), text.find("[{")) if i >= 0), default=-1)
    if brace >= 0 and '"' in text[brace:]:
        head = text[:brace].rstrip(" :")
        return head or "the server sent an unexpected answer"
    return text.strip()

"""The typed error hierarchy that hosts map to their UI.

Every host (CLI exit codes, Blender reports, ComfyUI's error dialog) decides what to show from the
class alone, so each class answers one question for the user: fix the inputs, fix the key, buy
credits, wait, check whether a task exists, or retry. Messages are plain sentences with what to do;
none ever contains the API key (``redact`` is applied to every message built from server text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_KEY_RE = re.compile(r"key_[0-9A-Za-z]{8,}")
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[^\s\"']+")


def redact(text: str, *secrets: str | None) -> str:
    """Remove anything that looks like a Runway key, and the given secrets, from ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "key_…redacted")
    text = _BEARER_RE.sub(r"\1…redacted", text)
    return _KEY_RE.sub("key_…redacted", text)


class ActTwoError(Exception):
    """Base of every error this package raises on purpose."""

    #: Exit code of the ``act-two`` command for this kind of failure.
    exit_code: int = 3

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


# --- before any request -----------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inputs: which field, what is wrong, and what to do."""

    field: str
    message: str
    hint: str = ""

    def render(self) -> str:
        text = f"{self.field}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class InputValidationError(ActTwoError):
    """The inputs were rejected locally; nothing was sent and nothing was spent."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"- {p.render()}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(
            f"The request was not sent ({len(self.problems)} {noun}; nothing was spent):\n{lines}"
        )


class ConfigurationError(InputValidationError):
    """Missing API key, refused base URL and other setup problems found before any request."""


# --- the API answered with an error -------------------------------------------------------------
@dataclass(frozen=True)
class ApiIssue:
    """One entry of Runway's ``issues[]`` (a Zod validation issue)."""

    code: str
    path: tuple[str | int, ...]
    message: str

    def render(self) -> str:
        where = ".".join(str(p) for p in self.path) or "(body)"
        return f"{where}: {self.message or self.code}"


class ApiError(ActTwoError):
    """Runway answered with an error status."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        issues: list[ApiIssue] | None = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.issues = list(issues or [])
        self.body = body
        text = message
        if self.issues:
            text += "\n" + "\n".join(f"- {i.render()}" for i in self.issues)
        super().__init__(text)


class AuthenticationError(ApiError):
    """401: the key is wrong, disabled, or the account is suspended."""


class NotEnoughCreditsError(ApiError):
    """Runway's 400 "You do not have enough credits to run this task."."""


class RateLimitError(ApiError):
    """429 that outlived our retries, or the daily generation limit."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class TaskNotFoundError(ApiError):
    """404 on a task: it was cancelled or deleted (Runway forgets cancelled tasks)."""


class ServerError(ApiError):
    """5xx that outlived our retries (reads) or that we must not retry (creates)."""


class ResponseFormatError(ApiError):
    """The server answered 2xx with something that is not the documented shape."""


class NetworkError(ActTwoError):
    """The server could not be reached (after retries for safe requests)."""

    exit_code = 3


# --- money safety -------------------------------------------------------------------------------
class SubmitAmbiguousError(ActTwoError):
    """The create request may or may not have created a (paid) task; we did not retry it."""

    exit_code = 5

    def __init__(self, message: str, *, job_id: str | None = None) -> None:
        self.job_id = job_id
        super().__init__(message)


# --- the task ---------------------------------------------------------------------------------
class TaskFailedError(ActTwoError):
    """The task ended FAILED. ``retryable`` tells whether the same request may work later."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        task_id: str,
        failure: str = "",
        failure_code: str | None = None,
        retryable: bool = False,
    ) -> None:
        self.task_id = task_id
        self.failure = failure
        self.failure_code = failure_code
        self.retryable = retryable
        super().__init__(message)


class TaskCancelledError(ActTwoError):
    """The task was cancelled (by us, or elsewhere: Runway then answers 404)."""

    exit_code = 4

    def __init__(self, message: str, *, task_id: str) -> None:
        self.task_id = task_id
        super().__init__(message)


class WaitTimeoutError(ActTwoError):
    """We stopped waiting; the task may still be running and can be resumed."""

    exit_code = 6

    def __init__(self, message: str, *, task_id: str) -> None:
        self.task_id = task_id
        super().__init__(message)


class DownloadError(ActTwoError):
    """The result exists on Runway but could not be saved; ``act-two download`` retries it."""

    exit_code = 3

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        self.task_id = task_id
        super().__init__(message)

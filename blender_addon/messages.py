"""Turn any failure into one plain sentence for the panel and the operator report.

The core's messages already say what went wrong and what to do; this module adds where to do it
in Blender (which preference, which button) and keeps Python tracebacks out of the artist's sight.
A failure we did not foresee still becomes a sentence, with a request to report it.
"""

from __future__ import annotations

from ._core import errors

PREFS_HINT = "Edit > Preferences > Add-ons > Runway Act-Two"
ONLINE_HINT = "Edit > Preferences > System > Network > Allow Online Access"


def offline_message(override: bool) -> str:
    """Why nothing was sent while online access is off, and how to turn it on."""
    if override:
        return (
            "Blender was started in offline mode (--offline-mode), so nothing was sent to Runway. "
            "Restart Blender without --offline-mode to generate."
        )
    return f"Online access is off, so nothing was sent to Runway. Turn on {ONLINE_HINT}."


def describe(exc: BaseException) -> str:
    """One message (may span lines) for any exception a job or operator met."""
    msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(exc, errors.ConfigurationError):
        return f"{msg}\nEnter your Runway API key in {PREFS_HINT}."
    if isinstance(exc, errors.InputValidationError):
        return msg
    if isinstance(exc, errors.AuthenticationError):
        return f"Runway did not accept the API key. Check it in {PREFS_HINT}. ({msg})"
    if isinstance(exc, errors.NotEnoughCreditsError):
        return (
            "Your Runway account does not have enough credits for this video. Buy credits in the "
            "Runway developer portal, or use a shorter reference video."
        )
    if isinstance(exc, errors.RateLimitError):
        return f"Runway is limiting requests right now. Wait a little and try again. ({msg})"
    if isinstance(exc, errors.TaskFailedError):
        code = f" [{exc.failure_code}]" if exc.failure_code else ""
        advice = (
            "The same request may work if you try again later."
            if exc.retryable
            else "Change the inputs before trying again (retrying the same inputs will fail again)."
        )
        return f"Runway could not make this video{code}: {exc.failure or msg} {advice}"
    if isinstance(exc, errors.TaskCancelledError):
        return "Cancelled. Runway stopped the task."
    if isinstance(exc, errors.SubmitAmbiguousError):
        return (
            f"{msg}\nDo not press Generate again yet: open the Act-Two panel's Resume list or "
            "check your Runway dashboard first."
        )
    if isinstance(exc, errors.WaitTimeoutError):
        return f"{msg}\nThe job stays in the Resume list of the Act-Two panel."
    if isinstance(exc, errors.NetworkError):
        return f"Runway could not be reached. Check your internet connection. ({msg})"
    if isinstance(exc, errors.ActTwoError):
        return msg
    return (
        f"Unexpected error ({type(exc).__name__}: {msg}). Please report it to the add-on authors."
    )


def first_line(text: str) -> str:
    """Blender's status bar shows one line; the panel shows them all."""
    return text.strip().splitlines()[0] if text.strip() else ""

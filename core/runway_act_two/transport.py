"""One HTTP session to Runway, with a retry policy that knows a paid create from a free read.

The official SDKs retry every request on timeouts, 429 and 5xx, and send no idempotency key, so a
create that timed out after Runway accepted it is sent again and billed twice. Here the create
POST is retried only when the task was provably not created:

* 429 / 502 / 503 / 504 (rate limit and load shedding happen before the task exists), honouring
  ``retry-after-ms`` then ``Retry-After``, else capped exponential backoff with jitter;
* a connection that failed while being opened (nothing was sent), or that failed before the last
  byte of a ``CreateBody`` was handed over (a server cannot act on a request it never fully
  received).

Anything else after the body left this machine (a read timeout, a dropped connection, a 500, an
unreadable 2xx) raises ``SubmitAmbiguousError``, which says the task may exist and what to check.
Reads (GET/DELETE) are retried normally, a bounded number of times.

Response bodies are read with a size cap and parsed defensively: a hostile or broken server gets a
typed error, never a crash or a gigabyte in memory. The key lives in a ``requests`` auth object
(not in the session's headers) so nothing that prints headers or sessions shows it, and
``foreign_session()`` (presigned uploads, output downloads) never carries it at all.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import math
import platform
import random
import sys
import time
from collections.abc import Mapping
from typing import Any

import requests
import requests.adapters
import requests.auth
import urllib3.exceptions

from . import api_surface as api
from .config import Settings
from .create_body import CreateBody
from .errors import (
    ActTwoError,
    ApiError,
    ApiIssue,
    AuthenticationError,
    NetworkError,
    NotEnoughCreditsError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    SubmitAmbiguousError,
    TaskNotFoundError,
    redact,
)
from .events import CancelToken

log = logging.getLogger(__name__)

#: Largest API response body we read (a task or organization object is a few hundred bytes).
MAX_BODY_BYTES = 1024 * 1024
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
#: Create POSTs carry data URIs up to 5 MB: give the server time to fetch/validate.
CREATE_READ_TIMEOUT = 120.0
READ_RETRIES = 3
CREATE_RETRIES = 4
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
#: A server asking for a longer wait than this is not retried automatically (same as the SDK).
MAX_SERVER_DELAY = 60.0
MAX_ISSUES = 50
MAX_TEXT = 500


class _BearerAuth(requests.auth.AuthBase):
    """Adds the key at send time; its repr hides it."""

    def __init__(self, key: str | None) -> None:
        self._key = key

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._key:
            r.headers["Authorization"] = f"Bearer {self._key}"
        return r

    def __repr__(self) -> str:
        return "_BearerAuth(<hidden>)"


def default_user_agent(host: str = "cli") -> str:
    from . import __version__

    py = ".".join(str(v) for v in sys.version_info[:3])
    return f"runway-act-two/{__version__} (python {py}; {platform.system() or 'unknown'}; {host})"


def backoff_delay(attempt: int, *, rng: random.Random | None = None) -> float:
    """Capped exponential backoff with up to 25 % jitter subtracted (the SDK's formula)."""
    r = (rng or random).random()
    return min(BACKOFF_BASE * (2.0**attempt), BACKOFF_CAP) * (1.0 - 0.25 * r)


def server_delay(headers: Mapping[str, str]) -> float | None:
    """The wait a response asks for: ``retry-after-ms`` first, then ``Retry-After``."""
    raw_ms = headers.get(api.RETRY_AFTER_MS_HEADER)
    if raw_ms is not None:
        try:
            ms = float(raw_ms)
            if math.isfinite(ms) and ms >= 0:
                return ms / 1000.0
        except ValueError:
            pass
    raw = headers.get(api.RETRY_AFTER_HEADER)
    if raw is not None:
        raw = raw.strip()
        try:
            seconds = float(raw)
            if math.isfinite(seconds) and seconds >= 0:
                return seconds
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                return None
            return max(0.0, when.timestamp() - time.time())
    return None


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_issues(raw: Any) -> list[ApiIssue]:
    """Runway's Zod ``issues[]``, tolerating any shape (entries that make no sense are skipped)."""
    if not isinstance(raw, list):
        return []
    out: list[ApiIssue] = []
    for item in raw[:MAX_ISSUES]:
        if not isinstance(item, dict):
            continue
        code = item.get("code")
        message = item.get("message")
        path_raw = item.get("path")
        path: list[str | int] = []
        if isinstance(path_raw, list):
            for p in path_raw[:20]:
                if isinstance(p, bool):
                    path.append(str(p))
                elif isinstance(p, int | str):
                    path.append(p if isinstance(p, int) else _clip(p, 80))
        text = _clip(message) if isinstance(message, str) else ""
        if not text and isinstance(item.get("values"), list):
            values = ", ".join(_clip(str(v), 40) for v in item["values"][:20])
            text = f"expected one of: {values}"
        out.append(
            ApiIssue(
                code=_clip(code, 60) if isinstance(code, str) else "",
                path=tuple(path),
                message=text,
            )
        )
    return out


def _is_connect_failure(exc: BaseException) -> bool:
    """True when the connection failed while being opened: the request was never sent."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        seen: set[int] = set()
        stack: list[BaseException | None] = [exc]
        while stack:
            cur = stack.pop()
            if cur is None or id(cur) in seen:
                continue
            seen.add(id(cur))
            if isinstance(cur, urllib3.exceptions.ConnectTimeoutError):  # incl. NewConnectionError
                return True
            if isinstance(cur, urllib3.exceptions.MaxRetryError):
                stack.append(cur.reason)
            stack.extend(a for a in getattr(cur, "args", ()) if isinstance(a, BaseException))
            stack.append(cur.__cause__)
            stack.append(cur.__context__)
    return False


class _Response:
    """A fully read, size-capped response."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes, truncated: bool):
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated

    def json(self) -> Any:
        if self.truncated:
            raise ValueError("body too large")
        return jsonlib.loads(self.body.decode("utf-8"))


class Transport:
    """The only object in the package that sends requests to Runway's API host."""

    def __init__(
        self,
        settings: Settings,
        *,
        user_agent: str | None = None,
        host: str = "cli",
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.user_agent = user_agent or default_user_agent(host)
        self._rng = rng or random.Random()
        self._session = self._new_session(authorized=True)
        self._foreign: requests.Session | None = None

    def __repr__(self) -> str:
        return f"Transport(base_url={self.settings.base_url!r})"

    # -- sessions ----------------------------------------------------------------------------
    def _new_session(self, *, authorized: bool) -> requests.Session:
        s = requests.Session()
        s.headers["User-Agent"] = self.user_agent
        if authorized:
            s.headers["Accept"] = "application/json"
            s.headers[api.VERSION_HEADER] = api.API_VERSION
            s.auth = _BearerAuth(self.settings.api_key)
        # Never let urllib3 retry on its own: every retry decision is made here.
        adapter = requests.adapters.HTTPAdapter(max_retries=0)
        s.mount("https://", adapter)
        s.mount("http://", adapter)
        return s

    def foreign_session(self) -> requests.Session:
        """A session for presigned upload URLs and output downloads: never has the key."""
        if self._foreign is None:
            self._foreign = self._new_session(authorized=False)
        return self._foreign

    def close(self) -> None:
        self._session.close()
        if self._foreign is not None:
            self._foreign.close()

    def url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path

    # -- the one entry point -----------------------------------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        body: CreateBody | None = None,
        create: bool = False,
        timeout: float | None = None,
        retries: int | None = None,
        cancel: CancelToken | None = None,
    ) -> Any:
        """Send one API request and return its parsed JSON (None for an empty 2xx).

        ``body`` (a create body produced while it is sent) replaces ``json``; if the connection
        fails before its last byte was handed over, the server never had the whole request, so
        that failure counts as a safe one, like a refused connection.
        ``create=True`` applies the money-safe policy described in the module docstring.
        ``retries`` overrides the number of retries (the wait loop tolerates failures itself).
        ``cancel`` cuts backoff sleeps short.
        """
        method = method.upper()
        max_retries = (
            retries if retries is not None else (CREATE_RETRIES if create else READ_RETRIES)
        )
        read_timeout = timeout or (CREATE_READ_TIMEOUT if create else READ_TIMEOUT)
        headers = {"Accept": "*/*"} if method == "DELETE" else {}
        attempt = 0
        while True:
            try:
                resp = self._send(
                    method,
                    path,
                    json=json,
                    body=body,
                    headers=headers,
                    create=create,
                    read_timeout=read_timeout,
                )
            except requests.exceptions.RequestException as exc:
                connect_failure = _is_connect_failure(exc) or (
                    body is not None and not body.complete
                )
                if create and not connect_failure:
                    raise self._ambiguous(
                        f"the connection failed after the request was sent ({type(exc).__name__})"
                    ) from None
                if attempt < max_retries and not isinstance(exc, requests.exceptions.SSLError):
                    self._sleep(backoff_delay(attempt, rng=self._rng), cancel)
                    attempt += 1
                    continue
                raise NetworkError(self._network_message(exc)) from None

            if 200 <= resp.status < 300:
                return self._parse_success(resp, method, path, create=create)

            retryable = (
                resp.status in api.CREATE_SAFE_RETRY_STATUSES
                if create
                else resp.status in api.READ_RETRY_STATUSES
            )
            hint = resp.headers.get("x-should-retry")
            if hint == "false":
                retryable = False
            elif hint == "true" and not create:
                retryable = True
            error = self._error_for(resp, path, create=create)
            if isinstance(error, RateLimitError) and api.ERROR_DAILY_LIMIT in (error.message or ""):
                retryable = False  # waiting seconds will not lift a daily limit
            if retryable and attempt < max_retries:
                delay = server_delay(resp.headers)
                if delay is None:
                    delay = backoff_delay(attempt, rng=self._rng)
                if delay <= MAX_SERVER_DELAY:
                    log.info(
                        "%s %s answered %d; retrying in %.2f s", method, path, resp.status, delay
                    )
                    self._sleep(delay, cancel)
                    attempt += 1
                    continue
            raise error

    # -- internals ---------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        body: CreateBody | None,
        headers: dict[str, str],
        create: bool,
        read_timeout: float,
    ) -> _Response:
        # A create goes out on a fresh connection: a pooled keep-alive connection the server
        # already closed would fail in a way we could not tell from "sent, then dropped".
        session = self._new_session(authorized=True) if create else self._session
        started = time.monotonic()
        try:
            if body is not None:  # sent with its Content-Length, encoded as it goes out
                headers = {**headers, "Content-Type": "application/json"}
            r = session.request(
                method,
                self.url(path),
                json=json if body is None else None,
                data=body,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, read_timeout),
                allow_redirects=False,
                stream=True,
            )
            try:
                answer, truncated = _read_capped(r)
            finally:
                r.close()
        finally:
            if create:
                session.close()
        log.debug("%s %s -> %d (%.3f s)", method, path, r.status_code, time.monotonic() - started)
        return _Response(r.status_code, r.headers, answer, truncated)

    def _sleep(self, seconds: float, cancel: CancelToken | None) -> None:
        if cancel is not None:
            cancel.wait(seconds)
        else:
            time.sleep(max(0.0, seconds))

    def _secret(self, text: str) -> str:
        return redact(text, self.settings.api_key)

    def _scrub_body(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """The error body with any key-like text removed (hosts may log ``exc.body``)."""
        try:
            scrubbed = jsonlib.loads(self._secret(jsonlib.dumps(body)))
        except (TypeError, ValueError):
            return None
        return scrubbed if isinstance(scrubbed, dict) else None

    def _network_message(self, exc: BaseException) -> str:
        host = self.settings.base_url
        kind = type(exc).__name__
        if isinstance(exc, requests.exceptions.SSLError):
            return f"Could not establish a secure connection to {host} ({kind}); check the base URL"
        return (
            f"Could not reach {host} ({kind}). Check your internet connection, proxy settings "
            "and the base URL, then try again."
        )

    def _ambiguous(self, why: str) -> SubmitAmbiguousError:
        return SubmitAmbiguousError(
            f"The create request may or may not have created a task: {why}. It was NOT retried, "
            "so you are not billed twice. Check your tasks on https://dev.runwayml.com/ (usage) "
            "before submitting again; `act-two jobs` lists this attempt as 'ambiguous'."
        )

    def _parse_success(self, resp: _Response, method: str, path: str, *, create: bool) -> Any:
        if not resp.body.strip() and not resp.truncated:
            if create:
                raise self._ambiguous(f"the server answered {resp.status} with an empty body")
            return None
        try:
            return resp.json()
        except (ValueError, UnicodeDecodeError):
            if create:
                raise self._ambiguous(
                    f"the server answered {resp.status} with a body that is not JSON"
                ) from None
            raise ResponseFormatError(
                f"{method} {path} answered {resp.status} with a body that is not JSON",
                status=resp.status,
            ) from None

    def _error_for(self, resp: _Response, path: str, *, create: bool) -> ActTwoError:
        status = resp.status
        try:
            body: Any = resp.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        server_text = ""
        issues: list[ApiIssue] = []
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, str):
                server_text = _clip(err)
            elif isinstance(err, dict) and isinstance(err.get("message"), str):
                server_text = _clip(err["message"])
            issues = parse_issues(body.get("issues"))
        elif not resp.truncated and resp.body:
            try:
                server_text = _clip(resp.body.decode("utf-8", "replace").strip(), 200)
            except Exception:  # pragma: no cover - decode with "replace" does not raise
                server_text = ""
        server_text = self._secret(server_text)
        issues = [ApiIssue(i.code, i.path, self._secret(i.message)) for i in issues]
        safe_body = self._scrub_body(body) if isinstance(body, dict) else None
        said = f": {server_text}" if server_text else ""
        if create and status >= 500 and status not in api.CREATE_SAFE_RETRY_STATUSES:
            return self._ambiguous(f"the server answered {status}{said}")
        if status == 401:
            return AuthenticationError(
                f"Runway rejected the API key (401){said}. Check the key "
                f"({self.settings.key_source}): it must be a current key from "
                "https://dev.runwayml.com/, pasted without spaces.",
                status=status,
                body=safe_body,
            )
        if status == 400 and (
            server_text == api.ERROR_NOT_ENOUGH_CREDITS or "enough credits" in server_text.lower()
        ):
            return NotEnoughCreditsError(
                f"Not enough credits{said} Buy credits at https://dev.runwayml.com/ "
                "(billing), then run the same command again.",
                status=status,
                body=safe_body,
            )
        if status == 429:
            return RateLimitError(
                f"Runway is rate-limiting this account (429){said}. Wait a little and try "
                "again; a daily generation limit resets within 24 hours.",
                retry_after=server_delay(resp.headers),
                status=status,
                body=safe_body,
            )
        if status == 404:
            return TaskNotFoundError(f"Not found (404){said}", status=status, body=safe_body)
        if status >= 500:
            return ServerError(
                f"Runway had a server problem ({status}){said}. Try again in a few minutes.",
                status=status,
                body=safe_body,
            )
        if status == 400 and issues:
            head = server_text or "The request was rejected"
            return ApiError(
                f"Runway rejected the request (400): {head}",
                status=status,
                issues=issues,
                body=safe_body,
            )
        return ApiError(
            f"Runway answered {status}{said or ' with an error'} for {path}",
            status=status,
            issues=issues,
            body=safe_body,
        )


def _read_capped(r: requests.Response) -> tuple[bytes, bool]:
    """Read at most MAX_BODY_BYTES; the flag says whether the body was longer."""
    chunks: list[bytes] = []
    total = 0
    for chunk in r.iter_content(chunk_size=64 * 1024):
        if not chunk:
            continue
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_BODY_BYTES:
            return b"".join(chunks)[:MAX_BODY_BYTES], True
    return b"".join(chunks), False

"""The HTTP layer: Runway's Act-Two routes, the storage/CDN stand-ins, and the control API.

``Handler`` routes each request, enforces auth and the version header, applies scripted faults,
answers in Runway's shapes and logs the request (before answering, so tests that read the log
right after a request returned always see it). Served paths:
- ``/v1/...``: the API (auth + version enforced, Runway's status codes and body shapes);
- ``/_uploads/<id>`` and ``/_outputs/<id>.mp4``: stand-ins for the presigned upload target and
  the CDN that serves outputs (token-protected, expiring, HEAD + Range);
- ``/_sandbox/...``: the control API tests and scripts use (faults, log, tasks, reset, config).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .. import api_surface as api
from ..errors import redact
from . import contract
from .assets import AssetError, check_reference_duration, resolve
from .faults import Fault
from .state import SandboxState
from .uploads import MultipartError, UploadTooLarge, parse_boundary

_log = logging.getLogger("runway_act_two.sandbox")
CONTROL_PREFIX = "/_sandbox/"
MAX_JSON_BODY = 64 * 1024 * 1024  # two 5 MB data URIs fit many times over
_TASK_PATH = re.compile(r"^/v1/tasks/([^/]+)$")
_OUTPUT_PATH = re.compile(r"^/_outputs/([0-9a-fA-F-]{36})\.mp4$")
_UPLOAD_PATH = re.compile(r"^/_uploads/([0-9a-fA-F-]{36})$")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def json_reply(status: int, obj: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(obj).encode(), dict(headers or {}))


def error_reply(status: int, message: str, **extra: Any) -> Reply:
    return json_reply(status, {"error": message, **extra})


class _Drop(Exception):
    """Close the connection without answering (a scripted network failure)."""


class _IncompleteBody(Exception):
    """The connection ended before the announced ``Content-Length`` arrived."""


class SandboxHTTPServer(ThreadingHTTPServer):
    """A thread per connection (keep-alive clients, slow fault delays) that never blocks exit."""

    daemon_threads = True
    allow_reuse_address = True
    state: SandboxState
    stop_event: threading.Event


class Handler(BaseHTTPRequestHandler):
    """One request: route, enforce auth/version, apply faults, answer, log."""

    protocol_version = "HTTP/1.1"
    server_version = "RunwaySandbox/0.1"
    # Headers and body leave in two writes. With Nagle's algorithm on, the second waits for the
    # client's delayed ACK of the first on a kept-alive connection: 40 ms added to every reused
    # request, which no real API front end shows (and which every latency figure would carry).
    disable_nagle_algorithm = True
    server: SandboxHTTPServer
    _entry: dict[str, Any]
    _started: float
    _committed: bool

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request stderr lines; the request log has them."""

    # Every method goes through one dispatcher.
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    # --- plumbing ----------------------------------------------------------------------------
    @property
    def state(self) -> SandboxState:
        return self.server.state

    def _route(self, path: str) -> tuple[str, tuple[str, ...], str | None]:
        """(endpoint name, allowed methods, path parameter)."""
        if path == api.PATH_CHARACTER_PERFORMANCE:
            return "create", ("POST",), None
        m = _TASK_PATH.match(path)
        if m:
            return "task", ("GET", "DELETE"), m.group(1)
        if path == api.PATH_UPLOADS:
            return "uploads", ("POST",), None
        if path == api.PATH_ORGANIZATION:
            return "organization", ("GET",), None
        if path == api.PATH_ORGANIZATION_USAGE:
            return "usage", ("POST",), None
        m = _UPLOAD_PATH.match(path)
        if m:
            return "upload_target", ("POST",), m.group(1)
        m = _OUTPUT_PATH.match(path)
        if m:
            return "output", ("GET", "HEAD"), m.group(1)
        if path.startswith(CONTROL_PREFIX):
            return "control", ("GET", "POST", "DELETE"), path[len(CONTROL_PREFIX) :]
        return "unknown", (), None

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                return self._read_chunked()
            return b""
        n = int(length)
        if n > MAX_JSON_BODY:
            raise ValueError("body too large")
        raw = self.rfile.read(n)
        if len(raw) < n:
            raise _IncompleteBody
        return raw

    def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline()
            if len(out) > MAX_JSON_BODY:
                raise ValueError("body too large")

    def _send(self, reply: Reply, *, head_only: bool = False) -> None:
        self._commit(reply.status)
        self.send_response(reply.status)
        if reply.status != 204:
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if reply.body and not head_only and reply.status != 204:
            self.wfile.write(reply.body)

    def _drop(self) -> None:
        self._commit(None)
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.server_stop.wait(seconds)

    @property
    def server_stop(self) -> threading.Event:
        return self.server.stop_event

    # --- the dispatcher -------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        started = time.perf_counter()
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        kind, methods, param = self._route(path)
        endpoint = kind
        if kind == "task":
            endpoint = "task_delete" if method == "DELETE" else "task_get"
        entry: dict[str, Any] = {
            "time": time.time(),
            "method": method,
            "path": _redact_query(url),
            "endpoint": endpoint,
            "status": None,
            "fault": None,
            "authorization": redact(self.headers.get("Authorization", "")) or None,
            "retry_count": self.headers.get("X-Stainless-Retry-Count"),
        }
        self._entry, self._started, self._committed = entry, started, kind == "control"
        self._received: float | None = None
        try:
            reply = self._handle(method, kind, methods, param, url, entry)
            if reply is not None:
                self._send(reply, head_only=method == "HEAD")
        except _Drop:
            self._drop()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as exc:  # a sandbox bug: answer 500 rather than drop the connection
            _log.exception("sandbox error on %s %s", method, entry["path"])
            self.close_connection = True
            if not self._committed:
                with contextlib.suppress(OSError):
                    self._send(error_reply(500, f"Sandbox internal error: {type(exc).__name__}"))
        finally:
            self._commit(None)

    def _commit(self, status: int | None) -> None:
        """Log the request BEFORE the client can see the answer, so a test reading the log
        right after its request returned always finds it."""
        if self._committed:
            return
        self._committed = True
        self._entry["status"] = status
        now = time.perf_counter()
        self._entry["duration_ms"] = round((now - self._started) * 1000, 2)
        # From the last body byte to the answer: the server's own time (benchmarks subtract it).
        if self._received is not None:
            self._entry["work_ms"] = round((now - self._received) * 1000, 2)
        self.state.record(self._entry)

    def _handle(
        self,
        method: str,
        kind: str,
        methods: tuple[str, ...],
        param: str | None,
        url: urllib.parse.SplitResult,
        entry: dict[str, Any],
    ) -> Reply | None:
        if kind == "upload_target" and method in methods:
            raw = b""  # streamed to disk by its handler
        else:
            if kind not in ("control", "unknown", "output"):
                early = self.state.faults.take(entry["endpoint"], actions=("drop_receiving",))
                if early is not None:
                    entry["fault"] = early.action
                    self._sleep(early.delay)
                    length = int(self.headers.get("Content-Length") or 0)
                    self.rfile.read(min(length, early.after_bytes))
                    raise _Drop
            try:
                raw = self._read_body()
            except ValueError:
                self.close_connection = True
                return error_reply(413, "Request body too large")
            except _IncompleteBody:  # the client hung up mid-body: nothing to act on
                entry["incomplete_body"] = True
                raise _Drop from None
            self._received = time.perf_counter()
        if kind == "unknown":
            return error_reply(404, f"Not found: {method} {url.path}")
        if method not in methods:
            reply = error_reply(405, f"Method {method} is not allowed on {url.path}")
            reply.headers["Allow"] = ", ".join(methods)
            return reply
        if kind == "control":
            return self._control(method, param or "", raw)
        if kind == "create":  # lets tests spot a client re-sending the same paid request
            entry["body_sha256"] = hashlib.sha256(raw).hexdigest()
        endpoint = entry["endpoint"]
        if kind not in ("upload_target", "output"):
            problem = self._check_auth()
            if problem is not None:
                return problem
        fault = self.state.faults.take(endpoint)
        if fault is not None:
            entry["fault"] = fault.action
            self._sleep(fault.delay)
            if fault.action == "drop_before":
                raise _Drop
            if fault.action == "status" and fault.when == "before":
                if kind == "upload_target":
                    self.close_connection = True  # the unread upload body
                return _fault_reply(fault)
        if kind == "output":
            return self._output(method, param or "", url, fault)
        work = self._work(kind, method, param, raw, entry)
        if fault is not None and fault.action == "drop_after":
            raise _Drop
        if fault is not None and fault.action == "status" and fault.when == "after":
            return _fault_reply(fault)
        return work

    def _work(
        self, kind: str, method: str, param: str | None, raw: bytes, entry: dict[str, Any]
    ) -> Reply | None:
        if kind == "upload_target":
            return self._upload_target(param or "")
        body: Any = None
        if method == "POST":
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    return error_reply(400, "Request body is not valid JSON")
            else:
                body = {}
        if kind == "create":
            return self._create(body, entry)
        if kind == "task":
            return self._task(method, param or "")
        if kind == "uploads":
            issues = contract.check_upload(body)
            if issues:
                return json_reply(400, contract.validation_body(issues))
            return json_reply(200, self.state.uploads.create(body["filename"], self.state.base_url))
        if kind == "organization":
            return json_reply(200, self.state.account.organization())
        if kind == "usage":
            return self._usage(body)
        return error_reply(404, "Not found")

    def _discard_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_JSON_BODY:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                break
            length -= len(chunk)

    def _check_auth(self) -> Reply | None:
        auth = self.headers.get("Authorization", "")
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        required = self.state.config.required_api_key
        ok = scheme.lower() == "bearer" and bool(api.API_KEY_PATTERN.match(key))
        if ok and required is not None:
            ok = hmac.compare_digest(key, required)
        if not ok:
            return error_reply(401, api.ERROR_UNAUTHORIZED)
        if self.headers.get(api.VERSION_HEADER) != api.API_VERSION:
            return error_reply(self.state.config.version_error_status, api.ERROR_BAD_VERSION)
        return None

    # --- API routes ---------------------------------------------------------------------------
    def _create(self, body: Any, entry: dict[str, Any]) -> Reply:
        st = self.state
        issues = contract.check_character_performance(body)
        if issues:
            return json_reply(400, contract.validation_body(issues))
        cfg = st.config
        assets = {}
        for name, kind in (("character", body["character"]["type"]), ("reference", "video")):
            try:
                assets[name] = resolve(
                    body[name]["uri"],
                    kind,
                    inputs_dir=st.inputs_dir,
                    uploads=st.uploads,
                    upload_ttl=cfg.upload_ttl_seconds,
                    url_map=cfg.url_map,
                )
            except AssetError as exc:
                issues.append(contract.custom([name, "uri"], str(exc)))
        if "reference" in assets:
            duration = assets["reference"].facts.duration or 0.0
            why = check_reference_duration(duration)
            if why:
                issues.append(contract.custom(["reference", "uri"], why))
        if issues:
            for a in assets.values():
                if a.temporary:
                    a.path.unlink(missing_ok=True)
            return json_reply(400, contract.validation_body(issues))
        ref = assets["reference"]
        duration = min(ref.facts.duration or 0.0, api.REFERENCE_MAX_SECONDS)
        credits = api.estimated_credits(duration)
        refusal = st.account.try_spend(credits)
        if refusal is not None:
            for a in assets.values():
                if a.temporary:
                    a.path.unlink(missing_ok=True)
            if refusal == "daily":
                return error_reply(429, api.ERROR_DAILY_LIMIT)
            return error_reply(400, api.ERROR_NOT_ENOUGH_CREDITS, docUrl=api.DOC_URL)
        planned = st.faults.take("create", actions=("fail_task",))
        rec = st.tasks.create(
            estimated_credits=credits,
            ratio=body.get("ratio", api.DEFAULT_RATIO),
            character_path=assets["character"].path,
            character_kind=body["character"]["type"],
            reference_path=ref.path,
            reference_duration=duration,
            reference_has_audio=ref.facts.has_audio,
            planned_failure=(planned.failure_code, planned.failure) if planned else None,
            temp_inputs=[a.path for a in assets.values() if a.temporary],
        )
        entry["task_id"] = rec.id
        return json_reply(200, {"id": rec.id, "estimatedCost": {"credits": credits}})

    def _task(self, method: str, task_id: str) -> Reply:
        st = self.state
        if not api.TASK_ID_PATTERN.match(task_id):
            issue = {
                "code": "invalid_format",
                "format": "uuid",
                "path": ["id"],
                "message": "Invalid UUID",
            }
            return json_reply(
                400,
                {"error": "Validation of params failed", "issues": [issue], "docUrl": api.DOC_URL},
            )
        if method == "DELETE":
            if st.tasks.delete(task_id):
                return Reply(204)
            return error_reply(404, api.ERROR_TASK_NOT_FOUND)
        view = st.tasks.view(task_id, st.output_urls)
        if view is None:
            return error_reply(404, api.ERROR_TASK_NOT_FOUND)
        return json_reply(200, view)

    def _usage(self, body: Any) -> Reply:
        import datetime as dt

        issues = contract.check_usage(body)
        if not issues:
            start, before = body.get("startDate"), body.get("beforeDate")
            if start and before:
                span = dt.date.fromisoformat(before) - dt.date.fromisoformat(start)
                if span.days > api.USAGE_MAX_DAYS or span.days < 1:
                    issues.append(
                        contract.custom(
                            ["beforeDate"],
                            f"beforeDate must be 1 to {api.USAGE_MAX_DAYS} days after startDate",
                        )
                    )
        if issues:
            return json_reply(400, contract.validation_body(issues))
        return json_reply(
            200, self.state.account.usage(body.get("startDate"), body.get("beforeDate"))
        )

    # --- storage stand-ins --------------------------------------------------------------------
    def _upload_target(self, upload_id: str) -> Reply:
        st = self.state
        up = st.uploads.get(upload_id)
        length_h = self.headers.get("Content-Length")
        if up is None:
            self._discard_body()
            return Reply(404, b"<Error><Code>NoSuchUpload</Code></Error>", {}, "application/xml")
        if length_h is None:
            self.close_connection = True
            return Reply(
                411, b"<Error><Code>MissingContentLength</Code></Error>", {}, "application/xml"
            )
        length = int(length_h)
        try:
            boundary = parse_boundary(self.headers.get("Content-Type", ""))
            fields, file_path, size = _read_upload(self, length, boundary)
            self._received = time.perf_counter()
        except UploadTooLarge:
            return Reply(400, b"<Error><Code>EntityTooLarge</Code></Error>", {}, "application/xml")
        except MultipartError as exc:
            self.close_connection = True
            msg = f"<Error><Code>MalformedPOSTRequest</Code><Message>{exc}</Message></Error>"
            return Reply(400, msg.encode(), {}, "application/xml")
        if not st.uploads.check_fields(upload_id, fields):
            if file_path is not None:
                file_path.unlink(missing_ok=True)
            return Reply(403, b"<Error><Code>AccessDenied</Code></Error>", {}, "application/xml")
        if file_path is None:
            return Reply(400, b"<Error><Code>MissingFile</Code></Error>", {}, "application/xml")
        st.uploads.store(upload_id, file_path, size)
        return Reply(204)

    def _output(
        self, method: str, task_id: str, url: urllib.parse.SplitResult, fault: Fault | None
    ) -> Reply | None:
        st = self.state
        token = urllib.parse.parse_qs(url.query).get("_jwt", [""])[0]
        why = st.check_token(task_id, token)
        if fault is not None and fault.action == "expire_token":
            why = "expired"
        if why is not None:
            msg = "The URL has expired; fetch the task again for a fresh output URL."
            if why == "invalid":
                msg = "The URL's token is not valid."
            return error_reply(403, msg)
        rec = st.tasks.get(task_id)
        if (
            rec is None
            or rec.status != api.STATUS_SUCCEEDED
            or rec.output_path is None
            or not rec.output_path.exists()
        ):
            return error_reply(404, "Not found")
        path = rec.output_path
        size = path.stat().st_size
        start, end = 0, size - 1
        status = 200
        headers = {"Accept-Ranges": "bytes", "Content-Type": "video/mp4"}
        rng = self.headers.get("Range")
        if rng:
            parsed = _parse_range(rng, size)
            if parsed is None:
                return Reply(416, b"", {"Content-Range": f"bytes */{size}"}, "text/plain")
            start, end = parsed
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = end - start + 1
        self._commit(status)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if method == "HEAD":
            return None
        limit = length
        if fault is not None and fault.action == "truncate":
            limit = min(length, max(0, fault.after_bytes))
        rate = st.config.output_bytes_per_second
        began = time.monotonic()
        with path.open("rb") as fh:
            fh.seek(start)
            left = limit
            while left > 0:
                chunk = fh.read(min(left, 1 << 16))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
                if rate:  # paced like a network link: never ahead of rate * elapsed
                    self._sleep(began + (limit - left) / rate - time.monotonic())  # wakes on stop
        if limit < length:
            raise _Drop
        return None

    # --- control --------------------------------------------------------------------------------
    def _control(self, method: str, what: str, raw: bytes) -> Reply:
        st = self.state
        try:
            body: Any = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            return error_reply(400, f"bad control request: {exc}")
        try:
            if what == "health":
                return json_reply(200, {"ok": True})
            if what == "log":
                return json_reply(200, {"requests": st.log(), "counts": st.counts()})
            if what == "faults":
                if method == "POST":
                    st.faults.add(body)
                elif method == "DELETE":
                    st.faults.clear()
                return json_reply(200, {"faults": st.faults.pending()})
            if what == "reset" and method == "POST":
                st.reset()
                return json_reply(200, {"ok": True})
            if what == "config":
                if method == "POST":
                    balance = body.pop("creditBalance", None)
                    st.config.update(body)
                    if "credit_balance" in body:
                        st.account.set_balance(st.config.credit_balance)
                    if balance is not None:
                        st.account.set_balance(int(balance))
                return json_reply(200, st.config.to_dict())
            if what == "tasks":
                return json_reply(200, {"tasks": st.tasks.internal()})
            if what.startswith("tasks/"):
                found = st.tasks.internal(what[len("tasks/") :])
                if not found:
                    return error_reply(404, api.ERROR_TASK_NOT_FOUND)
                return json_reply(200, found[0])
        except ValueError as exc:
            return error_reply(400, str(exc))
        return error_reply(404, f"unknown control endpoint {CONTROL_PREFIX}{what}")


def _read_upload(
    handler: Handler, length: int, boundary: bytes
) -> tuple[dict[str, str], Path | None, int]:
    from .uploads import read_multipart

    st = handler.state
    if length > api.UPLOAD_MAX_BYTES + 1024 * 1024:
        handler.close_connection = True  # the body is not read: the connection is unusable
        raise UploadTooLarge("too large")
    return read_multipart(handler.rfile, length, boundary, st.uploads.root, api.UPLOAD_MAX_BYTES)


def _fault_reply(fault: Fault) -> Reply:
    body, ctype = fault.response_body()
    return Reply(
        fault.status, body if fault.status != 204 else b"", fault.response_headers(), ctype
    )


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One ``bytes=a-b`` / ``a-`` / ``-n`` range, clamped; None if unsatisfiable/unsupported."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            n = int(last)
            if n <= 0:
                return None
            return max(0, size - n), size - 1
        a = int(first)
        b = int(last) if last else size - 1
    except ValueError:
        return None
    if a >= size or b < a:
        return None
    return a, min(b, size - 1)


def _redact_query(url: urllib.parse.SplitResult) -> str:
    if not url.query:
        return url.path
    q = re.sub(r"(_jwt=)[^&]+", r"\1…", url.query)
    return f"{url.path}?{q}"

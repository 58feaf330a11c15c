"""The ``act-two`` command: a thin argparse layer over ``ActTwoClient``.

Command names, options and exit codes are a contract other tools script against (see
docs/cli.md): 0 success, 2 rejected before any request, 3 API error, 4 task failed or cancelled,
5 submit ambiguous, 6 timed out (the task may still run). Every command takes ``--json``.
``--sandbox`` runs the command against an embedded local sandbox (no key, no network, nothing
billed), which is how the README's first command works on a fresh machine.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any, TextIO

from . import __version__
from . import api_surface as api
from .client import ActTwoClient, JobResult
from .config import (
    Settings,
    clean_key,
    clear_api_key,
    config_file,
    data_dir,
    resolve_settings,
    save_api_key,
)
from .errors import ActTwoError, InputValidationError, SubmitAmbiguousError
from .events import CancelToken, JobEvent
from .journal import JOURNAL_FILE, JobRecord
from .polling import PollConfig
from .request import ActTwoRequest, MediaSource
from .task import Task

#: Embedded sandbox timing for ``--sandbox``: quick, but slow enough to see the bar move.
SANDBOX_TICK = 0.5
SANDBOX_TASK_SECONDS = 4.0

EPILOG = """\
examples:
  # try everything locally first: no key, no network, nothing billed
  act-two generate --sandbox --yes --character examples/character.png \\
      --reference examples/reference.mp4 --output out/act_two_sandbox_preview.mp4

  # the real thing (the key comes from RUNWAYML_API_SECRET or the config file)
  export RUNWAYML_API_SECRET=key_...
  act-two generate --character face.png --reference take3.mp4 --output take3_act_two.mp4
  act-two credits                  # balance, act_two limits, today's usage
  act-two jobs                     # the local journal of every paid job
  act-two resume                   # finish jobs interrupted by a crash or a timeout

exit codes: 0 ok, 2 rejected before any request (nothing spent), 3 API error,
            4 task failed or cancelled, 5 submit ambiguous (check before retrying),
            6 timed out waiting (the task may still run: `act-two resume`)
"""


# -- argument parsing ---------------------------------------------------------------------------
def _common(json_only: bool = False) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--json", action="store_true", help="print a machine-readable JSON result")
    if json_only:
        return p
    g = p.add_argument_group("connection")
    g.add_argument(
        "--sandbox",
        action="store_true",
        help="run against an embedded local sandbox (no key, no network, free)",
    )
    g.add_argument(
        "--base-url",
        metavar="URL",
        help=f"API base URL (default: ${api.ENV_BASE_URL} or {api.DEFAULT_BASE_URL})",
    )
    g.add_argument(
        "--api-key",
        metavar="KEY",
        help=f"API key (discouraged: prefer ${api.ENV_API_KEY} or the config file; "
        "a key on the command line lands in your shell history)",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="act-two",
        description="Runway Act-Two from the command line: animate a character image or video "
        "with a reference performance. Checks every input before anything is sent, "
        "submits exactly once, waits, downloads, and journals every paid job.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"act-two {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser(
        "generate",
        parents=[common],
        help="make one Act-Two video (asks before spending)",
        description="Check the inputs, show the estimated cost, submit, wait, and download.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument(
        "--character",
        required=True,
        metavar="PATH|URL",
        help="character image (JPEG/PNG/WebP) or video (MP4/MOV/WebM)",
    )
    g.add_argument(
        "--reference", required=True, metavar="PATH|URL", help="reference performance video, 3-30 s"
    )
    g.add_argument("--output", "-o", required=True, metavar="PATH", help="where to save the MP4")
    g.add_argument("--ratio", choices=api.RATIOS, help="output size (default: Runway's)")
    g.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help=f"{api.SEED_MIN}..{api.SEED_MAX}; same seed + inputs = same result",
    )
    g.add_argument(
        "--body-control",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also transfer body movement, not only the face",
    )
    g.add_argument(
        "--expression-intensity",
        type=int,
        metavar="N",
        help=f"{api.EXPRESSION_INTENSITY_MIN}..{api.EXPRESSION_INTENSITY_MAX} "
        f"(Runway's default {api.EXPRESSION_INTENSITY_DEFAULT})",
    )
    g.add_argument(
        "--public-figure-threshold",
        choices=api.PUBLIC_FIGURE_THRESHOLDS,
        help="content moderation for recognizable people (low = less strict)",
    )
    g.add_argument(
        "--character-kind",
        choices=api.CHARACTER_TYPES,
        help="force image/video (default: sniffed from the content)",
    )
    g.add_argument("--yes", "-y", action="store_true", help="do not ask before spending")
    g.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="stop waiting after S seconds (the task keeps running; resume later)",
    )

    s = sub.add_parser("status", parents=[common], help="show a task's status")
    s.add_argument("task_id", metavar="ID")
    c = sub.add_parser(
        "cancel", parents=[common], help="cancel a running task (or delete a finished one)"
    )
    c.add_argument("task_id", metavar="ID")
    d = sub.add_parser("download", parents=[common], help="download a finished task's video")
    d.add_argument("task_id", metavar="ID")
    d.add_argument("--output", "-o", required=True, metavar="PATH")
    sub.add_parser("jobs", parents=[common], help="list the local journal of jobs")
    r = sub.add_parser(
        "resume", parents=[common], help="finish unfinished jobs (wait and download)"
    )
    r.add_argument("job_id", nargs="?", metavar="JOB_ID", help="only this job (default: all)")
    r.add_argument("--timeout", type=float, metavar="S", help="per job")
    sub.add_parser("credits", parents=[common], help="credit balance, limits, today's usage")
    cfg = sub.add_parser(
        "config",
        parents=[_common(json_only=True)],
        help="show where settings live; store the API key in the config file",
        description="Without options: where the key comes from (never the key itself), the base "
        "URL, the config file and the journal. --set-key reads the key from a hidden prompt or "
        "from standard input (`act-two config --set-key < keyfile`), never from an argument.",
    )
    kg = cfg.add_mutually_exclusive_group()
    kg.add_argument("--set-key", action="store_true", help="store the API key (mode 0600)")
    kg.add_argument("--clear-key", action="store_true", help="remove the stored API key")
    sub.add_parser(
        "sandbox",
        help="run the local sandbox server (see `act-two sandbox --help`)",
        add_help=False,
    )
    return parser


# -- output helpers -----------------------------------------------------------------------------
def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True, default=str))


def _error_json(exc: ActTwoError) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ok": False,
        "error": type(exc).__name__,
        "message": exc.message,
        "exit_code": exc.exit_code,
    }
    for attr in ("task_id", "job_id", "failure_code", "status", "retryable"):
        value = getattr(exc, attr, None)
        if value is not None:
            out[attr] = value
    if isinstance(exc, InputValidationError):
        out["problems"] = [
            {"field": p.field, "message": p.message, "hint": p.hint} for p in exc.problems
        ]
    issues = getattr(exc, "issues", None)
    if issues:
        out["issues"] = [
            {"code": i.code, "path": list(i.path), "message": i.message} for i in issues
        ]
    return out


def _task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "status": task.status,
        "createdAt": task.created_at,
        "progress": task.progress,
        "output": task.output,
        "failure": task.failure,
        "failureCode": task.failure_code,
        "estimatedCredits": task.estimated_credits,
        "costCredits": task.cost_credits,
    }


def _result_json(r: JobResult) -> dict[str, Any]:
    return {
        "ok": True,
        "job_id": r.job_id,
        "task_id": r.task_id,
        "output": str(r.output_path),
        "sidecar": str(r.sidecar_path),
        "estimated_credits": r.estimated_credits,
        "cost_credits": r.cost_credits,
        "seed": r.seed,
        "reused": r.reused,
    }


def _credits(c: float | None) -> str:
    return "?" if c is None else f"{c:g} credits (${c * api.USD_PER_CREDIT:.2f})"


class ProgressView:
    """A hand-written progress bar on stderr (tqdm is not in Blender; this is all we need)."""

    WIDTH = 28

    def __init__(self, stream: TextIO, *, enabled: bool = True) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.enabled = enabled
        self._last_line = ""
        self._drawn = False

    def __call__(self, ev: JobEvent) -> None:
        if not self.enabled:
            return
        frac = ev.progress
        if ev.kind == "status" and ev.status in (api.STATUS_PENDING, api.STATUS_THROTTLED):
            frac = 0.0
        label = ev.describe()
        if self.tty:
            bar = ""
            if frac is not None and ev.kind in ("status", "uploading", "downloading", "done"):
                n = round(max(0.0, min(1.0, frac)) * self.WIDTH)
                bar = "[" + "#" * n + "-" * (self.WIDTH - n) + "] "
            line = f"\r{bar}{label}"
            pad = max(0, len(self._last_line) - len(line))
            self.stream.write(line + " " * pad)
            self.stream.flush()
            self._last_line = line
            self._drawn = True
            if ev.kind in ("done", "reused"):
                self.finish()
        else:
            # Logs and pipes: one line per change of phase/status, not per interpolation.
            key = f"{ev.kind}:{ev.status}"
            if key != self._last_line:
                self._last_line = key
                self.stream.write(label + "\n")
                self.stream.flush()

    def finish(self) -> None:
        if self._drawn and self.tty:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


# -- client construction ------------------------------------------------------------------------
class _Session:
    """The client for one command, with the embedded sandbox when ``--sandbox`` is given."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.sandbox: Any = None
        if getattr(args, "sandbox", False):
            from .sandbox import Sandbox, SandboxConfig

            self.sandbox = Sandbox(
                SandboxConfig(tick_seconds=SANDBOX_TICK, task_seconds=SANDBOX_TASK_SECONDS)
            ).start()
            settings = Settings(
                api_key=self.sandbox.api_key, base_url=self.sandbox.base_url, key_source="sandbox"
            )
            # Sandbox jobs live in their own journal: they vanish with the embedded server.
            self.client = ActTwoClient(
                settings=settings,
                data_dir=data_dir() / "sandbox",
                poll=PollConfig(cadence=SANDBOX_TICK),
            )
        else:
            self.client = ActTwoClient(api_key=args.api_key, base_url=args.base_url)

    def close(self) -> None:
        self.client.close()
        if self.sandbox is not None:
            self.sandbox.stop()


def _install_sigint(token: CancelToken, err: TextIO) -> Any:
    """First Ctrl-C cancels the job (DELETE on Runway); a second one aborts at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        err.write("\nCancelling (press Ctrl-C again to abort without cancelling)...\n")
        token.cancel()

    try:
        return signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (embedded use)
        return None


# -- commands -----------------------------------------------------------------------------------
def _request_from(args: argparse.Namespace) -> ActTwoRequest:
    return ActTwoRequest(
        character=MediaSource.parse(args.character),
        reference=MediaSource.parse(args.reference),
        character_kind=args.character_kind,
        ratio=args.ratio,
        seed=args.seed,
        body_control=args.body_control,
        expression_intensity=args.expression_intensity,
        public_figure_threshold=args.public_figure_threshold,
    )


def _confirm(
    args: argparse.Namespace,
    client: ActTwoClient,
    request: ActTwoRequest,
    sandbox: bool,
    err: TextIO,
) -> bool:
    checked = client.check(request)
    credits = checked.estimated_credits
    secs = checked.reference_seconds
    what = (
        f"about {_credits(credits)} for a {secs:.1f} s reference"
        if credits is not None and secs is not None
        else f"{api.CREDITS_PER_SECOND} credits per second of the reference video"
    )
    if sandbox:
        what += " (sandbox: nothing is charged)"
    if args.yes or not sys.stdin.isatty():
        err.write(f"Estimated cost: {what}\n")
        return True
    err.write(f"This Act-Two generation will cost {what}.\nContinue? [y/N] ")
    err.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def cmd_generate(args: argparse.Namespace, session: _Session, err: TextIO) -> int:
    client = session.client
    request = _request_from(args)
    if not _confirm(args, client, request, session.sandbox is not None, err):
        err.write("Not submitted; nothing was spent.\n")
        return 2
    token = CancelToken()
    previous = _install_sigint(token, err)
    view = ProgressView(err)
    try:
        result = client.generate(
            request, args.output, on_event=view, cancel=token, timeout=args.timeout
        )
    finally:
        view.finish()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if args.json:
        _print_json(_result_json(result))
    else:
        print(f"Saved {result.output_path}")
        cost = _credits(result.cost_credits)
        if session.sandbox is not None:
            cost += " (sandbox: not charged)"
        elif result.reused:
            cost = "nothing (an identical earlier result was reused)"
        print(f"  task {result.task_id}  job {result.job_id}  cost {cost}")
        print(f"  details: {result.sidecar_path}")
    return 0


def cmd_status(args: argparse.Namespace, session: _Session, err: TextIO) -> int:
    task = session.client.get_task(args.task_id)
    if args.json:
        _print_json(_task_json(task))
        return 0
    line = f"{task.id}  {task.status}"
    if task.progress is not None and task.is_live:
        line += f"  {task.progress * 100:.0f}%"
    print(line)
    if task.created_at:
        print(f"  created {task.created_at}")
    if task.estimated_credits is not None:
        print(f"  estimated {_credits(task.estimated_credits)}")
    if task.cost_credits is not None:
        print(f"  cost {_credits(task.cost_credits)}")
    if task.failure or task.failure_code:
        print(f"  failure [{task.failure_code or '-'}] {task.failure or ''}")
    if task.output:
        print(f"  output ready: act-two download {task.id} --output PATH")
    return 0


def cmd_cancel(args: argparse.Namespace, session: _Session, err: TextIO) -> int:
    session.client.cancel(args.task_id)
    if args.json:
        _print_json({"ok": True, "task_id": args.task_id, "cancelled": True})
    else:
        print(f"Cancelled {args.task_id} (Runway refunds only tasks that had not started).")
    return 0


def cmd_download(args: argparse.Namespace, session: _Session, err: TextIO) -> int:
    view = ProgressView(err)
    try:
        path = session.client.download(args.task_id, args.output, on_event=view)
    finally:
        view.finish()
    side = path.with_name(path.name + ".json")
    if args.json:
        _print_json(
            {"ok": True, "task_id": args.task_id, "output": str(path), "sidecar": str(side)}
        )
    else:
        print(f"Saved {path}")
    return 0


def _job_line(rec: JobRecord) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(rec.created_at))
    cost = rec.cost_credits if rec.cost_credits is not None else rec.estimated_credits
    return (
        f"{rec.job_id}  {when}  {rec.state:<10}  {rec.task_id or '-':<36}  "
        f"{'-' if cost is None else f'{cost:g}':>5}  {rec.output_path or ''}"
    )


def cmd_jobs(args: argparse.Namespace, session: _Session, err: TextIO) -> int:
    client = session.client
    client.unfinished_jobs()  # marks stale submits as ambiguous
    records = client.jobs()
    if args.json:
        _print_json([r.to_json() for r in records])
        return 0
    if not records:
        print(f"No jobs yet (journal: {client.journal.path}).")
        return 0
    print(f"{'JOB':<16}  {'CREATED':<16}  {'STATE':<10}  {'TASK':<36}  {'CREDITS':>5}  OUTPUT")
    for rec in records:
        print(_job_line(rec))
    if any(r.state == "ambiguous" for r in records):
        print(
            "\n'ambiguous': the create request may have created a (billed) task; check "
            "https://dev.runwayml.com/ before submitting the same job again."
        )
    if any(r.unfinished for r in records):
        print("\nUnfinished jobs can be completed with `act-two resume`.")
    return 0


def cmd_resume(args: argparse.Namespace, session: _Session, err: TextIO) -> int:
    client = session.client
    elsewhere: list[JobRecord] = []
    if args.job_id:
        targets = [args.job_id]
    else:
        targets = []
        for r in client.unfinished_jobs():
            if (r.base_url or "") in ("", client.settings.base_url):
                targets.append(r.job_id)
            else:
                elsewhere.append(r)
    results: list[dict[str, Any]] = []
    code = 0
    token = CancelToken()
    previous = _install_sigint(token, err)
    try:
        for job_id in targets:
            view = ProgressView(err, enabled=not args.json or err.isatty())
            try:
                res = client.resume(job_id, on_event=view, cancel=token, timeout=args.timeout)
                results.append(_result_json(res))
                if not args.json:
                    view.finish()
                    print(f"Saved {res.output_path} (job {res.job_id}, task {res.task_id})")
            except ActTwoError as exc:
                view.finish()
                code = code or exc.exit_code
                results.append(_error_json(exc) | {"job_id": job_id})
                if not args.json:
                    err.write(f"Job {job_id}: {exc.message}\n")
            if token.cancelled:
                break
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if args.json:
        out: dict[str, Any] = {"ok": code == 0, "results": results}
        if elsewhere:
            out["other_servers"] = [{"job_id": r.job_id, "base_url": r.base_url} for r in elsewhere]
        _print_json(out)
    else:
        if not targets:
            print("Nothing to resume here: every journaled job for this server is finished.")
        for r in elsewhere:
            print(f"Job {r.job_id} belongs to {r.base_url}: resume it with --base-url {r.base_url}")
    return code


def cmd_credits(args: argparse.Namespace, session: _Session, err: TextIO) -> int:
    org = session.client.organization()
    data = {
        "credit_balance": org.credit_balance,
        "balance_usd": org.balance_usd,
        "max_monthly_credit_spend": org.max_monthly_credit_spend,
        api.MODEL: {
            "max_concurrent_generations": org.max_concurrent_generations,
            "max_daily_generations": org.max_daily_generations,
            "daily_generations": org.daily_generations,
        },
    }
    if args.json:
        _print_json(data)
        return 0

    def lim(v: int | None) -> str:
        return "unlimited" if v is None else str(v)

    print(f"Balance: {_credits(org.credit_balance)}")
    print(
        f"act_two today: {org.daily_generations if org.daily_generations is not None else '?'} "
        f"of {lim(org.max_daily_generations)} generations; "
        f"{lim(org.max_concurrent_generations)} at once"
    )
    if org.max_monthly_credit_spend is not None:
        print(f"Monthly spend cap: {org.max_monthly_credit_spend:g} credits")
    return 0


COMMANDS = {
    "generate": cmd_generate,
    "status": cmd_status,
    "cancel": cmd_cancel,
    "download": cmd_download,
    "jobs": cmd_jobs,
    "resume": cmd_resume,
    "credits": cmd_credits,
}


def cmd_config(args: argparse.Namespace, stdin: TextIO, err: TextIO) -> int:
    """Key storage without the key ever passing through argv, logs or output."""
    if args.set_key:
        if stdin.isatty():
            import getpass

            raw = getpass.getpass("Runway API key (input hidden): ")
        else:
            raw = stdin.readline()
        key = clean_key(raw)
        if not key:
            err.write("act-two: no key given; nothing was changed.\n")
            return 2
        if not api.API_KEY_PATTERN.match(key):
            err.write(
                "act-two: that does not look like a Runway key (key_ followed by 128 hex "
                "characters); copy it again from the developer portal. Nothing was changed.\n"
            )
            return 2
        path = save_api_key(key)
        err.write(f"Saved the API key to {path} (readable by you only).\n")
    elif args.clear_key:
        path = clear_api_key()
        err.write(f"Removed the API key from {path}.\n")
    settings = resolve_settings()
    info = {
        "key": "set" if settings.api_key else "not set",
        "key_source": settings.key_source,
        "base_url": settings.base_url,
        "config_file": str(config_file()),
        "journal": str(data_dir() / JOURNAL_FILE),
    }
    if args.json:
        _print_json(info)
    else:
        for name, value in info.items():
            print(f"{name:12} {value}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sandbox":
        from .sandbox import main as sandbox_main

        return sandbox_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    err = sys.stderr
    if args.command == "config":
        return cmd_config(args, sys.stdin, err)
    session: _Session | None = None
    try:
        session = _Session(args)
        return COMMANDS[args.command](args, session, err)
    except ActTwoError as exc:
        if args.json:
            _print_json(_error_json(exc))
        else:
            err.write(f"act-two: {exc.message}\n")
            if isinstance(exc, SubmitAmbiguousError) and exc.job_id:
                err.write(f"(journal job {exc.job_id}; see `act-two jobs`)\n")
        return exc.exit_code
    except KeyboardInterrupt:
        err.write("\nInterrupted.\n")
        return 130
    finally:
        if session is not None:
            session.close()


def run() -> None:  # pragma: no cover - console entry alias
    raise SystemExit(main())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

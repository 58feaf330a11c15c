"""``act-two sandbox``: run the sandbox in the foreground until Ctrl-C.

It prints the base URL and a ready-to-paste ``export`` line, so any Runway client (ours, the
official SDKs, curl) can be pointed at it without reading docs first.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence

from .. import api_surface as api
from .config import SandboxConfig, load_config, load_file
from .faults import parse_faults
from .server import Sandbox


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="act-two sandbox",
        description="Run the local Runway Act-Two sandbox (no key, no network, labelled previews).",
    )
    p.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: any free)")
    p.add_argument("--config", help="JSON or TOML file with SandboxConfig fields (and faults)")
    p.add_argument("--faults", help="JSON file with a list of faults (see docs/sandbox.md)")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="JSON",
        help='one fault as inline JSON, e.g. \'{"endpoint":"create","status":503}\'',
    )
    p.add_argument("--tick", type=float, default=None, help="seconds between task updates (5)")
    p.add_argument("--task-seconds", type=float, default=None, help="seconds a task runs (20)")
    p.add_argument("--balance", type=int, default=None, help="credit balance (10000)")
    p.add_argument("--concurrency", type=int, default=None, help="maxConcurrentGenerations (2)")
    p.add_argument("--daily-limit", type=int, default=None, help="maxDailyGenerations (200)")
    p.add_argument("--data-dir", default=None, help="keep uploads and outputs here")
    return p


def config_from_args(args: argparse.Namespace) -> tuple[SandboxConfig, list[object]]:
    config = SandboxConfig()
    faults: list[object] = []
    if args.config:
        load_config(args.config, config)
        faults.extend(parse_faults(load_file(args.config).get("faults", [])))
    if args.faults:
        faults.extend(parse_faults(load_file(args.faults)))
    for text in args.fault:
        faults.extend(parse_faults(json.loads(text)))
    overrides = {
        "port": args.port,
        "tick_seconds": args.tick,
        "task_seconds": args.task_seconds,
        "credit_balance": args.balance,
        "max_concurrent_generations": args.concurrency,
        "max_daily_generations": args.daily_limit,
        "data_dir": args.data_dir,
    }
    config.update({k: v for k, v in overrides.items() if v is not None})
    return config, faults


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``act-two sandbox``; returns the exit code."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    try:
        config, faults = config_from_args(args)
    except (OSError, ValueError) as exc:
        print(f"act-two sandbox: {exc}", file=sys.stderr)
        return 2
    sandbox = Sandbox(config)
    sandbox.faults.add(*faults)  # type: ignore[arg-type]
    try:
        sandbox.start()
    except OSError as exc:
        print(f"act-two sandbox: cannot listen on port {config.port}: {exc}", file=sys.stderr)
        return 2
    print(f"Runway Act-Two sandbox listening on {sandbox.base_url}")
    print("Point any Runway client at it (the key is a sandbox key, worthless elsewhere):")
    print(f"export {api.ENV_BASE_URL}={sandbox.base_url} {api.ENV_API_KEY}={sandbox.api_key}")
    print("Control API: " + sandbox.base_url + "/_sandbox/  (log, faults, tasks, config, reset)")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopping the sandbox", file=sys.stderr)
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

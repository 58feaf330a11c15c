"""Benchmark 5: what the ComfyUI node layer adds to a job with a 30 s 720p VIDEO input.

ComfyUI hands the node a VIDEO object (LoadVideo's ``VideoFromFile``) and an IMAGE tensor. The
naive way to turn a VIDEO into something uploadable is ``get_components()`` (decode every frame:
720 frames of 1280x720 float32 are ~8 GB) and re-encode; the pack instead passes the file that
backs the VIDEO straight to the core, never decoding a frame. This benchmark runs the same job
through the node layer (``comfyui_nodes.run.run_job(generate_job(...))``, the code the V3 node's
``execute`` awaits) and through the bare core call, each in a fresh process (peak RSS per case),
and counts the VIDEO's ``get_components``/``save_to`` calls (the decode and re-encode paths).

ComfyUI itself: set ``ACT_TWO_COMFYUI_DIR`` to a checkout and ``ACT_TWO_COMFYUI_PYTHON`` to a
Python with its requirements to use ComfyUI's real ``VideoFromFile``; otherwise the stand-in from
``tests/comfyui/comfy_video.py`` (same methods, same behaviour) is used, and the table says which.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    ROOT,
    Skip,
    Table,
    child_main,
    client_available,
    fmt_mb,
    print_tables,
    sandbox_available,
    scratch_dir,
    verdict,
)

TITLE = "5. ComfyUI node layer: overhead for a 30 s 720p VIDEO input vs the bare core call"
TARGET_S = 0.5


# --- child operations -----------------------------------------------------------------------------
def _counting_video_class() -> Any:
    sys.path.insert(0, str(ROOT))
    from tests.comfyui import comfy_video

    base = comfy_video.VideoFromFile

    class Counting(base):  # type: ignore[misc, valid-type]
        calls: dict[str, int] = {"get_components": 0, "save_to": 0}  # noqa: RUF012

        def get_components(self, *a: Any, **kw: Any) -> Any:
            Counting.calls["get_components"] += 1
            return super().get_components(*a, **kw)

        def save_to(self, *a: Any, **kw: Any) -> Any:
            Counting.calls["save_to"] += 1
            return super().save_to(*a, **kw)

    Counting.__name__ = "VideoFromFile"  # the pack recognizes ComfyUI classes by name
    return Counting, comfy_video.REAL


def _image_tensor(path: str) -> Any:
    import numpy as np
    import torch
    from PIL import Image

    arr = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr)[None]  # [1, H, W, 3] in 0..1, what LoadImage returns


def _op_baseline_bare(case: dict[str, Any]) -> dict[str, Any]:
    import runway_act_two.client  # noqa: F401

    return {}


def _op_baseline_node(case: dict[str, Any]) -> dict[str, Any]:
    import runway_act_two.client  # noqa: F401

    _counting_video_class()
    import comfyui_nodes.run  # noqa: F401

    _image_tensor(case["character"])
    return {}


def _op_bare(case: dict[str, Any]) -> dict[str, Any]:
    from runway_act_two import ActTwoRequest, MediaSource
    from runway_act_two.client import ActTwoClient

    client = ActTwoClient(api_key=case["key"], base_url=case["base_url"])
    try:
        t0 = time.perf_counter()
        client.generate(
            ActTwoRequest(
                character=MediaSource.from_path(case["character"]),
                reference=MediaSource.from_path(case["reference"]),
            ),
            Path(case["out"]) / "bare.mp4",
        )
        return {"job_s": time.perf_counter() - t0}
    finally:
        client.close()


def _op_node(case: dict[str, Any]) -> dict[str, Any]:
    import asyncio

    video_cls, real = _counting_video_class()
    from comfyui_nodes import run

    # Time spent inside the core's generate() (the same call the bare path makes), so the node
    # layer's own cost is measured directly rather than as a difference of two noisy job times.
    core_seconds: list[float] = []
    base_client = run.act_two.ActTwoClient

    class TimedClient(base_client):  # type: ignore[misc, valid-type]
        def generate(self, *a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return super().generate(*a, **kw)
            finally:
                core_seconds.append(time.perf_counter() - t)

    run.act_two.ActTwoClient = TimedClient
    image = _image_tensor(case["character"])
    video = video_cls(case["reference"])
    out = Path(case["out"])
    paths = run.PackPaths(output_dir=out, temp_dir=out / "tmp", data_dir=out / "data")
    inputs = run.ActTwoInputs(reference_video=video, character_image=image)
    t0 = time.perf_counter()
    run.build_request(inputs, out / "scratch")  # the node layer's own conversion work, alone
    convert_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    asyncio.run(
        run.run_job(run.generate_job(inputs, paths, case["key"]), is_interrupted=lambda: False)
    )
    job_s = time.perf_counter() - t0
    run.act_two.ActTwoClient = base_client
    return {
        "job_s": job_s,
        "core_s": sum(core_seconds),
        "convert_s": convert_s,
        "calls": dict(video_cls.calls),
        "real_comfyui": real,
    }


OPS = {
    "baseline_bare": _op_baseline_bare,
    "baseline_node": _op_baseline_node,
    "bare": _op_bare,
    "node": _op_node,
}


# --- the parent -----------------------------------------------------------------------------------
def _child(python: str, case: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(
        [python, "-m", "benchmarks.comfyui_overhead", "--child", json.dumps(case)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"{case['op']} failed: {tail}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run(quick: bool = False) -> list[Table]:
    why = sandbox_available() or client_available()
    if why:
        raise Skip(why)
    if not (ROOT / "comfyui_nodes" / "run.py").exists():
        raise Skip("comfyui_nodes/run.py (the node's job runner) is not there yet")
    from runway_act_two.sandbox import Sandbox, SandboxConfig

    from benchmarks import _media

    python = os.environ.get("ACT_TWO_COMFYUI_PYTHON", sys.executable)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "core"), str(ROOT)])
    env["ACT_TWO_POLL_CADENCE"] = "0.05"
    n = 2 if quick else 3
    work = scratch_dir("act_two_bench_comfy_")
    ref = _media.reference_video(bit_rate=4_000_000)  # 30 s 720p, 15 MB: goes by upload
    from tests.media_factory import make_png

    char = make_png(work / "character_720p.png", 1280, 720)
    cfg = SandboxConfig(
        tick_seconds=0.05,
        task_seconds=0.2,
        max_concurrent_generations=None,
        data_dir=str(work / "sandbox"),
    )
    res: dict[str, list[dict[str, Any]]] = {"bare": [], "node": []}
    with Sandbox(cfg) as sb:
        env.update(sb.env())
        env["ACT_TWO_CONFIG_DIR"] = str(work / "cfg")
        for i in range(n):
            for op in ("bare", "node"):  # alternate: neither side gets a warmer machine
                out = work / f"{op}{i}"
                out.mkdir()
                env["ACT_TWO_DATA_DIR"] = str(out / "data")
                case = {
                    "op": op,
                    "key": sb.api_key,
                    "base_url": sb.base_url,
                    "character": str(char),
                    "reference": str(ref),
                    "out": str(out),
                }
                res[op].append(_child(python, case, env))
        base_bare = _child(python, {"op": "baseline_bare", "character": str(char)}, env)
        base_node = _child(python, {"op": "baseline_node", "character": str(char)}, env)
    bare_s = statistics.median(r["job_s"] for r in res["bare"])
    node_s = statistics.median(r["job_s"] for r in res["node"])
    convert_s = statistics.median(r["convert_s"] for r in res["node"])
    layer_s = statistics.median(r["job_s"] - r["core_s"] for r in res["node"])
    bare_mem = max(r["peak_rss"] for r in res["bare"]) - base_bare["peak_rss"]
    node_mem = max(r["peak_rss"] for r in res["node"]) - base_node["peak_rss"]
    calls = res["node"][-1]["calls"]
    real = res["node"][-1]["real_comfyui"]
    decodes = sum(r["calls"]["get_components"] for r in res["node"])
    reencodes = sum(r["calls"]["save_to"] for r in res["node"])
    overhead = node_s - bare_s
    t = Table(
        TITLE,
        [
            "path",
            "job time (median)",
            "peak RSS above imports",
            "VIDEO decoded",
            "target",
            "verdict",
        ],
    )
    t.add("bare core: client.generate(paths)", f"{bare_s:.2f} s", fmt_mb(bare_mem), "-", "", "")
    t.add(
        "node layer: run_job(generate_job(VIDEO, IMAGE))",
        f"{node_s:.2f} s",
        fmt_mb(node_mem),
        f"get_components x{calls['get_components']}, save_to x{calls['save_to']}",
        "",
        "",
    )
    t.add(
        "node layer's own time (node job - time inside core generate())",
        f"{layer_s:.3f} s",
        fmt_mb(node_mem - bare_mem),
        "-",
        f"<={TARGET_S:g} s, no full decode",
        verdict(layer_s <= TARGET_S and decodes == 0 and reencodes == 0),
    )
    t.add(
        "  of which IMAGE -> PNG and VIDEO -> file (build_request)",
        f"{convert_s:.3f} s",
        "-",
        "-",
        "",
        "",
    )
    t.add(
        "difference of the two median job times (noisy)",
        f"{overhead:+.2f} s",
        "-",
        "-",
        "",
        "",
    )
    t.note(
        f"VIDEO class: {'ComfyUI 0.3.64 real VideoFromFile' if real else 'stand-in'} "
        f"(python: {python}); inputs: 30 s 1280x720 H.264 reference ({fmt_mb(ref.stat().st_size)}"
        ", uploaded) and a 1280x720 IMAGE tensor (encoded to PNG by the node)."
    )
    t.note(
        f"{n} alternating runs each, fresh process per run; sandbox tick 0.05 s, task 0.2 s "
        "(its 30 s preview render is part of both job times)."
    )
    t.note(
        "A full decode would be 720 frames x 1280x720x3 float32 = 7.9 GB; peak RSS shows none "
        f"happened. get_components calls over all runs: {decodes}; save_to: {reencodes}."
    )
    return [t]


def main(argv: list[str] | None = None) -> int:
    if child_main(sys.argv if argv is None else ["x", *argv], OPS):
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 runs each instead of 3")
    args = ap.parse_args(argv)
    return print_tables(TITLE, lambda: run(args.quick))


if __name__ == "__main__":
    raise SystemExit(main())

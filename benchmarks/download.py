"""Benchmark 3: download throughput of a 100 MB output, ours vs ``curl`` on loopback.

Outputs must be saved as soon as a task succeeds (their URLs expire), streamed to disk, checked
and moved into place atomically; none of that should make the transfer slower than a plain
``curl -o``. Both fetch the same file from the same sandbox output server, one after another,
best of N each. The sandbox renders short previews, so after the task SUCCEEDS this benchmark
swaps its output file for a valid 100 MB MP4 (a real clip plus a trailing ``free`` box): the
sandbox serves outputs from that path, so both clients download the same 100 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import (
    Skip,
    Table,
    child_main,
    client_available,
    fmt_ratio,
    median,
    print_tables,
    run_child,
    sandbox_available,
    scratch_dir,
    verdict,
)

TITLE = "3. Download: 100 MB output from the sandbox (loopback)"
LINK_BYTES_PER_SECOND = 100 * 2**20  # ~840 Mbit/s
MIB = 2**20


def _mbps(nbytes: int, seconds: float) -> str:
    return f"{nbytes / MIB / seconds:.0f} MB/s"


def run(quick: bool = False, size_mb: int = 100) -> list[Table]:
    why = (
        sandbox_available()
        or client_available()
        or (None if shutil.which("curl") else "curl is not installed")
    )
    if why:
        raise Skip(why)
    import requests
    from runway_act_two import api_surface as api
    from runway_act_two.sandbox import Sandbox, SandboxConfig

    from benchmarks import _glue, _media

    n = 3 if quick else 5
    work = scratch_dir("act_two_bench_dl_")
    media = _glue.SmallMedia.make(work / "media")
    big = _media.padded_mp4(size_mb * MIB)
    size = big.stat().st_size
    cfg = SandboxConfig(
        tick_seconds=0.05,
        task_seconds=0.1,
        max_concurrent_generations=None,
        data_dir=str(work / "sandbox"),
    )
    with Sandbox(cfg) as sb:
        client = _glue.our_client(sb, work / "data")
        try:
            task_id = client.submit(media.request()).task_id
            deadline = time.monotonic() + 120
            while (sb.task_info(task_id) or {}).get("status") != "SUCCEEDED":
                if time.monotonic() > deadline:
                    raise RuntimeError("the sandbox task did not succeed")
                time.sleep(0.05)
            out_path = Path(sb.task_info(task_id)["outputPath"])  # type: ignore[index]
            tmp = out_path.with_suffix(".swap")
            shutil.copyfile(big, tmp)
            os.replace(tmp, out_path)

            headers = {"Authorization": f"Bearer {sb.api_key}", api.VERSION_HEADER: api.API_VERSION}

            def fresh_url() -> str:
                r = requests.get(
                    sb.base_url + api.PATH_TASK.format(id=task_id), headers=headers, timeout=30
                )
                url: str = r.json()["output"][0]
                return url

            def measure(runs: int) -> tuple[list[float], list[float], list[float]]:
                curl_times: list[float] = []
                ours_times: list[float] = []
                durable_times: list[float] = []
                for i in range(runs):
                    # alternate, so page cache and CPU frequency favour neither
                    dest = work / f"curl_{i}.mp4"
                    url = fresh_url()
                    t0 = time.perf_counter()
                    subprocess.run(["curl", "-sS", "-f", "-o", str(dest), url], check=True)
                    curl_times.append(time.perf_counter() - t0)
                    # What curl leaves in the page cache reaching the disk: the durability ours has
                    # before it renames a paid result into place.
                    fd = os.open(dest, os.O_RDONLY)
                    try:
                        os.fsync(fd)
                    finally:
                        os.close(fd)
                    durable_times.append(time.perf_counter() - t0)
                    assert dest.stat().st_size == size
                    dest.unlink()

                    dest = work / f"ours_{i}.mp4"
                    r = run_child(
                        "download",
                        {
                            "op": "ours",
                            "warm": ["runway_act_two.client", "av"],
                            "key": sb.api_key,
                            "base_url": sb.base_url,
                            "data_dir": str(work / "data"),
                            "task_id": task_id,
                            "dest": str(dest),
                        },
                    )
                    ours_times.append(r["download_s"])
                    got = Path(r["path"])
                    assert got.stat().st_size == size, (got, got.stat().st_size)
                    got.unlink()
                    for side in got.parent.glob(got.name + "*"):
                        side.unlink()
                return curl_times, durable_times, ours_times

            curl_times, durable_times, ours_times = measure(n)
            # The same over a link slower than the disk (a fast CDN connection): there the
            # flush behind the writes keeps pace and the final fsync is only the tail.
            sb.configure(output_bytes_per_second=LINK_BYTES_PER_SECOND)
            link_curl, _, link_ours = measure(3)
        finally:
            client.close()
    curl_best, ours_best = min(curl_times), min(ours_times)
    ratio = curl_best / ours_best  # throughput ratio ours/curl
    t = Table(
        TITLE, ["client", "best time", "throughput", "median time", "vs curl", "target", "verdict"]
    )

    def row(label: str, times: list[float], curl: float, target: str = "", ok: str = "") -> None:
        """One client's row; ``curl`` is the best curl time it is compared with."""
        best = min(times)
        t.add(
            label,
            f"{best:.3f} s",
            _mbps(size, best),
            f"{median(times):.3f} s",
            f"{curl / best:.2f}x",
            target,
            ok,
        )

    row("curl -o (baseline)", curl_times, curl_best)
    row("curl -o, then fsync (same durability as ours)", durable_times, curl_best)
    row("ours: client.download()", ours_times, curl_best, ">=0.90x", verdict(ratio >= 0.9))
    t.note(
        f"{size / MIB:.0f} MB file, best of {n} alternating runs, each client in its own process"
        " (the sandbox serves from this one), both starting from a fresh output URL (curl's"
        " fetched before its clock starts, ours as the wait loop hands over the task). Ours ="
        " client.download(task=...) in a process that has imported the client (a host's state):"
        " streamed write to a temp file flushed behind the writes, the video check, fsync and"
        " atomic rename, the JSON sidecar and the journal row; curl's figure includes starting"
        " the curl process (a few ms)."
    )
    t.note(
        "A paid result is fsynced before it takes its real name (a crash must not leave it empty"
        " under that name), so ours is bound by the disk's write speed where curl's is not; the"
        f" fsync row shows that cost for curl's file: ours / (curl + fsync) ="
        f" {min(durable_times) / ours_best:.2f}x in throughput."
    )
    link = f"output paced at {LINK_BYTES_PER_SECOND / MIB:.0f} MB/s"
    row(f"curl -o, {link}", link_curl, min(link_curl))
    row(f"ours, {link}", link_ours, min(link_curl), "(not the target's case)")
    t.note(
        f"The paced rows: the sandbox's output_bytes_per_second set to"
        f" {LINK_BYTES_PER_SECOND / MIB:.0f} MB/s, a link slower than the disk, best of 3 each;"
        " the fsync then follows the data as it arrives."
    )
    t.note(
        f"Median ratio: {fmt_ratio(median(curl_times), median(ours_times))} "
        "(ours throughput / curl's)."
    )
    return [t]


def _op_ours(case: dict[str, Any]) -> dict[str, Any]:
    from runway_act_two.client import ActTwoClient

    with ActTwoClient(
        api_key=case["key"], base_url=case["base_url"], data_dir=Path(case["data_dir"])
    ) as client:
        # Like curl, start from a fresh output URL (the task as the wait loop hands it over).
        task = client.get_task(case["task_id"])
        t0 = time.perf_counter()
        path = client.download(case["task_id"], Path(case["dest"]), task=task)
        return {"path": str(path), "download_s": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    if child_main(sys.argv if argv is None else ["x", *argv], {"ours": _op_ours}):
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 runs instead of 5")
    ap.add_argument("--size-mb", type=int, default=100)
    args = ap.parse_args(argv)
    return print_tables(TITLE, lambda: run(args.quick, args.size_mb))


if __name__ == "__main__":
    raise SystemExit(main())

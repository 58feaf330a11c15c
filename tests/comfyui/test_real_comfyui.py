"""The built pack inside a REAL ComfyUI, driven through ComfyUI's HTTP API, against the sandbox.

ComfyUI is not on PyPI, so this runs only when a checkout is configured:

    ACT_TWO_COMFYUI_DIR=/path/to/ComfyUI            # a checkout (0.3.64 or newer)
    ACT_TWO_COMFYUI_PYTHON=/path/to/venv/bin/python # with ComfyUI's requirements + requests

It builds the distributable zip, unzips it into an isolated ``custom_nodes``, starts ComfyUI on a
free loopback port with isolated input/output/user/temp dirs, puts the sandbox key in the key file
of ComfyUI's user directory (not in the environment), and runs the shipped example workflow
(API-format copy) plus the money-safety cases: re-queue, restart, new seed, interrupt, errors,
concurrency and key hygiene. Steps depend on each other and run in file order.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import _media

ROOT = Path(__file__).resolve().parents[2]
COMFY_DIR = os.environ.get("ACT_TWO_COMFYUI_DIR")
COMFY_PYTHON = os.environ.get("ACT_TWO_COMFYUI_PYTHON")
PACK_NODE = "ActTwoPack_RunwayActTwo"
API_WORKFLOW = (
    ROOT / "comfyui_nodes" / "example_workflows" / "api_format" / "act_two_image_to_video.json"
)

pytestmark = [
    pytest.mark.skipif(
        not (COMFY_DIR and COMFY_PYTHON),
        reason="no real ComfyUI configured: set ACT_TWO_COMFYUI_DIR (a ComfyUI checkout) and "
        "ACT_TWO_COMFYUI_PYTHON (a Python with its requirements) to run this integration test",
    ),
    pytest.mark.timeout(900),
]

TIMINGS: dict[str, float] = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _builder() -> Any:
    spec = importlib.util.spec_from_file_location(
        "build_comfyui_zip", ROOT / "tools" / "build_comfyui_zip.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Comfy:
    """One ComfyUI server process with isolated directories."""

    def __init__(self, base: Path, env: dict[str, str]) -> None:
        self.base = base
        self.env = env
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        for name in ("input", "output", "user", "temp", "custom_nodes"):
            (base / name).mkdir(parents=True, exist_ok=True)
        self.extra = base / "extra_model_paths.yaml"
        self.extra.write_text(
            f"act_two_test:\n    base_path: {base}\n    custom_nodes: custom_nodes\n",
            encoding="utf-8",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        import requests

        self.port = _free_port()
        log = self.base / f"comfyui-{len(self.logs)}.log"
        self.logs.append(log)
        cmd = [
            str(COMFY_PYTHON), "main.py", "--cpu", "--listen", "127.0.0.1",
            "--port", str(self.port), "--disable-auto-launch",
            "--extra-model-paths-config", str(self.extra),
            "--input-directory", str(self.base / "input"),
            "--output-directory", str(self.base / "output"),
            "--user-directory", str(self.base / "user"),
            "--temp-directory", str(self.base / "temp"),
            "--database-url", f"sqlite:///{self.base / 'comfyui.db'}",
        ]  # fmt: skip
        started = time.monotonic()
        with open(log, "wb") as fh:
            self.proc = subprocess.Popen(
                cmd, cwd=COMFY_DIR, env=self.env, stdout=fh, stderr=subprocess.STDOUT
            )
        deadline = started + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"ComfyUI exited early:\n{log.read_text()[-4000:]}")
            try:
                if requests.get(self.url + "/system_stats", timeout=2).ok:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            threading.Event().wait(0.25)
        raise AssertionError(f"ComfyUI did not start:\n{log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
        self.proc = None

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    # --- HTTP API ---------------------------------------------------------------------------
    def get(self, path: str) -> Any:
        import requests

        r = requests.get(self.url + path, timeout=30)
        r.raise_for_status()
        return r.json()

    def queue(self, prompt: dict[str, Any]) -> tuple[int, Any]:
        import requests

        body = {"prompt": prompt, "client_id": "act-two-test-" + uuid.uuid4().hex[:8]}
        r = requests.post(self.url + "/prompt", json=body, timeout=60)
        return r.status_code, r.json()

    def run(self, prompt: dict[str, Any], timeout: float = 420) -> dict[str, Any]:
        status, answer = self.queue(prompt)
        assert status == 200, answer
        return self.wait(answer["prompt_id"], timeout)

    def wait(self, prompt_id: str, timeout: float = 420) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hist = self.get(f"/history/{prompt_id}")
            if prompt_id in hist and hist[prompt_id].get("status", {}).get("completed") is not None:
                entry = hist[prompt_id]
                if entry["status"].get("status_str") in ("success", "error"):
                    return dict(entry)
            threading.Event().wait(0.2)
        raise AssertionError(f"prompt {prompt_id} did not finish:\n{self.log_text()[-4000:]}")

    def interrupt(self) -> None:
        import requests

        requests.post(self.url + "/interrupt", json={}, timeout=30).raise_for_status()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from runway_act_two.sandbox import Sandbox, SandboxConfig

    builder = _builder()
    if not all((ROOT / "examples" / n).is_file() for n in builder.EXAMPLE_MEDIA):
        pytest.fail("examples/character.png and examples/reference.mp4 are missing (make examples)")
    base = tmp_path_factory.mktemp("comfy")
    zip_path = builder.write_zip(base / "dist" / "pack.zip")
    pack_dir = builder.unzip_to(zip_path, base / "custom_nodes")
    sandbox = Sandbox(
        SandboxConfig(tick_seconds=0.1, task_seconds=1.0, max_concurrent_generations=None,
                      data_dir=str(base / "sandbox"))
    ).start()  # fmt: skip
    key_file = base / "user" / "runway_act_two" / "api_key.txt"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(sandbox.api_key + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWAYML_", "ACT_TWO_"))}
    env.update(
        {
            "RUNWAYML_BASE_URL": sandbox.base_url,  # the key comes from the key file
            "ACT_TWO_DATA_DIR": str(base / "act_two_data"),
            "ACT_TWO_CONFIG_DIR": str(base / "act_two_config"),
            "PYTHONUNBUFFERED": "1",
            "ACT_TWO_POLL_CADENCE": "0.5",  # poll at the sandbox's pace, not Runway's 5 s
        }
    )
    comfy = Comfy(base, env)
    TIMINGS["startup_s"] = comfy.start()
    try:
        yield {
            "comfy": comfy,
            "sb": sandbox,
            "pack": pack_dir,
            "base": base,
            "key": sandbox.api_key,
        }
    finally:
        comfy.stop()
        sandbox.stop()
        print("\nreal ComfyUI timings:", json.dumps({k: round(v, 2) for k, v in TIMINGS.items()}))


def _workflow(seed: int | None = None) -> dict[str, Any]:
    prompt: dict[str, Any] = json.loads(API_WORKFLOW.read_text(encoding="utf-8"))
    if seed is not None:
        prompt["3"]["inputs"]["seed"] = seed
    return prompt


def _saved_videos(entry: dict[str, Any], base: Path) -> list[Path]:
    out = []
    for node_out in entry["outputs"].values():
        for item in node_out.get("images", []) + node_out.get("videos", []):
            out.append(base / "output" / item.get("subfolder", "") / item["filename"])
    return out


def test_pack_loads_with_its_nodes_templates_and_example_media(world: dict[str, Any]) -> None:
    comfy: Comfy = world["comfy"]
    info = comfy.get("/object_info")
    for node in (PACK_NODE, "ActTwoPack_RunwayActTwoFetchResult", "ActTwoPack_RunwayCredits"):
        assert node in info, f"{node} not loaded:\n{comfy.log_text()[-3000:]}"
    main = info[PACK_NODE]
    inputs = {**main["input"]["required"], **main["input"].get("optional", {})}
    assert set(inputs) >= {"character_image", "character_video", "reference_video", "ratio",
                           "body_control", "expression_intensity", "seed",
                           "public_figure_threshold", "timeout"}  # fmt: skip
    assert all(spec[1].get("tooltip") for spec in inputs.values())
    assert "3-30 s" in inputs["reference_video"][1]["tooltip"]
    assert inputs["seed"][1]["control_after_generate"] is True
    assert inputs["expression_intensity"][1]["display"] == "slider"
    assert main["output"] == ["VIDEO", "STRING"]
    assert "Get Video Components" in main["description"]
    templates = comfy.get("/workflow_templates")
    assert "act_two_image_to_video" in templates.get(world["pack"].name, [])
    assert (world["base"] / "input" / "act_two_example_reference.mp4").is_file()
    assert "IMPORT FAILED" not in "\n".join(
        line for line in comfy.log_text().splitlines() if world["pack"].name in line
    )


def test_example_workflow_runs_as_shipped(world: dict[str, Any]) -> None:
    comfy, sb = world["comfy"], world["sb"]
    started = time.monotonic()
    entry = comfy.run(_workflow())
    TIMINGS["first_run_s"] = time.monotonic() - started
    assert entry["status"]["status_str"] == "success", entry["status"]
    (video,) = _saved_videos(entry, world["base"])
    info = _media.probe(video)
    ref = _media.probe(world["base"] / "input" / "act_two_example_reference.mp4")
    assert info["size"] == (1280, 720)
    assert info["duration"] == pytest.approx(ref["duration"], abs=0.25)
    assert info["has_audio"] == ref["has_audio"]
    assert sb.count("create") == 1


def test_requeue_unchanged_is_free(world: dict[str, Any]) -> None:
    comfy, sb = world["comfy"], world["sb"]
    started = time.monotonic()
    entry = comfy.run(_workflow())
    TIMINGS["requeue_s"] = time.monotonic() - started
    assert entry["status"]["status_str"] == "success"
    assert sb.count("create") == 1


def test_requeue_after_restart_is_free(world: dict[str, Any]) -> None:
    comfy, sb = world["comfy"], world["sb"]
    comfy.stop()
    TIMINGS["restart_s"] = comfy.start()
    requests_before = len(sb.requests())
    started = time.monotonic()
    entry = comfy.run(_workflow())
    TIMINGS["after_restart_s"] = time.monotonic() - started
    assert entry["status"]["status_str"] == "success"
    assert sb.count("create") == 1
    assert len(sb.requests()) == requests_before  # not even a poll
    assert _saved_videos(entry, world["base"])[0].is_file()


def test_new_seed_rerolls(world: dict[str, Any]) -> None:
    entry = world["comfy"].run(_workflow(seed=43))
    assert entry["status"]["status_str"] == "success"
    assert world["sb"].count("create") == 2


def test_fetch_result_and_credit_nodes(world: dict[str, Any]) -> None:
    comfy, sb = world["comfy"], world["sb"]
    first = min(sb.tasks(), key=lambda t: t["created"])
    creates = sb.count("create")
    prompt = {
        "1": {"class_type": "ActTwoPack_RunwayActTwoFetchResult",
              "inputs": {"task_id": first["id"], "timeout": 0}},
        "2": {"class_type": "SaveVideo", "inputs": {"video": ["1", 0], "filename_prefix":
              "act_two/fetched", "format": "auto", "codec": "auto"}},
        "3": {"class_type": "ActTwoPack_RunwayCredits", "inputs": {}},
    }  # fmt: skip
    entry = comfy.run(prompt)
    assert entry["status"]["status_str"] == "success", entry["status"]
    (video,) = _saved_videos(entry, world["base"])
    assert _media.probe(video)["size"] == (1280, 720)
    text = " ".join(entry["outputs"]["3"]["text"])
    assert "credit balance" in text and "credits" in text
    assert sb.count("create") == creates


def test_both_characters_are_rejected_when_queued(world: dict[str, Any]) -> None:
    prompt = _workflow(seed=99)
    prompt["3"]["inputs"]["character_video"] = ["2", 0]
    status, answer = world["comfy"].queue(prompt)
    assert status == 400
    assert "only one" in json.dumps(answer)
    assert world["sb"].count("create") == 2


def test_two_act_two_nodes_in_one_prompt_run_concurrently(world: dict[str, Any]) -> None:
    comfy, sb = world["comfy"], world["sb"]
    sb.configure(task_seconds=3.0)
    prompt = _workflow(seed=50)
    prompt["5"] = json.loads(json.dumps(prompt["3"]))
    prompt["5"]["inputs"]["seed"] = 51
    prompt["6"] = json.loads(json.dumps(prompt["4"]))
    prompt["6"]["inputs"]["video"] = ["5", 0]
    started = time.monotonic()
    entry = comfy.run(prompt)
    TIMINGS["two_nodes_s"] = time.monotonic() - started
    sb.configure(task_seconds=1.0)
    assert entry["status"]["status_str"] == "success", entry["status"]
    tasks = sorted(sb.tasks(), key=lambda t: t["created"])[-2:]
    a, b = tasks
    assert b["created"] < a["finishedAt"]  # the second task was created before the first ended


def test_interrupt_cancels_the_runway_task(world: dict[str, Any]) -> None:
    comfy, sb = world["comfy"], world["sb"]
    sb.configure(task_seconds=120)
    creates, deletes = sb.count("create"), sb.count("task_delete")
    status, answer = comfy.queue(_workflow(seed=44))
    assert status == 200
    deadline = time.monotonic() + 120
    while sb.count("create") == creates and time.monotonic() < deadline:
        threading.Event().wait(0.05)
    assert sb.count("create") == creates + 1
    pressed = time.monotonic()
    comfy.interrupt()
    while sb.count("task_delete") == deletes and time.monotonic() < pressed + 30:
        threading.Event().wait(0.02)
    TIMINGS["interrupt_to_delete_s"] = time.monotonic() - pressed
    assert sb.count("task_delete") == deletes + 1
    entry = comfy.wait(answer["prompt_id"])
    sb.configure(task_seconds=1.0)
    events = [m[0] for m in entry["status"]["messages"]]
    assert "execution_interrupted" in events


def test_failed_task_shows_a_readable_error(world: dict[str, Any]) -> None:
    from runway_act_two.sandbox import Fault

    comfy, sb = world["comfy"], world["sb"]
    sb.faults.add(Fault(endpoint="create", action="fail_task", failure_code="SAFETY.INPUT.IMAGE",
                        failure="No face was found in the character."))  # fmt: skip
    entry = comfy.run(_workflow(seed=45))
    assert entry["status"]["status_str"] == "error"
    (err,) = [m[1] for m in entry["status"]["messages"] if m[0] == "execution_error"]
    text = err["exception_message"]
    assert "No face was found" in text and "SAFETY.INPUT.IMAGE" in text
    assert "{" not in text and len(text) < 1000


def test_the_key_is_nowhere_comfyui_keeps_or_serves(world: dict[str, Any]) -> None:
    comfy, key = world["comfy"], world["key"]
    served = json.dumps(comfy.get("/history")) + json.dumps(comfy.get("/object_info"))
    assert key not in served
    assert key not in comfy.log_text()
    key_file = world["base"] / "user" / "runway_act_two" / "api_key.txt"
    for folder in ("output", "temp", "input", "act_two_data"):
        for path in (world["base"] / folder).rglob("*"):
            if path.is_file():
                assert key.encode() not in path.read_bytes(), path
    for path in (world["base"] / "user").rglob("*"):
        if path.is_file() and path != key_file:
            assert key.encode() not in path.read_bytes(), path
    # ComfyUI serves <user dir>/<user>/ through /userdata; the key file sits outside any user's
    # folder, and path tricks do not reach it.
    import requests

    for name in ("runway_act_two/api_key.txt", "../runway_act_two/api_key.txt"):
        for quoted in (name, name.replace("/", "%2F")):
            r = requests.get(f"{comfy.url}/api/userdata/{quoted}", timeout=30)
            assert r.status_code != 200 and key not in r.text, (name, r.status_code)
    ui_workflow = world["pack"] / "example_workflows" / "act_two_image_to_video.json"
    assert key not in ui_workflow.read_text(encoding="utf-8")

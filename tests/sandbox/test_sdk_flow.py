"""The official runwayml SDK, pointed at the sandbox, runs the whole Act-Two flow unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from runway_act_two import api_surface as api
from runway_act_two.sandbox import Sandbox

from .conftest import data_uri
from .helpers import wait_for


def _probe(path: Path) -> dict[str, Any]:
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = sum(1 for _ in c.decode(video=0))
        return {
            "codec": v.codec_context.name,
            "size": (v.codec_context.width, v.codec_context.height),
            "fps": float(v.average_rate or 0),
            "frames": frames,
            "audio": len(c.streams.audio),
        }


def test_sdk_create_wait_download(
    sb: Sandbox, sdk: Any, face_png: Path, ref_audio: Path, tmp_path: Path
) -> None:
    """create -> wait_for_task_output (one real SDK poll cycle) -> download -> a real MP4."""
    upload = sdk.uploads.create_ephemeral(file=ref_audio)
    assert upload.uri.startswith("runway://")
    created = sdk.character_performance.create(
        model="act_two",
        character={"type": "image", "uri": data_uri(face_png, "image/png")},
        reference={"type": "video", "uri": upload.uri},
        ratio="1104:832",
        seed=7,
        body_control=True,
        expression_intensity=4,
        content_moderation={"publicFigureThreshold": "low"},
    )
    assert created.estimated_cost.credits == api.estimated_credits(3.2) == 20
    task = created.wait_for_task_output(timeout=120)
    assert task.status == "SUCCEEDED"
    assert task.cost.credits == 20
    out = tmp_path / "out.mp4"
    r = requests.get(task.output[0], timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp4"
    out.write_bytes(r.content)
    info = _probe(out)
    assert info["codec"] == "h264"
    assert info["size"] == api.RATIO_SIZES["1104:832"]
    assert info["fps"] == api.OUTPUT_FPS
    assert info["frames"] == round(3.2 * api.OUTPUT_FPS)
    assert info["audio"] == 1
    assert sb.count("create") == 1 and sb.count("uploads") == 1 and sb.count("upload") == 1
    org = sdk.organization.retrieve()
    assert org.credit_balance == sb.config.credit_balance - 20


def test_character_video_no_audio_portrait(
    sb: Sandbox, sdk: Any, ref_audio: Path, ref_silent: Path, tmp_path: Path
) -> None:
    """A character video and a silent reference: portrait frame, no audio track, 4 s."""
    created = sdk.character_performance.create(
        model="act_two",
        character={"type": "video", "uri": data_uri(ref_audio, "video/mp4")},
        reference={"type": "video", "uri": data_uri(ref_silent, "video/mp4")},
        ratio="720:1280",
    )
    assert created.estimated_cost.credits == 20
    task, seen = wait_for(sb, created.id, {"SUCCEEDED", "FAILED"})
    assert task["status"] == "SUCCEEDED", task
    assert seen[-1] == "SUCCEEDED"
    info = sb.task_info(created.id)
    assert info is not None
    assert [h["status"] for h in info["history"]] == ["PENDING", "RUNNING", "SUCCEEDED"]
    retrieved = sdk.tasks.retrieve(created.id)
    assert retrieved.status == "SUCCEEDED"
    out = tmp_path / "portrait.mp4"
    out.write_bytes(requests.get(retrieved.output[0], timeout=60).content)
    info = _probe(out)
    assert info["size"] == (720, 1280) and info["audio"] == 0
    assert info["frames"] == 4 * api.OUTPUT_FPS


def test_delete_then_404(sb: Sandbox, sdk: Any, body: dict[str, Any]) -> None:
    import runwayml

    sb.configure(task_seconds=60)
    created = sdk.character_performance.create(**_kw(body))
    assert sdk.tasks.retrieve(created.id).status in ("PENDING", "RUNNING")
    assert sdk.tasks.delete(created.id) is None
    with pytest.raises(runwayml.NotFoundError) as e:
        sdk.tasks.retrieve(created.id)
    assert e.value.status_code == 404 and e.value.body == {"error": "Could not find Task"}
    with pytest.raises(runwayml.NotFoundError):
        sdk.tasks.delete(created.id)
    assert sb.count("delete") == 2 and sb.count("poll") == 2


def test_delete_finished_task_keeps_cost(sb: Sandbox, sdk: Any, body: dict[str, Any]) -> None:
    created = sdk.character_performance.create(**_kw(body))
    wait_for(sb, created.id, {"SUCCEEDED"})
    sdk.tasks.delete(created.id)
    info = sb.task_info(created.id)
    assert info is not None and info["deleted"] and info["status"] == "SUCCEEDED"
    assert sb.credit_balance == sb.config.credit_balance - created.estimated_cost.credits


def test_organization_and_usage(sb: Sandbox, sdk: Any, body: dict[str, Any]) -> None:
    sb.configure(
        credit_balance=500,
        max_concurrent_generations=3,
        max_daily_generations=7,
        max_monthly_credit_spend=1234,
    )
    org = sdk.organization.retrieve()
    assert org.credit_balance == 500
    tier = org.tier.models["act_two"]
    assert (tier.max_concurrent_generations, tier.max_daily_generations) == (3, 7)
    assert org.tier.max_monthly_credit_spend == 1234
    assert org.usage.models["act_two"].daily_generations == 0
    sdk.character_performance.create(**_kw(body))
    org = sdk.organization.retrieve()
    assert org.credit_balance == 480 and org.usage.models["act_two"].daily_generations == 1
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    usage = sdk.organization.retrieve_usage(
        start_date=today.isoformat(), before_date=(today + dt.timedelta(1)).isoformat()
    )
    assert usage.models == ["act_two"]
    assert [(r.date, [(u.model, u.amount) for u in r.used_credits]) for r in usage.results] == [
        (today, [("act_two", 20)])
    ]


def _kw(body: dict[str, Any]) -> dict[str, Any]:
    return {"model": body["model"], "character": body["character"], "reference": body["reference"]}


def test_strict_response_validation(sb: Sandbox, face_png: Path, ref_audio: Path) -> None:
    """The SDK in strict mode (pydantic validation of every response) accepts every answer."""
    import runwayml

    sb.configure(task_seconds=0.5)
    sb.faults.add(action="fail_task", failure_code="ASSET.INVALID", failure="Bad asset.")
    with runwayml.RunwayML(
        api_key=sb.api_key, base_url=sb.base_url, max_retries=0, _strict_response_validation=True
    ) as c:
        up = c.uploads.create_ephemeral(file=ref_audio)
        kw: dict[str, Any] = {
            "model": "act_two",
            "character": {"type": "image", "uri": data_uri(face_png, "image/png")},
            "reference": {"type": "video", "uri": up.uri},
        }
        failing = c.character_performance.create(**kw)
        ok = c.character_performance.create(**kw)
        statuses: set[str] = set()
        for task_id in (failing.id, ok.id):
            while True:
                t = c.tasks.retrieve(task_id)
                statuses.add(t.status)
                if t.status in ("SUCCEEDED", "FAILED"):
                    break
        assert {"RUNNING", "SUCCEEDED", "FAILED"} <= statuses
        assert c.tasks.retrieve(failing.id).failure_code == "ASSET.INVALID"  # type: ignore[union-attr]
        assert c.organization.retrieve().credit_balance == sb.credit_balance
        assert c.organization.retrieve_usage().results

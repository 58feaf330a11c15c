"""Validation, auth and transport answer with Runway's status codes and body shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from runway_act_two import api_surface as api
from runway_act_two.sandbox import Sandbox

from .conftest import data_uri
from .helpers import create, headers


def _issues(r: requests.Response) -> list[dict[str, Any]]:
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error", "issues", "docUrl"}
    assert body["error"] == api.ERROR_VALIDATION and body["docUrl"] == api.DOC_URL
    for issue in body["issues"]:
        assert {"code", "path", "message"} <= set(issue)
        assert isinstance(issue["path"], list) and isinstance(issue["message"], str)
    issues: list[dict[str, Any]] = body["issues"]
    return issues


def _codes(issues: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    return [(i["code"], i["path"]) for i in issues]


def test_sdk_gets_bad_request_with_all_issues(sb: Sandbox, sdk: Any, body: dict[str, Any]) -> None:
    import runwayml

    with pytest.raises(runwayml.BadRequestError) as e:
        sdk.character_performance.create(
            model="act_two",
            character={"type": "picture", "uri": body["character"]["uri"]},
            reference={"type": "video", "uri": "http://example.com/perf.mp4"},
            ratio="1920:1080",
            seed=-1,
            expression_intensity=2.5,
            body_control="yes",  # type: ignore[arg-type]
            content_moderation={"publicFigureThreshold": "off", "extra": 1},  # type: ignore[typeddict-item]
        )
    assert e.value.status_code == 400
    b = e.value.body
    assert b["error"] == api.ERROR_VALIDATION and b["docUrl"] == api.DOC_URL
    assert _codes(b["issues"]) == [
        ("invalid_value", ["character", "type"]),
        ("invalid_union", ["reference", "uri"]),
        ("invalid_type", ["bodyControl"]),
        ("invalid_type", ["expressionIntensity"]),
        ("too_small", ["seed"]),
        ("invalid_value", ["ratio"]),
        ("unrecognized_keys", ["contentModeration"]),
        ("invalid_value", ["contentModeration", "publicFigureThreshold"]),
    ]
    assert b["issues"][6]["keys"] == ["extra"]
    assert "https" in b["issues"][1]["message"]
    assert sb.tasks() == [] and sb.credit_balance == sb.config.credit_balance


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"model": "act_one"}, [("invalid_value", ["model"])]),
        ({"character": None}, [("invalid_type", ["character"])]),
        (
            {"reference": {"type": "image", "uri": "https://x.example/a.mp4"}},
            [("invalid_value", ["reference", "type"])],
        ),
        ({"reference": {"type": "video"}}, [("invalid_type", ["reference", "uri"])]),
        (
            {"reference": {"type": "video", "uri": "https://a.b"}},
            [("invalid_union", ["reference", "uri"])],
        ),
        (
            {"reference": {"type": "video", "uri": "https://x.example/" + "a" * 2100}},
            [("invalid_union", ["reference", "uri"])],
        ),
        (
            {"reference": {"type": "video", "uri": "data:image/png;base64,AAAAAAAAAAAA"}},
            [("invalid_union", ["reference", "uri"])],
        ),
        ({"expressionIntensity": 6}, [("too_big", ["expressionIntensity"])]),
        ({"expressionIntensity": 0}, [("too_small", ["expressionIntensity"])]),
        ({"seed": 4_294_967_296}, [("too_big", ["seed"])]),
        ({"seed": "1"}, [("invalid_type", ["seed"])]),
        ({"ratio": 1280}, [("invalid_type", ["ratio"])]),
        ({"contentModeration": "low"}, [("invalid_type", ["contentModeration"])]),
    ],
)
def test_schema_issues(
    sb: Sandbox, body: dict[str, Any], patch: dict[str, Any], expected: list[Any]
) -> None:
    r = create(sb, {**body, **patch})
    assert _codes(_issues(r)) == expected
    assert sb.tasks() == []


def test_accepted_edge_values(sb: Sandbox, body: dict[str, Any]) -> None:
    """Bounds are inclusive, 3.0 is an integer, unknown top-level keys are stripped."""
    ok = {
        **body,
        "seed": api.SEED_MAX,
        "expressionIntensity": 5.0,
        "bodyControl": False,
        "ratio": "960:960",
        "contentModeration": {},
        "somethingNew": True,
    }
    r = create(sb, ok)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"id", "estimatedCost"}
    assert r.json()["estimatedCost"] == {"credits": 20}


def test_asset_problems_are_custom_issues(
    sb: Sandbox, body: dict[str, Any], face_png: Path, ref_short: Path, ref_long: Path
) -> None:
    cases = [
        (
            {"character": {"type": "image", "uri": data_uri(ref_short, "image/png")}},
            ["character", "uri"],
            "Unsupported asset type.",
        ),
        (
            {"character": {"type": "video", "uri": data_uri(face_png, "video/mp4")}},
            ["character", "uri"],
            "Unsupported asset type.",
        ),
        (
            {"character": {"type": "image", "uri": "data:image/png;base64,!!!notbase64!!!"}},
            ["character", "uri"],
            "Invalid data URI.",
        ),
        (
            {"reference": {"type": "video", "uri": data_uri(ref_short, "video/mp4")}},
            ["reference", "uri"],
            "between 3 and 30 seconds",
        ),
        (
            {"reference": {"type": "video", "uri": data_uri(ref_long, "video/mp4")}},
            ["reference", "uri"],
            "between 3 and 30 seconds",
        ),
        (
            {"reference": {"type": "video", "uri": "https://cdn.example.com/perf.mp4"}},
            ["reference", "uri"],
            "Failed to fetch asset.",
        ),
        (
            {"reference": {"type": "video", "uri": "https://10.0.0.1/perf.mp4"}},
            ["reference", "uri"],
            "URLs must be hosted on a domain.",
        ),
        (
            {"reference": {"type": "video", "uri": "runway://sandbox/uploads/nope/x.mp4"}},
            ["reference", "uri"],
            "Failed to fetch asset.",
        ),
    ]
    for patch, path, text in cases:
        issues = _issues(create(sb, {**body, **patch}))
        assert _codes(issues) == [("custom", path)], (patch.keys(), issues)
        assert text in issues[0]["message"]
    assert sb.tasks() == [] and sb.credit_balance == sb.config.credit_balance


def test_https_allow_map(
    sb: Sandbox, body: dict[str, Any], face_jpg: Path, ref_audio: Path
) -> None:
    sb.configure(
        url_map={
            "https://assets.example.com/face.jpg": str(face_jpg),
            "https://assets.example.com/perf.mp4": str(ref_audio),
        }
    )
    r = create(
        sb,
        {
            "model": "act_two",
            "character": {"type": "image", "uri": "https://assets.example.com/face.jpg"},
            "reference": {"type": "video", "uri": "https://assets.example.com/perf.mp4"},
        },
    )
    assert r.status_code == 200, r.text


def test_not_enough_credits_then_daily_limit(sb: Sandbox, sdk: Any, body: dict[str, Any]) -> None:
    import runwayml

    sb.configure(credit_balance=19)
    with pytest.raises(runwayml.BadRequestError) as e:
        sdk.character_performance.create(
            **{k: body[k] for k in ("model", "character", "reference")}
        )
    assert e.value.body == {"error": api.ERROR_NOT_ENOUGH_CREDITS, "docUrl": api.DOC_URL}
    assert sb.tasks() == [] and sb.credit_balance == 19
    sb.configure(credit_balance=1000, max_daily_generations=1)
    assert create(sb, body).status_code == 200
    with pytest.raises(runwayml.RateLimitError) as e2:
        sdk.character_performance.create(
            **{k: body[k] for k in ("model", "character", "reference")}
        )
    assert e2.value.body == {"error": api.ERROR_DAILY_LIMIT}
    assert len(sb.tasks()) == 1 and sb.credit_balance == 980


@pytest.mark.parametrize(
    "auth",
    [
        None,
        "Bearer nope",
        "Bearer key_" + "a" * 127,
        "Basic key_" + "a" * 128,
        "Bearer key_" + "A" * 128,
    ],
)
def test_bad_key_is_401(sb: Sandbox, auth: str | None) -> None:
    h = headers(sb)
    del h["Authorization"]
    if auth:
        h["Authorization"] = auth
    r = requests.get(f"{sb.base_url}{api.PATH_ORGANIZATION}", headers=h, timeout=10)
    assert r.status_code == 401 and set(r.json()) == {"error"}
    assert sb.requests()[-1]["status"] == 401


def test_sdk_bad_key_raises_authentication_error(sb: Sandbox) -> None:
    import runwayml

    bad = runwayml.RunwayML(api_key="key_" + "0" * 10, base_url=sb.base_url, max_retries=0)
    with bad as c, pytest.raises(runwayml.AuthenticationError):
        c.organization.retrieve()


def test_required_key(sb: Sandbox) -> None:
    other = "key_" + "b" * 128
    sb.configure(required_api_key=other)
    assert (
        requests.get(f"{sb.base_url}/v1/organization", headers=headers(sb), timeout=10).status_code
        == 401
    )
    h = headers(sb, Authorization=f"Bearer {other}")
    assert requests.get(f"{sb.base_url}/v1/organization", headers=h, timeout=10).status_code == 200


@pytest.mark.parametrize("version", [None, "2024-09-13", ""])
def test_version_header_enforced(sb: Sandbox, version: str | None) -> None:
    h = headers(sb)
    del h[api.VERSION_HEADER]
    if version is not None:
        h[api.VERSION_HEADER] = version
    r = requests.get(f"{sb.base_url}/v1/organization", headers=h, timeout=10)
    assert r.status_code == 400 and r.json() == {"error": api.ERROR_BAD_VERSION}


def test_routing(sb: Sandbox) -> None:
    h = headers(sb)
    r = requests.get(f"{sb.base_url}/v1/nothing", headers=h, timeout=10)
    assert r.status_code == 404 and "error" in r.json()
    r = requests.get(f"{sb.base_url}{api.PATH_CHARACTER_PERFORMANCE}", headers=h, timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    r = requests.put(f"{sb.base_url}/v1/tasks/x", headers=h, timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, DELETE"
    r = requests.get(f"{sb.base_url}/v1/tasks/not-a-uuid", headers=h, timeout=10)
    assert r.status_code == 400 and r.json()["issues"][0]["path"] == ["id"]
    r = requests.get(
        f"{sb.base_url}/v1/tasks/17f20503-6c24-4c16-946b-35dbbce2af2f", headers=h, timeout=10
    )
    assert r.status_code == 404 and r.json() == {"error": api.ERROR_TASK_NOT_FOUND}
    r = requests.post(
        f"{sb.base_url}{api.PATH_CHARACTER_PERFORMANCE}", data=b"{nope", headers=h, timeout=10
    )
    assert r.status_code == 400 and "error" in r.json()
    for resp in (r,):
        assert resp.headers["Content-Type"] == "application/json"


def test_upload_body_validation(sb: Sandbox) -> None:
    url = f"{sb.base_url}{api.PATH_UPLOADS}"
    r = requests.post(
        url, json={"filename": "ab", "type": "permanent"}, headers=headers(sb), timeout=10
    )
    assert _codes(_issues(r)) == [("too_small", ["filename"]), ("invalid_value", ["type"])]
    r = requests.post(url, json={"type": "ephemeral"}, headers=headers(sb), timeout=10)
    assert _codes(_issues(r)) == [("invalid_type", ["filename"])]
    r = requests.post(
        url,
        json={"filename": "a" * 256 + ".mp4", "type": "ephemeral"},
        headers=headers(sb),
        timeout=10,
    )
    assert _codes(_issues(r)) == [("too_big", ["filename"])]


def test_usage_validation(sb: Sandbox) -> None:
    url = f"{sb.base_url}{api.PATH_ORGANIZATION_USAGE}"
    r = requests.post(url, json={"startDate": "2026-13-01"}, headers=headers(sb), timeout=10)
    assert _codes(_issues(r)) == [("invalid_format", ["startDate"])]
    r = requests.post(
        url,
        json={"startDate": "2026-01-01", "beforeDate": "2026-06-01"},
        headers=headers(sb),
        timeout=10,
    )
    assert _codes(_issues(r)) == [("custom", ["beforeDate"])]
    r = requests.post(url, json={}, headers=headers(sb), timeout=10)
    assert r.status_code == 200 and len(r.json()["results"]) == api.USAGE_DEFAULT_DAYS


def test_answers_never_wait_for_a_delayed_ack() -> None:
    """Headers and body leave in two writes; with Nagle's algorithm on, every request on a
    kept-alive connection waited ~40 ms for the client's delayed ACK (no real API does)."""
    from runway_act_two.sandbox.routes import Handler

    assert Handler.disable_nagle_algorithm is True

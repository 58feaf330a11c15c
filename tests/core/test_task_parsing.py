"""Parsing server JSON: the documented shapes, and anything at all without crashing."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runway_act_two.errors import ResponseFormatError
from runway_act_two.task import parse_created, parse_organization, parse_task

TID = "17f20503-6c24-4c16-946b-35dbbce2af2f"

# The OAS examples, verbatim.
# fmt: off
EXAMPLES = [
    '{"id":"17f20503-6c24-4c16-946b-35dbbce2af2f","status":"PENDING","createdAt":"2024-06-27T19:49:32.334Z","estimatedCost":{"credits":25}}',
    '{"id":"355e42da-b3f9-4b65-9be2-fb10bda026fc","status":"THROTTLED","createdAt":"2024-06-27T19:49:32.335Z","estimatedCost":{"credits":25}}',
    '{"id":"08388106-1b46-4f5c-bd46-1c1d7ee86892","status":"RUNNING","createdAt":"2024-06-27T19:49:32.335Z","progress":0.2,"estimatedCost":{"credits":25}}',
    '{"id":"d2e3d1f4-1b3c-4b5c-8d46-1c1d7ee86892","status":"SUCCEEDED","createdAt":"2024-06-27T19:49:32.335Z","output":["https://example.com/output1.jpg","https://example.com/output2.jpg"],"cost":{"credits":25}}',
    '{"id":"6da960dd-ef88-40fc-9628-02e9b6a6a008","status":"FAILED","createdAt":"2024-06-27T19:49:32.335Z","failure":"The provided image was flagged by content moderation.","failureCode":"SAFETY.INPUT.IMAGE","cost":{"credits":0}}',  # noqa: E501
]
# fmt: on


def test_documented_examples() -> None:
    tasks = [parse_task(json.loads(e)) for e in EXAMPLES]
    assert [t.status for t in tasks] == ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED"]
    assert tasks[0].estimated_credits == 25 and tasks[0].is_live
    assert tasks[2].progress == pytest.approx(0.2)
    assert tasks[3].output == ["https://example.com/output1.jpg", "https://example.com/output2.jpg"]
    assert tasks[3].cost_credits == 25 and tasks[3].is_terminal
    assert tasks[4].failure_code == "SAFETY.INPUT.IMAGE" and not tasks[4].failure_retryable
    assert tasks[4].failure and "moderation" in tasks[4].failure


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("INTERNAL.BAD_OUTPUT.CODE01", True),
        ("SAFETY.OUTPUT.VIDEO", False),
        ("ASSET.INVALID", False),
        ("THIRD_PARTY.UNAVAILABLE", True),
        ("INPUT_PREPROCESSING.INTERNAL", True),
        (None, False),
    ],
)
def test_failure_retryability(code: str | None, retryable: bool) -> None:
    t = parse_task({"id": TID, "status": "FAILED", "failure": "x", "failureCode": code})
    assert t.failure_retryable is retryable


@pytest.mark.parametrize(
    "obj",
    [
        None,
        [],
        "task",
        3,
        {},
        {"id": TID},
        {"status": "RUNNING"},
        {"id": "../../etc", "status": "PENDING"},
        {"id": TID, "status": ""},
        {"id": TID, "status": 5},
        {"id": 7, "status": "PENDING"},
        {"id": "a" * 500, "status": "PENDING"},
    ],
)
def test_unusable_objects_raise_response_format_error(obj: Any) -> None:
    with pytest.raises(ResponseFormatError):
        parse_task(obj)


def test_wrong_types_are_ignored_not_fatal() -> None:
    t = parse_task(
        {
            "id": TID,
            "status": "running",
            "progress": "half",
            "output": "https://x",
            "estimatedCost": 5,
            "cost": {"credits": float("nan")},
            "failure": {"reason": "r"},
            "createdAt": 12,
        }
    )
    assert t.status == "RUNNING" and t.progress is None and t.output == []
    assert t.estimated_credits is None and t.cost_credits is None and t.created_at is None
    assert t.failure == "r"
    t = parse_task({"id": TID, "status": "RUNNING", "progress": 7.5})
    assert t.progress == 1.0
    t = parse_task({"id": TID, "status": "RUNNING", "progress": True})
    assert t.progress is None
    t = parse_task({"id": TID, "status": "SUCCEEDED", "output": [1, None, "ftp://x", "https://ok"]})
    assert t.output == ["https://ok"]


def test_created_and_organization() -> None:
    c = parse_created({"id": TID, "estimatedCost": {"credits": 50}})
    assert (c.task_id, c.estimated_credits) == (TID, 50)
    with pytest.raises(ResponseFormatError):
        parse_created({"estimatedCost": {"credits": 50}})
    org = parse_organization(
        {
            "creditBalance": 1234,
            "tier": {
                "maxMonthlyCreditSpend": 10000,
                "models": {"act_two": {"maxConcurrentGenerations": 2, "maxDailyGenerations": None}},
            },
            "usage": {"models": {"act_two": {"dailyGenerations": 3}}},
        }
    )
    assert org.credit_balance == 1234 and org.balance_usd == pytest.approx(12.34)
    assert org.max_concurrent_generations == 2 and org.max_daily_generations is None
    assert org.daily_generations == 3 and org.max_monthly_credit_spend == 10000
    empty = parse_organization({"tier": [], "usage": "x"})
    assert empty.credit_balance is None and empty.daily_generations is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
statuses = st.sampled_from(
    ["PENDING", "THROTTLED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "weird"]
)
task_like = st.fixed_dictionaries(
    {"id": st.one_of(st.just(TID), json_values), "status": st.one_of(statuses, json_values)},
    optional={
        k: json_values
        for k in (
            "progress",
            "output",
            "failure",
            "failureCode",
            "cost",
            "estimatedCost",
            "createdAt",
        )
    },
)


@settings(max_examples=250, deadline=None)
@given(st.one_of(json_values, task_like))
def test_arbitrary_json_parses_or_raises_response_format_error(obj: Any) -> None:
    try:
        t = parse_task(obj)
    except ResponseFormatError:
        return
    assert isinstance(t.id, str) and isinstance(t.status, str)
    assert t.progress is None or 0.0 <= t.progress <= 1.0
    for v in (t.estimated_credits, t.cost_credits):
        assert v is None or math.isfinite(v)
    assert all(isinstance(u, str) for u in t.output)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_arbitrary_json_as_created_or_organization(obj: Any) -> None:
    for fn in (parse_created, parse_organization):
        with contextlib.suppress(ResponseFormatError):
            fn(obj)

"""The transport against the real sandbox: headers, error mapping, and the money-safe retry policy.

Create-path tests send a body the sandbox rejects (400) after the injected fault, so every retry
is visible in the sandbox's request log without creating tasks; the full "exactly one task"
checks live in test_client_submit.py.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
from core_helpers import count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runway_act_two import api_surface as api
from runway_act_two.config import Settings, resolve_settings
from runway_act_two.errors import (
    ActTwoError,
    ApiError,
    AuthenticationError,
    NetworkError,
    NotEnoughCreditsError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    SubmitAmbiguousError,
    TaskNotFoundError,
)
from runway_act_two.transport import Transport, parse_issues, server_delay

CREATE = api.PATH_CHARACTER_PERFORMANCE
ORG = api.PATH_ORGANIZATION
BAD_BODY = {"model": "act_two"}  # valid JSON, rejected by validation (no task is created)


@pytest.fixture
def transport(sandbox: Any) -> Transport:
    t = Transport(resolve_settings(api_key=sandbox.api_key, base_url=sandbox.base_url))
    yield t
    t.close()


def test_headers_are_sent_and_the_key_is_not_in_session_reprs(
    sandbox: Any, transport: Transport
) -> None:
    org = transport.call("GET", ORG)
    assert isinstance(org, dict) and "creditBalance" in org
    assert count(sandbox, "organization", 1) == 1
    entry = sandbox.requests("organization")[-1]
    assert entry["status"] == 200
    # The sandbox enforces the version header and a Bearer key; reaching 200 proves both.
    for obj in (transport, transport._session, transport._session.auth, transport.settings):
        assert sandbox.api_key not in repr(obj)
    assert "Authorization" not in transport._session.headers
    assert "Authorization" not in transport.foreign_session().headers
    assert transport.foreign_session().auth is None
    assert transport.user_agent.startswith("runway-act-two/")


def test_wrong_key_is_authentication_error_without_the_key(sandbox: Any) -> None:
    sandbox.configure(required_api_key=sandbox.api_key)
    wrong = "key_" + "0" * 128
    t = Transport(resolve_settings(api_key=wrong, base_url=sandbox.base_url))
    with pytest.raises(AuthenticationError) as info:
        t.call("GET", ORG)
    assert info.value.status == 401 and info.value.exit_code == 3
    assert wrong not in str(info.value) and wrong not in repr(info.value)


def test_validation_issues_are_rendered_as_lines(transport: Transport) -> None:
    with pytest.raises(ApiError) as info:
        transport.call(
            "POST", CREATE, json={"model": "act_two", "ratio": "1:1", "seed": -1}, create=True
        )
    err = info.value
    assert err.status == 400 and err.issues
    text = str(err)
    lines = text.splitlines()
    assert lines[0].startswith("Runway rejected the request (400)")
    assert any(line.startswith("- ratio:") for line in lines)
    assert any(line.startswith("- seed:") for line in lines)


def test_not_enough_credits(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(
        endpoint="create",
        status=400,
        json={"error": api.ERROR_NOT_ENOUGH_CREDITS, "docUrl": api.DOC_URL},
    )
    with pytest.raises(NotEnoughCreditsError) as info:
        transport.call("POST", CREATE, json=BAD_BODY, create=True)
    assert "credits" in str(info.value).lower()
    assert count(sandbox, "create", 1) == 1


def test_missing_task_is_task_not_found(transport: Transport) -> None:
    with pytest.raises(TaskNotFoundError):
        transport.call("GET", api.PATH_TASK.format(id="17f20503-6c24-4c16-946b-35dbbce2af2f"))


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_create_is_retried_on_provably_safe_statuses(
    sandbox: Any, transport: Transport, status: int
) -> None:
    sandbox.faults.add(endpoint="create", status=status, count=2, retry_after_ms=10)
    with pytest.raises(ApiError) as info:
        transport.call("POST", CREATE, json=BAD_BODY, create=True)
    assert info.value.status == 400  # the third attempt reached validation
    assert count(sandbox, "create", 3) == 3


def test_create_honours_retry_after_then_gives_up(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="create", status=429, count=10, retry_after=0.01)
    with pytest.raises(RateLimitError) as info:
        transport.call("POST", CREATE, json=BAD_BODY, create=True)
    assert count(sandbox, "create", 5) == 5  # 1 + CREATE_RETRIES
    assert info.value.retry_after == pytest.approx(0.01)


def test_daily_limit_429_is_not_retried(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="create", status=429, json={"error": api.ERROR_DAILY_LIMIT})
    with pytest.raises(RateLimitError):
        transport.call("POST", CREATE, json=BAD_BODY, create=True)
    assert count(sandbox, "create", 1) == 1


def test_x_should_retry_false_is_obeyed(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="create", status=503, should_retry=False)
    with pytest.raises(ServerError):
        transport.call("POST", CREATE, json=BAD_BODY, create=True)
    assert count(sandbox, "create", 1) == 1


def test_create_500_is_ambiguous_and_not_retried(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="create", status=500, count=3)
    with pytest.raises(SubmitAmbiguousError) as info:
        transport.call("POST", CREATE, json=BAD_BODY, create=True)
    assert count(sandbox, "create", 1) == 1
    assert info.value.exit_code == 5
    assert "may or may not have created" in str(info.value)


def test_create_dropped_connection_is_ambiguous(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="create", action="drop_before", count=3)
    with pytest.raises(SubmitAmbiguousError):
        transport.call("POST", CREATE, json=BAD_BODY, create=True)
    assert count(sandbox, "create", 1) == 1


def test_create_read_timeout_is_ambiguous(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="create", action="delay", delay=1.0)
    with pytest.raises(SubmitAmbiguousError):
        transport.call("POST", CREATE, json=BAD_BODY, create=True, timeout=0.2)
    assert count(sandbox, "create", 1) == 1


def test_create_2xx_that_is_not_json_is_ambiguous(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="create", status=200, body="<html>oops</html>")
    with pytest.raises(SubmitAmbiguousError):
        transport.call("POST", CREATE, json=BAD_BODY, create=True)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused_is_retried_then_network_error_even_for_create() -> None:
    settings = Settings(
        api_key="key_" + "1" * 128,
        base_url=f"http://127.0.0.1:{_closed_port()}",
        key_source="argument",
    )
    t = Transport(settings)
    with pytest.raises(NetworkError) as info:
        t.call("POST", CREATE, json=BAD_BODY, create=True, retries=1)
    assert "Could not reach" in str(info.value)
    with pytest.raises(NetworkError):
        t.call("GET", ORG, retries=1)


def test_reads_are_retried_on_5xx_429_and_drops(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="organization", status=500, count=1)
    sandbox.faults.add(endpoint="organization", status=429, count=1, retry_after_ms=5)
    sandbox.faults.add(endpoint="organization", action="drop_before", count=1)
    assert isinstance(transport.call("GET", ORG), dict)
    assert count(sandbox, "organization", 4) == 4


def test_reads_give_up_after_bounded_retries(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="organization", status=503, count=20, retry_after_ms=1)
    with pytest.raises(ServerError):
        transport.call("GET", ORG)
    assert count(sandbox, "organization", 4) == 4


def test_hostile_bodies(sandbox: Any, transport: Transport) -> None:
    sandbox.faults.add(endpoint="organization", status=200, body="not json at all")
    with pytest.raises(ResponseFormatError):
        transport.call("GET", ORG, retries=0)
    sandbox.faults.add(endpoint="organization", status=200, huge_body_bytes=5 * 1024 * 1024)
    with pytest.raises(ResponseFormatError):
        transport.call("GET", ORG, retries=0)
    sandbox.faults.add(endpoint="organization", status=418, body="\x00\x01" * 5000)
    with pytest.raises(ApiError) as info:
        transport.call("GET", ORG, retries=0)
    assert len(str(info.value)) < 600
    sandbox.faults.add(
        endpoint="organization",
        status=400,
        json={"error": {"weird": 1}, "issues": [1, {"path": "x"}, {"code": 5}]},
    )
    with pytest.raises(ApiError):
        transport.call("GET", ORG, retries=0)


def test_server_delay_parsing() -> None:
    assert server_delay({"retry-after-ms": "1500", "Retry-After": "9"}) == 1.5
    assert server_delay({"Retry-After": "2"}) == 2.0
    assert server_delay({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert server_delay({"Retry-After": "soon"}) is None
    assert server_delay({"retry-after-ms": "nan"}) is None
    assert server_delay({}) is None


def test_parse_issues_tolerates_garbage() -> None:
    issues = parse_issues(
        [
            {"code": "too_big", "path": ["seed"], "message": "Too big"},
            "x",
            {"path": [True, 1, {"a": 1}]},
            {"values": ["a", "b"]},
        ]
    )
    assert issues[0].render() == "seed: Too big"
    assert issues[1].path == ("True", 1)
    assert "expected one of" in issues[2].render()
    assert parse_issues("nope") == []


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda c: (
        st.lists(c, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["error", "issues", "path", "message", "code", "docUrl", "values", "x"]
            ),
            c,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=st.sampled_from([200, 400, 401, 404, 418, 429, 500, 503]),
    body=st.one_of(st.text(max_size=200), _json_values.map(json.dumps)),
)
def test_any_server_answer_is_a_value_or_a_typed_error(
    sandbox: Any, transport: Transport, status: int, body: str
) -> None:
    sandbox.faults.add(endpoint="organization", status=status, body=body)
    try:
        transport.call("GET", ORG, retries=0)
    except ActTwoError as exc:
        assert str(exc) and len(str(exc)) < 5000
    sandbox.faults.clear()

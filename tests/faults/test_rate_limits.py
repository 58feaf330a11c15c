"""429 storms: the client waits as the server asks and creates the task exactly once.

Rate limits and the daily generation limit are answered before a task exists, so a create may be
retried; the server's own hint (``retry-after-ms`` first, then ``Retry-After``) decides how long.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.family("429 storms")


def test_create_429_storm_with_retry_after_ms(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    sb.faults.add(endpoint="create", status=429, count=3, retry_after_ms=20)
    result = client.generate(make_request(), tmp_path / "out.mp4")
    assert result.output_path.exists()
    creates = sb.requests("create")
    assert [e["status"] for e in creates] == [429, 429, 429, 200]
    assert len(sb.tasks()) == 1


def test_create_429_storm_with_retry_after_seconds(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    sb.faults.add(endpoint="create", status=429, count=2, retry_after=0.05)
    client.generate(make_request(), tmp_path / "out.mp4")
    assert [e["status"] for e in sb.requests("create")] == [429, 429, 200]
    assert len(sb.tasks()) == 1


def test_retry_after_ms_takes_precedence(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    """Retry-After alone (120 s) is too long to wait for; retry-after-ms (20 ms) is obeyed."""
    sb.faults.add(endpoint="create", status=429, count=1, retry_after=120, retry_after_ms=20)
    client.generate(make_request(), tmp_path / "out.mp4")
    assert [e["status"] for e in sb.requests("create")] == [429, 200]


def test_retry_after_too_long_is_not_waited_for(sb: Any, client: Any, make_request: Any) -> None:
    from runway_act_two import errors

    sb.faults.add(endpoint="create", status=429, count=1, retry_after=3600)
    with pytest.raises(errors.RateLimitError) as info:
        client.submit(make_request())
    assert info.value.exit_code == 3
    assert info.value.retry_after == pytest.approx(3600, abs=1)
    assert sb.count("create") == 1
    assert sb.tasks() == []


def test_endless_429_gives_up_with_rate_limit_error(
    sb: Any, client: Any, make_request: Any
) -> None:
    from runway_act_two import errors

    sb.faults.add(endpoint="create", status=429, count=50, retry_after_ms=5)
    with pytest.raises(errors.RateLimitError) as info:
        client.submit(make_request())
    assert "429" in str(info.value)
    assert 2 <= sb.count("create") <= 10  # bounded retries, then a clear error
    assert sb.tasks() == []


def test_daily_limit_is_not_retried(sb: Any, client: Any, make_request: Any) -> None:
    from runway_act_two import errors

    sb.configure(max_daily_generations=0)
    with pytest.raises(errors.RateLimitError) as info:
        client.submit(make_request())
    assert "daily" in str(info.value).lower()
    assert sb.count("create") == 1
    assert sb.tasks() == []


def test_poll_429_storm_is_tolerated(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    sb.faults.add(endpoint="poll", status=429, count=3, retry_after_ms=10)
    result = client.generate(make_request(), tmp_path / "out.mp4")
    assert result.output_path.exists()
    polls = [e["status"] for e in sb.requests("poll")]
    assert polls.count(429) == 3 and polls[-1] == 200
    assert sb.count("create") == 1

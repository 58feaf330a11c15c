"""Expired output URLs and truncated downloads: the paid result still ends up on disk, intact.

Output URLs expire (24-48 h on Runway); the client fetches the task again for a fresh one. A
transfer cut short resumes with a Range request. If the output cannot be saved now, the error says
so and the journal keeps the task so ``act-two download`` can fetch it later: never a lost output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from media_factory import make_mp4

pytestmark = pytest.mark.family("downloads")


def _server_output(sb: Any) -> bytes:
    (task,) = sb.tasks()
    return Path(task["outputPath"]).read_bytes()


def test_expired_output_url_is_refreshed(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    sb.faults.add(endpoint="output", action="expire_token", count=1)
    result = client.generate(make_request(), tmp_path / "out.mp4")
    assert result.output_path.read_bytes() == _server_output(sb)
    statuses = [e["status"] for e in sb.requests("output") if e["method"] == "GET"]
    assert statuses[0] == 403 and statuses[-1] in (200, 206)
    assert sb.count("create") == 1


def test_truncated_download_resumes_with_range(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    # An 8 s reference makes a ~380 KB preview: more than the client's 256 KB read chunk, so the
    # cut at 300 KB leaves a partial file on disk to resume from.
    ref = make_mp4(tmp_path / "ref8.mp4", 8)
    sb.faults.add(endpoint="output", action="truncate", after_bytes=300_000, count=1)
    result = client.generate(make_request(reference=ref), tmp_path / "out.mp4")
    assert result.output_path.read_bytes() == _server_output(sb)
    gets = [e for e in sb.requests("output") if e["method"] == "GET"]
    assert gets[0]["fault"] == "truncate"
    assert any(e["status"] == 206 for e in gets[1:]), [
        (e["status"], e["fault"]) for e in gets
    ]  # resumed, not restarted
    assert sb.count("create") == 1


def test_download_that_keeps_failing_is_not_lost(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    from runway_act_two import errors

    # Every output URL is refused as expired, even fresh ones (a CDN outage): the client gives up
    # after a few refreshes instead of looping, and the paid task stays in the journal.
    sb.faults.add(endpoint="output", action="expire_token", count=500)
    with pytest.raises(errors.DownloadError) as info:
        client.generate(make_request(), tmp_path / "out.mp4")
    (task,) = sb.tasks()
    assert info.value.task_id == task["id"]
    assert info.value.exit_code == 3
    assert task["id"] in str(info.value) or "download" in str(info.value).lower()
    assert not (tmp_path / "out.mp4").exists()  # no half-written file where the user looks
    assert [j.task_id for j in client.jobs()] == [task["id"]]
    sb.faults.clear()
    path = client.download(task["id"], tmp_path / "later.mp4")
    assert Path(path).read_bytes() == _server_output(sb)
    assert sb.count("create") == 1


def test_output_url_gone_after_success_is_a_typed_error(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    """The CDN answers 404 for good (file deleted): DownloadError, never a crash."""
    from runway_act_two import errors

    sb.faults.add(endpoint="output", status=404, count=500)
    with pytest.raises(errors.DownloadError):
        client.generate(make_request(), tmp_path / "out.mp4")
    assert sb.count("create") == 1

"""Bad media is stopped before any request: the sandbox sees nothing and nothing is spent.

Each file is damaged the way real files get damaged. The user sees one InputValidationError
(exit code 2) naming the field and what to do; the sandbox's request log stays empty. A video too
big for a data URI is not an error: it must go by upload, and no data URI over Runway's
5,242,880-character limit is ever sent.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from media_factory import make_mp4, make_video, padded_mp4, truncated_copy
from runway_act_two import api_surface as api

from .conftest import run_cli

pytestmark = pytest.mark.family("bad media")


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad_media")
    good = make_mp4(d / "good.mp4", 4)
    text = d / "notes.png"
    text.write_text("this is not a picture, just text with a .png name\n", encoding="utf-8")
    (d / "empty.mp4").write_bytes(b"")
    (d / "empty.png").write_bytes(b"")
    return {
        "truncated.mp4": truncated_copy(good, d / "truncated.mp4", 0.4),
        "empty.mp4": d / "empty.mp4",
        "empty.png": d / "empty.png",
        "text.png": text,
        "2s.mp4": make_mp4(d / "2s.mp4", 2),
        "31s.mp4": make_mp4(d / "31s.mp4", 31, 64, 48),
        # 86 frames at 30000/1001 fps = 2.87 s: an NTSC rate, measured (rounding would say 3 s)
        "ntsc_short.mp4": make_video(d / "ntsc_short.mp4", fps=Fraction(30000, 1001), frames=86),
        "over_cap.mp4": padded_mp4(good, d / "over_cap.mp4", api.UPLOAD_MAX_BYTES + 1),
    }


def _assert_rejected_before_any_request(
    sb: Any, client: Any, request: Any, field: str, words: tuple[str, ...], tmp_path: Path
) -> None:
    from runway_act_two import errors

    with pytest.raises(errors.InputValidationError) as info:
        client.check(request)
    err = info.value
    assert err.exit_code == 2
    assert any(p.field.startswith(field) for p in err.problems), err.problems
    text = str(err).lower()
    assert any(w in text for w in words), text
    assert "nothing was spent" in text
    with pytest.raises(errors.InputValidationError):
        client.generate(request, tmp_path / "out.mp4")
    assert sb.requests() == []  # not one request: no upload, no create
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    ("name", "role", "words"),
    [
        ("truncated.mp4", "reference", ("decode", "damaged", "truncated", "read", "not a")),
        ("empty.mp4", "reference", ("empty", "0 bytes", "zero")),
        ("empty.png", "character", ("empty", "0 bytes", "zero")),
        ("text.png", "character", ("not", "type", "image")),
        ("2s.mp4", "reference", ("3", "short", "second")),
        ("31s.mp4", "reference", ("30", "long", "second")),
        ("ntsc_short.mp4", "reference", ("3", "short", "second")),
        ("over_cap.mp4", "reference", ("200", "large", "big")),
    ],
)
def test_bad_file_is_stopped(
    sb: Any,
    client: Any,
    make_request: Any,
    bad: dict[str, Path],
    tmp_path: Path,
    name: str,
    role: str,
    words: tuple[str, ...],
) -> None:
    request = make_request(**{role: bad[name]})
    _assert_rejected_before_any_request(sb, client, request, role, words, tmp_path)


def test_every_problem_is_reported_at_once(
    sb: Any, client: Any, make_request: Any, bad: dict[str, Path], tmp_path: Path
) -> None:
    from runway_act_two import errors

    request = make_request(character=bad["text.png"], reference=bad["2s.mp4"], seed=-1)
    with pytest.raises(errors.InputValidationError) as info:
        client.check(request)
    fields = {p.field.split(".")[0].split("[")[0] for p in info.value.problems}
    assert {"character", "reference", "seed"} <= fields, info.value.problems
    assert sb.requests() == []


def test_odd_frame_rate_that_is_long_enough_passes(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    """100 frames at 29.97 fps (3.34 s) is valid: the odd rate alone is no reason to refuse."""
    ref = make_video(tmp_path / "ntsc_ok.mp4", fps=Fraction(30000, 1001), frames=100)
    checked = client.check(make_request(reference=ref))
    assert checked.reference_seconds == pytest.approx(100 * 1001 / 30000, abs=0.05)
    assert sb.requests() == []


def test_video_too_big_for_a_data_uri_goes_by_upload(
    sb: Any, client: Any, make_request: Any, tmp_path: Path
) -> None:
    ref = make_video(tmp_path / "noisy.mp4", 3.5, 240, 180, noise=True)
    size = ref.stat().st_size
    assert size * 4 / 3 > api.DATA_URI_MAX_CHARS  # its data URI would be over the limit
    checked = client.check(make_request(reference=ref))
    assert checked.reference.method == "upload"
    result = client.generate(make_request(reference=ref), tmp_path / "out.mp4")
    assert result.output_path.exists()
    assert sb.count("uploads") == 1 and sb.count("upload_target") == 1
    # the sandbox enforces Runway's 5,242,880-character limit: an oversized data URI is a 400
    assert [e["status"] for e in sb.requests("create")] == [200]
    (task,) = sb.tasks()
    assert task["referenceDuration"] == pytest.approx(3.5, abs=0.1)


def test_bad_media_from_the_command_line_exits_2(
    sb: Any, bad: dict[str, Path], character_png: Path, tmp_path: Path
) -> None:
    import os

    env = {**os.environ, **sb.env()}
    proc = run_cli(
        [
            "generate",
            "--character",
            str(character_png),
            "--reference",
            str(bad["2s.mp4"]),
            "--output",
            str(tmp_path / "o.mp4"),
            "--yes",
        ],
        env,
    )
    assert proc.returncode == 2, proc.stderr
    assert "reference" in (proc.stderr + proc.stdout).lower()
    assert sb.requests() == []

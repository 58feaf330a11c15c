"""check_request: every check before spend, every problem at once, nothing sent."""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from media_factory import (
    make_big_file,
    make_face_image,
    make_mp4,
    make_png,
    make_webm,
    truncated_copy,
)
from runway_act_two import api_surface as api
from runway_act_two.errors import InputValidationError, Problem
from runway_act_two.media.datauri import max_bytes_for_data_uri
from runway_act_two.media.probe import MediaInfo, MediaProbeError
from runway_act_two.request import ActTwoRequest, MediaSource
from runway_act_two.validation import CheckedRequest, check_request


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("media")
    return {
        "face": make_face_image(d / "face.png", 200, 200),
        "face_jpg": make_face_image(d / "face.jpg", 200, 200),
        "ref": make_mp4(d / "ref.mp4", 4.0, audio=True),
        "ref_webm": make_webm(d / "ref.webm", 3.5),
        "short": make_mp4(d / "short.mp4", 2.0),
        "long": make_mp4(d / "long.mp4", 31.0, 64, 48, fps=4),
        "char_video": make_mp4(d / "char.mp4", 3.0),
    }


def _req(media: dict[str, Path], **kw: Any) -> ActTwoRequest:
    base = ActTwoRequest(
        character=MediaSource.from_path(media["face"]),
        reference=MediaSource.from_path(media["ref"]),
    )
    return replace(base, **kw)


def _problems(request: ActTwoRequest, **kw: Any) -> list[Problem]:
    with pytest.raises(InputValidationError) as info:
        check_request(request, **kw)
    return info.value.problems


class FixedProber:
    """A host-supplied prober (the MediaProber protocol) that reports given facts."""

    def __init__(self, **facts: Any) -> None:
        self.facts = facts

    def probe(self, path: Path) -> MediaInfo:
        base = {"kind": "video", "mime": "video/mp4", "size_bytes": path.stat().st_size}
        return MediaInfo(**{**base, **self.facts})


# --- the happy paths ------------------------------------------------------------------------------
def test_valid_local_request(media: dict[str, Path]) -> None:
    checked = check_request(_req(media, seed=7, ratio="960:960", expression_intensity=5))
    assert isinstance(checked, CheckedRequest)
    assert checked.character.kind == "image" and checked.character.method == "data_uri"
    assert checked.reference.kind == "video" and checked.reference.method == "data_uri"
    assert checked.character.info is not None and checked.character.info.mime == "image/png"
    assert checked.reference_seconds is not None
    assert abs(checked.reference_seconds - 4.0) < 0.1
    assert checked.estimated_credits == api.estimated_credits(checked.reference_seconds) == 20
    assert len(checked.fingerprint) == 64
    assert checked.options_body() == {"seed": 7, "ratio": "960:960", "expressionIntensity": 5}
    assert checked.character_kind == "image"


def test_examples_shipped_with_the_project_pass() -> None:
    root = Path(__file__).resolve().parents[2] / "examples"
    checked = check_request(
        ActTwoRequest(
            MediaSource.from_path(root / "character.png"),
            MediaSource.from_path(root / "reference.mp4"),
        )
    )
    assert checked.reference.info is not None and checked.reference.info.has_audio
    assert checked.estimated_credits == 25


def test_types_come_from_content_not_names(media: dict[str, Path], tmp_path: Path) -> None:
    video_named_png = tmp_path / "looks-like-image.png"
    video_named_png.write_bytes(media["char_video"].read_bytes())
    jpeg_named_mp4 = tmp_path / "ref.mp4"
    jpeg_named_mp4.write_bytes(media["face_jpg"].read_bytes())
    checked = check_request(
        ActTwoRequest(MediaSource.from_path(video_named_png), MediaSource.from_path(media["ref"]))
    )
    assert checked.character.kind == "video"
    assert checked.character.info is not None and checked.character.info.mime == "video/mp4"
    problems = _problems(_req(media, reference=MediaSource.from_path(jpeg_named_mp4)))
    assert [p.field for p in problems] == ["reference"]
    assert "image/jpeg" in problems[0].message and "must be a video" in problems[0].message


def test_webm_reference_and_bytes_character(media: dict[str, Path]) -> None:
    checked = check_request(
        ActTwoRequest(
            MediaSource.from_bytes(media["face"].read_bytes(), "face.png"),
            MediaSource.from_path(media["ref_webm"]),
        )
    )
    assert checked.character.method == "data_uri"
    assert checked.character.content_sha256 is not None
    assert checked.reference.info is not None and checked.reference.info.mime == "video/webm"


# --- options --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ratio", "1920:1080"),
        ("ratio", 16 / 9),
        ("seed", -1),
        ("seed", api.SEED_MAX + 1),
        ("seed", True),
        ("seed", 1.0),
        ("seed", "42"),
        ("expression_intensity", 0),
        ("expression_intensity", 6),
        ("expression_intensity", 3.0),
        ("expression_intensity", False),
        ("body_control", "yes"),
        ("body_control", 1),
        ("public_figure_threshold", "high"),
        ("public_figure_threshold", "AUTO"),
        ("character_kind", "audio"),
    ],
)
def test_each_bad_option_is_named(media: dict[str, Path], field: str, value: object) -> None:
    problems = _problems(_req(media, **{field: value}))
    assert [p.field for p in problems] == [field]
    assert problems[0].hint


@pytest.mark.parametrize(
    "options",
    [
        {"seed": 0},
        {"seed": api.SEED_MAX},
        {"expression_intensity": 1, "body_control": False},
        {"expression_intensity": 5, "body_control": True, "public_figure_threshold": "low"},
        *({"ratio": r} for r in api.RATIOS),
    ],
)
def test_valid_options_pass(media: dict[str, Path], options: dict[str, Any]) -> None:
    check_request(_req(media, **options))


# --- files ----------------------------------------------------------------------------------------
def test_missing_folder_fifo_and_empty_files(media: dict[str, Path], tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.mp4"
    os.mkfifo(fifo)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    for source, needle in [
        (MediaSource.from_path(tmp_path / "nope.png"), "not found"),
        (MediaSource.from_path(tmp_path), "folder"),
        (MediaSource.from_path(fifo), "not a regular file"),
        (MediaSource.from_path(empty), "empty"),
        (MediaSource.from_bytes(b"", "x.png"), "empty"),
        (MediaSource(), "exactly one"),
    ]:
        problems = _problems(_req(media, character=source))
        assert [p.field for p in problems] == ["character"], source
        assert needle in problems[0].message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(media: dict[str, Path], tmp_path: Path) -> None:
    locked = tmp_path / "locked.png"
    locked.write_bytes(media["face"].read_bytes())
    locked.chmod(0)
    problems = _problems(_req(media, character=MediaSource.from_path(locked)))
    assert "cannot read" in problems[0].message


def test_unsupported_and_undecodable_files(media: dict[str, Path], tmp_path: Path) -> None:
    gif = tmp_path / "anim.png"
    gif.write_bytes(b"GIF89a" + b"\x00" * 100)
    cut = truncated_copy(media["ref"], tmp_path / "cut.mp4", 0.6)
    problems = _problems(ActTwoRequest(MediaSource.from_path(gif), MediaSource.from_path(cut)))
    assert [p.field for p in problems] == ["character", "reference"]
    assert "not a supported type" in problems[0].message
    assert "truncated" in problems[1].message


@pytest.mark.parametrize(("name", "needle"), [("short", "2.00 s"), ("long", "31.0")])
def test_reference_duration_out_of_range(media: dict[str, Path], name: str, needle: str) -> None:
    problems = _problems(_req(media, reference=MediaSource.from_path(media[name])))
    assert [p.field for p in problems] == ["reference"]
    assert needle in problems[0].message and "3 to 30 s" in problems[0].message


@pytest.mark.parametrize(
    ("seconds", "ok"),
    [(2.9, False), (2.95, True), (3.0, True), (30.0, True), (30.05, True), (30.06, False)],
)
def test_duration_boundaries_with_tolerance(
    media: dict[str, Path], seconds: float, ok: bool
) -> None:
    prober = FixedProber(duration=seconds)
    request = _req(media, character=MediaSource.from_path(media["char_video"]))
    if ok:
        assert check_request(request, prober=prober).reference_seconds == seconds
    else:
        assert [p.field for p in _problems(request, prober=prober)] == ["reference"]


def test_unknown_duration_is_a_problem(media: dict[str, Path]) -> None:
    request = _req(media, character=MediaSource.from_path(media["char_video"]))
    problems = _problems(request, prober=FixedProber(duration=None))
    assert "duration could not be read" in problems[0].message


def test_host_prober_errors_become_problems(media: dict[str, Path]) -> None:
    class Broken:
        def probe(self, path: Path) -> MediaInfo:
            if path.suffix == ".png":
                raise MediaProbeError("bad pixels")
            raise RuntimeError("host crashed")

    problems = _problems(_req(media), prober=Broken())
    assert [p.field for p in problems] == ["character", "reference"]
    assert "bad pixels" in problems[0].message and "RuntimeError" in problems[1].message


def test_over_the_upload_cap(media: dict[str, Path], tmp_path: Path) -> None:
    big = make_big_file(tmp_path / "big.mp4", api.UPLOAD_MAX_BYTES + 1, head_from=media["ref"])
    problems = _problems(_req(media, reference=MediaSource.from_path(big)))
    assert [p.field for p in problems] == ["reference"]
    assert "200 MB" in problems[0].message


def test_data_uri_or_upload_decided_at_the_exact_limit(tmp_path: Path) -> None:
    limit = max_bytes_for_data_uri("image/png")
    png_head = make_png(tmp_path / "head.png")
    fits = make_big_file(tmp_path / "fits.png", limit, head_from=png_head)
    over = make_big_file(tmp_path / "over.png", limit + 1, head_from=png_head)
    ref = make_big_file(tmp_path / "ref.mp4", 10_000_000, head_from=make_mp4(tmp_path / "r.mp4"))

    class Prober:
        def probe(self, path: Path) -> MediaInfo:
            size = path.stat().st_size
            if path.suffix == ".png":
                return MediaInfo("image", "image/png", size, 10, 10)
            return MediaInfo("video", "video/mp4", size, 10, 10, duration=4.0)

    a = check_request(
        ActTwoRequest(MediaSource.from_path(fits), MediaSource.from_path(ref)), prober=Prober()
    )
    b = check_request(
        ActTwoRequest(MediaSource.from_path(over), MediaSource.from_path(ref)), prober=Prober()
    )
    assert a.character.method == "data_uri"
    assert b.character.method == "upload"
    assert a.reference.method == "upload"


def test_character_kind_must_match_content(media: dict[str, Path]) -> None:
    problems = _problems(_req(media, character_kind="video"))
    assert [p.field for p in problems] == ["character_kind"]
    checked = check_request(
        _req(media, character=MediaSource.from_path(media["char_video"]), character_kind="video")
    )
    assert checked.character.kind == "video"


# --- URLs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("http://example.com/ref.mp4", "plain http"),
        ("https://93.184.216.34/ref.mp4", "IP address"),
        ("https://[2606:2800:220:1::]/ref.mp4", "IP address"),
        ("https://2130706433/ref.mp4", "IP address"),
        ("https://example.com/" + "a" * 2030 + ".mp4", "characters"),
        ("ftp://example.com/ref.mp4", "not a supported URL"),
        ("https:///ref.mp4", "names no host"),
        ("https://exa mple.com/ref.mp4", "spaces"),
        ("runway://" + "x" * 5000, "runway://"),
    ],
)
def test_bad_urls(media: dict[str, Path], url: str, needle: str) -> None:
    problems = _problems(_req(media, reference=MediaSource.from_url(url)))
    assert [p.field for p in problems] == ["reference"]
    assert needle in problems[0].message


def test_good_urls(media: dict[str, Path]) -> None:
    longest = "https://example.com/" + "a" * (api.HTTPS_URI_MAX_CHARS - 24) + ".mp4"
    assert len(longest) == api.HTTPS_URI_MAX_CHARS
    checked = check_request(
        ActTwoRequest(
            MediaSource.from_url("https://cdn.example.com/face.JPG?sig=1"),
            MediaSource.from_url(longest),
        )
    )
    assert checked.character.kind == "image" and checked.character.method == "url"
    assert checked.reference.info is None
    assert checked.reference_seconds is None and checked.estimated_credits is None
    checked = check_request(
        ActTwoRequest(
            MediaSource.from_url("runway://uploads/abc/character"),
            MediaSource.from_url("runway://uploads/abc/ref.mp4"),
            character_kind="video",
        )
    )
    assert checked.character.kind == "video"


def test_character_url_of_unknown_kind_needs_character_kind(media: dict[str, Path]) -> None:
    problems = _problems(_req(media, character=MediaSource.from_url("https://example.com/x")))
    assert [p.field for p in problems] == ["character_kind"]


def test_data_uris_given_as_urls(media: dict[str, Path]) -> None:
    png = media["face"].read_bytes()
    mp4 = media["ref"].read_bytes()
    good = ActTwoRequest(
        MediaSource.from_url("data:image/png;base64," + base64.b64encode(png).decode()),
        MediaSource.from_url("data:video/mp4;base64," + base64.b64encode(mp4).decode()),
    )
    checked = check_request(good)
    assert checked.character.method == checked.reference.method == "url"
    assert checked.reference_seconds is not None and abs(checked.reference_seconds - 4) < 0.1
    for bad, needle in [
        ("data:image/png;base64,@@@@", "malformed"),
        ("data:image/png;base64," + base64.b64encode(mp4).decode(), "holds video/mp4"),
        ("data:image/png;base64," + "A" * api.DATA_URI_MAX_CHARS, "at most"),
        ("data:text/plain;base64," + base64.b64encode(png).decode(), "not an image/"),
    ]:
        problems = _problems(replace(good, character=MediaSource.from_url(bad)))
        assert [p.field for p in problems] == ["character"]
        assert needle in problems[0].message


# --- everything at once, fingerprints, nothing sent -----------------------------------------------
def test_every_problem_is_reported_at_once(media: dict[str, Path], tmp_path: Path) -> None:
    request = ActTwoRequest(
        character=MediaSource.from_path(tmp_path / "missing.png"),
        reference=MediaSource.from_path(media["face"]),
        seed=-5,
        ratio="4:3",
        expression_intensity=9,
        body_control="no",  # type: ignore[arg-type]
        public_figure_threshold="none",
    )
    key = Problem("api_key", "no API key", "set RUNWAYML_API_SECRET")
    with pytest.raises(InputValidationError) as info:
        check_request(request, extra_problems=[key])
    fields = [p.field for p in info.value.problems]
    assert fields == [
        "api_key",
        "character",
        "reference",
        "ratio",
        "seed",
        "body_control",
        "expression_intensity",
        "public_figure_threshold",
    ]
    text = str(info.value)
    assert "8 problems" in text and "nothing was spent" in text
    assert info.value.exit_code == 2


def test_fingerprint_follows_content_and_options(media: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy-of-face.png"
    copy.write_bytes(media["face"].read_bytes())
    a = check_request(_req(media, seed=1)).fingerprint
    assert (
        check_request(_req(media, seed=1, character=MediaSource.from_path(copy))).fingerprint == a
    )
    assert check_request(_req(media, seed=2)).fingerprint != a
    assert check_request(_req(media)).fingerprint != a
    other = make_face_image(tmp_path / "other.png", 201, 200)
    assert (
        check_request(_req(media, seed=1, character=MediaSource.from_path(other))).fingerprint != a
    )
    u1 = check_request(_req(media, reference=MediaSource.from_url("https://e.com/r.mp4")))
    u2 = check_request(_req(media, reference=MediaSource.from_url("https://e.com/r.mp4")))
    assert u1.fingerprint == u2.fingerprint


def test_rejected_requests_send_nothing(
    media: dict[str, Path], sandbox: Any, client: Any, tmp_path: Path
) -> None:
    bad = _req(media, reference=MediaSource.from_path(media["short"]), seed=-1)
    with pytest.raises(InputValidationError):
        client.check(bad)
    with pytest.raises(InputValidationError):
        client.generate(bad, tmp_path / "out.mp4")
    with pytest.raises(InputValidationError):
        client.submit(bad)
    assert sandbox.requests() == []


def test_missing_key_is_reported_with_the_input_problems(
    media: dict[str, Path], sandbox: Any, tmp_path: Path
) -> None:
    from runway_act_two import ActTwoClient

    client = ActTwoClient(base_url=sandbox.base_url, data_dir=tmp_path / "data")
    try:
        with pytest.raises(InputValidationError) as info:
            client.generate(_req(media, ratio="1:1"), tmp_path / "out.mp4")
    finally:
        client.close()
    fields = [p.field for p in info.value.problems]
    assert fields[-1] == "ratio" and len(fields) == 2
    assert api.ENV_API_KEY in str(info.value)
    assert sandbox.requests() == []


# --- property tests -------------------------------------------------------------------------------
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from([*api.RATIOS, "auto", "low", "image", "video"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.binary(max_size=10),
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ratio=ANY_VALUE,
    seed=ANY_VALUE,
    body=ANY_VALUE,
    intensity=ANY_VALUE,
    threshold=ANY_VALUE,
    kind=ANY_VALUE,
)
def test_arbitrary_options_only_raise_validation_errors(
    media: dict[str, Path],
    ratio: Any,
    seed: Any,
    body: Any,
    intensity: Any,
    threshold: Any,
    kind: Any,
) -> None:
    request = _req(
        media,
        ratio=ratio,
        seed=seed,
        body_control=body,
        expression_intensity=intensity,
        public_figure_threshold=threshold,
        character_kind=kind,
    )
    try:
        checked = check_request(request)
    except InputValidationError as exc:
        assert exc.problems
        return
    assert checked.request is request


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    url=st.one_of(
        st.text(max_size=60),
        st.builds(lambda s: "https://" + s, st.text(max_size=60)),
        st.builds(lambda s: "data:" + s, st.text(max_size=60)),
        st.builds(lambda s: "runway://" + s, st.text(max_size=60)),
    ),
    data=st.binary(max_size=300),
    path=st.text(max_size=40),
)
def test_arbitrary_sources_only_raise_validation_errors(
    media: dict[str, Path], url: str, data: bytes, path: str
) -> None:
    for source in (
        MediaSource(url=url),
        MediaSource(data=data, filename="x"),
        MediaSource(path=Path(path) if "\x00" not in path else None),
        MediaSource(path=path),  # type: ignore[arg-type]
    ):
        try:
            check_request(_req(media, character=source))
        except InputValidationError as exc:
            assert exc.problems

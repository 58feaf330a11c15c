"""Data URI arithmetic (exact, before encoding) and parsing; the encoder: test_create_body."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runway_act_two import api_surface as api
from runway_act_two.media import datauri
from runway_act_two.media.datauri import (
    data_uri_from_bytes,
    data_uri_length,
    decode_data_uri,
    fits_data_uri,
    max_bytes_for_data_uri,
    parse_data_uri,
)

MIMES = list(api.IMAGE_MIME_TYPES + api.VIDEO_MIME_TYPES)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 5000), mime=st.sampled_from(MIMES))
def test_length_is_exact(n: int, mime: str) -> None:
    assert data_uri_length(n, mime) == len(data_uri_from_bytes(b"\x01" * n, mime))


@pytest.mark.parametrize("mime", MIMES)
def test_limit_boundary_is_exact(mime: str) -> None:
    n = max_bytes_for_data_uri(mime)
    assert fits_data_uri(n, mime)
    assert not fits_data_uri(n + 1, mime)
    assert data_uri_length(n, mime) <= api.DATA_URI_MAX_CHARS < data_uri_length(n + 1, mime)


def test_video_limit_in_bytes() -> None:
    # data:video/mp4;base64, is 22 characters: (5,242,880 - 22) // 4 * 3 bytes fit.
    assert max_bytes_for_data_uri("video/mp4") == (api.DATA_URI_MAX_CHARS - 22) // 4 * 3


def test_parse_and_decode() -> None:
    payload = b"\x89PNG\r\n\x1a\n-rest"
    uri = data_uri_from_bytes(payload, "image/png")
    parsed = parse_data_uri(uri)
    assert parsed is not None
    assert parsed.mime == "image/png"
    assert decode_data_uri(uri) == payload
    assert decode_data_uri("data:image/png;charset=x;base64," + uri.split(",", 1)[1]) == payload
    for bad in [
        "data:image/png," + "abc",  # not base64
        "data:;base64,AAAA",
        "data:image/png;base64,AAA",  # bad length
        "data:image/png;base64,AA=A",
        "data:image/png;base64,AA AA",
        "https://example.com/a.png",
    ]:
        assert decode_data_uri(bad) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_decode_never_raises(text: str) -> None:
    datauri.decode_data_uri("data:image/png;base64," + text)
    datauri.decode_data_uri(text)

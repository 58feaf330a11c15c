"""Type from content: real files of every supported type, renamed files, look-alikes, junk."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from media_factory import make_jpeg, make_mov, make_mp4, make_png, make_webm, make_webp
from runway_act_two.media.sniff import SNIFF_BYTES, kind_of, sniff_file, sniff_mime


@pytest.mark.parametrize(
    ("maker", "mime"),
    [
        (make_png, "image/png"),
        (make_jpeg, "image/jpeg"),
        (make_webp, "image/webp"),
        (lambda p: make_webp(p, lossless=True), "image/webp"),
        (lambda p: make_mp4(p, 0.5), "video/mp4"),
        (lambda p: make_mp4(p, 0.5, faststart=True), "video/mp4"),
        (lambda p: make_mov(p, 0.5), "video/quicktime"),
        (lambda p: make_webm(p, 0.5), "video/webm"),
    ],
)
def test_real_files_are_recognised_whatever_their_name(
    tmp_path: Path, maker: object, mime: str
) -> None:
    # A misleading name: the content decides.
    path = tmp_path / "misnamed.txt"
    maker(path)  # type: ignore[operator]
    assert sniff_file(path) == mime
    assert kind_of(mime) == mime.split("/")[0]


def test_classic_quicktime_without_ftyp_is_mov() -> None:
    head = struct.pack(">I4s", 1000, b"moov") + b"\x00" * 100
    assert sniff_mime(head) == "video/quicktime"
    wide = struct.pack(">I4s", 8, b"wide") + struct.pack(">I4s", 1000, b"mdat")
    assert sniff_mime(wide) == "video/quicktime"


@pytest.mark.parametrize("brand", [b"heic", b"avif", b"mif1", b"M4A ", b"crx "])
def test_isobmff_images_and_audio_are_not_videos(brand: bytes) -> None:
    head = struct.pack(">I4s4sI", 24, b"ftyp", brand, 0) + brand + b"isom"
    assert sniff_mime(head) is None


def test_matroska_that_is_not_webm_is_refused() -> None:
    def ebml(doctype: bytes) -> bytes:
        body = b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
        return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body

    assert sniff_mime(ebml(b"webm")) == "video/webm"
    assert sniff_mime(ebml(b"matroska")) is None
    assert sniff_mime(b"\x1a\x45\xdf\xa3") is None  # cut short


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"GIF89a" + b"\x00" * 20,
        b"%PDF-1.7",
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        b"RIFF\x00\x00\x00\x00WEBPJUNK",
        b"\x00\x00\x00\x04ftypisom",  # ftyp box smaller than its own header
        b"hello world, not media",
    ],
)
def test_other_content_is_none(head: bytes) -> None:
    assert sniff_mime(head) is None


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=SNIFF_BYTES))
def test_sniff_never_raises(data: bytes) -> None:
    result = sniff_mime(data)
    assert result is None or kind_of(result) in ("image", "video")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([b"\x1a\x45\xdf\xa3", b"\x00\x00\x00\x18ftyp", b"RIFF"]), st.binary())
def test_sniff_never_raises_on_magic_prefixes(prefix: bytes, rest: bytes) -> None:
    sniff_mime(prefix + rest)

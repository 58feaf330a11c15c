"""The preview renderer: the right file shape, and a picture that says "sandbox"."""

from __future__ import annotations

from pathlib import Path

import pytest
from runway_act_two import api_surface as api
from runway_act_two.sandbox.preview import render_preview


def _first_frame_and_info(path: Path) -> tuple[object, dict[str, object]]:
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = list(c.decode(video=0))
        info = {
            "size": (v.codec_context.width, v.codec_context.height),
            "fps": float(v.average_rate or 0),
            "frames": len(frames),
            "audio": [s.codec_context.name for s in c.streams.audio],
            "codec": v.codec_context.name,
        }
        return frames[0].to_image(), info


@pytest.mark.parametrize("ratio", api.RATIOS)
def test_every_ratio(ratio: str, face_png: Path, ref_audio: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    stats = render_preview(
        character=face_png,
        character_kind="image",
        reference=ref_audio,
        ratio=ratio,
        out=out,
        duration=3.2,
    )
    image, info = _first_frame_and_info(out)
    assert info == {
        "size": api.RATIO_SIZES[ratio],
        "fps": 24.0,
        "frames": round(3.2 * 24),
        "audio": ["aac"],
        "codec": "h264",
    }
    assert stats.frames == info["frames"] and stats.has_audio
    assert not (tmp_path / "out.mp4.part").exists()
    # The label band: the top rows are the bright yellow band, not picture content.
    r, g, b = image.getpixel((4, 4))  # type: ignore[attr-defined]
    assert r > 200 and g > 170 and b < 80


def test_character_video_and_silent_reference(
    ref_audio: Path, ref_silent: Path, tmp_path: Path
) -> None:
    out = tmp_path / "v.mp4"
    render_preview(
        character=ref_audio,
        character_kind="video",
        reference=ref_silent,
        ratio="960:960",
        out=out,
        duration=None,
    )
    _, info = _first_frame_and_info(out)
    assert info["audio"] == [] and info["frames"] == 4 * 24 and info["size"] == (960, 960)


def test_the_reference_moves_and_the_timecode_runs(
    face_png: Path, ref_audio: Path, tmp_path: Path
) -> None:
    """Consecutive seconds differ in the reference panel and in the timecode strip."""
    import av
    import numpy as np

    out = tmp_path / "m.mp4"
    render_preview(
        character=face_png,
        character_kind="image",
        reference=ref_audio,
        ratio="1280:720",
        out=out,
        duration=3.2,
    )
    with av.open(str(out)) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    a, b = frames[0], frames[48]
    char_panel = (slice(200, 500), slice(100, 500))
    ref_panel = (slice(200, 500), slice(700, 1200))
    timecode = (slice(680, 720), slice(0, 600))
    assert np.abs(a[char_panel].astype(int) - b[char_panel]).mean() < 3  # static character
    assert np.abs(a[ref_panel].astype(int) - b[ref_panel]).mean() > 10  # moving reference
    assert np.abs(a[timecode].astype(int) - b[timecode]).mean() > 1  # running timecode


def test_webm_reference_audio_is_reencoded(face_png: Path, ref_webm: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.mp4"
    stats = render_preview(
        character=face_png,
        character_kind="image",
        reference=ref_webm,
        ratio="832:1104",
        out=out,
        duration=3.0,
    )
    _, info = _first_frame_and_info(out)
    assert info["audio"] == ["aac"] and info["frames"] == 72 and info["size"] == (832, 1104)
    assert stats.has_audio

"""IMAGE tensors and VIDEO objects -> files for the core, with real torch tensors and PyAV files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from comfyui_nodes.convert import ConversionError, image_to_png_bytes, video_to_file

from . import _media, comfy_video


def _png_pixels(data: bytes) -> Any:
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return im.mode, np.asarray(im)


def test_image_tensor_becomes_a_png_of_the_same_pixels() -> None:
    import numpy as np

    tensor = _media.image_tensor(96, 128)
    mode, pixels = _png_pixels(image_to_png_bytes(tensor))
    assert mode == "RGB"
    assert pixels.shape == (96, 128, 3)
    expected = np.rint(tensor[0].numpy() * 255).astype(np.uint8)
    assert np.array_equal(pixels, expected)


def test_only_the_first_image_of_a_batch_is_used() -> None:
    batch = _media.image_tensor(32, 48, batch=3)
    assert image_to_png_bytes(batch) == image_to_png_bytes(batch[0:1])
    assert image_to_png_bytes(batch) != image_to_png_bytes(batch[1:2])


def test_png_bytes_are_deterministic_so_fingerprints_are_stable() -> None:
    a = image_to_png_bytes(_media.image_tensor(40, 40))
    b = image_to_png_bytes(_media.image_tensor(40, 40).clone())
    assert a == b and a.startswith(b"\x89PNG\r\n\x1a\n")


def test_rgba_gray_and_half_precision_and_out_of_range_values() -> None:
    import torch

    mode, px = _png_pixels(image_to_png_bytes(_media.image_tensor(20, 30, channels=4)))
    assert mode == "RGBA" and px.shape == (20, 30, 4)
    mode, px = _png_pixels(image_to_png_bytes(_media.image_tensor(20, 30, channels=1)))
    assert mode == "L" and px.shape == (20, 30)
    half = _media.image_tensor(20, 30).to(torch.bfloat16)
    assert _png_pixels(image_to_png_bytes(half))[1].shape == (20, 30, 3)
    wild = torch.tensor([[[[-1.0, 0.5, 2.0], [float("nan"), 1.0, 0.0]]]])
    _, px = _png_pixels(image_to_png_bytes(wild))
    assert px.tolist() == [[[0, 128, 255], [0, 255, 0]]]


@pytest.mark.parametrize(
    ("shape", "needle"),
    [((0, 8, 8, 3), "empty"), ((1, 8, 8, 2), "channels"), ((8,), "expected an IMAGE")],
)
def test_bad_image_tensors_are_refused_with_a_readable_message(
    shape: tuple[int, ...], needle: str
) -> None:
    import torch

    with pytest.raises(ConversionError, match=needle) as info:
        image_to_png_bytes(torch.zeros(shape))
    assert "character_image" in str(info.value)


def _no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Any) -> Any:
        raise AssertionError("get_components() decodes every frame; the pack must not call it")

    monkeypatch.setattr(comfy_video.VideoFromFile, "get_components", refuse)


def test_file_backed_video_is_handed_over_by_path_without_decoding(
    reference_mp4: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_decoding(monkeypatch)
    video = comfy_video.VideoFromFile(str(reference_mp4))
    out = video_to_file(video, tmp_path / "scratch", "reference_video")
    assert out == reference_mp4
    assert not (tmp_path / "scratch").exists()  # nothing was copied


def test_bytes_backed_video_is_copied_as_is(
    reference_mp4: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_decoding(monkeypatch)
    data = reference_mp4.read_bytes()
    video = comfy_video.VideoFromFile(io.BytesIO(data))
    out = video_to_file(video, tmp_path, "reference_video")
    assert out.parent == tmp_path and out.suffix == ".mp4"
    assert out.read_bytes() == data


def test_frame_backed_video_is_encoded_once_to_an_mp4(tmp_path: Path) -> None:
    frames = _media.image_tensor(64, 80, batch=36)
    video = comfy_video.from_frames(frames, fps=12)
    out = video_to_file(video, tmp_path, "character_video")
    assert out == tmp_path / "character_video.mp4"
    info = _media.probe(out)
    assert info["frames"] == 36
    assert info["size"] == (80, 64)
    assert info["fps"] == pytest.approx(12)


@pytest.mark.skipif(comfy_video.REAL, reason="0.3.64's VideoFromFile has no trim window")
def test_trimmed_video_sends_only_the_trimmed_part(reference_mp4: Path, tmp_path: Path) -> None:
    video = comfy_video.VideoFromFile(str(reference_mp4), start_time=0.5, duration=3.0)
    out = video_to_file(video, tmp_path, "reference_video")
    assert out != reference_mp4 and out.parent == tmp_path
    assert _media.probe(out)["frames"] == 72  # 3.0 s at 24 fps, not the whole 3.5 s


def test_webm_bytes_keep_a_webm_name(tmp_path: Path) -> None:
    import av

    path = tmp_path / "clip.webm"
    with av.open(str(path), "w", format="webm") as out:
        vs = out.add_stream("libvpx-vp9", rate=10)
        vs.width, vs.height, vs.pix_fmt = 32, 32, "yuv420p"
        import numpy as np

        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            for pkt in vs.encode(frame):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
    video = comfy_video.VideoFromFile(io.BytesIO(path.read_bytes()))
    assert video_to_file(video, tmp_path / "s", "reference_video").suffix == ".webm"


def test_missing_or_foreign_video_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="no video connected"):
        video_to_file(None, tmp_path, "reference_video")
    with pytest.raises(ConversionError, match="expected a VIDEO"):
        video_to_file("clip.mp4", tmp_path, "reference_video")

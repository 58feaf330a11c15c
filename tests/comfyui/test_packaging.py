"""The distributable pack: one folder, the core vendored, example media, consistent workflows."""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

from . import _media

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "comfyui_nodes"
WORKFLOWS = PACK / "example_workflows"
#: The main node's widgets in the order ComfyUI's frontend lays them out (required, then optional;
#: "control after generate" follows the seed).
WIDGETS = ["ratio", "body_control", "expression_intensity", "seed", None, "public_figure_threshold",
           "timeout"]  # fmt: skip


@pytest.fixture(scope="module")
def builder() -> Any:
    spec = importlib.util.spec_from_file_location(
        "build_comfyui_zip", ROOT / "tools" / "build_comfyui_zip.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(builder: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    examples = tmp_path_factory.mktemp("examples")
    (examples / "character.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    _media.mp4(examples / "reference.mp4", seconds=3.2)
    out: Path = builder.write_zip(tmp_path_factory.mktemp("dist") / "pack.zip", examples)
    return out


def test_zip_is_one_folder_with_the_vendored_core_and_example_media(
    builder: Any, built: Path
) -> None:
    with zipfile.ZipFile(built) as zf:
        names = zf.namelist()
    folder = builder.FOLDER
    assert "comfyui" in folder and {n.split("/")[0] for n in names} == {folder}
    for needed in (
        "__init__.py", "nodes.py", "convert.py", "run.py", "pyproject.toml", "requirements.txt",
        "README.md", "LICENSE", "_vendor/__init__.py", "_vendor/runway_act_two/__init__.py",
        "_vendor/runway_act_two/client.py", "_vendor/runway_act_two/sandbox/__init__.py",
        "example_workflows/act_two_image_to_video.json", "example_workflows/input/reference.mp4",
        "example_workflows/input/character.png",
    ):  # fmt: skip
        assert f"{folder}/{needed}" in names, needed
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if "/tests/" in n]


def test_unzipped_pack_imports_its_vendored_core(builder: Any, built: Path) -> None:
    assert builder.check_zip(built, sys.executable).startswith("ok ")


def test_zip_is_reproducible(builder: Any, built: Path, tmp_path: Path) -> None:
    examples = tmp_path / "ex"
    examples.mkdir()
    with zipfile.ZipFile(built) as zf:
        for name in ("character.png", "reference.mp4"):
            (examples / name).write_bytes(
                zf.read(f"{builder.FOLDER}/example_workflows/input/{name}")
            )
    again = builder.write_zip(tmp_path / "again.zip", examples)
    assert again.read_bytes() == built.read_bytes()


def test_pack_metadata() -> None:
    meta = tomllib.loads((PACK / "pyproject.toml").read_text(encoding="utf-8"))
    assert "comfyui" not in meta["project"]["name"].lower()
    assert meta["tool"]["comfy"]["requires-comfyui"] == ">=0.3.64"
    assert meta["tool"]["comfy"]["PublisherId"] and meta["tool"]["comfy"]["DisplayName"]
    assert (
        (PACK / "LICENSE")
        .read_text(encoding="utf-8")
        .lstrip()
        .startswith("GNU GENERAL PUBLIC LICENSE")
    )
    reqs = (PACK / "requirements.txt").read_text(encoding="utf-8").split()
    assert reqs == ["requests>=2.28"]
    from comfyui_nodes.core import act_two

    assert meta["project"]["version"] == act_two.__version__


def test_ui_and_api_workflows_describe_the_same_graph() -> None:
    ui = json.loads((WORKFLOWS / "act_two_image_to_video.json").read_text(encoding="utf-8"))
    api = json.loads(
        (WORKFLOWS / "api_format" / "act_two_image_to_video.json").read_text(encoding="utf-8")
    )
    nodes = {str(n["id"]): n for n in ui["nodes"] if n["type"] != "Note"}
    assert {k: n["type"] for k, n in nodes.items()} == {k: v["class_type"] for k, v in api.items()}
    slots = {n["id"]: [i["name"] for i in n["inputs"]] for n in ui["nodes"]}
    for _link, src, src_slot, dst, dst_slot, _type in ui["links"]:
        name = slots[dst][dst_slot]
        assert api[str(dst)]["inputs"][name] == [str(src), src_slot]
    main = nodes["3"]
    widgets = dict(zip(WIDGETS, main["widgets_values"], strict=True))
    widgets.pop(None)
    for name, value in widgets.items():
        assert api["3"]["inputs"][name] == value, name
    assert main["widgets_values"][WIDGETS.index(None)] == "fixed"  # re-queues reuse the result
    assert api["1"]["inputs"]["image"] == "act_two_example_character.png"
    assert api["2"]["inputs"]["file"] == "act_two_example_reference.mp4"


def test_example_media_is_installed_into_the_input_dir_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from comfyui_nodes import examples

    source = tmp_path / "examples"
    source.mkdir()
    for name in examples.EXAMPLE_MEDIA:
        (source / name).write_bytes(name.encode())
    monkeypatch.setattr(examples, "media_dirs", lambda: [tmp_path / "absent", source])
    target = tmp_path / "input"
    written = examples.install_example_media(target)
    assert sorted(p.name for p in written) == sorted(examples.EXAMPLE_MEDIA.values())
    assert (target / "act_two_example_reference.mp4").read_bytes() == b"reference.mp4"
    mine = target / "act_two_example_character.png"
    mine.write_bytes(b"the artist's own file")
    assert examples.install_example_media(target) == []
    assert mine.read_bytes() == b"the artist's own file"

"""Key and base-URL resolution: precedence, cleanup of pasted keys, refusal of plain http."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runway_act_two import api_surface as api
from runway_act_two.config import (
    base_url_problem,
    config_dir,
    config_file,
    data_dir,
    is_loopback_host,
    resolve_settings,
    save_api_key,
)

KEY_ARG = "key_" + "a" * 128
KEY_ENV = "key_" + "b" * 128
KEY_FILE = "key_" + "c" * 128


def _write_config(obj: object) -> Path:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def test_dirs_follow_the_override_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACT_TWO_CONFIG_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("ACT_TWO_DATA_DIR", str(tmp_path / "d"))
    assert config_dir() == tmp_path / "c"
    assert data_dir() == tmp_path / "d"
    assert config_file() == tmp_path / "c" / "config.json"


def test_key_precedence_argument_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    _write_config({"api_key": KEY_FILE})
    assert resolve_settings().api_key == KEY_FILE
    assert resolve_settings().key_source == "config file"
    monkeypatch.setenv(api.ENV_API_KEY, KEY_ENV)
    s = resolve_settings()
    assert (s.api_key, s.key_source) == (KEY_ENV, "environment")
    s = resolve_settings(api_key=KEY_ARG)
    assert (s.api_key, s.key_source) == (KEY_ARG, "argument")


def test_missing_key_is_a_problem_that_says_where_to_put_it() -> None:
    s = resolve_settings()
    assert s.api_key is None and s.key_source == "none"
    problems = s.problems()
    assert [p.field for p in problems] == ["api_key"]
    text = problems[0].render()
    assert api.ENV_API_KEY in text and str(config_file()) in text


def test_broken_config_file_is_reported_not_raised() -> None:
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    s = resolve_settings()
    assert s.api_key is None
    assert "not valid JSON" in s.problems()[0].message
    _write_config({"api_key": 42})
    assert "must be a string" in resolve_settings().problems()[0].message


@pytest.mark.parametrize("raw", [f"  {KEY_ARG}\n", f'"{KEY_ARG}"', f"\t'{KEY_ARG}' "])
def test_pasted_whitespace_and_quotes_are_stripped(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_settings(api_key=raw).api_key == KEY_ARG
    monkeypatch.setenv(api.ENV_API_KEY, raw)
    assert resolve_settings().api_key == KEY_ARG


def test_inner_whitespace_is_a_problem() -> None:
    s = resolve_settings(api_key="key_abc def")
    assert [p.field for p in s.problems()] == ["api_key"]


def test_blank_argument_falls_through_to_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(api.ENV_API_KEY, KEY_ENV)
    assert resolve_settings(api_key="   ").api_key == KEY_ENV


def test_base_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_settings().base_url == api.DEFAULT_BASE_URL
    monkeypatch.setenv(api.ENV_BASE_URL, "https://env.example.com/")
    assert resolve_settings().base_url == "https://env.example.com"
    assert (
        resolve_settings(base_url="https://arg.example.com").base_url == "https://arg.example.com"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://localhost:9",
        "http://[::1]:5000",
        "https://api.dev.runwayml.com",
        "https://10.0.0.1",
    ],
)
def test_allowed_base_urls(url: str) -> None:
    assert base_url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://api.dev.runwayml.com",
        "http://10.0.0.1:80",
        "http://192.168.1.2",
        "ftp://x.example.com",
        "api.dev.runwayml.com",
        "https://",
        "http://[::2]",
    ],
)
def test_refused_base_urls(url: str) -> None:
    problem = base_url_problem(url)
    assert problem is not None and problem.field == "base_url"
    s = resolve_settings(api_key=KEY_ARG, base_url=url)
    assert [p.field for p in s.problems()] == ["base_url"]


def test_loopback_detection() -> None:
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1")
    assert is_loopback_host("localhost") and is_loopback_host("LOCALHOST")
    assert not is_loopback_host("128.0.0.1") and not is_loopback_host("example.com")
    assert not is_loopback_host("") and not is_loopback_host(None)


def test_repr_and_str_hide_the_key() -> None:
    s = resolve_settings(api_key=KEY_ARG)
    for text in (repr(s), str(s), f"{s}", repr([s])):
        assert KEY_ARG not in text and "aaaa" not in text
    assert "set" in repr(s)


def test_save_api_key_writes_private_file() -> None:
    path = save_api_key(f" {KEY_FILE} ")
    assert json.loads(path.read_text())["api_key"] == KEY_FILE
    assert path.stat().st_mode & 0o077 == 0
    assert resolve_settings().api_key == KEY_FILE

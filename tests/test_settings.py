"""Settings: read from `DESCENT_*` variables, bad values refused, every one documented in the
README's settings table."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from live_server import ROOT
from pydantic import ValidationError

from app.config import Settings, load_settings

README = ROOT / "README.md"
TABLE_ROW = re.compile(r"^\|\s*`(?P<name>DESCENT_[A-Z0-9_]+)`\s*\|")


def documented_settings(readme: Path) -> list[str]:
    """The `DESCENT_*` names in the first column of the README's Markdown tables."""
    names = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        if m := TABLE_ROW.match(line.strip()):
            names.append(m.group("name"))
    return names


def env_name(field: str) -> str:
    return f"DESCENT_{field.upper()}"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No DESCENT_* variable from the shell running the tests leaks into these tests."""
    for key in list(os.environ):
        if key.startswith("DESCENT_"):
            monkeypatch.delenv(key)
    return monkeypatch


def test_every_setting_is_in_the_readme_settings_table() -> None:
    assert README.is_file(), "README.md is missing"
    documented = set(documented_settings(README))
    missing = sorted(env_name(f) for f in Settings.model_fields if env_name(f) not in documented)
    assert not missing, f"README.md's settings table lacks: {', '.join(missing)}"


def test_readme_documents_no_setting_that_does_not_exist() -> None:
    real = {env_name(f) for f in Settings.model_fields}
    stale = sorted(set(documented_settings(README)) - real)
    assert not stale, f"README.md documents settings the server does not have: {', '.join(stale)}"


def test_readme_documents_each_setting_once() -> None:
    names = documented_settings(README)
    twice = sorted({n for n in names if names.count(n) > 1})
    assert not twice, f"README.md documents these settings more than once: {', '.join(twice)}"


def test_defaults_serve_one_machine(clean_env: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.lessons_dir == (ROOT / "lessons",)
    assert s.reload is False
    assert s.device == "auto"
    assert s.max_message_kb == 256


def test_settings_are_read_from_descent_variables(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("DESCENT_HOST", "0.0.0.0")
    clean_env.setenv("DESCENT_PORT", "9123")
    clean_env.setenv("DESCENT_LESSONS_DIR", str(tmp_path / "lessons"))
    clean_env.setenv("DESCENT_DATA_DIR", str(tmp_path / "data"))
    clean_env.setenv("DESCENT_DEVICE", "cpu")
    clean_env.setenv("DESCENT_MAX_MESSAGE_KB", "64")
    s = load_settings()
    assert (s.host, s.port, s.device, s.max_message_kb) == ("0.0.0.0", 9123, "cpu", 64)
    assert s.lessons_dir == (tmp_path / "lessons",)
    assert s.data_dir == tmp_path / "data"


@pytest.mark.parametrize("separator", [",", os.pathsep, " , "])
def test_several_lessons_folders(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, separator: str
) -> None:
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    clean_env.setenv(
        "DESCENT_LESSONS_DIR", f"{ROOT / 'lessons'}{separator}{mine}{separator}{theirs}"
    )
    clean_env.setenv("DESCENT_RELOAD", "true")
    s = load_settings()
    assert s.lessons_dir == (ROOT / "lessons", mine, theirs)
    assert s.reload is True


def test_no_lessons_folder_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DESCENT_LESSONS_DIR", ",")
    with pytest.raises(ValidationError) as caught:
        load_settings()
    assert "lessons_dir" in str(caught.value)


def test_variables_without_the_prefix_are_ignored(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PORT", "9999")
    clean_env.setenv("DEVICE", "cuda")
    s = load_settings()
    assert (s.port, s.device) == (8000, "auto")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DESCENT_PORT", "abc"),
        ("DESCENT_PORT", "70000"),
        ("DESCENT_DEVICE", "tpu"),
        ("DESCENT_SANDBOX", "off"),
        ("DESCENT_MAX_KERNELS", "0"),
        ("DESCENT_CALL_TIMEOUT_S", "-1"),
        ("DESCENT_LOG_LEVEL", "loud"),
    ],
)
def test_invalid_setting_is_refused_naming_it(
    clean_env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        load_settings()
    field = name.removeprefix("DESCENT_").lower()
    assert field in str(caught.value)

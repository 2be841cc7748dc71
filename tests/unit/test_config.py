"""Per-user directories: SNAPSCOPE_TMP / SNAPSCOPE_DATA, else the platform's conventions."""

from pathlib import Path

import pytest

from snapscope import config


@pytest.fixture
def home(tmp_path, monkeypatch):
    for name in ("SNAPSCOPE_TMP", "SNAPSCOPE_DATA", "XDG_CACHE_HOME", "XDG_DATA_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    return tmp_path


def test_environment_variables_win(home, monkeypatch):
    monkeypatch.setenv("SNAPSCOPE_TMP", str(home / "t"))
    monkeypatch.setenv("SNAPSCOPE_DATA", str(home / "d"))
    assert config.cache_dir() == home / "t" and (home / "t").is_dir()
    assert config.data_dir() == home / "d" and (home / "d").is_dir()


@pytest.mark.parametrize(("platform", "cache", "data"), [
    ("linux", ".cache/snapscope", ".local/share/snapscope"),
    ("darwin", "Library/Caches/snapscope", "Library/Application Support/snapscope"),
    ("win32", "AppData/Local/snapscope/Cache", "AppData/Local/snapscope"),
])
def test_platform_conventions(home, monkeypatch, platform, cache, data):
    monkeypatch.setattr(config.sys, "platform", platform)
    assert config.cache_dir() == home / cache
    assert config.data_dir() == home / data


def test_xdg_directories_on_linux(home, monkeypatch):
    monkeypatch.setattr(config.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xc"))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")  # the XDG spec: absolute only
    assert config.cache_dir() == home / "xc" / "snapscope"
    assert config.data_dir() == home / ".local/share/snapscope"

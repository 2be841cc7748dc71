"""Where snapscope finds things: image base directories and the database DSN.

snappl reads a YAML config (``SNPIT_CONFIG``); snapscope uses environment variables with
sensible fall-backs, so a notebook needs no set-up cell:

============================  ===============================  =====================================
snappl config key             environment variable             when unset
============================  ===============================  =====================================
``system.paths.images``       ``SNAPSCOPE_IMAGES``             images use absolute paths
``system.ou24.images``        ``SNAPSCOPE_OU24_IMAGES``        images use absolute paths
``system.paths.temp_dir``     ``SNAPSCOPE_TMP``                the user cache directory
(database)                    ``SNAPSCOPE_DSN``                the embedded server (``snapscope db``)
============================  ===============================  =====================================
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["config_value", "cache_dir", "data_dir"]

_ENV_FOR_KEY = {
    "system.paths.images": "SNAPSCOPE_IMAGES",
    "system.ou24.images": "SNAPSCOPE_OU24_IMAGES",
    "system.paths.temp_dir": "SNAPSCOPE_TMP",
}


def config_value(key: str) -> str | None:
    """Return the value of a snappl-style config key, or None when it is not set.

    Parameters
    ----------
    key : str
        A snappl config key such as ``"system.paths.images"``.

    Returns
    -------
    str or None
        The environment variable's value (see the module docstring), or None.

    Raises
    ------
    KeyError
        If the key is not one snapscope knows; the message lists the known keys.
    """
    try:
        env = _ENV_FOR_KEY[key]
    except KeyError:
        raise KeyError(f"unknown config key {key!r}; known keys: {sorted(_ENV_FOR_KEY)}") from None
    value = os.environ.get(env)
    return value or None


def _platform_base(kind: str) -> Path:
    """The per-user base directory of ``kind`` ('cache' or 'data') as the platform names it.

    The conventions platformdirs follows, for the three platforms snapscope runs on: XDG on
    Linux (``XDG_CACHE_HOME`` / ``XDG_DATA_HOME``, else ``~/.cache`` / ``~/.local/share``),
    ``~/Library/Caches`` / ``~/Library/Application Support`` on macOS, ``%LOCALAPPDATA%`` on
    Windows (with a ``Cache`` subdirectory for the cache).
    """
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
        return base / "snapscope" / "Cache" if kind == "cache" else base / "snapscope"
    if sys.platform == "darwin":
        folder = "Caches" if kind == "cache" else "Application Support"
        return home / "Library" / folder / "snapscope"
    env, default = ("XDG_CACHE_HOME", ".cache") if kind == "cache" else ("XDG_DATA_HOME", ".local/share")
    xdg = os.environ.get(env)
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else home / default) / "snapscope"


def _user_dir(env: str, kind: str) -> Path:
    """The directory named by ``env``, else the platform's per-user ``kind`` directory (created)."""
    base = os.environ.get(env)
    path = Path(base) if base else _platform_base(kind)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Return (creating it) the per-user cache directory, e.g. for decompressed FITS files."""
    return _user_dir("SNAPSCOPE_TMP", "cache")


def data_dir() -> Path:
    """Return (creating it) the per-user data directory (embedded database, demo survey)."""
    return _user_dir("SNAPSCOPE_DATA", "data")

"""Path properties shared by images (snappl's ``PathedObject``).

``filepath`` is relative to ``base_path`` (absolute when there is no base path),
``full_filepath = base_path / filepath``. The base path comes from the argument, else from the
config key of the image's database ``format`` or class (``snapscope.config``); when that key is
not set the image simply uses absolute paths (snappl raises instead: a notebook user should not
need a config file to open a FITS file).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from snapscope.config import config_value

__all__ = ["PathedObject"]

log = logging.getLogger("snapscope")


class PathedObject:
    """Mix-in holding ``base_path``, ``filepath`` and ``full_filepath``."""

    #: config key giving the default base path of this class (None: absolute paths)
    _base_path_config_item: str | None = None

    def _init_paths(
        self,
        *,
        full_filepath: Any,
        filepath: Any,
        base_path: Any,
        base_dir: Any,
        path: Any,
        no_base_path: bool,
        config_item: str | None,
    ) -> None:
        if path is not None:
            if full_filepath is not None:
                raise ValueError("Do not use path, only use full_filepath.")
            log.warning("Image(path=…) is deprecated; use full_filepath=…")
            full_filepath = path
        if base_dir is not None:
            if base_path is not None and Path(base_path).resolve() != Path(base_dir).resolve():
                raise ValueError(f"base_path {base_path} and base_dir {base_dir} disagree")
            base_path = base_dir
        if no_base_path and base_path is not None:
            raise ValueError("base_path must be None when no_base_path is True")
        base_from_config = False
        if not no_base_path and base_path is None:
            key = config_item or self._base_path_config_item
            base_path = config_value(key) if key else None
            no_base_path = base_path is None
            base_from_config = not no_base_path
            if base_from_config and full_filepath is not None and filepath is None:
                # a file opened by its absolute path outside the configured tree: just use it
                inside = Path(full_filepath).resolve().is_relative_to(Path(base_path).resolve())
                no_base_path = not inside
                base_path = base_path if inside else None

        self._no_base_path = bool(no_base_path)
        self._base_path = None if no_base_path else Path(base_path).resolve()
        full = Path(full_filepath).expanduser().resolve() if full_filepath is not None else None
        rel = Path(filepath).expanduser() if filepath is not None else None

        if self._no_base_path:
            if rel is not None:
                rel = rel.resolve()
                if full is not None and full != rel:
                    raise ValueError(f"filepath {rel} and full_filepath {full} disagree")
            self._filepath = rel or full
            return
        if full is not None:
            try:
                from_full = full.relative_to(self._base_path)
            except ValueError:
                raise ValueError(
                    f"base_path is {self._base_path}, but full_filepath {full} cannot be made "
                    "relative to that."
                ) from None
            if rel is not None and rel != from_full and (self._base_path / rel).resolve() != full:
                raise ValueError(f"filepath {rel} and full_filepath {full} disagree")
            rel = from_full
        self._filepath = rel

    @property
    def base_path(self) -> Path | None:
        """Directory that ``filepath`` is relative to (None: ``filepath`` is absolute)."""
        return self._base_path

    @property
    def base_dir(self) -> Path | None:
        """Synonym of ``base_path``."""
        return self._base_path

    @property
    def filepath(self) -> Path | None:
        """Path of the file relative to ``base_path`` (absolute without a base path)."""
        return self._filepath

    @filepath.setter
    def filepath(self, value: Any) -> None:
        if value is None:
            self._filepath = None
        else:
            self._filepath = Path(value).resolve() if self._no_base_path else Path(value)

    @property
    def full_filepath(self) -> Path | None:
        """Absolute path of the file on this system (None for in-memory images)."""
        if self._filepath is None:
            return None
        if self._no_base_path:
            return self._filepath  # resolved when it was set
        return self._base_path / self._filepath

    @property
    def filename(self) -> str | None:
        """Just the name part of ``filepath``."""
        return None if self._filepath is None else self._filepath.name

    @property
    def name(self) -> str | None:
        """Synonym of ``filename`` (kept for compatibility)."""
        return self.filename

    @property
    def path(self) -> Path | None:
        """Absolute path of the image (kept for compatibility; use ``full_filepath``)."""
        return self.full_filepath

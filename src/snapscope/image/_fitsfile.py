"""Low-level FITS access: headers without pixels, memory-mapped planes, gzip decompressed once.

* Headers are read with ``astropy.io.fits`` lazily (``lazy_load_hdus``): asking for the header of
  HDU 1 of an OU2024 ``.fits.gz`` decompresses only up to that header (a few ms), never the pixels.
* Planes are memory maps (``memmap=True``), so a cutout or a tile reads only the rows it touches.
  Planes with BZERO/BSCALE scaling (e.g. uint32 DQ stored as int32) cannot be mapped; astropy
  scales them in memory once per open file.
* A gzip-compressed file is decompressed once per process into a private temporary directory
  (removed at exit) and memory-mapped from there. astropy's ``.section`` on ``.fits.gz`` takes
  minutes (it re-decompresses from the start for every section) and is never used.
"""

from __future__ import annotations

import atexit
import gzip
import hashlib
import os
import shutil
import tempfile
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from snapscope.exceptions import HDUError, ImageFileError, ImageFileNotFoundError

__all__ = ["FitsFile", "decompressed_copy", "is_gzip", "walk_headers"]

_GZIP_MAGIC = b"\x1f\x8b"
_lock = threading.Lock()
_decompressed: dict[tuple, Path] = {}
_key_locks: dict[tuple, threading.Lock] = {}
_tmpdir: Path | None = None


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic number."""
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _private_tmpdir() -> Path:
    global _tmpdir
    if _tmpdir is None:
        from snapscope.config import cache_dir

        _tmpdir = Path(tempfile.mkdtemp(prefix=f"gunzip-{os.getpid()}-", dir=cache_dir()))
        atexit.register(shutil.rmtree, _tmpdir, ignore_errors=True)
    return _tmpdir


def decompressed_copy(path: Path) -> Path:
    """Return an uncompressed copy of a gzip file, made once per process (thread-safe)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    with _lock:
        if key in _decompressed:
            return _decompressed[key]
        key_lock = _key_locks.setdefault(key, threading.Lock())
    with key_lock:
        with _lock:
            if key in _decompressed:
                return _decompressed[key]
        target = _private_tmpdir() / (hashlib.sha1(key[0].encode()).hexdigest()[:16] + ".fits")
        tmp = target.with_suffix(".part")
        with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
        os.replace(tmp, target)
        with _lock:
            _decompressed[key] = target
        return target


def _open(path: Path, memmap: bool) -> Any:
    from astropy.io import fits
    from astropy.utils.exceptions import AstropyUserWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyUserWarning)
            # denywrite: a true read-only map (readonly is copy-on-write, whose pages cannot be
            # released, so a big image would stay resident after tiles were read from it)
            return fits.open(path, memmap=memmap, lazy_load_hdus=True,
                             mode="denywrite" if memmap else "readonly")
    except FileNotFoundError:
        raise ImageFileNotFoundError(f"image file not found: {path}") from None
    except (OSError, ValueError, TypeError) as err:
        raise ImageFileError(f"{path} is not a readable FITS file: {err}") from err


def _hdu(hdul: Any, ext: int | str, path: Path) -> Any:
    try:
        return hdul[ext]
    except (IndexError, KeyError):
        names = []
        for i, h in enumerate(hdul):
            names.append(f"{i}:{h.name or '?'}")
        raise HDUError(f"{path} has no HDU {ext!r}; it has {', '.join(names)}") from None
    except (OSError, ValueError) as err:
        raise ImageFileError(f"{path} is damaged (reading HDU {ext!r}): {err}") from err


_BLOCK = 2880


def _read_header_blocks(f: Any) -> bytes | None:
    """Read 2880-byte blocks up to and including the one with the END card (None at EOF)."""
    chunks = []
    while True:
        block = f.read(_BLOCK)
        if not block:
            return None
        if len(block) < _BLOCK:
            raise OSError("truncated FITS header")
        chunks.append(block)
        if any(block[i:i + 8] == b"END     " for i in range(0, _BLOCK, 80)):
            return b"".join(chunks)


def _data_size(header: Any) -> int:
    naxis = header.get("NAXIS", 0)
    if naxis == 0:
        return 0
    n = 1
    for i in range(1, naxis + 1):
        n *= header[f"NAXIS{i}"]
    size = abs(header["BITPIX"]) // 8 * header.get("GCOUNT", 1) * (header.get("PCOUNT", 0) + n)
    return -(-size // _BLOCK) * _BLOCK


def walk_headers(f: Any, parse: Callable[[bytes], Any]) -> Iterator[Any]:
    """Yield ``parse(raw header bytes)`` of each HDU of an open FITS stream, in order.

    Each HDU's data is skipped by seeking forward (on a gzip stream that decompresses without
    keeping anything), so asking for the header of HDU 1 costs a few kB. ``parse`` must return
    a mapping with the structural keywords (``NAXIS``, ``NAXISn``, ``BITPIX``, ``PCOUNT``,
    ``GCOUNT``) as numbers.
    """
    while (raw := _read_header_blocks(f)) is not None:
        header = parse(raw)
        yield header
        f.seek(_data_size(header), 1)


def _astropy_header(raw: bytes) -> Any:
    from astropy.io import fits

    return fits.Header.fromstring(raw.decode("ascii", errors="replace"))


def _gzip_header(path: Path, ext: int | str) -> Any:
    """Header of HDU ``ext`` of a gzip FITS file, decompressing only up to that header.

    astropy decompresses the whole file for this (0.4 s for an OU2024 image); the primary HDU
    of OU2024 files holds no data, so the SCI header is found after a few kB.
    """
    seen = []
    try:
        with gzip.open(path, "rb") as f:
            for index, header in enumerate(walk_headers(f, _astropy_header)):
                name = str(header.get("EXTNAME", "PRIMARY" if index == 0 else "")).strip()
                seen.append(f"{index}:{name or '?'}")
                if ext == index or (isinstance(ext, str) and ext.upper() == name.upper()):
                    return header
    except (OSError, EOFError, ValueError, KeyError) as err:
        raise ImageFileError(f"{path} is not a readable FITS file: {err}") from err
    if not seen:
        raise ImageFileError(f"{path} is not a readable FITS file: no FITS header found")
    raise HDUError(f"{path} has no HDU {ext!r}; it has {', '.join(seen)}")


class FitsFile:
    """One FITS file on disk: headers of any HDU, and memory-mapped image planes.

    Parameters
    ----------
    path : Path
        The file (plain, or gzip-compressed).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._hdul = None
        self._lock = threading.RLock()

    def header(self, ext: int | str) -> Any:
        """Return a copy of the header of HDU ``ext`` without reading any pixels."""
        if not self.path.exists():
            raise ImageFileNotFoundError(f"image file not found: {self.path}")
        if is_gzip(self.path):
            return _gzip_header(self.path, ext)
        with _open(self.path, memmap=False) as hdul:
            return _hdu(hdul, ext, self.path).header.copy()

    def plane(self, ext: int | str) -> np.ndarray:
        """Return HDU ``ext``'s 2-D data as a read-only array.

        A memory map, except for scaled planes (BZERO/BSCALE, e.g. uint32 stored as int32),
        which are read into memory once.
        """
        with self._lock:
            if self._hdul is None:
                if not self.path.exists():
                    raise ImageFileNotFoundError(f"image file not found: {self.path}")
                self._local = decompressed_copy(self.path) if is_gzip(self.path) else self.path
                self._hdul = _open(self._local, memmap=True)
                self._scaled: dict[Any, np.ndarray] = {}
                self._finalizer = weakref.finalize(self, self._hdul.close)
            hdu = _hdu(self._hdul, ext, self.path)
            scaled = ext in self._scaled or any(k in hdu.header for k in ("BZERO", "BSCALE", "BLANK"))
            try:
                if not scaled:
                    data = hdu.data
                elif ext in self._scaled:
                    data = self._scaled[ext]
                else:
                    with _open(self._local, memmap=False) as hdul:
                        data = self._scaled[ext] = _hdu(hdul, ext, self.path).data
            except (OSError, ValueError, TypeError) as err:
                raise ImageFileError(f"cannot read the pixels of HDU {ext!r} of {self.path}: {err}") from err
        if data is None or getattr(data, "ndim", 0) != 2:
            shape = None if data is None else data.shape
            raise HDUError(f"HDU {ext!r} of {self.path} holds no 2-D image (shape {shape})")
        view = data.view()
        view.flags.writeable = False
        return view

    def close(self) -> None:
        """Close the memory-mapped file (views handed out stay valid while referenced)."""
        with self._lock:
            if self._hdul is not None:
                self._finalizer()
                self._hdul = None
                self._scaled = {}

"""FITS files opened once per process: parsed headers, the WCS and memory-mapped planes.

Why: a cutout or a photometry stamp of a file on disk reads a few kB of pixels, but opening the
file costs far more: astropy's ``fits.open`` parses every header, and ``astropy.wcs.WCS`` takes
5–10 ms to build from an OU2024 header with SIP. A batch over the images of one sky position,
repeated for a new position or after a new search (new ``Image`` objects of the same files),
spent most of its time there. Here each file is opened once per process:

* **One entry per file**, keyed by (path, device, inode) and valid while (mtime, ctime, size)
  stay the same. ``save()`` writes a new file and renames it into place, so the next lookup of the
  path sees a new inode and opens the new file; a file rewritten in place changes its mtime.
* **What an entry holds:** the HDU layout (raw header, structural keywords and data offset of
  every HDU, :func:`~snapscope.image._fitsfile.read_layout`, which needs no astropy), the WCS
  of each HDU asked for (built once; every image gets its own copy, which costs 0.1 ms), and
  one read-only ``mmap`` of the whole file (of the decompressed copy for ``.fits.gz``). Every
  image gets its own header, parsed from the raw text (0.3 ms), because images may change it.
* **Bounded**: the cache holds at most :func:`open_file_limit` files (256, or
  ``SNAPSCOPE_MAX_OPEN_FILES``, or :func:`set_open_file_limit`); the least recently used is
  dropped first. Each file holds one descriptor, the one Python's ``mmap`` keeps (the file
  itself is closed once mapped); it is closed with the mapping, once the cache has dropped
  the file and no array handed out still uses it.
* **An image never mixes two versions of a file**: its :class:`FitsFile` remembers the version
  (inode, mtime, ctime, size) it first read and raises :class:`ImageFileError` if the file has
  been replaced since, until the image's ``free()`` (which keeps its header and WCS) lets it
  read the file as it is now.
* **Planes** are numpy arrays over the mapping (possibly big-endian), or, for planes stored
  with ``BZERO``/``BSCALE``/``BLANK`` (uint32 DQ stored as int32), a
  :class:`~snapscope.image._scaled.ScaledPlane` that scales only the pixels read.
  Tile-compressed (fpack) HDUs are read whole by astropy, in memory.
* **Thread-safe**: a lock per entry, so threads opening the same file parse it once and
  threads on different files do not wait for each other.
"""

from __future__ import annotations

import copy
import mmap
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from snapscope.exceptions import HDUError, ImageFileError, ImageFileNotFoundError, NoWCSError
from snapscope.image import _fitsfile
from snapscope.image._fitsfile import HduLayout, find_hdu, gzip_header_text, is_gzip, read_layout
from snapscope.image._pixels import file_identity
from snapscope.image._scaled import ScaledPlane, Scaling

__all__ = ["FitsFile", "OpenFits", "open_fits", "open_file_limit", "set_open_file_limit",
           "clear_open_files", "open_file_count", "release_mapped_pages"]

_ENV = "SNAPSCOPE_MAX_OPEN_FILES"
_BITPIX = {8: "u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
_cache: OrderedDict[tuple[str, int, int], OpenFits] = OrderedDict()
_cache_lock = threading.Lock()
_limit = int(os.environ.get(_ENV) or 256)


def _header(text: str) -> Any:
    from astropy.io import fits

    return fits.Header.fromstring(text)


class OpenFits:
    """One FITS file opened by this process (see the module docstring).

    Parameters
    ----------
    path : Path
        The file (plain, or gzip-compressed).
    identity : tuple
        Its version when it was looked up: ``file_identity(os.stat(path))`` (device, inode,
        mtime, ctime, size); also the file part of its planes' ``PixelSource`` keys.
    """

    def __init__(self, path: Path, identity: tuple) -> None:
        self.path, self.identity = path, identity
        self._lock = threading.RLock()
        self._gzip: bool | None = None
        self._layout: list[HduLayout] | None = None
        self._mm: mmap.mmap | None = None
        self._local: Path | None = None
        self._texts: dict[int | str, str] = {}  # raw headers
        self._planes: dict[int | str, Any] = {}
        self._wcs: dict[int | str, Any] = {}

    # opening ------------------------------------------------------------------
    def _check_unchanged(self, st: os.stat_result) -> None:
        if file_identity(st) != self.identity:
            raise ImageFileError(f"{self.path} changed on disk while it was being opened; "
                                 "open it again")

    def _map(self) -> None:
        """Read the layout of the (decompressed) file and map it; caller holds the lock."""
        if self._is_gzip():
            self._check_unchanged(os.stat(self.path))
            local = _fitsfile.decompressed_copy(self.path)  # (tests patch it there)
        else:
            local = self.path
        try:
            with open(local, "rb") as f:
                if local == self.path:
                    self._check_unchanged(os.fstat(f.fileno()))
                layout = read_layout(f, self.path)
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            raise ImageFileNotFoundError(f"image file not found: {self.path}") from None
        except (OSError, ValueError) as err:
            if isinstance(err, ImageFileError):
                raise
            raise ImageFileError(f"{self.path} is not a readable FITS file: {err}") from err
        self._layout, self._mm, self._local = layout, mm, local

    def _is_gzip(self) -> bool:
        if self._gzip is None:
            try:
                self._gzip = is_gzip(self.path)
            except FileNotFoundError:
                raise ImageFileNotFoundError(f"image file not found: {self.path}") from None
        return self._gzip

    def _hdu(self, ext: int | str) -> HduLayout:
        if self._layout is None:
            self._map()
        return find_hdu(self._layout, ext, self.path)

    def _header_text(self, ext: int | str) -> str:
        """Raw header of HDU ``ext``; caller holds the lock.

        A gzip file is not decompressed for this: only its stream up to that header is read.
        """
        if ext not in self._texts:
            if self._layout is None and self._is_gzip():
                self._texts[ext] = gzip_header_text(self.path, ext)
            elif self._hdu(ext).cards.get("ZIMAGE") is True:
                self._texts[ext] = self._tile_compressed(ext)[0].tostring()
            else:
                self._texts[ext] = self._hdu(ext).text
        return self._texts[ext]

    # what images ask for ---------------------------------------------------------
    def header(self, ext: int | str) -> Any:
        """Return a private copy of the header of HDU ``ext`` (no pixels are read)."""
        with self._lock:
            text = self._header_text(ext)
        return _header(text)

    def wcs(self, ext: int | str) -> Any:
        """Return a copy of the ``AstropyWCS`` of HDU ``ext``'s header (built once per file).

        Raises
        ------
        NoWCSError
            If the header has no celestial WCS.
        """
        from snapscope.wcs import AstropyWCS

        with self._lock:
            if ext not in self._wcs:
                try:
                    self._wcs[ext] = AstropyWCS.from_header(self._header_text(ext))
                except NoWCSError as err:
                    self._wcs[ext] = err
            built = self._wcs[ext]
        if isinstance(built, NoWCSError):
            raise NoWCSError(*built.args)
        return AstropyWCS(copy.deepcopy(built.get_astropy_wcs()))

    def plane(self, ext: int | str) -> np.ndarray | ScaledPlane:
        """Return HDU ``ext``'s 2-D data without reading it: a read-only memory map.

        Planes with BZERO/BSCALE/BLANK scaling come as a :class:`ScaledPlane`.
        """
        with self._lock:
            if ext not in self._planes:
                self._planes[ext] = self._make_plane(ext)
            return self._planes[ext]

    def _make_plane(self, ext: int | str) -> np.ndarray | ScaledPlane:
        if self._mm is None:
            self._map()
        hdu = self._hdu(ext)
        cards = hdu.cards
        if cards.get("ZIMAGE") is True:
            return self._tile_compressed(ext)[1]
        naxis = cards.get("NAXIS", 0)
        is_image = hdu.index == 0 or cards.get("XTENSION") == "IMAGE"
        if not is_image or naxis != 2:
            shape = tuple(cards.get(f"NAXIS{i}") for i in range(naxis, 0, -1)) or None
            raise HDUError(f"HDU {ext!r} of {self.path} holds no 2-D image (shape {shape})")
        try:
            stored = np.ndarray((cards["NAXIS2"], cards["NAXIS1"]),
                                dtype=_BITPIX[cards["BITPIX"]], buffer=self._mm,
                                offset=hdu.data_offset)
        except (KeyError, TypeError, ValueError) as err:
            raise ImageFileError(f"cannot read the pixels of HDU {ext!r} of {self.path}: "
                                 f"{err}") from err
        scaling = Scaling.from_header(cards)
        return stored if scaling is None else ScaledPlane(stored, scaling)

    def release_pages(self) -> None:
        """Unmap the pages of this file the process touched (they stay in the page cache)."""
        with self._lock:
            if self._mm is not None:
                self._mm.madvise(mmap.MADV_DONTNEED)

    def _tile_compressed(self, ext: int | str) -> tuple[Any, np.ndarray]:
        """Header and pixels of a tile-compressed HDU, decompressed in memory by astropy."""
        key = ("tile-compressed", ext)
        if key not in self._planes:
            from astropy.io import fits

            with fits.open(self._local, memmap=False) as hdul:
                hdu = hdul[ext]
                data = hdu.data
                if data is None or data.ndim != 2:
                    raise HDUError(f"HDU {ext!r} of {self.path} holds no 2-D image")
                data.flags.writeable = False
                self._planes[key] = (hdu.header.copy(), data)
        return self._planes[key]


def open_fits(path: Path) -> OpenFits:
    """Return this process's entry for the file at ``path`` (opened lazily; see module docstring).

    Raises
    ------
    ImageFileNotFoundError
        If there is no such file.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ImageFileNotFoundError(f"image file not found: {path}") from None
    except OSError as err:
        raise ImageFileError(f"cannot open {path}: {err}") from err
    identity = file_identity(st)
    key = (str(path), st.st_dev, st.st_ino)
    with _cache_lock:
        entry = _cache.get(key)
        if entry is None or entry.identity != identity:
            entry = _cache[key] = OpenFits(Path(path), identity)
        _cache.move_to_end(key)
        while len(_cache) > _limit:
            _cache.popitem(last=False)
    return entry


def open_file_limit() -> int:
    """The most files the process-wide cache keeps open (mapped, with parsed headers)."""
    return _limit


def set_open_file_limit(n: int) -> None:
    """Keep at most ``n`` files open in the cache (default 256 or ``SNAPSCOPE_MAX_OPEN_FILES``).

    Raises
    ------
    ValueError
        If ``n`` is not a positive integer.
    """
    global _limit
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the open-file limit must be a positive integer, not {n!r}")
    with _cache_lock:
        _limit = n
        while len(_cache) > _limit:
            _cache.popitem(last=False)


def open_file_count() -> int:
    """How many files the cache holds now."""
    return len(_cache)


def release_mapped_pages() -> None:
    """Unmap the pages this process touched in the cached files (they stay in the page cache).

    The files stay open and their next reads fault the pages in again. For a process that
    browsed big images and wants its resident memory back, and for benchmarks that need the
    files out of the page cache (a mapped page cannot be evicted).
    """
    with _cache_lock:
        entries = list(_cache.values())
    for entry in entries:
        entry.release_pages()


def clear_open_files() -> None:
    """Drop every cached file (arrays handed out stay valid)."""
    with _cache_lock:
        _cache.clear()


class FitsFile:
    """One image's view of a file: the cached :class:`OpenFits`, always of the same version.

    Parameters
    ----------
    path : Path
        The file (plain, or gzip-compressed).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._version: tuple | None = None
        self._lock = threading.Lock()

    def _shared(self) -> OpenFits:
        entry = open_fits(self.path)
        with self._lock:
            if self._version is None:
                self._version = entry.identity
            elif self._version != entry.identity:
                raise ImageFileError(f"{self.path} changed on disk since this image read it; "
                                     "call free() on the image (or make a new one) to read it again")
        return entry

    def header(self, ext: int | str) -> Any:
        """Return a copy of the header of HDU ``ext`` without reading any pixels."""
        return self._shared().header(ext)

    def wcs(self, ext: int | str) -> Any:
        """Return a copy of the ``AstropyWCS`` of HDU ``ext`` (NoWCSError when it has none)."""
        return self._shared().wcs(ext)

    def plane(self, ext: int | str) -> np.ndarray | ScaledPlane:
        """Return HDU ``ext``'s 2-D data as a read-only memory map (or a ScaledPlane)."""
        return self._shared().plane(ext)

    def identity(self) -> tuple:
        """The version of the file this image reads (``file_identity`` of its ``os.stat``).

        Once the image has read the file that is the version it keeps reading (no new stat).
        """
        with self._lock:
            version = self._version
        return self._shared().identity if version is None else version

    def close(self) -> None:
        """Forget the version read: the next use reads the file as it is then."""
        with self._lock:
            self._version = None

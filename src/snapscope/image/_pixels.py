"""One pixel plane read by sections: its view, a stable identity, and page-cache advice.

:class:`PixelSource` is what tiles, batch work and widgets read an image through
(``Image.pixel_source(which)``); a bare 2-D array can be wrapped the same way. It owns three
jobs that used to be spread over tiles, batch and the widgets:

* **Identity** (:attr:`PixelSource.key`, hashable, used in cache keys). A plane inside a
  memory map is keyed on the file version the image reads (``("file", device, inode,
  mtime_ns, ctime_ns, size)``, from the image) plus the plane's byte offset and layout, so two
  ``Image`` objects of one file share it and a file replaced on disk (new inode or stamp)
  gets a new key. Anything else is keyed on the identity of the object owning the buffer
  through :func:`object_token` (a weak-reference token, never reused, so a recycled ``id()``
  never returns another array's tiles). A :class:`~snapscope.image.ScaledPlane` is keyed on
  its stored integers plus its scaling.
* **Prefetch** (:meth:`PixelSource.prefetch`): ``madvise(MADV_WILLNEED)`` on the rows (and
  columns) about to be read. A cold page fault taken inside numpy's copy holds the GIL, so
  faults are served one after the other, each reading far ahead; asking for all the rows at
  once lets the disk serve them in parallel: 100 cold 31² cutouts of 4088² files took 2.0 s
  without it and 0.5 s with it, and the sampled preview of a big file is ~20× faster.
* **Release** (:meth:`PixelSource.release`): a memory map grows the resident set as pages
  are touched; ``madvise(MADV_DONTNEED)`` drops the mapped pages of rows already read (the
  data stay in the page cache). Done only where it can never lose data: read-only mappings
  (the FITS cache maps files read-only) and shared writable ``np.memmap`` objects (dirty
  pages stay in the page cache). A copy-on-write mapping (``np.memmap(mode="c")``, astropy's
  default ``mode="readonly"``) is left alone: dropping its pages would drop changes. A
  ``ScaledPlane`` (the OU2024 and simulator DQ plane) is advised through its stored integers
  like any plane. Measured on a 4088² OU2024 file: 64 MiB less resident per image shown
  (the tiles used to leave that plane mapped), at ~0.4 ms more CPU per full-resolution tile
  (its pages are mapped again for each tile, as the data plane's always were).

Advice is only advice: planes not in a memory map (in-memory arrays, a ``Numpy2DImage``),
column-major maps and closed mappings make both calls no-ops, and errors are ignored.
"""

from __future__ import annotations

import functools
import itertools
import mmap
import os
import threading
import weakref
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

from snapscope.image._scaled import ScaledPlane

__all__ = ["PixelSource", "file_identity", "object_token"]

_token_lock = threading.RLock()
_tokens: dict[int, tuple[weakref.ref, int]] = {}
_counter = itertools.count()
_WRITABLE_SHARED = ("r+", "w+", "readwrite", "write")
_WILLNEED = getattr(mmap, "MADV_WILLNEED", None)


def _forget(obj_id: int, token: int, _ref: weakref.ref) -> None:
    with _token_lock:
        entry = _tokens.get(obj_id)
        if entry is not None and entry[1] == token:
            del _tokens[obj_id]


def object_token(obj: Any) -> int:
    """Return an integer that identifies ``obj`` for as long as it lives (never reused).

    Objects that do not support weak references get a fresh token on every call, so they
    never share cache entries (which is safe, only slower).
    """
    with _token_lock:
        entry = _tokens.get(id(obj))
        if entry is not None and entry[0]() is obj:
            return entry[1]
        token = next(_counter)
        try:
            ref = weakref.ref(obj, functools.partial(_forget, id(obj), token))
        except TypeError:
            return token
        _tokens[id(obj)] = (ref, token)
        return token


def file_identity(st: os.stat_result) -> tuple:
    """The identity of one version of a file: ``("file", device, inode, mtime_ns, ctime_ns, size)``.

    A file replaced by a rename has a new inode; one rewritten in place has a new mtime.
    """
    return ("file", st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)


def _owner(arr: np.ndarray) -> Any:
    """Return the object at the end of ``arr``'s base chain (the buffer's owner)."""
    obj: Any = arr
    while isinstance(obj, np.ndarray) and obj.base is not None:
        obj = obj.base
    if isinstance(obj, memoryview):
        obj = obj.obj
    return obj


def _mmap_address(mm: mmap.mmap) -> int | None:
    try:
        buf = np.frombuffer(mm, dtype=np.uint8)
    except (ValueError, TypeError, BufferError):
        return None
    address = buf.__array_interface__["data"][0]
    del buf  # release the export at once, or the mapping could not be closed
    return address


def _can_drop_pages(arr: np.ndarray, mm: mmap.mmap) -> bool:
    """Whether dropping mapped pages of ``mm`` can never lose data (see the module docstring)."""
    try:
        if memoryview(mm).readonly:
            return True
    except ValueError:  # closed
        return False
    return isinstance(arr, np.memmap) and arr.mode in _WRITABLE_SHARED


class _Mapping(NamedTuple):
    """Where a row-major plane's rows lie in a memory map."""

    mm: mmap.mmap
    offset: int  # byte offset of element [0, 0] in ``mm``
    row_stride: int
    itemsize: int

    def advise(self, advice: int, rows: np.ndarray, c0: int, c1: int) -> None:
        """Give ``advice`` for the pages under columns ``[c0, c1)`` of each row in ``rows``.

        One ``madvise`` per row (the loop is what a box of a few dozen rows costs, so the
        arithmetic is done on the whole array first).
        """
        starts = self.offset + rows * self.row_stride + c0 * self.itemsize
        aligned = starts - starts % mmap.PAGESIZE
        lengths = starts + (c1 - c0) * self.itemsize - aligned
        try:
            for start, length in zip(aligned.tolist(), lengths.tolist(), strict=True):
                self.mm.madvise(advice, start, length)
        except (ValueError, OSError):  # closed meanwhile, or refused: advice is only advice
            pass

    def advise_rows(self, advice: int, r0: int, r1: int, nx: int) -> None:
        """Give ``advice`` for the pages under the whole rows ``[r0, r1)`` (one call)."""
        start = self.offset + r0 * self.row_stride
        start -= start % mmap.PAGESIZE
        stop = self.offset + (r1 - 1) * self.row_stride + nx * self.itemsize
        try:
            self.mm.madvise(advice, start, stop - start)
        except (ValueError, OSError):
            pass


def _as_2d(array: Any) -> Any:
    shape = getattr(array, "shape", None)
    if shape is None:
        array = np.asarray(array)
        shape = array.shape
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"a pixel plane must be a non-empty 2-D array, not one of shape {tuple(shape)}")
    return array


class PixelSource:
    """One 2-D pixel plane, read by sections, with a stable key and page-cache advice.

    Get one from ``image.pixel_source(which)``; wrap a bare array with ``PixelSource(array)``.
    See the module docstring for what the key means and when advice applies.

    Parameters
    ----------
    array : numpy.ndarray, ScaledPlane or 2-D array-like
        The plane (possibly a read-only, big-endian memory map); anything else that supports
        2-D slicing is accepted too (a nested list is turned into an array).
    file_key : tuple, optional
        Identity of the file version the plane is mapped from (:func:`file_identity`); used
        only when the plane lies in a memory map. None: the map itself is the identity.

    Raises
    ------
    ValueError
        If ``array`` is not a non-empty 2-D array.

    Attributes
    ----------
    array : numpy.ndarray or array-like
        The plane, as given: slice it, then ``np.asarray`` the slice (only those rows are read).
    shape : tuple of int
        ``(ny, nx)``.
    """

    def __init__(self, array: Any, file_key: tuple | None = None) -> None:
        self.array = _as_2d(array)
        self.shape: tuple[int, int] = tuple(int(n) for n in self.array.shape)
        self._file_key = file_key

    def __repr__(self) -> str:
        ny, nx = self.shape
        mapped = "memory-mapped" if self._mapping is not None else "in memory"
        return f"<PixelSource {ny}×{nx} {getattr(self.array, 'dtype', '?')} {mapped}>"

    @functools.cached_property
    def _stored(self) -> Any:
        """The array holding the stored values (a ScaledPlane's integers), or None."""
        stored = self.array.raw if isinstance(self.array, ScaledPlane) else self.array
        return stored if isinstance(stored, np.ndarray) else None

    @functools.cached_property
    def _placement(self) -> tuple[Any, int | None]:
        """The owner of the stored buffer and, when it is a memory map, the plane's offset in it."""
        owner = _owner(self._stored)
        address = _mmap_address(owner) if isinstance(owner, mmap.mmap) else None
        if address is None:
            return owner, None
        return owner, self._stored.__array_interface__["data"][0] - address

    @functools.cached_property
    def _mapping(self) -> _Mapping | None:
        stored = self._stored
        if stored is None:
            return None
        owner, offset = self._placement
        row_major = (stored.strides[1] == stored.itemsize
                     and stored.strides[0] >= stored.shape[1] * stored.itemsize)
        if offset is None or not row_major:  # the page arithmetic assumes whole rows in order
            return None
        return _Mapping(owner, offset, stored.strides[0], stored.itemsize)

    @functools.cached_property
    def key(self) -> tuple:
        """Hashable identity of the pixels (see the module docstring)."""
        stored = self._stored
        if stored is None:
            return ("obj", object_token(self.array))
        owner, offset = self._placement
        layout = (stored.shape, stored.strides, stored.dtype.str)
        if offset is None:
            key = ("obj", object_token(owner), stored.__array_interface__["data"][0], *layout)
        else:
            where = self._file_key or ("obj", object_token(owner))
            key = (*where, offset, *layout)
        return key if stored is self.array else (*key, self.array.scaling)

    def read(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """Return rows ``[r0, r1)``, columns ``[c0, c1)`` as an ndarray (possibly a view)."""
        return np.asarray(self.array[r0:r1, c0:c1])

    def prefetch(self, rows: Iterable[int], cols: tuple[int, int] | None = None) -> None:
        """Ask the kernel to read the given rows from disk now, all at once.

        Parameters
        ----------
        rows : iterable of int
            Row indices (e.g. ``range(y0, y1)``, or the sorted rows of a sample); rows off
            the plane are skipped.
        cols : (int, int), optional
            Only columns ``[c0, c1)`` of each row (clipped to the plane); default whole rows.
        """
        mapping = self._mapping
        if mapping is None or _WILLNEED is None:
            return
        ny, nx = self.shape
        c0, c1 = (0, nx) if cols is None else (max(int(cols[0]), 0), min(int(cols[1]), nx))
        rows = (rows.astype(np.intp, copy=False) if isinstance(rows, np.ndarray)
                else np.fromiter(rows, dtype=np.intp))
        rows = rows[(rows >= 0) & (rows < ny)]
        if c1 > c0 and rows.size:
            mapping.advise(_WILLNEED, rows, c0, c1)

    def release(self, r0: int, r1: int) -> None:
        """Drop the mapped pages of rows ``[r0, r1)`` where that cannot lose data.

        The pages stay in the page cache; the next read maps them again.
        """
        mapping = self._mapping
        r0, r1 = max(int(r0), 0), min(int(r1), self.shape[0])
        if mapping is not None and r1 > r0 and self._may_release:
            mapping.advise_rows(mmap.MADV_DONTNEED, r0, r1, self.shape[1])

    @functools.cached_property
    def _may_release(self) -> bool:
        return _can_drop_pages(self._stored, self._mapping.mm)

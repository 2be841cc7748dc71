"""The pixels behind a pyramid: a 2-D plane, an optional bad-pixel mask, and a stable identity.

:func:`resolve_source` turns what the user passed to :class:`~snapscope.tiles.TilePyramid`
(a snapscope ``Image`` or any 2-D array-like, plus the ``mask`` argument) into a
:class:`PixelSource`, which reads rectangular sections and knows its cache key:

* an ``Image`` whose plane is a memory map is keyed on its file (path, mtime, size) and the
  plane's place in the mapping, so two ``Image`` objects of one file share cache entries;
* anything else is keyed on the identity of the object owning the buffer (a weak-reference
  token, so a recycled ``id()`` never returns another array's tiles).

Memory maps grow the resident set as pages are touched. After reading a section the pyramid
calls :meth:`PixelSource.release`, which drops the mapped pages of those rows again
(``madvise(MADV_DONTNEED)``; the data stay in the page cache). This is done only where it
cannot lose data: read-only mappings, and shared writable ``np.memmap`` objects. A
copy-on-write mapping (astropy's default ``mode="readonly"``) is left alone. For the sampled
preview, the sampled rows are requested with ``madvise(MADV_WILLNEED)`` first: on a file not
in the page cache that is 20× faster than letting each page fault read ahead.
"""

from __future__ import annotations

import functools
import itertools
import mmap
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BadPixels", "PixelSource", "resolve_source"]

_SAMPLE_CHUNK = 16  # rows read at a time by ``PixelSource.sample``
_token_lock = threading.RLock()
_tokens: dict[int, tuple[weakref.ref, int]] = {}
_counter = itertools.count()


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
    address = int(buf.ctypes.data)
    del buf  # release the export at once, or the mapping could not be closed
    return address


def _releasable(arr: np.ndarray, mm: mmap.mmap) -> bool:
    """Whether dropping mapped pages of ``mm`` can never lose data (see the module docstring)."""
    try:
        if memoryview(mm).readonly:
            return True
    except ValueError:  # closed
        return False
    return isinstance(arr, np.memmap) and arr.mode in ("r+", "w+", "readwrite", "write")


@dataclass(frozen=True)
class _Plane:
    """One 2-D array-like and, when it is a memory map, how to advise the kernel about it."""

    array: Any
    key: tuple
    mm: mmap.mmap | None = None  # the mapping holding the (C-ordered) rows, if any
    offset: int = 0  # byte offset of element [0, 0] in ``mm``
    releasable: bool = False  # dropping mapped pages can never lose data

    def _advise(self, advice: int, r0: int, r1: int) -> None:
        stride = self.array.strides[0]
        start = self.offset + r0 * stride
        stop = self.offset + (r1 - 1) * stride + self.array.shape[1] * self.array.itemsize
        start -= start % mmap.PAGESIZE
        stop = min(len(self.mm), -(-stop // mmap.PAGESIZE) * mmap.PAGESIZE)
        try:
            self.mm.madvise(advice, start, stop - start)
        except (ValueError, OSError):  # closed meanwhile, or refused: advice is only advice
            pass

    def release(self, r0: int, r1: int) -> None:
        """Drop the mapped pages of rows ``[r0, r1)`` (they stay in the page cache)."""
        if self.releasable and r1 > r0:
            self._advise(mmap.MADV_DONTNEED, r0, r1)

    def prefetch(self, rows: np.ndarray) -> None:
        """Start reading the given rows from disk at once (all in parallel, no more)."""
        if self.mm is not None:
            for r in rows:
                self._advise(mmap.MADV_WILLNEED, int(r), int(r) + 1)


def _plane(array: Any, file_key: tuple | None) -> _Plane:
    """Wrap a plane; ``file_key`` identifies the file of an Image (None for bare arrays)."""
    if not isinstance(array, np.ndarray):
        return _Plane(array, ("obj", object_token(array)))
    layout = (array.shape, array.strides, array.dtype.str)
    owner = _owner(array)
    if isinstance(owner, mmap.mmap):
        address = _mmap_address(owner)
        if address is not None:
            offset = int(array.ctypes.data) - address
            key = (
                (*file_key, offset, *layout)
                if file_key
                else ("obj", object_token(owner), offset, *layout)
            )
            row_major = (
                array.strides[1] == array.itemsize
                and array.strides[0] >= array.shape[1] * array.itemsize
            )
            if not row_major:  # the page arithmetic below assumes whole rows in order
                return _Plane(array, key)
            return _Plane(array, key, owner, offset, _releasable(array, owner))
    return _Plane(array, ("obj", object_token(owner), int(array.ctypes.data), *layout))


@dataclass(frozen=True)
class BadPixels:
    """The mask of one section, kept as the raw mask values until a form is asked for.

    A section with a few flagged pixels then costs one pass over its flags (:meth:`flat`)
    plus a look at the flags of the blocks that hold them (:meth:`take`).
    """

    values: np.ndarray  # the mask or flags section (any integer or bool dtype)
    bits: int | None  # bad where ``values & bits``; None: where non-zero

    def __post_init__(self) -> None:
        dtype = self.values.dtype
        if not dtype.isnative:  # reinterpret, don't swap: zero-ness and bits need no swap
            native = dtype.newbyteorder("=")
            object.__setattr__(self, "values", self.values.view(native))
            if self.bits is not None:
                object.__setattr__(self, "bits", np.array(self.bits, dtype=dtype).view(native)[()])

    def _test(self, values: np.ndarray) -> np.ndarray:
        return values != 0 if self.bits is None else (values & self.bits) != 0

    def flat(self) -> np.ndarray:
        """Row-major flat indices of the bad pixels of the section."""
        return np.flatnonzero(self._test(self.values))  # nonzero is fastest on bool

    def take(self, flat: np.ndarray) -> np.ndarray:
        """Bool array: which of the pixels at row-major flat indices ``flat`` are bad."""
        if self.values.flags.c_contiguous:
            return self._test(np.take(self.values.reshape(-1), flat))
        return self._test(self.values[np.divmod(flat, self.values.shape[1])])

    def dense(self) -> np.ndarray:
        """Bool array of the section's shape, True = bad."""
        return self._test(self.values)


@dataclass(frozen=True)
class PixelSource:
    """A 2-D plane plus a bad-pixel mask, read by rectangular sections.

    Attributes
    ----------
    shape : tuple of int
        ``(ny, nx)``.
    key : tuple
        Hashable identity of the pixels and the mask, used in cache keys.
    """

    data: _Plane
    mask: _Plane | None = None
    bits: int | None = None  # mask pixels are bad where ``mask & bits``; None: where non-zero
    shape: tuple[int, int] = field(init=False)
    key: tuple = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(n) for n in self.data.array.shape))
        mask_key = None if self.mask is None else (self.mask.key, self.bits)
        object.__setattr__(self, "key", (self.data.key, mask_key))

    def read(self, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, BadPixels | None]:
        """Return rows ``[r0, r1)``, columns ``[c0, c1)`` of the plane and its bad pixels.

        Both may be views into memory maps, not yet read; the second is None when the
        source has no mask.
        """
        section = np.asarray(self.data.array[r0:r1, c0:c1])
        if self.mask is None:
            return section, None
        return section, BadPixels(np.asarray(self.mask.array[r0:r1, c0:c1]), self.bits)

    def sample(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the plane and its bad-pixel mask (bool or None) at the grid ``rows × cols``.

        ``rows`` must be sorted. All the rows are requested from disk at once (a memory map
        would otherwise read ahead far past each row), then read in chunks whose pages are
        released as they are done.
        """
        planes = [self.data] if self.mask is None else [self.data, self.mask]
        for plane in planes:
            plane.prefetch(rows)
        parts: list[list[np.ndarray]] = [[] for _ in planes]
        for i in range(0, len(rows), _SAMPLE_CHUNK):
            chunk = rows[i : i + _SAMPLE_CHUNK]
            for plane, part in zip(planes, parts, strict=True):
                part.append(np.asarray(plane.array[chunk])[:, cols])
                plane.release(int(chunk[0]), int(chunk[-1]) + 1)
        values = np.concatenate(parts[0])
        if self.mask is None:
            return values, None
        return values, BadPixels(np.concatenate(parts[1]), self.bits).dense()

    def release(self, r0: int, r1: int) -> None:
        """Drop mapped pages of rows ``[r0, r1)`` (data and mask) where that is safe."""
        self.data.release(r0, r1)
        if self.mask is not None:
            self.mask.release(r0, r1)


def _image_file_key(image: Any) -> tuple | None:
    path = getattr(image, "full_filepath", None)
    if path is None:
        return None
    try:
        st = os.stat(path)
    except (OSError, TypeError):
        return None
    return ("file", type(image).__qualname__, os.path.realpath(path), st.st_mtime_ns, st.st_size)


def _as_2d(array: Any, what: str) -> Any:
    shape = getattr(array, "shape", None)
    if shape is None:
        array = np.asarray(array)
        shape = array.shape
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"{what} must be a non-empty 2-D array, not one of shape {tuple(shape)}")
    return array


def resolve_source(source: Any, mask: Any = None) -> PixelSource:
    """Build a :class:`PixelSource` from a ``TilePyramid``'s ``source`` and ``mask`` arguments.

    Parameters
    ----------
    source : Image or array-like
        A snapscope ``Image`` (anything with ``get_data_view``) or a 2-D array-like.
    mask : None, array-like of bool, "flags" or int
        See :class:`~snapscope.tiles.TilePyramid`.

    Raises
    ------
    ValueError
        For a plane that is not 2-D, a mask of another shape, or ``"flags"``/a bitmask when
        the source has no flags plane.
    TypeError
        For a ``mask`` of an unsupported type.
    """
    is_image = hasattr(source, "get_data_view")
    if is_image:
        data = source.get_data_view("data")
        if data is None:
            raise ValueError(f"{type(source).__name__} has no data plane to show")
        flags = source.get_data_view("flags")
        file_key = _image_file_key(source)
    else:
        data, flags, file_key = source, None, None
    data = _as_2d(data, "the image data")
    plane = _plane(data, None if file_key is None else (*file_key, "data"))
    flag_plane = (
        None
        if flags is None
        else _plane(
            _as_2d(flags, "the flags plane"), None if file_key is None else (*file_key, "flags")
        )
    )

    if mask is None:
        return PixelSource(plane, flag_plane)
    if isinstance(mask, str):
        if mask != "flags":
            raise ValueError(
                f"mask must be None, 'flags', an int bitmask or a bool array, not {mask!r}"
            )
        if flag_plane is None:
            raise ValueError("mask='flags' needs an Image with a flags plane; this source has none")
        return PixelSource(plane, flag_plane)
    if isinstance(mask, (bool, np.bool_)):
        if mask:
            raise ValueError(
                "mask=True is ambiguous: pass 'flags', an int bitmask, or a bool array"
            )
        return PixelSource(plane)
    if isinstance(mask, (int, np.integer)):
        if mask == 0:
            return PixelSource(plane)
        if flag_plane is None:
            raise ValueError(f"mask={mask} (a flag bitmask) needs an Image with a flags plane")
        return PixelSource(plane, flag_plane, int(mask))
    if not hasattr(mask, "shape") and not isinstance(mask, (list, tuple)):
        raise TypeError(
            f"mask must be None, 'flags', an int bitmask or a bool array, not {type(mask).__name__}"
        )
    mask = _as_2d(mask, "mask")
    if tuple(mask.shape) != tuple(data.shape):
        raise ValueError(
            f"mask has shape {tuple(mask.shape)} but the image has shape {tuple(data.shape)}"
        )
    return PixelSource(plane, _plane(mask, None))

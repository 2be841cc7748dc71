"""The pixels behind a pyramid: a data plane and an optional bad-pixel mask, read by sections.

:func:`resolve_source` turns what the user passed to :class:`~snapscope.tiles.TilePyramid`
(a snapscope ``Image``, a :class:`~snapscope.image.PixelSource` or any 2-D array-like, plus
the ``mask`` argument) into a :class:`Sections`. Everything about the pixels themselves
belongs to the Image part and is used here through its public contract:

* the plane, its cache key and page-cache advice are the ``PixelSource``'s
  (``image.pixel_source("data")``; ``PixelSource(array)`` for a bare array): two ``Image``
  objects of one file share cache entries, bare arrays are keyed on their buffer's identity;
* ``mask`` is read by :func:`snapscope.image.resolve_mask`, as photometry reads it. The
  pyramid's own default (``mask=None``) is the Image's ``flags != 0`` when it has flags.

What stays here is how a pyramid reads: after each section the pyramid calls
:meth:`Sections.release` so a big memory map never becomes resident, and the sampled
preview asks for its rows at once (:meth:`Sections.sample`), 20× faster on a file not in the
page cache than letting each page fault read ahead. :class:`BadPixels` keeps a section's raw
mask values and tests only what the block reduction asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snapscope.image import PixelMask, PixelSource, resolve_mask

__all__ = ["BadPixels", "Sections", "resolve_source"]

_SAMPLE_CHUNK = 16  # rows read at a time by ``Sections.sample``


@dataclass(frozen=True)
class BadPixels:
    """The mask of one section, kept as the raw mask values until a form is asked for.

    A section with a few flagged pixels then costs one pass over its flags (:meth:`flat`)
    plus a look at the flags of the blocks that hold them (:meth:`take`).
    """

    values: np.ndarray  # the mask or flags section, as stored (any integer or bool dtype)
    mask: PixelMask  # what makes a value bad

    def flat(self) -> np.ndarray:
        """Row-major flat indices of the bad pixels of the section."""
        return np.flatnonzero(self.mask.test(self.values))  # nonzero is fastest on bool

    def take(self, flat: np.ndarray) -> np.ndarray:
        """Bool array: which of the pixels at row-major flat indices ``flat`` are bad."""
        if self.values.flags.c_contiguous:
            return self.mask.test(np.take(self.values.reshape(-1), flat))
        return self.mask.test(self.values[np.divmod(flat, self.values.shape[1])])

    def dense(self) -> np.ndarray:
        """Bool array of the section's shape, True = bad."""
        return self.mask.test(self.values)


@dataclass(frozen=True)
class Sections:
    """A data plane plus a bad-pixel mask, read by rectangular sections.

    Attributes
    ----------
    shape : tuple of int
        ``(ny, nx)``.
    key : tuple
        Hashable identity of the pixels and the mask, used in cache keys.
    """

    data: PixelSource
    mask: PixelMask | None = None
    shape: tuple[int, int] = field(init=False)
    key: tuple = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", self.data.shape)
        mask_key = None if self.mask is None else self.mask.key
        object.__setattr__(self, "key", (self.data.key, mask_key))

    def read(self, r0: int, r1: int, c0: int, c1: int) -> tuple[np.ndarray, BadPixels | None]:
        """Return rows ``[r0, r1)``, columns ``[c0, c1)`` of the plane and its bad pixels.

        Both may be views into memory maps, not yet read; the second is None when there is
        no mask.
        """
        section = self.data.read(r0, r1, c0, c1)
        if self.mask is None:
            return section, None
        return section, BadPixels(self.mask.source.read(r0, r1, c0, c1), self.mask)

    def sample(self, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the plane and its bad-pixel mask (bool or None) at the grid ``rows × cols``.

        ``rows`` must be sorted. All the rows are requested from disk at once (a memory map
        would otherwise read ahead far past each row), then read in chunks whose pages are
        released as they are done.
        """
        planes = [self.data] if self.mask is None else [self.data, self.mask.source]
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
        return values, self.mask.test(np.concatenate(parts[1]))

    def release(self, r0: int, r1: int) -> None:
        """Drop mapped pages of rows ``[r0, r1)`` (data and mask) where that is safe."""
        self.data.release(r0, r1)
        if self.mask is not None:
            self.mask.source.release(r0, r1)


def resolve_source(source: Any, mask: Any = None) -> Sections:
    """Build the :class:`Sections` of a ``TilePyramid``'s ``source`` and ``mask`` arguments.

    Parameters
    ----------
    source : Image, PixelSource or array-like
        A snapscope ``Image`` (anything with ``pixel_source``), a ``PixelSource``, or a 2-D
        array-like.
    mask : None, array-like of bool, "flags", int or PixelMask
        See :class:`~snapscope.tiles.TilePyramid`.

    Raises
    ------
    ValueError
        For a plane that is not 2-D, an Image without data, or a ``mask`` that
        :func:`~snapscope.image.resolve_mask` refuses.
    TypeError
        For a ``mask`` of an unsupported type.
    """
    if isinstance(source, PixelSource):
        data, flags = source, None
    elif hasattr(source, "pixel_source"):
        data = source.pixel_source("data")
        if data is None:
            raise ValueError(f"{type(source).__name__} has no data plane to show")
        flags = source.pixel_source("flags")
    else:
        data, flags = PixelSource(source), None
    if mask is None:  # the pyramid's default: the flags, when there are any
        return Sections(data, None if flags is None else PixelMask(flags))
    return Sections(data, resolve_mask(mask, data.shape, flags))

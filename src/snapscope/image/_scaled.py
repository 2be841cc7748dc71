"""Planes stored with ``BZERO``/``BSCALE``/``BLANK``, read and scaled slice by slice.

The simulator and OpenUniverse 2024 store the uint32 DQ plane as int32 with ``BZERO = 2³¹``.
astropy cannot memory-map such a plane and reads all of it (64 MiB for a 4088² image) to give
one 31² cutout. :class:`ScaledPlane` maps the stored integers instead and scales only the
pixels a slice asks for, with exactly astropy's arithmetic (:class:`Scaling` follows
``astropy.io.fits`` ``_ImageBaseHDU._scale_data`` with its default ``uint=True``), so a slice
equals the same slice of astropy's ``hdu.data``, dtype included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__all__ = ["Scaling", "ScaledPlane"]

_UNSIGNED = {16: np.dtype("uint16"), 32: np.dtype("uint32"), 64: np.dtype("uint64")}


@dataclass(frozen=True)
class Scaling:
    """The scaling keywords of one HDU: ``physical = stored × bscale + bzero``, BLANK → NaN.

    Attributes
    ----------
    bitpix : int
        ``BITPIX`` of the stored values.
    bzero, bscale : int or float
        ``BZERO`` (default 0) and ``BSCALE`` (default 1).
    blank : int or None
        ``BLANK`` when it applies (an integer, on integer data), else None.
    """

    bitpix: int
    bzero: int | float = 0
    bscale: int | float = 1
    blank: int | None = None

    @classmethod
    def from_header(cls, header: Any) -> Scaling | None:
        """The scaling of an image header, or None when its stored values are physical values."""
        bitpix = header["BITPIX"]
        blank = header.get("BLANK")
        if isinstance(blank, bool) or not isinstance(blank, int) or bitpix <= 0:
            blank = None  # astropy ignores (with a warning) a BLANK it cannot apply
        scaling = cls(bitpix, header.get("BZERO", 0), header.get("BSCALE", 1), blank)
        return None if scaling.is_identity else scaling

    @property
    def is_identity(self) -> bool:
        """True when no value changes (astropy then returns the stored array itself)."""
        return self.bzero == 0 and self.bscale == 1 and self.blank is None

    @property
    def dtype(self) -> np.dtype | None:
        """The physical dtype for integer data (None: floating-point data keep their dtype)."""
        if self.bscale == 1:
            if self.bitpix == 8 and self.bzero == -128:
                return np.dtype("int8")
            if self.bitpix in _UNSIGNED and self.bzero == 1 << (self.bitpix - 1):
                return _UNSIGNED[self.bitpix]
        if self.bitpix > 16:
            return np.dtype("float64")
        if self.bitpix > 0:
            return np.dtype("float32")
        return None

    def apply(self, stored: np.ndarray) -> np.ndarray:
        """Return the physical values of ``stored`` (a new array; ``stored`` is not changed)."""
        dtype = self.dtype
        if not (self.bzero == 0 and self.bscale == 1) and dtype is not None and dtype.kind == "u":
            data = np.array(stored, dtype=dtype)
            data -= np.uint64(1 << (dtype.itemsize * 8 - 1))
            return data
        blanks = None if self.blank is None else stored == self.blank
        data = np.array(stored, dtype=dtype) if dtype is not None else stored.copy()
        if self.bscale != 1:
            np.multiply(data, self.bscale, data)
        if self.bzero != 0:
            data += self.bzero
        if self.blank:
            data[blanks] = np.nan
        return data


class ScaledPlane(NDArrayOperatorsMixin):
    """A read-only 2-D plane whose stored values are scaled as they are read.

    Indexing returns a new numpy array of physical values of the pixels asked for (only those
    are read from the memory map); ``np.asarray(plane)`` gives the whole plane, and numpy
    operators and ufuncs work on it as on that array (``plane != 0`` reads every pixel).

    Parameters
    ----------
    stored : numpy.ndarray
        The stored values (a read-only memory map, possibly big-endian).
    scaling : Scaling
        How to turn them into physical values.
    """

    def __init__(self, stored: np.ndarray, scaling: Scaling) -> None:
        self._stored = stored
        self._scaling = scaling
        dtype = scaling.dtype
        self.dtype = stored.dtype if dtype is None else dtype
        self.shape = stored.shape
        self.ndim = stored.ndim
        self.size = stored.size

    @property
    def raw(self) -> np.ndarray:
        """The stored values, unscaled (a read-only memory map)."""
        return self._stored

    @property
    def scaling(self) -> Scaling:
        """The :class:`Scaling` applied to every read."""
        return self._scaling

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"<ScaledPlane {self.shape[0]}×{self.shape[1]} {self.dtype} {self._scaling}>"

    def __getitem__(self, key: Any) -> Any:
        stored = self._stored[key]
        if np.ndim(stored) == 0:
            return self._scaling.apply(np.asarray(stored))[()]
        return self._scaling.apply(stored)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[...]
        return whole if dtype is None else whole.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if any(isinstance(o, ScaledPlane) for o in kwargs.get("out", ())):
            raise ValueError("a ScaledPlane is read-only")
        inputs = tuple(np.asarray(i) if isinstance(i, ScaledPlane) else i for i in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

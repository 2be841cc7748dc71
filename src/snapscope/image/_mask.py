"""Which pixels are bad: the one reading of the ``mask=`` vocabulary.

Photometry (``ap_phot``, ``psf_phot``, ``forced_psf_phot``), tile pyramids and the widgets all
take the same ``mask`` argument, and :func:`resolve_mask` is the only place it is read:

* ``None``, ``False`` or ``0``: no mask (``0`` and ``False`` read as "no flag bit is bad");
* ``'flags'``: the image's flags plane, any bit set = bad;
* an int: the flag bits that make a pixel bad (``flags & bits != 0``);
* a boolean array-like of the image's shape (True = bad; other dtypes: non-zero = bad);
* a :class:`PixelMask` already resolved.

The result, a :class:`PixelMask`, is a lazy read-only boolean plane: slicing it reads only
those pixels of the flags (a memory map stays one), ``np.asarray(mask)`` gives the whole
plane, and :meth:`PixelMask.test` tells bad pixels from raw flag values read elsewhere (the
tiles keep raw sections and test only the blocks that need it). Flags stored big-endian are
tested without swapping their bytes (zero-ness and bits need no swap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from snapscope.image._pixels import PixelSource

__all__ = ["PixelMask", "resolve_mask", "MASK_FORMS"]

#: The accepted forms of ``mask=``, as error messages name them.
MASK_FORMS = "None, 'flags', an int bitmask of flag bits, or a bool array of the image's shape"


class PixelMask:
    """Bad pixels: a plane (flags, or a given mask) and the bits of it that make a pixel bad.

    Parameters
    ----------
    source : PixelSource
        The flags plane or the given mask plane.
    bits : int, optional
        A pixel is bad where ``value & bits != 0``; None (default): where the value is non-zero.

    Attributes
    ----------
    source : PixelSource
    bits : int or None
    shape : tuple of int
    dtype : numpy.dtype
        Always bool: what indexing returns.
    """

    ndim = 2
    dtype = np.dtype(bool)

    def __init__(self, source: PixelSource, bits: int | None = None) -> None:
        self.source, self.bits = source, bits
        self.shape = source.shape

    def __repr__(self) -> str:
        rule = "non-zero" if self.bits is None else f"& {self.bits:#x}"
        return f"<PixelMask {self.shape[0]}×{self.shape[1]} bad where {rule}>"

    @property
    def key(self) -> tuple:
        """Hashable identity of the mask: its plane's key and the bits."""
        return (self.source.key, self.bits)

    def test(self, values: np.ndarray) -> np.ndarray:
        """Bool array, True = bad, for raw values read from :attr:`source`."""
        values = np.asarray(values)
        bits = self.bits
        if not values.dtype.isnative:  # reinterpret, don't swap
            native = values.dtype.newbyteorder("=")
            if bits is not None:
                bits = np.array(bits, dtype=values.dtype).view(native)[()]
            values = values.view(native)
        if bits is None:
            return values if values.dtype == bool else values != 0
        return (values & bits) != 0

    def __getitem__(self, item: Any) -> np.ndarray:
        return self.test(self.source.array[item])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        whole = self[...]
        return whole if dtype is None else whole.astype(dtype, copy=False)


def _flags_or_error(flags: PixelSource | Callable[[], PixelSource | None] | None, given: str,
                    ) -> PixelSource:
    if callable(flags):
        flags = flags()
    if flags is None:
        raise ValueError(f"mask={given} needs a flags plane; this image has none")
    return flags


def resolve_mask(mask: Any, shape: tuple[int, int],
                 flags: PixelSource | Callable[[], PixelSource | None] | None = None,
                 ) -> PixelMask | None:
    """Read a ``mask=`` argument (see the module docstring) into a :class:`PixelMask` or None.

    Parameters
    ----------
    mask : None, 'flags', int, bool array-like or PixelMask
        What the caller was given.
    shape : (int, int)
        The image's shape; a mask array must have it.
    flags : PixelSource, callable or None
        The image's flags plane, or a function returning it (called only when ``mask``
        names the flags, so images that are not asked for their flags never open them).

    Returns
    -------
    PixelMask or None
        None when nothing is masked.

    Raises
    ------
    ValueError
        For ``'flags'`` or a bitmask when there is no flags plane, another string, ``True``,
        or an array of another shape; the message names the accepted forms.
    TypeError
        For a ``mask`` of another type (e.g. a float or a dict).
    """
    if mask is None or (isinstance(mask, bool | np.bool_) and not mask):
        return None
    if isinstance(mask, PixelMask):
        resolved = mask
    elif isinstance(mask, str):
        if mask != "flags":
            raise ValueError(f"mask must be {MASK_FORMS}; not {mask!r}")
        resolved = PixelMask(_flags_or_error(flags, "'flags'"))
    elif isinstance(mask, bool | np.bool_):
        raise ValueError(f"mask=True is ambiguous: mask must be {MASK_FORMS}")
    elif isinstance(mask, int | np.integer):
        if mask == 0:
            return None
        resolved = PixelMask(_flags_or_error(flags, f"{int(mask)} (a flag bitmask)"), int(mask))
    elif hasattr(mask, "shape") or isinstance(mask, list | tuple):
        _check_shape(np.shape(mask), shape)
        resolved = PixelMask(PixelSource(mask))
    else:
        raise TypeError(f"mask must be {MASK_FORMS}; not a {type(mask).__name__}")
    _check_shape(resolved.shape, shape)
    return resolved


def _check_shape(got: tuple, shape: tuple) -> None:
    if tuple(got) != tuple(shape):
        raise ValueError(f"mask has shape {tuple(got)} but the image has shape {tuple(shape)}")

"""Tiles on the wire: a small JSON header plus one binary buffer of data values.

The payload is the tile's values, row-major, row 0 first (``y = 0``, the bottom of the
display), little-endian IEEE ``float16`` or ``float32``. The decoder computes::

    value = stored * header["scale"]

``scale`` is 1 except for float16 tiles whose finite values exceed the float16 range
(|v| > 65504): those are stored divided by a power of two, the smallest that fits. A power of
two keeps float16's 11-bit relative precision over the whole dynamic range (an offset/linear
rescale to the tile's range would not: one cosmic ray at 1e5 would erase sky noise at 100),
and the division is exact. NaN stays NaN, ±inf stays ±inf.

The JS twin lives in the widget's ``js/src/tiles/decode.ts``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["encode_tile", "decode_tile", "FLOAT16_MAX"]

#: Largest finite float16.
FLOAT16_MAX = 65504.0

_WIRE = {"float16": np.dtype("<f2"), "float32": np.dtype("<f4")}


def encode_tile(arr: Any, dtype: str = "float16") -> tuple[dict[str, Any], bytes]:
    """Encode a 2-D tile of values as ``(header, payload)``.

    Parameters
    ----------
    arr : array-like
        2-D array of values (a tile from :meth:`TilePyramid.tile`).
    dtype : {"float16", "float32"}
        Wire type: float16 halves the bytes (relative precision 2**-11 ≈ 5e-4).

    Returns
    -------
    header : dict
        JSON-serialisable: ``{"dtype": "float16"|"float32", "shape": [ny, nx], "has_nan":
        bool, "min": float|None, "max": float|None, "scale": float}``; ``min``/``max`` are
        over the finite values (None when there are none, since JSON has no NaN).
    payload : bytes
        ``ny * nx`` little-endian values, row-major.
    """
    if dtype not in _WIRE:
        raise ValueError(f"dtype must be 'float16' or 'float32', not {dtype!r}")
    values = np.asarray(arr, dtype=np.float32)
    if values.ndim != 2:
        raise ValueError(f"a tile must be 2-D, not of shape {values.shape}")
    finite = np.isfinite(values)
    has_finite = bool(finite.any())
    lo = float(np.min(values, where=finite, initial=np.inf)) if has_finite else None
    hi = float(np.max(values, where=finite, initial=-np.inf)) if has_finite else None
    scale = 1.0
    if dtype == "float16" and has_finite:
        biggest = max(abs(lo), abs(hi))
        if biggest > FLOAT16_MAX:
            exponent = math.ceil(math.log2(biggest / FLOAT16_MAX))
            while biggest / 2.0**exponent > FLOAT16_MAX:
                exponent += 1
            scale = 2.0**exponent
            values = values / np.float32(scale)
    header = {
        "dtype": dtype,
        "shape": [int(n) for n in values.shape],
        "has_nan": bool(np.isnan(values).any()),
        "min": lo,
        "max": hi,
        "scale": scale,
    }
    return header, values.astype(_WIRE[dtype]).tobytes()


def decode_tile(header: dict[str, Any], payload: bytes | memoryview) -> np.ndarray:
    """Decode what :func:`encode_tile` made (the Python twin of the browser's decoder).

    Returns
    -------
    numpy.ndarray
        float32 of shape ``header["shape"]``.
    """
    wire = _WIRE[header["dtype"]]
    values = np.frombuffer(payload, dtype=wire).reshape(header["shape"]).astype(np.float32)
    scale = header.get("scale", 1.0)
    return values if scale == 1.0 else values * np.float32(scale)

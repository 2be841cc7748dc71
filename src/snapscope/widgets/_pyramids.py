"""The widgets' use of :mod:`snapscope.tiles`: one pyramid per image plane.

Pyramids of the same pixels share the tiles of ``snapscope.tiles.default_cache()``, so two
widgets showing one array, or one file, compute each tile once. Both pyramids read the entry's
pixel sources (the data plane and its :class:`~snapscope.image.PixelMask`), opened once by
``make_entry``. The mask plane is the pyramid of the bad pixels (a float 0/1 image), whose
block means are the masked fraction shown by the overlay; it is read lazily through
:class:`NonZero`, so a memory-mapped flags plane is never loaded whole.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._inputs import ImageEntry
from ._protocol import PLANE_DATA

__all__ = ["NonZero", "pyramid", "colormap_lut"]


class NonZero:
    """Read-only array-like view of a mask's bad pixels as float32 (1 = bad), computed per slice.

    Parameters
    ----------
    mask : snapscope.image.PixelMask
        The bad pixels (slicing it reads only those flags, possibly from a memory map).
    """

    def __init__(self, mask: Any) -> None:
        self._mask = mask
        self.shape = mask.shape
        self.ndim = 2
        self.dtype = np.dtype(np.float32)

    def __getitem__(self, item: Any) -> np.ndarray:
        return self._mask[item].astype(np.float32)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[...]
        return out if dtype is None else out.astype(dtype)


def pyramid(entry: ImageEntry, plane: str, tile_size: int):
    """Return the (shared) ``TilePyramid`` of one plane of an image entry.

    Parameters
    ----------
    entry : ImageEntry
    plane : {"data", "mask"}
    tile_size : int

    Raises
    ------
    ValueError
        For the mask plane of an image without a mask.
    """
    from snapscope.tiles import TilePyramid

    cache_key = f"pyramid:{plane}:{tile_size}"
    if cache_key in entry.cache:
        return entry.cache[cache_key]
    if plane == PLANE_DATA:
        # the data's PixelSource keys the tiles on its file (an Image's) or its buffer
        pyr = TilePyramid(entry.pixels, mask=entry.mask, tile_size=tile_size)
    else:
        if entry.mask is None:
            raise ValueError(f"image {entry.label!r} has no mask or flags plane")
        pyr = TilePyramid(NonZero(entry.mask), tile_size=tile_size)
    entry.cache[cache_key] = pyr
    return pyr


def colormap_lut(name: str) -> bytes:
    """256 RGBA uint8 entries of a colormap, as bytes for the ``_displays`` trait.

    The table is ``snapscope.tiles.colormap_lut``'s, which is always RGBA.

    Raises
    ------
    ValueError
        "… is not a valid colormap name" for an unknown name.
    """
    from snapscope.tiles import colormap_lut as lut

    try:
        table = np.asarray(lut(name))
    except (KeyError, ValueError) as exc:
        raise ValueError(f"Colormap {name!r} is not a valid colormap name.") from exc
    return np.ascontiguousarray(table, dtype=np.uint8).tobytes()

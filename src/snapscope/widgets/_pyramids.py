"""The widgets' use of :mod:`snapscope.tiles`: one pyramid per image plane.

Pyramids of the same pixels share the tiles of ``snapscope.tiles.default_cache()``, so two
widgets showing one array, or one file, compute each tile once. The mask plane is the
pyramid of ``flags != 0`` (a float 0/1 image), whose block means are the masked fraction shown
by the overlay; it is read lazily through :class:`NonZero`, so a memory-mapped flags plane is
never loaded whole.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._inputs import ImageEntry
from ._protocol import PLANE_DATA

__all__ = ["NonZero", "pyramid", "colormap_lut"]


class NonZero:
    """Read-only array-like view ``(flags[...] != 0)`` as float32, computed per slice.

    Parameters
    ----------
    flags : numpy.ndarray
        Integer flags or boolean mask (possibly a memory map).
    """

    def __init__(self, flags: np.ndarray) -> None:
        self._flags = flags
        self.shape = flags.shape
        self.ndim = 2
        self.dtype = np.dtype(np.float32)

    def __getitem__(self, item: Any) -> np.ndarray:
        return (np.asarray(self._flags[item]) != 0).astype(np.float32)

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
        # An Image source lets the tiles key on its file and use its flags as the mask.
        is_image = entry.source is not entry.array
        pyr = TilePyramid(entry.source, mask=None if is_image else entry.mask, tile_size=tile_size)
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

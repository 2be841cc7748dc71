"""The tile pyramid of one image plane: block means built on demand, cached in a shared LRU.

How tiles are made
------------------
Level ``k`` is the ``2**k × 2**k`` block mean of the full-resolution plane over its valid
pixels (finite and not masked). Two kinds of level:

* **Resident levels** ``m .. top``: one streaming pass over the plane, in strips of rows,
  computes level ``m`` sums and counts and from them every coarser level, exactly (sums and
  counts, never means of means). ``m`` is the finest level whose arrays, together with the
  coarser ones, fit ``min(64 MiB, cache.max_bytes // 4)`` (at least level 1). The pass runs
  the first time any of these levels is asked for, normally by :meth:`TilePyramid.overview`,
  and its arrays are one cache entry; a tile of these levels is then a slice (no I/O).
  After each strip the mapped pages are released, so a 20k × 20k memory map never becomes
  resident (see ``_source.py``).
* **Direct levels** ``0 .. m-1``: each tile reads its ``(tile_size · 2**k)²`` section of the
  plane and reduces it; tiles are cached one by one.

For a 4088² image with 512² tiles, ``m = 1``: level 0 tiles are 512² reads, everything
coarser comes from the one pass (about 16 MB + 5 MB held in the cache).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from snapscope.exceptions import OutsideImageError
from snapscope.tiles._cache import TileCache, default_cache
from snapscope.tiles._reduce import block_mean, block_sum, block_sum_count
from snapscope.tiles._source import resolve_source

__all__ = ["TilePyramid"]

_RESIDENT_MAX_BYTES = 64 * 2**20
_STRIP_PIXELS = 2**20
_STATS_PERCENTILES = (0.5, 1.0, 5.0, 25.0, 50.0, 75.0, 95.0, 99.0, 99.5)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class TilePyramid:
    """Multi-resolution tiles of one 2-D image plane, computed on demand.

    Parameters
    ----------
    source : Image or array-like
        A snapscope ``Image`` (its ``get_data_view("data")`` is used: a memory map, never
        loaded whole) or any 2-D array-like that supports 2-D slicing (``np.memmap`` included).
    mask : None, array-like of bool, "flags" or int, optional
        Pixels to ignore. None: the Image's ``flags != 0`` when it has a flags plane, else
        nothing. A bool array-like (True = bad) of the image's shape. ``"flags"``: the
        Image's flags plane, non-zero = bad. An int: the flag bits that make a pixel bad
        (``flags & mask != 0``); ``0`` (or False) ignores the flags. NaN and ±inf pixels are
        always ignored.
    tile_size : int, optional
        Tile edge in pixels (default 512).
    cache : TileCache, optional
        Where tiles are kept; default :func:`~snapscope.tiles.default_cache`, shared by
        every pyramid, so two pyramids (or widgets) of the same image share tiles.

    Notes
    -----
    The pyramid assumes the pixels do not change. Tiles are read-only arrays; copy one
    to modify it. Constructing a pyramid reads no pixel.
    """

    def __init__(self, source: Any, *, mask: Any = None, tile_size: int = 512,
                 cache: TileCache | None = None) -> None:
        tile_size = operator.index(tile_size)
        if tile_size < 1:
            raise ValueError(f"tile_size must be a positive int, not {tile_size}")
        if cache is not None and not isinstance(cache, TileCache):
            raise TypeError(f"cache must be a TileCache, not {type(cache).__name__}")
        self._src = resolve_source(source, mask)
        self._cache = default_cache() if cache is None else cache
        self._tile_size = tile_size
        ny, nx = self._src.shape
        top = 0
        while max(-(-ny // 2**top), -(-nx // 2**top)) > tile_size:
            top += 1
        self._top = top
        self._resident = self._choose_resident_level()

    def __repr__(self) -> str:
        ny, nx = self.shape
        return f"TilePyramid({ny}×{nx}, tile_size={self._tile_size}, levels 0..{self._top})"

    # ------------------------------------------------------------------ geometry
    @property
    def shape(self) -> tuple[int, int]:
        """``(ny, nx)`` of the full-resolution plane."""
        return self._src.shape

    @property
    def tile_size(self) -> int:
        """Tile edge in pixels."""
        return self._tile_size

    @property
    def top_level(self) -> int:
        """The first level whose whole image fits one tile (the overview)."""
        return self._top

    @property
    def n_levels(self) -> int:
        """Number of levels, ``top_level + 1``."""
        return self._top + 1

    @property
    def key(self) -> tuple:
        """Hashable identity of the pixels and mask (shared by pyramids of the same image)."""
        return self._src.key

    def level_shape(self, level: int) -> tuple[int, int]:
        """``(ny, nx)`` of ``level``: ``ceil(n / 2**level)`` along each axis."""
        level = self._check_level(level)
        ny, nx = self._src.shape
        return -(-ny // 2**level), -(-nx // 2**level)

    def n_tiles(self, level: int) -> tuple[int, int]:
        """``(nty, ntx)``, the number of tiles along y and x at ``level``."""
        ny, nx = self.level_shape(level)
        return -(-ny // self._tile_size), -(-nx // self._tile_size)

    # --------------------------------------------------------------------- tiles
    def tile(self, level: int, tx: int, ty: int) -> np.ndarray:
        """Return one tile of block means.

        Parameters
        ----------
        level : int
            0 is full resolution; level ``k`` is the ``2**k`` block mean.
        tx, ty : int
            Tile column and row: level pixels ``rows [ty*ts, (ty+1)*ts)``,
            ``cols [tx*ts, (tx+1)*ts)``; row 0 is ``y = 0``, the bottom of the display.

        Returns
        -------
        numpy.ndarray
            Read-only, C-contiguous float32, shape ≤ ``(tile_size, tile_size)`` (smaller at
            the top and right edges), NaN where a block has no valid pixel.

        Raises
        ------
        snapscope.exceptions.OutsideImageError
            For a level or tile index outside the pyramid.
        """
        level = self._check_level(level)
        nty, ntx = self.n_tiles(level)
        tx, ty = operator.index(tx), operator.index(ty)
        if not (0 <= tx < ntx and 0 <= ty < nty):
            raise OutsideImageError(
                f"tile ({tx}, {ty}) is outside level {level}, which has {ntx} × {nty} tiles")
        ts = self._tile_size
        if self._resident is not None and level >= self._resident:
            levels = self._cache.get_or_compute(self._key("levels", self._resident), self._build_resident)
            part = levels[level - self._resident][ty * ts:(ty + 1) * ts, tx * ts:(tx + 1) * ts]
            return part if part.flags.c_contiguous else _readonly(np.ascontiguousarray(part))
        return self._cache.get_or_compute(self._key(ts, level, tx, ty),
                                          lambda: self._compute_tile(level, tx, ty))

    def overview(self) -> np.ndarray:
        """The whole image in one tile: ``tile(top_level, 0, 0)``."""
        return self.tile(self._top, 0, 0)

    def default_cuts(self, percentile: float = 99.5) -> tuple[float, float]:
        """Cut levels from the overview's finite values, as astropy's ``PercentileInterval``.

        Parameters
        ----------
        percentile : float
            Central percentage of the values kept between the cuts.

        Returns
        -------
        (lo, hi) : tuple of float
            ``(0.0, 1.0)`` when the image has no valid pixel; ``(v - 0.5, v + 0.5)`` when
            the two percentiles are equal (a flat image).
        """
        if not 0 < percentile <= 100:
            raise ValueError(f"percentile must be in (0, 100], not {percentile}")
        values = self._overview_values()
        if values.size == 0:
            return 0.0, 1.0
        tail = (100.0 - percentile) / 2
        lo, hi = (float(v) for v in np.percentile(values, [tail, 100.0 - tail]))
        if lo == hi:
            return lo - 0.5, hi + 0.5
        return lo, hi

    def stats(self) -> dict[str, Any]:
        """Statistics of the overview's finite values (JSON-serialisable).

        Returns
        -------
        dict
            ``level`` (the overview's), ``n_pixels``, ``n_valid``, ``min``, ``max``, ``mean``,
            ``median``, ``std`` and ``percentiles`` (``{percent: value}`` for 0.5, 1, 5, 25,
            50, 75, 95, 99, 99.5). Values are floats, or None when no pixel is valid.
        """
        overview = self.overview()
        values = self._overview_values()
        out: dict[str, Any] = {"level": self._top, "n_pixels": int(overview.size),
                               "n_valid": int(values.size)}
        if values.size == 0:
            out.update(dict.fromkeys(("min", "max", "mean", "median", "std")))
            out["percentiles"] = dict.fromkeys(_STATS_PERCENTILES)
            return out
        v64 = values.astype(np.float64)
        pct = np.percentile(v64, _STATS_PERCENTILES)
        out.update(min=float(v64.min()), max=float(v64.max()), mean=float(v64.mean()),
                   median=float(np.median(v64)), std=float(v64.std()),
                   percentiles={p: float(x) for p, x in zip(_STATS_PERCENTILES, pct, strict=True)})
        return out

    # ------------------------------------------------------------------ internals
    def _key(self, *parts: Any) -> tuple:
        return (self._src.key, *parts)

    def _check_level(self, level: int) -> int:
        level = operator.index(level)
        if not 0 <= level <= self._top:
            raise OutsideImageError(f"level {level} is outside the pyramid (levels 0..{self._top})")
        return level

    def _overview_values(self) -> np.ndarray:
        overview = self.overview()
        return overview[np.isfinite(overview)]

    def _choose_resident_level(self) -> int | None:
        if self._top == 0:
            return None
        budget = min(_RESIDENT_MAX_BYTES, self._cache.max_bytes // 4)
        ny, nx = self._src.shape
        for level in range(1, self._top + 1):
            if 4 * (-(-ny // 2**level)) * (-(-nx // 2**level)) * 4 // 3 <= budget:
                return level
        return self._top

    def _compute_tile(self, level: int, tx: int, ty: int) -> np.ndarray:
        """One tile of a direct level, from its section of the full-resolution plane."""
        ny, nx = self._src.shape
        span = self._tile_size * 2**level
        r0, c0 = ty * span, tx * span
        r1, c1 = min(ny, r0 + span), min(nx, c0 + span)
        section, bad = self._src.read(r0, r1, c0, c1)
        if level == 0:
            out = section.astype(np.float32)
            np.copyto(out, np.float32(np.nan), where=~np.isfinite(out))
            if bad is not None:
                out[bad] = np.nan
        else:
            sums, counts = block_sum_count(section, 2**level, bad)
            out = block_mean(sums, counts, 2**level, section.shape)
        self._src.release(r0, r1)
        return _readonly(out)

    def _build_resident(self) -> tuple[np.ndarray, ...]:
        """The one streaming pass: block means of levels ``resident .. top``."""
        m, top = self._resident, self._top
        ny, nx = self._src.shape
        levels = [np.empty(self.level_shape(k), dtype=np.float32) for k in range(m, top + 1)]
        step = 2**top
        height = max(step, _STRIP_PIXELS // nx // step * step)
        for r0 in range(0, ny, height):
            r1 = min(ny, r0 + height)
            section, bad = self._src.read(r0, r1, 0, nx)
            sums, counts = block_sum_count(section, 2**m, bad)
            self._src.release(r0, r1)
            for i, k in enumerate(range(m, top + 1)):
                if i:
                    sums = block_sum(sums, 2)
                    counts = None if counts is None else block_sum(counts, 2)
                row = r0 >> k
                block_mean(sums, counts, 2**k, (r1 - r0, nx), out=levels[i][row:row + sums.shape[0]])
        return tuple(_readonly(a) for a in levels)

"""The tile pyramid of one image plane: block means built on demand, cached in a shared LRU.

How tiles are made
------------------
Level ``k`` is the ``2**k × 2**k`` block mean of the full-resolution plane over its valid
pixels (finite and not masked). Two kinds of level:

* **Resident levels** ``m ..``: one streaming pass over the plane, in strips of rows reduced
  by two threads, computes level ``m`` sums and counts and from them every coarser level
  (including those beyond ``top_level``, down to 1 × 1, for ``overview(max_size)``), exactly:
  from sums and counts, never means of means. ``m`` is the finest level whose arrays,
  with the coarser ones, fit ``min(64 MiB, cache.max_bytes // 4)`` (at least level 1). The
  pass runs the first time one of these levels is asked for, normally by
  :meth:`TilePyramid.overview`; its arrays are one cache entry, and a tile of these levels
  is then a slice. After each strip the mapped pages are released, so a 20k × 20k memory
  map never becomes resident (``snapscope.image.PixelSource.release``).
* **Direct levels** ``0 .. m-1``: each tile reads its ``(tile_size · 2**k)²`` section of the
  plane and reduces it; tiles are cached one by one.

For a 4088² image with 512² tiles ``m = 1``: level-0 tiles are 512² reads, everything coarser
comes from the one pass (about 22 MB held in the cache). For a 20k² mosaic ``m = 3`` (33 MB);
tiles of levels 1 and 2 read 1024² and 2048² sections.

When the pass is slow (a big file not yet in the page cache), :meth:`TilePyramid.preview`
gives a picture of the same shape at once from one sampled pixel per block; the widget shows
it and replaces it with the exact overview (``overview_ready`` tells which it has).
"""

from __future__ import annotations

import operator
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from snapscope.exceptions import OutsideImageError
from snapscope.tiles._cache import TileCache, default_cache
from snapscope.tiles._reduce import block_mean, block_sum, block_sum_count, full_counts
from snapscope.tiles._source import resolve_source

__all__ = ["TilePyramid"]

_RESIDENT_MAX_BYTES = 64 * 2**20
_STRIP_PIXELS = 2**20  # pixels per strip of the resident pass
_CHUNK_ROWS = 256  # rows per read of a direct tile
_WORKERS = min(2, os.cpu_count() or 1)
_STATS_PERCENTILES = (0.5, 1.0, 5.0, 25.0, 50.0, 75.0, 95.0, 99.0, 99.5)


def _as_float32(values: np.ndarray) -> np.ndarray:
    """Return a float32 copy, NaN where not finite (incl. float64 values beyond float32)."""
    with np.errstate(over="ignore"):
        out = values.astype(np.float32)
    np.copyto(out, np.float32(np.nan), where=~np.isfinite(out))
    return out


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class TilePyramid:
    """Multi-resolution tiles of one 2-D image plane, computed on demand.

    Parameters
    ----------
    source : Image, PixelSource or array-like
        A snapscope ``Image`` (its ``pixel_source("data")`` is read: a memory map, never
        loaded whole), a :class:`~snapscope.image.PixelSource`, or any 2-D array-like that
        supports 2-D slicing (``np.memmap`` included).
    mask : None, array-like of bool, "flags", int or PixelMask, optional
        Pixels to ignore. None: the Image's ``flags != 0`` when it has a flags plane, else
        nothing. Otherwise as :func:`snapscope.image.resolve_mask` reads it (as photometry
        does): a bool array-like (True = bad) of the image's shape; ``"flags"``: the
        Image's flags plane, non-zero = bad; an int: the flag bits that make a pixel bad
        (``flags & mask != 0``), ``0`` (or False) ignores the flags. NaN and ±inf pixels
        are always ignored.
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

    def __init__(
        self, source: Any, *, mask: Any = None, tile_size: int = 512, cache: TileCache | None = None
    ) -> None:
        tile_size = operator.index(tile_size)
        if tile_size < 1:
            raise ValueError(f"tile_size must be a positive int, not {tile_size}")
        if cache is not None and not isinstance(cache, TileCache):
            raise TypeError(f"cache must be a TileCache, not {type(cache).__name__}")
        self._src = resolve_source(source, mask)
        self._cache = default_cache() if cache is None else cache
        self._tile_size = tile_size
        self._top = next(k for k in range(64) if max(self._shape_at(k)) <= tile_size)
        self._bottom = next(k for k in range(64) if max(self._shape_at(k)) == 1)
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
        return self._shape_at(self._check_level(level))

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
                f"tile ({tx}, {ty}) is outside level {level}, which has {ntx} × {nty} tiles"
            )
        ts = self._tile_size
        if self._resident is not None and level >= self._resident:
            level_array = self._resident_levels()[level - self._resident]
            part = level_array[ty * ts : (ty + 1) * ts, tx * ts : (tx + 1) * ts]
            return part if part.flags.c_contiguous else _readonly(np.ascontiguousarray(part))
        return self._cache.get_or_compute(
            self._key(ts, level, tx, ty), lambda: self._compute_tile(level, tx, ty)
        )

    def overview(self, max_size: int | None = None) -> np.ndarray:
        """Return the whole image in one array of block means.

        Parameters
        ----------
        max_size : int, optional
            None: ``tile(top_level, 0, 0)``. Else the image at level
            :meth:`overview_level` ``(max_size)``, which may be coarser than ``top_level``
            (e.g. ``overview(256)`` of a 4088² image is its 256² level 4, 128 kB as float16:
            a first picture within the 150 kB budget). Those coarser levels come from the
            same pass as the others, exactly.

        Returns
        -------
        numpy.ndarray
            Read-only float32, NaN where a block has no valid pixel.
        """
        level = self.overview_level(max_size)
        if level == self._top:
            return self.tile(self._top, 0, 0)
        return self._resident_levels()[level - self._resident]

    def overview_level(self, max_size: int | None = None) -> int:
        """Return the level :meth:`overview` gives for ``max_size``.

        That is the first level no larger than ``max_size`` on either axis, but never finer
        than ``top_level`` (None: ``top_level``).
        """
        if max_size is None:
            return self._top
        max_size = operator.index(max_size)
        if max_size < 1:
            raise ValueError(f"max_size must be ≥ 1, not {max_size}")
        return next(
            k for k in range(self._top, self._bottom + 1) if max(self._shape_at(k)) <= max_size
        )

    @property
    def overview_ready(self) -> bool:
        """Whether :meth:`overview` is cached, i.e. answers with no pixel read."""
        if self._resident is None or self._top < self._resident:
            return self._key(self._tile_size, self._top, 0, 0) in self._cache
        return self._key("levels", self._resident) in self._cache

    def preview(self, max_size: int | None = None) -> np.ndarray:
        """Return a quick stand-in for :meth:`overview`: one sampled pixel per block.

        The pixel at each block's centre (the last pixel for an edge block too short to
        have one; NaN if it is invalid). Only those rows are read, ``1 / 2**level`` of the
        plane, so a 20k × 20k mosaic not yet in the page cache gives a picture in a
        fraction of the time of the exact pass. Show it at
        once when :attr:`overview_ready` is False, then replace it with :meth:`overview`
        (same shape). Not cached.
        """
        level = self.overview_level(max_size)
        f = 2**level
        ny, nx = self._src.shape
        ny_k, nx_k = self._shape_at(level)
        rows = np.minimum(np.arange(ny_k) * f + f // 2, ny - 1)
        cols = np.minimum(np.arange(nx_k) * f + f // 2, nx - 1)
        values, bad = self._src.sample(rows, cols)
        out = _as_float32(values)
        if bad is not None:
            out[bad] = np.nan
        self._src.release(0, ny)
        return _readonly(out)

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
        out: dict[str, Any] = {
            "level": self._top,
            "n_pixels": int(overview.size),
            "n_valid": int(values.size),
        }
        if values.size == 0:
            out.update(dict.fromkeys(("min", "max", "mean", "median", "std")))
            out["percentiles"] = dict.fromkeys(_STATS_PERCENTILES)
            return out
        v64 = values.astype(np.float64)
        pct = np.percentile(v64, _STATS_PERCENTILES)
        out.update(
            min=float(v64.min()),
            max=float(v64.max()),
            mean=float(v64.mean()),
            median=float(np.median(v64)),
            std=float(v64.std()),
            percentiles={p: float(x) for p, x in zip(_STATS_PERCENTILES, pct, strict=True)},
        )
        return out

    # ------------------------------------------------------------------ internals
    def _key(self, *parts: Any) -> tuple:
        return (self._src.key, *parts)

    def _shape_at(self, level: int) -> tuple[int, int]:
        ny, nx = self._src.shape
        return -(-ny // 2**level), -(-nx // 2**level)

    def _resident_levels(self) -> tuple[np.ndarray, ...]:
        return self._cache.get_or_compute(self._key("levels", self._resident), self._build_resident)

    def _check_level(self, level: int) -> int:
        level = operator.index(level)
        if not 0 <= level <= self._top:
            raise OutsideImageError(f"level {level} does not exist (levels 0..{self._top})")
        return level

    def _overview_values(self) -> np.ndarray:
        overview = self.overview()
        return overview[np.isfinite(overview)]

    def _choose_resident_level(self) -> int | None:
        if self._bottom == 0:
            return None
        budget = min(_RESIDENT_MAX_BYTES, self._cache.max_bytes // 4)
        deep = max(1, self._top)
        return next(
            (k for k in range(1, deep) if 16 * np.prod(self._shape_at(k)) // 3 <= budget), deep
        )

    def _compute_tile(self, level: int, tx: int, ty: int) -> np.ndarray:
        """One tile of a direct level, from its section of the full-resolution plane.

        The section is read in chunks of rows whose mapped pages are released after each:
        the kernel maps whole page-cache folios, so touching a narrow window of many rows
        of a wide memory map would otherwise map most of each row.
        """
        ny, nx = self._src.shape
        f = 2**level
        span = self._tile_size * f
        r0, c0 = ty * span, tx * span
        r1, c1 = min(ny, r0 + span), min(nx, c0 + span)
        chunk = max(f, _CHUNK_ROWS // f * f)
        parts = []
        for a in range(r0, r1, chunk):
            b = min(r1, a + chunk)
            section, bad = self._src.read(a, b, c0, c1)
            if level == 0:
                part = _as_float32(section)
                if bad is not None:
                    part.ravel()[bad.flat()] = np.nan
            else:
                sums, counts = block_sum_count(section, f, bad)
                part = block_mean(sums, counts, f, section.shape)
            self._src.release(a, b)
            parts.append(part)
        return _readonly(parts[0] if len(parts) == 1 else np.concatenate(parts))

    def _build_resident(self) -> tuple[np.ndarray, ...]:
        """Run the one streaming pass: block means of levels ``resident .. bottom``.

        Strips of rows (a multiple of ``2**deep`` high, so each strip holds whole blocks
        of every level up to ``deep = max(top, resident)``) are reduced by two threads; the
        levels below ``deep`` (the small ``overview(max_size)`` ones) follow from the
        assembled ``deep`` sums and counts.
        """
        m, bottom = self._resident, self._bottom
        deep = max(self._top, m)
        ny, nx = self._src.shape
        levels = [np.empty(self._shape_at(k), dtype=np.float32) for k in range(m, bottom + 1)]
        deep_sums = np.empty(self._shape_at(deep), dtype=np.float32)
        deep_counts = np.empty_like(deep_sums)
        step = 2**deep
        height = max(step, _STRIP_PIXELS // nx // step * step)

        def strip(r0: int) -> None:
            r1 = min(ny, r0 + height)
            section, bad = self._src.read(r0, r1, 0, nx)
            sums, counts = block_sum_count(section, 2**m, bad)
            self._src.release(r0, r1)
            for k in range(m, deep + 1):
                if k > m:
                    sums = block_sum(sums, 2)
                    counts = None if counts is None else block_sum(counts, 2)
                row = r0 >> k
                block_mean(
                    sums, counts, 2**k, (r1 - r0, nx), out=levels[k - m][row : row + len(sums)]
                )
            row = r0 >> deep
            deep_sums[row : row + len(sums)] = sums
            deep_counts[row : row + len(sums)] = (
                full_counts(r1 - r0, nx, step) if counts is None else counts
            )

        starts = range(0, ny, height)
        if len(starts) > 2 and _WORKERS > 1:
            with ThreadPoolExecutor(_WORKERS, thread_name_prefix="snapscope-tiles") as pool:
                list(pool.map(strip, starts))
        else:
            for r0 in starts:
                strip(r0)
        sums, counts = deep_sums, deep_counts
        for k in range(deep + 1, bottom + 1):
            sums, counts = block_sum(sums, 2), block_sum(counts, 2)
            block_mean(sums, counts, 2**k, (ny, nx), out=levels[k - m])
        return tuple(_readonly(a) for a in levels)

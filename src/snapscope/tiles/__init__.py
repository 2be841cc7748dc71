"""Tile pyramids of images: block-averaged levels built on demand, cached in a shared LRU.

The contract (the widget builds on exactly this)::

    from snapscope.tiles import (TilePyramid, TileCache, default_cache, encode_tile, decode_tile,
                                 render_rgba, STRETCHES, COLORMAPS, colormap_lut)

    pyr = TilePyramid(source, *, mask=None, tile_size=512, cache=None)
    #   source: a snapscope Image (reads image.pixel_source("data"): memory-mapped, never
    #           loaded whole; mask defaults to the image's flags != 0 when it has flags),
    #           a snapscope.image.PixelSource, or any 2-D array-like (np.memmap ok).
    #   mask: None | bool array-like (True = bad) | "flags" | int bitmask of flag bits that
    #         make a pixel bad (0 or False: ignore the flags) | a PixelMask; read by
    #         snapscope.image.resolve_mask, as photometry reads it.
    #   NaN and ±inf pixels are always ignored (a level-0 tile shows them, and masked
    #   pixels, as NaN).
    #   cache: a TileCache; default default_cache().
    pyr.shape -> (ny, nx); pyr.tile_size; pyr.n_levels; pyr.top_level (first level whose
    #   image fits one tile); pyr.key (hashable identity of pixels + mask)
    pyr.level_shape(level) -> (ny, nx)        # ceil(n / 2**level)
    pyr.n_tiles(level) -> (nty, ntx)
    pyr.tile(level, tx, ty) -> np.ndarray float32, read-only, C-contiguous,
    #   shape <= (tile_size, tile_size), NaN where no valid pixel.
    #   level 0 = full resolution; level k = 2**k block mean of the full-resolution valid
    #   pixels (exact: computed from sums and counts, never a mean of means).
    #   Tile (tx, ty) covers level-k pixels rows [ty*ts, (ty+1)*ts), cols [tx*ts, (tx+1)*ts)
    #   (numpy row 0 = y = 0 = bottom of the display). Partial blocks at the right/top
    #   edges average the pixels that exist.
    #   Raises snapscope.exceptions.OutsideImageError (a ValueError) for a level or tile
    #   index outside the pyramid, TypeError for a non-integer one.
    pyr.overview() -> pyr.tile(pyr.top_level, 0, 0)
    pyr.overview(max_size) -> the first level, possibly coarser than top_level, whose image
    #   fits max_size on both axes (e.g. overview(256) of a 4088² image: its 256² level 4,
    #   131 kB as float16, for a first picture within 150 kB); exact block means, read-only.
    pyr.overview_level(max_size=None) -> int, the level overview(max_size) returns
    pyr.overview_ready -> bool: overview() is cached (answers with no pixel read)
    pyr.preview(max_size=None) -> same shape as overview(max_size), one sampled pixel per
    #   block (the block centre; NaN if invalid), not a mean: reads 1/2**level of the rows.
    #   For a first paint when overview_ready is False (a big file not in the page cache);
    #   replace it with overview() when that is done. Not cached.
    pyr.default_cuts(percentile=99.5) -> (lo, hi)  # percentiles of the overview's finite
    #   values, as PercentileInterval; (0.0, 1.0) when none; (v-0.5, v+0.5) for a flat image
    pyr.stats() -> dict: level, n_pixels, n_valid, min, max, mean, median, std,
    #   percentiles {0.5, 1, 5, 25, 50, 75, 95, 99, 99.5 -> value}; None values when no
    #   pixel is valid (JSON-serialisable)

    encode_tile(arr, dtype="float16" | "float32", compress=False) -> (header: dict, payload: bytes)
    #   header (JSON-serialisable): {"dtype": "float16"|"float32", "shape": [ny, nx],
    #   "scale": float}: what a decoder needs, nothing more (min/max/has_nan were sent once
    #   and read by nobody).
    #   payload: little-endian values, row-major, row 0 first; value = stored * scale.
    #   scale is 1.0 except for float16 tiles beyond the float16 range (|v| > 65504): then
    #   the smallest power of two that fits (exact, keeps float16's relative precision).
    #   compress=True packs the payload losslessly (header adds "compression": "zlib",
    #   "shuffle": itemsize, "base": median order key; 40 % of float16 on noisy sky), when
    #   that saves at least 10 %; decoded values are bit-identical.
    decode_tile(header, payload) -> np.ndarray float32   # the Python twin of the JS decoder

    render_rgba(values, vmin, vmax, stretch="linear", cmap="gray", *, stretch_params=None,
                nan_color=(0, 0, 0, 0)) -> uint8 (ny, nx, 4)
    #   the Python twin of the browser's rendering: clip to [vmin, vmax], normalise, apply
    #   the stretch (a STRETCHES name with stretch_params as its class's kwargs, or an
    #   astropy stretch instance), index the LUT with min(floor(y * n), n - 1) (matplotlib's
    #   rule); NaN -> nan_color. cmap: a name or an (n, 4) uint8 table. vmin == vmax maps
    #   v > vmin to the top colour, the rest to the bottom one.
    STRETCHES: dict name -> astropy.visualization stretch class: linear, sqrt, squared,
    #   power, powerdist, log, asinh, sinh, histeq, contrastbias (astropy is imported on
    #   first access of STRETCHES or on the first render)
    COLORMAPS: tuple of colormap names that always work (gray, viridis, magma, inferno,
    #   plasma, cividis; each also as "<name>_r"); with matplotlib installed, any of its names
    colormap_lut(name, n=256) -> uint8 (n, 4), read-only. matplotlib (extra 'colormaps') is
    #   imported lazily; without it the COLORMAPS are built in, byte-identical to matplotlib's
    #   at n = 256. The browser should fetch its tables from here, not carry its own.

    TileCache(max_bytes)   # thread-safe LRU bounded by the nbytes of its arrays;
    #   .get(key) .put(key, value) .get_or_compute(key, fn) (one computation per key, others
    #   wait) .discard(key) .clear() .info() .nbytes .max_bytes (settable: evicts at once)
    default_cache() -> the process-wide TileCache (192 MiB) shared by all pyramids/widgets.

Sharing and identity: pyramids of the same pixels share cache entries. A file-backed Image
(its plane a memory map) is keyed on path + mtime + size + the plane's place in the file, so
two Image objects of one file share; any other array is keyed on the live object owning its
buffer (a weak-reference token, so a recycled ``id()`` cannot return stale tiles). The pixels
are assumed not to change while a pyramid is used.

Cost model (details in ``_pyramid.py``): constructing reads nothing. The first overview (or
any coarse tile) makes one streaming pass over the plane that builds every level from
``m`` (the finest level whose arrays fit ``min(64 MiB, cache.max_bytes // 4)``, at least 1) up
to the top; those tiles are then slices. Finer tiles are read and reduced one by one. Mapped
pages are released after each read, so a 20k × 20k memory map never becomes resident.
All functions are thread-safe.
"""

from __future__ import annotations

from typing import Any

from snapscope.tiles._cache import TileCache, default_cache
from snapscope.tiles._encode import decode_tile, encode_tile
from snapscope.tiles._pyramid import TilePyramid
from snapscope.tiles._render import BUILTIN_COLORMAPS as COLORMAPS
from snapscope.tiles._render import colormap_lut, render_rgba

__all__ = [
    "TilePyramid",
    "TileCache",
    "default_cache",
    "encode_tile",
    "decode_tile",
    "render_rgba",
    "STRETCHES",
    "COLORMAPS",
    "colormap_lut",
]


def __getattr__(name: str) -> Any:
    if name == "STRETCHES":
        from snapscope.tiles._render import stretches

        return stretches()
    raise AttributeError(f"module 'snapscope.tiles' has no attribute {name!r}")

"""``ImageWidget.save``: render the current view in Python, as the browser would, and write it.

Each output pixel samples the pyramid level the browser would show (the level whose pixels are
closest to one screen pixel), nearest-neighbour, from the same tiles; colours come from
``snapscope.tiles.render_rgba`` with the image's cuts, stretch and colormap. Outside the image
and NaN pixels get the widget's light-theme background.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ._inputs import ImageEntry

__all__ = ["save_view", "view_values", "BACKGROUND"]

#: RGBA of NaN pixels and of the area outside the image (JupyterLab light --jp-layout-color3).
BACKGROUND = (204, 204, 204, 255)


def _level_for(zoom: float, n_levels: int) -> int:
    level = round(math.log2(max(1.0 / zoom, 1e-9)))
    return min(max(level, 0), n_levels - 1)


def view_values(
    pyr: Any, tile_size: int, view: tuple[float, float, float], width: int, height: int
) -> np.ndarray:
    """Values (float32, NaN outside the image) of a ``height × width`` view, top row first.

    Parameters
    ----------
    pyr : snapscope.tiles.TilePyramid
    tile_size : int
    view : tuple of float
        ``(x, y, fov)``: centre (0-based pixels) and field of view along the shorter side.
    width, height : int
        Output size in pixels.
    """
    cx, cy, fov = view
    zoom = min(width, height) / max(fov, 1e-9)
    level = _level_for(zoom, pyr.n_levels)
    scale = 2**level
    xs = cx + (np.arange(width) + 0.5 - width / 2) / zoom
    ys = cy - (np.arange(height) + 0.5 - height / 2) / zoom
    lx = np.floor((xs + 0.5) / scale).astype(np.int64)
    ly = np.floor((ys + 0.5) / scale).astype(np.int64)
    lh, lw = pyr.level_shape(level)
    out = np.full((height, width), np.nan, np.float32)
    okx, oky = (lx >= 0) & (lx < lw), (ly >= 0) & (ly < lh)
    if not okx.any() or not oky.any():
        return out
    x0, x1 = lx[okx].min(), lx[okx].max() + 1
    y0, y1 = ly[oky].min(), ly[oky].max() + 1
    region = np.full((y1 - y0, x1 - x0), np.nan, np.float32)
    for ty in range(y0 // tile_size, (y1 - 1) // tile_size + 1):
        for tx in range(x0 // tile_size, (x1 - 1) // tile_size + 1):
            tile = np.asarray(pyr.tile(level, tx, ty), np.float32)
            ax, ay = tx * tile_size, ty * tile_size
            sx0, sy0 = max(ax, x0), max(ay, y0)
            sx1, sy1 = min(ax + tile.shape[1], x1), min(ay + tile.shape[0], y1)
            region[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = tile[
                sy0 - ay : sy1 - ay, sx0 - ax : sx1 - ax
            ]
    rows, cols = np.nonzero(oky)[0], np.nonzero(okx)[0]
    out[np.ix_(rows, cols)] = region[np.ix_(ly[oky] - y0, lx[okx] - x0)]
    return out


def save_view(path: Path, widget: Any, entry: ImageEntry | None, width: int, height: int) -> None:
    """Render ``entry``'s current view at ``width × height`` and write it to ``path``."""
    from PIL import Image as PILImage

    from snapscope.tiles import render_rgba

    width, height = max(int(width), 1), max(int(height), 1)
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[...] = BACKGROUND
    if entry is not None:
        pyr = widget.tiles.pyramid(entry)
        values = view_values(pyr, widget.tiles.tile_size, entry.view, width, height)
        vmin, vmax = widget._limits(entry)
        stretch = "linear" if entry.stretch is None else entry.stretch  # None: the default
        colored = np.asarray(
            render_rgba(values, vmin, vmax, stretch, entry.colormap or "gray"), np.uint8
        )
        inside = np.isfinite(values)
        rgba[inside] = colored[inside]
    image = PILImage.fromarray(rgba, "RGBA")
    if path.suffix.lower() in (".jpg", ".jpeg", ".bmp"):
        image = image.convert("RGB")
    image.save(path)

"""Pictures of stamps: one stamp as RGBA or PNG, a sheet of stamps, an animated GIF over epochs.

Stamps are rendered with ``snapscope.tiles.render_rgba`` (the twin of the viewer's shader),
flipped so that pixel row 0 is at the bottom as in the viewer; flagged pixels are tinted red and
pixels without a value are dark gray. Files are written atomically.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["stamp_rgba", "png_bytes", "sheet", "write_png", "write_gif"]

_FLAG_TINT = np.array([255, 0, 0], dtype=np.float32)
_MISSING = (40, 40, 40, 255)
_GAP_COLOR = (255, 255, 255, 255)


def stamp_rgba(stamp: Any, cuts: tuple[float, float], stretch: Any, cmap: str) -> np.ndarray:
    """Return the (h, w, 4) uint8 picture of an image stamp, row 0 at the top (as displayed)."""
    from snapscope.tiles import render_rgba

    rgba = np.array(render_rgba(np.asarray(stamp.data, dtype=np.float32), cuts[0], cuts[1],
                                stretch, cmap, nan_color=_MISSING))
    if stamp.flags is not None:
        bad = np.asarray(stamp.flags) != 0
        rgba[bad, :3] = (0.45 * rgba[bad, :3] + 0.55 * _FLAG_TINT).astype(np.uint8)
    return np.ascontiguousarray(rgba[::-1])


def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an RGBA picture as PNG (fast compression: thumbnails are sent at once)."""
    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.fromarray(rgba).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def sheet(rows: Sequence[Sequence[np.ndarray | None]], gap: int = 2) -> np.ndarray:
    """Lay pictures out in rows (None: an empty cell) on a white background, ``gap`` px apart.

    Raises
    ------
    ValueError
        When there is no picture at all.
    """
    cells = [p for row in rows for p in row if p is not None]
    if not cells:
        raise ValueError("no stamp to draw: nothing is loaded")
    h = max(p.shape[0] for p in cells)
    w = max(p.shape[1] for p in cells)
    ncol = max(len(row) for row in rows)
    out = np.empty((len(rows) * (h + gap) - gap, ncol * (w + gap) - gap, 4), np.uint8)
    out[...] = _GAP_COLOR
    for i, row in enumerate(rows):
        for j, picture in enumerate(row):
            if picture is not None:
                y0, x0 = i * (h + gap), j * (w + gap)
                out[y0:y0 + picture.shape[0], x0:x0 + picture.shape[1]] = picture
    return out


def write_png(path: str | Path, picture: np.ndarray) -> Path:
    """Write an RGBA picture as a PNG file, atomically."""
    from PIL import Image as PILImage

    from snapscope._utils._atomic import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        PILImage.fromarray(picture).save(tmp, "PNG")
    return path


def write_gif(path: str | Path, frames: Sequence[np.ndarray], duration_ms: int = 500,
              scale: int = 4) -> Path:
    """Write pictures as an animated GIF that loops, each shown ``duration_ms``, atomically.

    Stamps are small, so each frame is enlarged ``scale`` times (nearest pixel: no smoothing).

    Raises
    ------
    ValueError
        When there is no frame.
    """
    from PIL import Image as PILImage

    from snapscope._utils._atomic import atomic_path

    if not frames:
        raise ValueError("no frame to write: nothing is loaded")
    images = [PILImage.fromarray(f).convert("RGB").resize((f.shape[1] * scale, f.shape[0] * scale),
                                                          PILImage.Resampling.NEAREST)
              for f in frames]
    path = Path(path)
    with atomic_path(path) as tmp:
        images[0].save(tmp, "GIF", save_all=True, append_images=images[1:],
                       duration=duration_ms, loop=0)
    return path

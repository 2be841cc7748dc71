"""Values → RGBA in Python: the twin of the browser's shader, for ``save()`` and for tests.

The pipeline (the browser does the same, per pixel)::

    x = (clip(v, vmin, vmax) - vmin) / (vmax - vmin)      # in [0, 1]; vmin == vmax: x = v > vmin
    y = stretch(x)                                        # an astropy stretch, clipped to [0, 1]
    i = min(floor(y * n), n - 1)                          # n = LUT length (matplotlib's rule)
    rgba = lut[i];  NaN values → nan_color

The browser should take its colormap tables from :func:`colormap_lut` (256 × 4 bytes each)
rather than carry its own, so both sides index the very same bytes.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
from typing import Any

import numpy as np

__all__ = ["render_rgba", "colormap_lut", "stretches", "BUILTIN_COLORMAPS"]

_STRETCH_NAMES = {
    "linear": "LinearStretch",
    "sqrt": "SqrtStretch",
    "squared": "SquaredStretch",
    "power": "PowerStretch",
    "powerdist": "PowerDistStretch",
    "log": "LogStretch",
    "asinh": "AsinhStretch",
    "sinh": "SinhStretch",
    "histeq": "HistEqStretch",
    "contrastbias": "ContrastBiasStretch",
}


@functools.cache
def stretches() -> dict[str, type]:
    """Names → astropy stretch classes (imported on first use; astropy.visualization is slow)."""
    from astropy import visualization

    return {name: getattr(visualization, cls) for name, cls in _STRETCH_NAMES.items()}


def _builtin() -> dict[str, str]:
    from snapscope.tiles._luts import BUILTIN_LUTS

    return BUILTIN_LUTS


#: Colormaps available without matplotlib (each also reversed, as ``"<name>_r"``).
BUILTIN_COLORMAPS = ("gray", "viridis", "magma", "inferno", "plasma", "cividis")


@functools.cache
def _lut(name: str, n: int) -> np.ndarray:
    base = name.removesuffix("_r")
    # The built-in tables are matplotlib's bytes at n = 256: no need to import it (~0.4 s).
    if base in BUILTIN_COLORMAPS and (n == 256 or importlib.util.find_spec("matplotlib") is None):
        rgb = np.frombuffer(base64.b64decode(_builtin()[base]), dtype=np.uint8).reshape(256, 3)
        if name.endswith("_r"):
            rgb = rgb[::-1]
        index = np.minimum((np.linspace(0.0, 1.0, n) * 256).astype(int), 255)
        lut = np.concatenate([rgb[index], np.full((n, 1), 255, np.uint8)], axis=1)
    else:
        try:
            import matplotlib
        except ImportError:
            raise ValueError(
                f"unknown colormap {name!r}; without matplotlib the colormaps are "
                f"{', '.join(BUILTIN_COLORMAPS)} (and their '_r' reverses); "
                "`pip install snapscope[colormaps]` adds every matplotlib colormap"
            ) from None
        try:
            cmap = matplotlib.colormaps[name]
        except KeyError:
            raise ValueError(f"unknown colormap {name!r}; see matplotlib.colormaps") from None
        lut = cmap.resampled(n)(np.arange(n), bytes=True)
    lut = np.ascontiguousarray(lut, dtype=np.uint8)
    lut.flags.writeable = False
    return lut


def colormap_lut(name: str, n: int = 256) -> np.ndarray:
    """Return a colormap as an ``(n, 4)`` uint8 RGBA table (read-only).

    Parameters
    ----------
    name : str
        A matplotlib colormap name (``"_r"`` reverses). matplotlib is imported lazily; when
        it is not installed, the names in ``BUILTIN_COLORMAPS`` (and their reverses) still
        work, with the exact bytes matplotlib gives for ``n = 256``.
    n : int
        Number of entries.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    if int(n) < 2:
        raise ValueError(f"a colormap needs n ≥ 2 entries, not {n}")
    return _lut(str(name), int(n))


def _make_stretch(stretch: Any, params: dict[str, Any] | None, x: np.ndarray) -> Any:
    if not isinstance(stretch, str):
        if params:
            raise ValueError("stretch_params only apply to a stretch given by name")
        if not callable(stretch):
            raise TypeError(
                f"stretch must be a name or an astropy stretch, not {type(stretch).__name__}"
            )
        return stretch
    classes = stretches()
    if stretch not in classes:
        raise ValueError(f"unknown stretch {stretch!r}; known: {', '.join(classes)}")
    params = dict(params or {})
    if stretch == "histeq" and "data" not in params:
        params["data"] = x
    return classes[stretch](**params)


def render_rgba(
    values: Any,
    vmin: float,
    vmax: float,
    stretch: Any = "linear",
    cmap: Any = "gray",
    *,
    stretch_params: dict[str, Any] | None = None,
    nan_color: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> np.ndarray:
    """Colour a 2-D array of values as the browser does.

    Parameters
    ----------
    values : array-like
        2-D data values (e.g. a tile).
    vmin, vmax : float
        Cut levels, ``vmin <= vmax``; values outside are clipped.
    stretch : str or astropy stretch
        A key of ``STRETCHES`` or an astropy ``BaseStretch`` instance.
    cmap : str or numpy.ndarray
        A colormap name (see :func:`colormap_lut`) or an ``(n, 4)`` uint8 table.
    stretch_params : dict, optional
        Keyword arguments of the named stretch's class (e.g. ``{"a": 1000}`` for log).
        For ``"histeq"`` without ``data``, the histogram is that of ``values`` (normalised);
        pass the overview as ``data`` (normalised with the same cuts) to use one mapping for
        every tile.
    nan_color : tuple of 4 int
        RGBA of NaN values.

    Returns
    -------
    numpy.ndarray
        uint8, shape ``(ny, nx, 4)``.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values must be 2-D, not of shape {v.shape}")
    vmin, vmax = float(vmin), float(vmax)
    if not (np.isfinite(vmin) and np.isfinite(vmax)) or vmin > vmax:
        raise ValueError(f"cuts must be finite with vmin <= vmax, not ({vmin}, {vmax})")
    lut = colormap_lut(cmap) if isinstance(cmap, str) else np.asarray(cmap, dtype=np.uint8)
    if lut.ndim != 2 or lut.shape[1] != 4 or len(lut) < 2:
        raise ValueError(f"a colormap table must have shape (n ≥ 2, 4), not {lut.shape}")
    nan = np.isnan(v)
    v = np.where(nan, vmin, v)
    x = (
        (v > vmin).astype(np.float64)
        if vmax == vmin
        else (np.clip(v, vmin, vmax) - vmin) / (vmax - vmin)
    )
    y = np.asarray(_make_stretch(stretch, stretch_params, x[~nan])(x, clip=True), dtype=np.float64)
    n = len(lut)
    index = np.minimum((y * n).astype(np.intp), n - 1)
    rgba = lut[index]
    rgba[nan] = np.asarray(nan_color, dtype=np.uint8)
    return rgba

"""How display state travels to the browser: cuts, stretch and colormap as trait JSON.

The browser applies ``t = (v - vmin) / (vmax - vmin)``, the stretch and the colormap lookup in
its fragment shader (``js/src/render/stretch.ts``), so these few numbers are all a change of
cuts, stretch or colormap sends. Stretches are sent by name and parameters (``STRETCH_NAMES``,
twin of ``STRETCH_IDS`` in ``js/src/render/stretch.ts``); any other astropy stretch (histogram
equalisation, composites, user subclasses) is sampled into a lookup table of
``STRETCH_LUT_SIZE`` float32 values on [0, 1], which the shader interpolates linearly.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "STRETCH_NAMES",
    "STRETCH_LUT_SIZE",
    "stretch_spec",
    "as_interval",
    "compute_limits",
    "sample_values",
]

STRETCH_NAMES = (
    "linear",
    "sqrt",
    "power",
    "powerdist",
    "invpowerdist",
    "log",
    "invlog",
    "asinh",
    "sinh",
    "contrastbias",
    "lut",
)
STRETCH_LUT_SIZE = 4096
#: Percentiles of AIDA's default cuts, ``AsymmetricPercentileInterval(0.5, 99.5)``.
DEFAULT_PERCENTILES = (0.5, 99.5)


def stretch_spec(stretch: Any) -> dict[str, Any]:
    """Describe an astropy stretch for the browser.

    Parameters
    ----------
    stretch : astropy.visualization.BaseStretch or None
        None: the default ``LinearStretch()``.

    Returns
    -------
    dict
        ``{"name": str, "params": [a, b], "lut": bytes | None}``; ``lut`` holds float32
        samples of the stretch on [0, 1] when ``name == "lut"``.
    """
    if stretch is None:  # the default, LinearStretch(), without importing astropy.visualization
        return {"name": "linear", "params": [1.0, 0.0], "lut": None}
    from astropy.visualization import stretch as vis

    exact = {
        vis.SqrtStretch: ("sqrt", ()),
        vis.PowerStretch: ("power", ("a",)),
        vis.PowerDistStretch: ("powerdist", ("a",)),
        vis.InvertedPowerDistStretch: ("invpowerdist", ("a",)),
        vis.LogStretch: ("log", ("a",)),
        vis.InvertedLogStretch: ("invlog", ("a",)),
        vis.AsinhStretch: ("asinh", ("a",)),
        vis.SinhStretch: ("sinh", ("a",)),
        vis.ContrastBiasStretch: ("contrastbias", ("contrast", "bias")),
        vis.LinearStretch: ("linear", ("slope", "intercept")),
    }
    kind = type(stretch)
    if kind is vis.SquaredStretch:
        return {"name": "power", "params": [2.0, 0.0], "lut": None}
    if kind in exact:
        name, attrs = exact[kind]
        params = [float(getattr(stretch, a)) for a in attrs] + [0.0, 0.0]
        return {"name": name, "params": params[:2], "lut": None}
    x = np.linspace(0.0, 1.0, STRETCH_LUT_SIZE)
    lut = np.clip(np.nan_to_num(stretch(x, clip=True)), 0.0, 1.0).astype("<f4")
    return {"name": "lut", "params": [0.0, 0.0], "lut": lut.tobytes()}


def as_interval(cuts: Any):
    """Return ``cuts`` as an astropy interval (a ``(lo, hi)`` pair becomes ManualInterval).

    Raises
    ------
    TypeError
        "Cuts must be …" for anything else.
    """
    from astropy.visualization import BaseInterval, ManualInterval

    if (
        isinstance(cuts, tuple)
        and len(cuts) == 2
        and all(isinstance(c, numbers.Real) or c is None for c in cuts)
    ):
        return ManualInterval(cuts[0], cuts[1])
    if isinstance(cuts, BaseInterval):
        return cuts
    raise TypeError(
        "Cuts must be an Astropy.visualization Interval object or a tuple of two values, "
        f"not {cuts!r}."
    )


def sample_values(
    array: np.ndarray, mask: np.ndarray | None, max_pixels: int = 1 << 18
) -> np.ndarray:
    """Return a strided sample of the full-resolution pixels, finite and unmasked, as float64.

    A stride (not a block mean) keeps the pixel-value distribution, so percentile cuts match
    those of the whole image; only every ``stride``-th row is read from a memory map.
    """
    h, w = array.shape
    stride = max(1, int(np.ceil(np.sqrt(h * w / max_pixels))))
    values = np.asarray(array[::stride, ::stride], dtype=np.float64)
    keep = np.isfinite(values)
    if mask is not None:
        keep &= ~np.asarray(mask[::stride, ::stride]).astype(bool)
    return values[keep]


def default_cuts():
    """AIDA's default cuts, built when first asked for.

    (astropy.visualization imports matplotlib: ~0.5 s that a first ``load_image`` need not
    spend.)
    """
    from astropy.visualization import AsymmetricPercentileInterval

    return AsymmetricPercentileInterval(*DEFAULT_PERCENTILES)


def default_stretch():
    """AIDA's default stretch, ``LinearStretch()`` (built when first asked for)."""
    from astropy.visualization import LinearStretch

    return LinearStretch()


def compute_limits(interval: Any, sample: np.ndarray) -> tuple[float, float]:
    """``(vmin, vmax)`` of an astropy interval on the sample; always ``vmin < vmax``.

    ``interval`` None means :func:`default_cuts`, computed as it would (the percentiles of
    the finite sample) without importing astropy.visualization.
    """
    if sample.size == 0:
        # Nothing finite to measure (e.g. an all-NaN image): only manual limits mean anything.
        vmin, vmax = getattr(interval, "vmin", None), getattr(interval, "vmax", None)
        lo = 0.0 if vmin is None else float(vmin)
        hi = 1.0 if vmax is None else float(vmax)
    elif interval is None:
        lo, hi = (float(v) for v in np.percentile(sample, DEFAULT_PERCENTILES))
    else:
        lo, hi = (float(v) for v in interval.get_limits(sample))
    if not hi > lo:
        hi = lo + max(abs(lo) * 1e-6, 1e-12)
    return lo, hi

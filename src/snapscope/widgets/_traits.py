"""How display state travels to the browser: cuts, stretch and colormap as trait JSON.

The browser applies ``t = (v - vmin) / (vmax - vmin)``, the stretch and the colormap lookup in
its fragment shader (``js/src/render/stretch.ts``), so these few numbers are all a change of
cuts, stretch or colormap sends. Stretches are sent by name and parameters (``STRETCH_NAMES``,
twin of ``STRETCH_IDS`` in ``js/src/render/stretch.ts``); any other astropy stretch (histogram
equalisation, composites, user subclasses) is sampled into a lookup table of
``STRETCH_LUT_SIZE`` float32 values on [0, 1], which the shader interpolates linearly.

The viewer's display control changes cuts, stretch and colormap in the browser and writes them
back into ``_displays``; the Python entry (``ImageEntry.cuts/stretch/colormap``) stays the one
owner, so ``_display.py`` turns the browser's values back into astropy objects with
:func:`interval_from_spec` and :func:`stretch_from_spec` and re-sends the normalised state.
Each display carries ``"cuts"`` (:func:`cuts_spec`: which interval made ``vmin, vmax``).

Percentile cuts in the browser come from a quantile table sent once per image
(:func:`sample_quantiles`, ``_images[key]["quantiles"]``): the values of the same strided
sample the Python intervals use, at ``QUANTILE_PERCENTILES``. The control's presets
(``CUT_PERCENTILES``, twin of ``js/src/ui/cuts.ts``) are knots of the table, so the browser's
limits equal ``PercentileInterval(p).get_limits(sample)`` (to float64 rounding); between knots
it interpolates linearly (bounded by the neighbouring knots' values). A quantile table rather
than a histogram: a histogram's bins are as wide as (max - min) / bins, which a few saturated
stars make wider than the whole sky noise; the table is exact where it is used and costs
~0.5 kB per image (``np.percentile`` at 25 knots of the 2**18-value sample: ~4-8 ms at load,
against ~11-20 ms for a 1 % grid).
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
    "CUT_PERCENTILES",
    "QUANTILE_PERCENTILES",
    "sample_quantiles",
    "cuts_spec",
    "interval_from_spec",
    "stretch_from_spec",
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
#: Percentile cuts offered by the browser's display control (100: min/max); twin of
#: ``CUT_PERCENTILES`` in ``js/src/ui/cuts.ts``.
CUT_PERCENTILES = (90.0, 95.0, 99.0, 99.5, 99.9, 100.0)


def _quantile_knots() -> tuple[float, ...]:
    knots = {float(p) for p in range(0, 101, 10)} | {1.0, 25.0, 75.0, 99.0} | set(DEFAULT_PERCENTILES)
    # The presets as PercentileInterval computes them, bit for bit ((100 - 99.9) / 2 is not 0.05).
    knots |= {(100.0 - p) / 2.0 for p in CUT_PERCENTILES} | {(100.0 + p) / 2.0 for p in CUT_PERCENTILES}
    return tuple(sorted(knots))


#: Percentiles at which ``sample_quantiles`` measures the sample: the presets' ends, the
#: default's, and a coarse grid (25 knots; each knot costs ``np.percentile`` time at load).
QUANTILE_PERCENTILES = _quantile_knots()


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
    array: np.ndarray, mask: Any, max_pixels: int = 1 << 18
) -> np.ndarray:
    """Return a strided sample of the full-resolution pixels, finite and unmasked, as float64.

    A stride (not a block mean) keeps the pixel-value distribution, so percentile cuts match
    those of the whole image; only every ``stride``-th row is read from a memory map.
    ``mask`` is None or a bool array-like (True = bad), e.g. a ``snapscope.image.PixelMask``.
    """
    h, w = array.shape
    stride = max(1, int(np.ceil(np.sqrt(h * w / max_pixels))))
    values = np.asarray(array[::stride, ::stride], dtype=np.float64)
    keep = np.isfinite(values)
    if mask is not None:
        keep &= ~np.asarray(mask[::stride, ::stride]).astype(bool)
    return values[keep]


def sample_quantiles(sample: np.ndarray) -> dict[str, Any] | None:
    """The quantile table of a sample for the browser's percentile cuts.

    Returns
    -------
    dict or None
        ``{"p": [percent, ...], "q": bytes}``: ``q`` holds little-endian float64 values,
        ``np.percentile(sample, p)`` (linear interpolation, as astropy's percentile
        intervals); None for an empty sample (nothing finite to measure).
    """
    if sample.size == 0:
        return None
    q = np.percentile(sample, QUANTILE_PERCENTILES).astype("<f8")
    return {"p": list(QUANTILE_PERCENTILES), "q": q.tobytes()}


def cuts_spec(interval: Any) -> dict[str, Any]:
    """Describe which interval made an image's limits, for the browser's display control.

    Returns
    -------
    dict
        ``{"kind": "percentile", "lower": float, "upper": float}`` (None, the default, is
        0.5-99.5; ``MinMaxInterval`` is 0-100), ``{"kind": "manual"}`` or
        ``{"kind": "other", "name": class name}`` (ZScale…, which the browser cannot compute).
    """
    if interval is None:  # the default, without importing astropy.visualization
        return {"kind": "percentile", "lower": DEFAULT_PERCENTILES[0], "upper": DEFAULT_PERCENTILES[1]}
    from astropy.visualization import AsymmetricPercentileInterval, ManualInterval, MinMaxInterval

    if isinstance(interval, MinMaxInterval):
        return {"kind": "percentile", "lower": 0.0, "upper": 100.0}
    if isinstance(interval, AsymmetricPercentileInterval) and interval.n_samples is None:
        lower, upper = float(interval.lower_percentile), float(interval.upper_percentile)
        return {"kind": "percentile", "lower": lower, "upper": upper}
    if isinstance(interval, ManualInterval):
        return {"kind": "manual"}
    return {"kind": "other", "name": type(interval).__name__}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    return float(value)


def interval_from_spec(spec: Any, vmin: Any, vmax: Any):
    """The astropy interval the browser asked for (inverse of :func:`cuts_spec`).

    Parameters
    ----------
    spec : dict
        ``{"kind": "percentile", "lower", "upper"}`` or ``{"kind": "manual"}``.
    vmin, vmax : float
        The browser's limits (used by ``"manual"``).

    Returns
    -------
    astropy.visualization.BaseInterval
        ``MinMaxInterval`` for 0-100, ``PercentileInterval`` when symmetric, else
        ``AsymmetricPercentileInterval``; ``ManualInterval(vmin, vmax)``.

    Raises
    ------
    ValueError
        For anything else, non-finite numbers or empty ranges.
    """
    from astropy.visualization import (
        AsymmetricPercentileInterval,
        ManualInterval,
        MinMaxInterval,
        PercentileInterval,
    )

    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind == "manual":
        lo, hi = _number(vmin, "vmin"), _number(vmax, "vmax")
        if not hi > lo:
            raise ValueError(f"manual cuts need vmin < vmax, got {lo!r}, {hi!r}")
        return ManualInterval(lo, hi)
    if kind == "percentile":
        lo, hi = _number(spec.get("lower"), "lower"), _number(spec.get("upper"), "upper")
        if not 0.0 <= lo < hi <= 100.0:
            raise ValueError(f"percentile cuts need 0 <= lower < upper <= 100, got {lo}, {hi}")
        if (lo, hi) == (0.0, 100.0):
            return MinMaxInterval()
        if (100.0 - (hi - lo)) / 2.0 == lo and (100.0 + (hi - lo)) / 2.0 == hi:
            return PercentileInterval(hi - lo)
        return AsymmetricPercentileInterval(lo, hi)
    raise ValueError(f"cuts from the browser must be 'percentile' or 'manual', not {spec!r}")


def stretch_from_spec(spec: Any):
    """Return the astropy stretch of a browser stretch ``{"name", "params"}``.

    The inverse of :func:`stretch_spec` for the named stretches.

    Raises
    ------
    ValueError
        For ``"lut"`` (a sampled stretch has no astropy class to go back to), unknown names or
        bad parameters.
    """
    from astropy.visualization import stretch as vis

    name = spec.get("name") if isinstance(spec, dict) else None
    params = spec.get("params") if isinstance(spec, dict) else None
    if not isinstance(params, list) or len(params) != 2:
        raise ValueError(f"stretch params must be a list of two numbers, not {params!r}")
    a, b = (_number(p, "stretch parameter") for p in params)
    build = {
        "linear": lambda: vis.LinearStretch(slope=a, intercept=b),
        "sqrt": vis.SqrtStretch,
        "power": lambda: vis.PowerStretch(a),
        "powerdist": lambda: vis.PowerDistStretch(a),
        "invpowerdist": lambda: vis.InvertedPowerDistStretch(a),
        "log": lambda: vis.LogStretch(a),
        "invlog": lambda: vis.InvertedLogStretch(a),
        "asinh": lambda: vis.AsinhStretch(a),
        "sinh": lambda: vis.SinhStretch(a),
        "contrastbias": lambda: vis.ContrastBiasStretch(a, b),
    }
    if name not in build:
        raise ValueError(f"the browser can only choose the stretches {sorted(build)}, not {name!r}")
    return build[name]()


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


def compute_limits(
    interval: Any, sample: np.ndarray, quantiles: dict[str, Any] | None = None
) -> tuple[float, float]:
    """``(vmin, vmax)`` of an astropy interval on the sample; always ``vmin < vmax``.

    The one way cuts are computed. Percentile-type cuts (``interval`` None, i.e.
    :func:`default_cuts`; ``MinMaxInterval``; ``PercentileInterval`` and
    ``AsymmetricPercentileInterval`` without ``n_samples``: whatever :func:`cuts_spec` calls
    ``"percentile"``) are ``np.percentile`` of the finite sample at the spec's two percentiles,
    which is what astropy computes for them, bit for bit; at knots of the sample's quantile
    table (``quantiles``, :func:`sample_quantiles`: the default's ends and every preset's) they
    are read from the table, as the browser reads them. So the default needs no
    astropy.visualization import and no pass over the sample beyond the table's, and a default
    made explicit by ``get_cuts`` keeps its limits. Other intervals (ZScale…, manual) use their
    own ``get_limits``.
    """
    spec = cuts_spec(interval)
    if sample.size == 0:
        # Nothing finite to measure (e.g. an all-NaN image): only manual limits mean anything.
        vmin, vmax = getattr(interval, "vmin", None), getattr(interval, "vmax", None)
        lo = 0.0 if vmin is None else float(vmin)
        hi = 1.0 if vmax is None else float(vmax)
    elif spec["kind"] == "percentile":
        ends = (spec["lower"], spec["upper"])
        if quantiles is not None and all(p in quantiles["p"] for p in ends):
            table = np.frombuffer(quantiles["q"], "<f8")
            lo, hi = (float(table[quantiles["p"].index(p)]) for p in ends)
        else:
            lo, hi = (float(v) for v in np.percentile(sample, ends))
    else:
        lo, hi = (float(v) for v in interval.get_limits(sample))
    if not hi > lo:
        hi = lo + max(abs(lo) * 1e-6, 1e-12)
    return lo, hi

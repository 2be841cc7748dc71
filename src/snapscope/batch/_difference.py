"""Difference photometry of one sky position over many images: a host-free light curve.

Decisions
---------
* **Each row is measured on a difference stamp** (:func:`snapscope.diff.difference`): the
  science stamp minus the PSF-matched, flux-scaled reference of its band, by the same
  functions as :func:`~snapscope.batch.forced_photometry` (``ap_phot`` with
  ``mask='flags'`` and ``error='noise'``, and ``forced_psf_phot`` at the position), with the
  difference's own PSF (:class:`snapscope.diff.StampPSF`).
* **The reference** is given (one :class:`~snapscope.diff.Reference` or a mapping band →
  reference), or built per band from ``reference_images`` (default: ``images``) earlier than
  ``before``. Every image of ``images`` is measured, those in the reference too (their
  differences share its noise).
* **Defaults** as forced photometry except ``bgsize=0``: the difference's background has
  already been subtracted (its median away from the source), and a ``Background2D`` of the
  stamp would only add noise. ``stamp=65`` is the difference stamp's side and
  ``kernel_half=5`` the matching kernel's half-size.
* **Fluxes are total fluxes.** The difference's PSF is known on its pixels, so aperture sums
  are divided by the fraction of that PSF in the same aperture with the same masked pixels
  (``ap_corr``; 1 for PSF rows): flagged pixels in the aperture cost signal-to-noise, not
  bias. ``flux`` is in the science image's data units.
* **Significance and limits.** ``snr = flux / flux_err``. ``mag`` and ``mag_err`` are given
  whenever ``flux > 0`` (as forced photometry). When ``snr < detect_snr`` (default 3) the
  epoch is a non-detection and ``upper_limit = zeropoint − 2.5 log10(snr_limit · flux_err)``
  (default ``snr_limit=5``): the magnitude of a source that would have been measured at that
  S/N; otherwise ``upper_limit`` is NaN.
* **Threads by default** (:func:`snapscope.diff.default_workers`, ``min(4, cores)``), unlike
  forced photometry: ``reproject`` and ``scipy.ndimage`` release the GIL, so a second thread
  overlaps one epoch's resampling with another's photutils fit (the measurements are in
  ``snapscope.diff``'s notes). ``workers=1`` runs in the calling thread.
* Images the position is not on, or that fail (no noise plane, unreadable), give no row and
  are listed in ``meta['skipped']``; if the position is on none of them, a ValueError names
  it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from snapscope.batch._cutouts import image_key, zeropoint_or_none
from snapscope.batch._photometry import (
    check_known,
    check_params,
    image_columns,
    magnitude,
    measure,
    photometry_table,
)
from snapscope.batch._positions import parse_position
from snapscope.batch._run import portable, run

__all__ = ["difference_photometry", "DIFFERENCE_COLUMNS", "DIFFERENCE_DEFAULTS"]

#: Columns of the difference-photometry table, in order.
DIFFERENCE_COLUMNS = ("image_id", "path", "band", "mjd", "method", "flux", "flux_err", "snr",
                      "mag", "mag_err", "zeropoint", "upper_limit", "ap_corr", "flag_frac", "x",
                      "y", "convolved", "kernel_residual")
_DTYPES = [str, str, str, float, str, float, float, float, float, float, float, float, float,
           float, float, float, str, float]
#: Default parameters (module docstring; the photometry ones as in forced photometry).
DIFFERENCE_DEFAULTS: dict[str, Any] = {"ap_r": 3.0, "method": "exact", "subpixels": 5,
                                       "bgsize": 0, "stamp": 65, "fit_shape": (5, 5),
                                       "bginner": 15.0, "bgouter": 25.0, "kernel_half": 5,
                                       "snr_limit": 5.0, "detect_snr": 3.0}
_OFF = "position is off the image"


def _aperture_fraction(diff: Any, p: dict[str, Any]) -> float:
    """Fraction of the difference's PSF in the aperture, flagged pixels left out as in the data."""
    from photutils.aperture import CircularAperture

    weights = CircularAperture((diff.x, diff.y), r=p["ap_r"]).to_mask(method=p["method"],
                                                                      subpixels=p["subpixels"])
    return float(weights.get_values(diff.psf, mask=diff.image.flags != 0).sum())


def _difference_one(image: Any, reference: Any, psf: Any, p: dict[str, Any],
                    ) -> tuple[list[dict[str, Any]], list[list]]:
    """Rows of one image (aperture, psf) and the (image, reason) it was skipped for."""
    from snapscope.diff import difference, reference_for

    ref = reference_for(reference, image.band)
    key = image_key(image)
    try:
        if not image.includes_radec(ref.ra, ref.dec):
            return [], [[key, _OFF]]
        diff = difference(image, ref, psf, size=p["stamp"], kernel_half=p["kernel_half"])
        measured = measure(diff.image, np.array([diff.x]), np.array([diff.y]), p,
                           diff.photutils_psf())
        ap_corr = _aperture_fraction(diff, p)
    except (OSError, ValueError, NotImplementedError) as err:
        return [], [[key, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"]]
    zp = zeropoint_or_none(image)
    rows = []
    for method, flux, err, frac in measured:
        corr = ap_corr if method == "aperture" else 1.0
        flux, err = (flux / corr, err / corr) if corr > 0 else (math.nan, math.nan)
        snr = flux / err if err > 0 else math.nan
        mag, mag_err = magnitude(flux, err, zp)
        limit = math.nan
        if zp is not None and err > 0 and not snr >= p["detect_snr"]:
            limit = zp - 2.5 * math.log10(p["snr_limit"] * err)
        rows.append({**image_columns(image), "method": method, "flux": flux, "flux_err": err,
                     "snr": snr, "mag": mag, "mag_err": mag_err,
                     "zeropoint": math.nan if zp is None else zp, "upper_limit": limit,
                     "ap_corr": corr, "flag_frac": frac, "x": diff.x, "y": diff.y,
                     "convolved": diff.convolved, "kernel_residual": diff.residual})
    return rows, []


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return float(value)


def difference_photometry(images: Iterable[Any], position: Any = None, reference: Any = None, *,
                          psf: Any, before: float | None = None,
                          reference_images: Iterable[Any] | None = None, client: Any = None,
                          workers: int | None = None, progress: bool = True,
                          callback: Callable[[int, int], Any] | None = None,
                          **params: Any) -> Any:
    """Measure aperture and PSF photometry of one position on difference stamps of many images.

    Parameters
    ----------
    images : iterable of Image
        The science images (order is kept in the table).
    position : str, SkyCoord or (float, float), optional
        The sky position (:func:`snapscope.batch.parse_position`); default the reference's.
    reference : Reference or mapping band → Reference, optional
        From :func:`snapscope.diff.build_reference`; built here when not given.
    psf : PSF, mapping band → PSF, or callable image → PSF
        Each image's PSF, as in :func:`~snapscope.batch.forced_photometry`.
    before : float, optional
        Build each band's reference from the images earlier than this MJD.
    reference_images : iterable of Image, optional
        Build the references from these images (default ``images``).
    client : distributed.Client, optional
        Run the per-image steps on this Dask cluster.
    workers : int, optional
        Local threads (default :func:`snapscope.diff.default_workers`).
    progress : bool
        Show a progress bar.
    callback : callable, optional
        ``callback(done, total)`` as images finish.
    **params
        ``ap_r method subpixels bgsize fit_shape bginner bgouter`` (as forced photometry),
        ``stamp`` (difference stamp side, odd px), ``kernel_half`` (px), ``snr_limit`` (S/N
        of the upper limits, default 5) and ``detect_snr`` (S/N below which an epoch gets an
        upper limit, default 3); defaults in :data:`DIFFERENCE_DEFAULTS`.

    Returns
    -------
    astropy.table.Table
        :data:`DIFFERENCE_COLUMNS`, one row per image and method (aperture, then psf);
        ``meta['parameters']``, ``meta['skipped']`` (``[image, reason]``) and
        ``meta['references']`` (band → the images coadded).

    Raises
    ------
    ValueError
        No images; no position and no reference; a position other than the reference's; no
        reference for a band of the images; the position on none of the images (the message
        names it); invalid parameters. Reference building raises as
        :func:`snapscope.diff.build_reference`.
    TypeError
        For an unknown parameter name.
    """
    from snapscope.diff import build_reference, default_workers, reference_for

    check_known(params, DIFFERENCE_DEFAULTS)
    p = {**DIFFERENCE_DEFAULTS, **params}
    p.update(check_params({k: v for k, v in p.items()
                           if k not in ("kernel_half", "snr_limit", "detect_snr")},
                          with_psf=True))
    for name in ("snr_limit", "detect_snr"):
        p[name] = _positive(name, p[name])
    images = list(images)
    if not images:
        raise ValueError("no images given: difference photometry needs a list of Images")
    workers = default_workers() if workers is None else workers
    bands = sorted({str(im.band) for im in images})
    if reference is None:
        if position is None:
            raise ValueError("give the position (or a reference, which has one)")
        if before is None and reference_images is None:
            raise ValueError("give reference=, or before= (and optionally reference_images=) to "
                             "build one")
        pool = images if reference_images is None else list(reference_images)
        reference = {band: build_reference(pool, position, psf, band=band, before=before,
                                           size=p["stamp"], kernel_half=p["kernel_half"],
                                           client=client, workers=workers, progress=False)
                     for band in bands}
    refs = {band: reference_for(reference, band) for band in bands}
    ra, dec = refs[bands[0]].ra, refs[bands[0]].dec
    if position is not None:
        pra, pdec = parse_position(position)
        if max(abs(pra - ra) * math.cos(math.radians(dec)), abs(pdec - dec)) * 3600 > 0.01:
            raise ValueError(f"position ({pra:.6f}, {pdec:.6f}) differs from the reference's "
                             f"({ra:.6f}, {dec:.6f})")
    items = [portable(im) for im in images] if client is not None else images
    results = run(_difference_one, items, shared={"reference": refs, "psf": psf, "p": p},
                  client=client, workers=workers, progress=progress, desc="difference photometry",
                  callback=callback)
    skipped = [s for r in results for s in r[1]]
    if len(skipped) == len(images) and all(s[1] == _OFF for s in skipped):
        raise ValueError(f"the position (ra, dec) = ({ra:.6f}, {dec:.6f}) is on none of the "
                         f"{len(images)} images")
    rows = [row for r in results for row in r[0]]
    table = photometry_table(rows, DIFFERENCE_COLUMNS, _DTYPES, p, psf, skipped)
    table.meta["references"] = {band: ref.inputs for band, ref in refs.items()}
    return table

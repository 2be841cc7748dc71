"""Difference stamps: one science epoch minus the reference, PSF-matched and flux-scaled.

Decisions
---------
* **On the science grid.** The science stamp is never resampled (its noise stays white, its
  PSF its own); the reference is resampled onto the science stamp's grid
  (:func:`~snapscope.diff._stamp.resample`), with its variance, flags and PSF planes. Both
  are cut ``kernel_half`` pixels wider than the result, so the convolution is exact on every
  pixel returned.
* **Flux scale.** The reference is brought to the science image's zeropoint:
  ``× 10^(0.4 (zp_sci − zp_ref))`` (data; variance by the square).
* **PSF matching** (:mod:`snapscope.diff._kernel`): the sharper of the two PSFs at the position
  is convolved with the least-squares kernel that turns it into the other. The difference's
  PSF (``difference.psf``) is then the broader one, and ``difference.convolved`` says which
  side was convolved. Variances are convolved with the kernel itself (not its square), for the
  reason given in ``resample``: fluxes are sums over many correlated pixels.
* **Bad pixels.** A bad pixel (flagged, off the image, not finite) is filled with the median of
  the good pixels of its stamp before convolving; a convolved pixel that takes more than 2 %
  of its kernel weight (``Σ |K|`` over bad pixels) from filled pixels is flagged ``DO_NOT_USE``,
  as is every pixel whose resampled reference value touches a flagged reference pixel. (The
  whole kernel footprint would flag ~10 % of a stamp around cosmic rays and hot pixels, for
  pixels whose values are off by less than 2 % of a sky-minus-median difference.) The science
  image's own flag bits are kept on its own pixels.
* **Background.** The sky levels of the two images differ, so the difference has an offset:
  the median of the good pixels farther than 8 px from the position is subtracted (and kept in
  ``difference.background``); the supernova itself stays out of that estimate.
* **Work per epoch** is one cutout of ``size + 2 kernel_half`` pixels, one PSF stamp, one
  ``reproject`` call of four planes, an ``(2h+1)²``-parameter least-squares fit and three small
  convolutions: ~10–20 ms, whatever the size of the image.
* **Threads by default** (:func:`snapscope.diff.default_workers`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snapscope.diff._kernel import convolve, match_kernel, sharpness
from snapscope.diff._reference import DO_NOT_USE, Reference, check_sizes
from snapscope.diff._stamp import cut_stamp, resample
from snapscope.diff._workers import default_workers

__all__ = ["Difference", "StampPSF", "difference", "differences", "reference_for",
           "reference_bands"]

#: Pixels closer than this to the position are left out of the background estimate.
_BACKGROUND_HOLE = 8.0
#: A convolved pixel is flagged when this much of its kernel weight fell on bad pixels.
_FILLED_WEIGHT = 0.02


class StampPSF:
    """A PSF known as one pixel-sampled plane at one position (e.g. a difference's PSF).

    ``getPhotutilsPSF(x, y)`` returns a photutils ``ImagePSF`` that interpolates the plane
    with its point ``(x0, y0)`` at ``(x, y)``: evaluated at the stamp's pixel centres with
    ``(x, y) = (x0, y0)`` (forced photometry at the position) it returns the plane itself,
    which is the exact pixel response to a point source there, whatever its sub-pixel phase.

    Parameters
    ----------
    plane : numpy.ndarray
        The PSF on the stamp's pixels, unit total flux.
    x0, y0 : float
        The position the plane is for, in its pixels.
    """

    def __init__(self, plane: np.ndarray, x0: float, y0: float) -> None:
        self.plane, self.x0, self.y0 = plane, float(x0), float(y0)

    def __repr__(self) -> str:
        return f"StampPSF({self.plane.shape[1]}×{self.plane.shape[0]} at ({self.x0:.3f}, {self.y0:.3f}))"

    def getPhotutilsPSF(self, x: float | None = None, y: float | None = None) -> Any:  # noqa: N802
        """Return the photutils ``ImagePSF`` of the plane, centred at (x, y) (default x0, y0)."""
        from photutils.psf import ImagePSF

        return ImagePSF(self.plane, flux=1.0, x_0=self.x0 if x is None else x,
                        y_0=self.y0 if y is None else y, origin=(self.x0, self.y0))


@dataclass
class Difference:
    """A difference stamp: science − PSF-matched, flux-scaled reference.

    Attributes
    ----------
    image : snapscope.image.Numpy2DImage
        ``data`` (science units, background-subtracted), ``noise`` (1σ), ``flags``, the
        science stamp's WCS, ``band``, ``mjd`` and ``zeropoint`` (the science image's).
    psf : numpy.ndarray
        The difference's PSF at the position (unit flux, same grid).
    x, y : float
        The position in stamp pixels.
    kernel : numpy.ndarray
        The matching kernel (sums to 1).
    convolved : {'reference', 'science'}
        Which side the kernel was applied to.
    residual : float
        Relative misfit of the kernel, ``‖P_conv ⊗ K − P_other‖ / ‖P_other‖``.
    background : float
        The offset subtracted, in data units.
    scale : float
        The factor applied to the reference's fluxes (zeropoints).
    science : str
        The science image (``snapscope.batch.image_key``).
    science_stamp, reference_stamp : snapscope.image.Numpy2DImage
        The two sides of the subtraction on the difference's grid, for showing them side by
        side: the science stamp and the resampled, flux-scaled reference, whichever of them
        was convolved as ``convolved`` says (bad pixels NaN, flags as their own planes), so
        that ``image.data == science_stamp.data - reference_stamp.data - background`` on
        every unflagged pixel.
    """

    image: Any
    psf: np.ndarray = field(repr=False)
    x: float
    y: float
    kernel: np.ndarray = field(repr=False)
    convolved: str
    residual: float
    background: float
    scale: float
    science: str
    science_stamp: Any = field(repr=False)
    reference_stamp: Any = field(repr=False)

    def photutils_psf(self) -> StampPSF:
        """Return the PSF model of the difference at the position (for ``forced_psf_phot``)."""
        return StampPSF(self.psf, self.x, self.y)


def _filled(data: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """``data`` with its bad pixels set to the median of the good ones."""
    good = ~bad
    return np.where(bad, np.median(data[good]) if good.any() else 0.0, data)


def _spread(bad: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Pixels that take more than :data:`_FILLED_WEIGHT` of their value from bad pixels."""
    return convolve(bad.astype(float), np.abs(kernel)) > _FILLED_WEIGHT


def reference_bands(references: Reference | Mapping[str, Reference]) -> set[str]:
    """The bands one reference or a band → reference mapping covers."""
    return {references.band} if isinstance(references, Reference) else set(references)


def reference_for(references: Reference | Mapping[str, Reference], band: str) -> Reference:
    """The reference of ``band`` from one reference or a band → reference mapping.

    Raises
    ------
    ValueError
        When there is no reference for ``band``.
    """
    known = sorted(reference_bands(references))
    if band not in known:
        raise ValueError(f"no reference for band {band!r} (references for {known})")
    return references if isinstance(references, Reference) else references[band]


def difference(image: Any, reference: Reference | Mapping[str, Reference], psf: Any, *,
               size: int = 65, kernel_half: int = 5) -> Difference:
    """Return the difference stamp of one science image at the reference's position.

    Parameters
    ----------
    image : snapscope.image.Image
        The science image (needs a WCS, a zeropoint and a noise plane).
    reference : Reference or mapping band → Reference
        From :func:`build_reference` (a mapping picks the image's band).
    psf : PSF, mapping band → PSF, or callable image → PSF
        The science image's PSF, as in :func:`snapscope.batch.forced_photometry`.
    size : int
        Side of the difference stamp (odd, pixels); at most the size the reference was made for.
    kernel_half : int
        Half-size of the matching kernel, pixels.

    Returns
    -------
    Difference

    Raises
    ------
    ValueError
        No reference for the image's band; the position is off the image; no noise plane;
        bad sizes.
    """
    from snapscope.batch import image_key, psf_for
    from snapscope.image import Numpy2DImage

    check_sizes(size, kernel_half)
    ref = reference_for(reference, image.band)
    if not image.includes_radec(ref.ra, ref.dec):
        raise ValueError(f"the position (ra, dec) = ({ref.ra:.6f}, {ref.dec:.6f}) is off "
                         f"{image_key(image)}")
    work = size + 2 * kernel_half
    sci = cut_stamp(image, ref.ra, ref.dec, work, psf_for(psf, image, imagesampled=True))
    rim = ref.image
    planes = np.stack([rim.data, rim.noise**2, (rim.flags != 0).astype(float), ref.psf])
    on = resample(planes, rim.get_wcs().get_astropy_wcs(), sci.wcs, (work, work))
    scale = 10.0 ** (0.4 * (sci.zeropoint - rim.zeropoint))
    ref_bad = ~(on[2] == 0) | ~np.isfinite(on[0])
    ref_data = _filled(np.nan_to_num(on[0]) * scale, ref_bad)
    ref_var = _filled(np.nan_to_num(on[1]) * scale**2, ref_bad)
    ref_psf = np.nan_to_num(on[3])
    sci_bad = sci.bad > 0
    sci_data, sci_var = _filled(sci.data, sci_bad), _filled(sci.variance, sci_bad)
    if sharpness(ref_psf) >= sharpness(sci.psf):
        kernel, residual = match_kernel(ref_psf, sci.psf, kernel_half)
        convolved, out_psf = "reference", sci.psf
        minuend, subtrahend = sci_data, convolve(ref_data, kernel)
        variance = sci_var + convolve(ref_var, kernel)
        sci_side_bad, ref_side_bad = sci_bad, _spread(ref_bad, kernel)
    else:
        kernel, residual = match_kernel(sci.psf, ref_psf, kernel_half)
        convolved, out_psf = "science", ref_psf
        minuend, subtrahend = convolve(sci_data, kernel), ref_data
        variance = convolve(sci_var, kernel) + ref_var
        sci_side_bad, ref_side_bad = _spread(sci_bad, kernel), ref_bad
    bad = sci_side_bad | ref_side_bad
    flags = np.where(bad & (sci.flags == 0), DO_NOT_USE, sci.flags)  # int64: every DQ bit
    centre = work // 2

    def stamp_of(data: np.ndarray, noise: np.ndarray | None, flags: np.ndarray) -> Any:
        full = Numpy2DImage(data=data, noise=noise, flags=flags, wcs=sci.wcs, band=sci.band,
                            mjd=sci.mjd, zeropoint=sci.zeropoint)
        return full.get_cutout(centre, centre, size)

    stamp = stamp_of(minuend - subtrahend, np.sqrt(np.maximum(variance, 0.0)), flags)
    sides = [stamp_of(np.where(side_bad, np.nan, side), None, side_bad.astype(np.int64) * DO_NOT_USE)
             for side, side_bad in ((minuend, sci_side_bad), (subtrahend, ref_side_bad))]
    x, y = sci.x - kernel_half, sci.y - kernel_half
    yy, xx = np.indices(stamp.data.shape)
    far = (np.hypot(xx - x, yy - y) > _BACKGROUND_HOLE) & (stamp.flags == 0)
    background = float(np.median(stamp.data[far])) if far.any() else 0.0
    stamp.data = stamp.data - background
    half = (work - size) // 2
    return Difference(image=stamp, psf=out_psf[half : half + size, half : half + size], x=x, y=y,
                      kernel=kernel, convolved=convolved, residual=residual,
                      background=background, scale=scale, science=image_key(image),
                      science_stamp=sides[0], reference_stamp=sides[1])


def differences(images: Iterable[Any], reference: Reference | Mapping[str, Reference], psf: Any,
                *, size: int = 65, kernel_half: int = 5, client: Any = None,
                workers: int | None = None, progress: bool = True,
                callback: Callable[[int, int], Any] | None = None) -> list[Difference]:
    """Return :func:`difference` of every image, run by ``snapscope.batch``'s runner.

    Parameters
    ----------
    images : iterable of Image
        Science images; each needs a reference of its band.
    reference, psf, size, kernel_half
        As :func:`difference`.
    client, workers, progress, callback
        As :func:`snapscope.batch.forced_photometry` (``workers=N`` threads, default
        :func:`default_workers`, or a ``dask.distributed`` client).

    Returns
    -------
    list of Difference
        In the order of ``images``.

    Raises
    ------
    ValueError
        As :func:`difference`, before any pixel is read for a missing band.
    """
    from snapscope.batch import portable, run

    images = list(images)
    for band in sorted({im.band for im in images}):
        reference_for(reference, band)
    items = [portable(im) for im in images] if client is not None else images
    return run(difference, items, shared={"reference": reference, "psf": psf, "size": size,
                                          "kernel_half": kernel_half},
               client=client, workers=default_workers() if workers is None else workers, progress=progress,
               desc="differences",
               callback=callback)

"""Stamps: one image's pixels around a sky position, with its PSF drawn at that position.

Decisions
---------
* **A stamp is the Image API's cutout** (``image.get_ra_dec_cutout(ra, dec, size,
  mode='partial')``): only the rows of the stamp are read, and pixels off the image come back
  NaN and flagged. Its WCS is the cutout's, as an ``astropy.wcs.WCS`` (what ``reproject``
  takes).
* **Bad pixels** are flagged ones (any bit), and those whose data or noise is not finite.
  Their data and variance are set to 0 and they are marked in a ``bad`` plane, so they can be
  resampled and convolved without spreading NaNs, and their influence followed (``bad > 0``).
* **The PSF is a fourth plane**: the image's PSF model (``psf.get_stamp(x, y)`` at the
  position's pixel coordinates in the *parent* image, so a spatially varying PSF is evaluated
  where the source is) is placed on an array of the stamp's shape, centred like the stamp
  (both are centred on the pixel nearest the position, ``floor(v + 0.5)``). Every operation on
  the data (resampling, coadding, convolving) is applied to this plane too, so the PSF that
  comes out is, to the pixel, the response of the result to a point source at the position,
  including the blur of the resampling and the sub-pixel phase.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Stamp", "cut_stamp", "resample", "odd_at_least"]


def odd_at_least(n: float) -> int:
    """Return the smallest odd integer ≥ ``n``."""
    n = math.ceil(n)
    return n if n % 2 else n + 1


@dataclass
class Stamp:
    """Pixels of one image around a position (arrays of the same square shape).

    Attributes
    ----------
    data : numpy.ndarray
        float64 pixel values in the image's data units; 0 where ``bad``.
    variance : numpy.ndarray
        float64 1σ noise squared; 0 where ``bad``.
    bad : numpy.ndarray
        float64, 1 on bad pixels (flagged, not finite, off the image), else 0.
    flags : numpy.ndarray
        int64 flags of the cutout (1 off the image).
    psf : numpy.ndarray
        float64 PSF of unit total flux at the position (sums to the fraction on the stamp).
    wcs : astropy.wcs.WCS
        The stamp's WCS.
    x, y : float
        The position in stamp pixels (0-origin).
    zeropoint : float
        AB zeropoint of the image.
    band : str
        Filter.
    mjd : float
        Date of the exposure.
    """

    data: np.ndarray
    variance: np.ndarray
    bad: np.ndarray
    flags: np.ndarray
    psf: np.ndarray
    wcs: Any
    x: float
    y: float
    zeropoint: float
    band: str
    mjd: float


def _psf_plane(model: Any, px: float, py: float, size: int) -> np.ndarray:
    """The PSF of ``model`` at parent pixel (px, py), on a ``size``² array centred like a cutout."""
    stamp = np.asarray(model.get_stamp(px, py), dtype=float)
    plane = np.zeros((size, size))
    h, k = size // 2, stamp.shape[0] // 2
    r = min(h, k)
    plane[h - r : h + r + 1, h - r : h + r + 1] = stamp[k - r : k + r + 1, k - r : k + r + 1]
    return plane


def cut_stamp(image: Any, ra: float, dec: float, size: int, psf: Any) -> Stamp:
    """Cut a ``size``² stamp of ``image`` centred on (ra, dec), with its PSF plane.

    Parameters
    ----------
    image : snapscope.image.Image
        The image (a zeropoint, a band, a WCS and a noise plane are needed).
    ra, dec : float
        Position, degrees.
    size : int
        Stamp side, odd, pixels.
    psf : snapscope.psf.PSF
        The image's PSF (``get_stamp(x, y)`` in the image's pixel coordinates).

    Raises
    ------
    ValueError
        When the position is off the image (``astropy.nddata.NoOverlapError``) or the image
        has no noise plane.
    """
    px, py = (float(v) for v in image.get_wcs().world_to_pixel(ra, dec))
    region = image.get_ra_dec_cutout(ra, dec, size, mode="partial")
    data = np.asarray(region.data, dtype=float)
    if region.noise is None:
        raise ValueError(f"{image!r} has no noise plane: difference imaging needs one")
    noise = np.asarray(region.noise, dtype=float)
    flags = (np.zeros(data.shape, dtype=np.int64) if region.flags is None
             else np.asarray(region.flags, dtype=np.int64))
    bad = (flags != 0) | ~np.isfinite(data) | ~np.isfinite(noise)
    x0, y0 = math.floor(px + 0.5) - size // 2, math.floor(py + 0.5) - size // 2
    return Stamp(data=np.where(bad, 0.0, data), variance=np.where(bad, 0.0, noise**2),
                 bad=bad.astype(float), flags=flags, psf=_psf_plane(psf, px, py, size),
                 wcs=region.get_wcs().get_astropy_wcs(), x=px - x0, y=py - y0,
                 zeropoint=float(image.get_zeropoint()), band=image.band,
                 mjd=math.nan if image.mjd is None else float(image.mjd))


def resample(planes: np.ndarray, wcs_in: Any, wcs_out: Any, shape_out: tuple[int, int],
             variance: int = 1) -> np.ndarray:
    """Resample a stack of planes from one pixel grid to another (``reproject_adaptive``).

    Parameters
    ----------
    planes : numpy.ndarray
        ``(n, ny, nx)`` planes on the grid of ``wcs_in``.
    wcs_in, wcs_out : astropy.wcs.WCS
        Celestial WCSs of the input and output grids.
    shape_out : (int, int)
        Output shape.
    variance : int
        Index of the plane that is a variance.

    Returns
    -------
    numpy.ndarray
        ``(n, *shape_out)``, NaN where an output pixel's sampling region leaves the input.

    Notes
    -----
    ``reproject_adaptive(conserve_flux=True)`` (DeForest 2004; Gaussian kernel of 1.3 px,
    ``boundary_mode='strict'``): each output pixel is a normalised, positively weighted mean of
    the input pixels around its centre, times the ratio ``a`` of the output to the input pixel
    area, so fluxes are conserved whatever the grids' scales and distortions. It was chosen
    over ``reproject_interp`` (bilinear, 2–3× faster) because Roman's PSFs are undersampled:
    bilinear interpolation blurs a source by an amount that depends on its sub-pixel phase
    with respect to the new grid, which changes across a rotated stamp, so the resampled PSF
    at the supernova is not the one of its host a few pixels away. The adaptive kernel's blur
    is nearly the same everywhere. On the hosted-supernova survey of the tests this took the
    PSF-matching residual from 1.5 % to 0.5 % and the spread of the aperture pulls from 1.19
    to 0.96. The variance plane is resampled with the same weights (not their squares), which
    gives the variance of sums over areas larger than the kernel right, and that is what
    aperture and PSF fluxes are: resampling correlates neighbouring pixels, so the per-pixel
    variance (squared weights) would make those fluxes look less noisy than they are. It gets
    ``a²`` instead of ``a`` (``a`` is measured by resampling a plane of ones with the others).

    ``astropy.wcs.WCS`` objects are not thread-safe (wcslib works in buffers of the object), and
    difference work runs on threads that share the reference's WCS: with a shared object, 2
    threads changed resampled values at the 1e-6 level. Each call therefore transforms with its
    own copies (~0.1 ms).
    """
    from snapscope._utils._optional import require

    reproject = require("reproject", purpose="difference imaging")
    stack = np.concatenate([planes, np.ones((1, *planes.shape[1:]))])
    wcs_in, wcs_out = wcs_in.deepcopy(), wcs_out.deepcopy()  # not shared between threads
    out = np.asarray(reproject.reproject_adaptive((stack, wcs_in), wcs_out, shape_out=shape_out,
                                                  conserve_flux=True, return_footprint=False,
                                                  roundtrip_coords=False), dtype=float)
    out[variance] *= out[-1]
    return out[:-1]

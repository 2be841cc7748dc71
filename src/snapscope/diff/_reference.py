"""The reference (template) of one band at one position: a weighted coadd of stamps.

Decisions
---------
* **Which images.** The images given, in one band (``band=`` picks one when they span several),
  and with ``before=`` only those whose MJD is earlier (pre-explosion epochs). Images the
  position is not on are left out; ``reference.inputs`` names the ones used.
* **Grid.** The reference lives on the pixel grid of the first input's stamp (so that one is
  not resampled), of side ``reference_size(size, kernel_half)``: large enough that a science
  stamp of ``size`` plus the kernel margin, at any roll, falls inside the circle every input
  covers. Every other input is resampled onto it (:func:`~snapscope.diff._stamp.resample`)
  with its variance, bad-pixel and PSF planes.
* **Flux scale.** Inputs are brought to the first input's zeropoint (``×10^(0.4 (zp₀ − zpᵢ))``)
  before coadding; the reference's zeropoint is that one.
* **Weights.** One inverse-variance weight per input, ``1 / median(variance)`` of its scaled,
  resampled stamp (the sky's noise), not per pixel: per-pixel weights from noise planes that
  include the sources' own Poisson noise would weigh down the bright pixels of the host
  and bias the coadd's fluxes. A pixel is the weighted mean of the inputs that are good there
  (a bad input pixel, or any bad pixel among the four it is interpolated from, is left out);
  its variance is ``Σ wᵢ² σᵢ² / (Σ wᵢ)²`` over those inputs.
* **Flags.** A reference pixel is flagged (``DO_NOT_USE = 1``) where no input is good: all
  flagged, or no coverage. Flagging every pixel where *any* input is flagged would flag a few
  per cent of a 10-epoch coadd (cosmic rays, hot pixels), and those pixels have good values.
* **PSF.** The reference's effective PSF is the weighted mean of the inputs' PSF planes (each
  resampled like its data), with the same weights: the response of the coadd to a point
  source at the position. Where an input pixel is left out the PSF there is slightly
  different; the difference step flags the pixels it touches.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snapscope.diff._stamp import cut_stamp, odd_at_least, resample
from snapscope.diff._workers import default_workers

__all__ = ["Reference", "build_reference", "reference_size", "DO_NOT_USE", "select_images"]

#: Flag of pixels without a usable value (roman_datamodels' DO_NOT_USE bit).
DO_NOT_USE = 1


def reference_size(size: int, kernel_half: int) -> int:
    """Side of the reference grid for science stamps of ``size`` and a kernel of ``kernel_half``.

    A science work stamp (``size + 2 kernel_half``) rotated by any angle fits in a circle of
    radius ``(size + 2 kernel_half) / √2``; resampling it there samples 3 px around each
    pixel, and each input's resampled stamp loses 3 px at its edge: 6 px more on each side.
    """
    return odd_at_least(math.sqrt(2) * (size + 2 * kernel_half) + 12)


@dataclass
class Reference:
    """A reference stamp of one band around a sky position.

    Attributes
    ----------
    image : snapscope.image.Numpy2DImage
        The coadd: ``data`` (in the units of the first input, at ``zeropoint``), ``noise``
        (1σ), ``flags`` (:data:`DO_NOT_USE` where no input is good; data and noise are 0
        there), its WCS, ``band``,
        ``mjd`` (the latest input's) and ``zeropoint``.
    psf : numpy.ndarray
        The coadd's effective PSF at the position, unit total flux, on the same grid.
    ra, dec : float
        The position, degrees.
    inputs : list of str
        The images coadded (``snapscope.batch.image_key``), in the order given.
    weights : numpy.ndarray
        Their relative weights (summing to 1).
    """

    image: Any
    psf: np.ndarray = field(repr=False)
    ra: float
    dec: float
    inputs: list[str]
    weights: np.ndarray = field(repr=False)

    @property
    def band(self) -> str:
        """The band of the reference."""
        return self.image.band


def select_images(images: list[Any], position: tuple[float, float], band: str | None,
                  before: float | None) -> tuple[list[Any], str]:
    """Return the images of ``band`` (earlier than ``before``) that hold the position, and the band.

    Raises
    ------
    ValueError
        No images; several bands and no ``band``; no image in ``band``; none before
        ``before``; the position on none of them. Each message names what was asked.
    """
    if not images:
        raise ValueError("no images given: difference imaging needs a list of Images")
    ra, dec = position
    bands = sorted({str(im.band) for im in images})
    if band is None:
        if len(bands) > 1:
            raise ValueError(f"the images span bands {bands}; give band= (one of them)")
        band = bands[0]
    chosen = [im for im in images if im.band == band]
    if not chosen:
        raise ValueError(f"no image in band {band!r}; the images are in {bands}")
    if before is not None:
        dates = [im.mjd for im in chosen]
        chosen = [im for im in chosen if im.mjd is not None and im.mjd < before]
        if not chosen:
            known = sorted(d for d in dates if d is not None)
            raise ValueError(f"no {band} image before MJD {before} for the reference (the "
                             f"{band} images span MJD {known[0] if known else '?'}–"
                             f"{known[-1] if known else '?'})")
    on = [im for im in chosen if bool(im.includes_radec(ra, dec))]
    if not on:
        raise ValueError(f"the position (ra, dec) = ({ra:.6f}, {dec:.6f}) is on none of the "
                         f"{len(chosen)} {band} image(s)")
    return on, band


def _stamp(image: Any, ra: float, dec: float, size: int, psf: Any) -> Any:
    from snapscope.batch import psf_for

    return cut_stamp(image, ra, dec, size, psf_for(psf, image, imagesampled=True))


def _planes(stamp: Any, zeropoint: float, grid: Any) -> tuple[np.ndarray, float]:
    """Planes (data, variance, bad, psf) of a stamp at ``zeropoint`` on ``grid``, and its weight.

    ``grid=None`` keeps the stamp's own grid.
    """
    scale = 10.0 ** (0.4 * (zeropoint - stamp.zeropoint))
    planes = np.stack([stamp.data * scale, stamp.variance * scale**2, stamp.bad, stamp.psf])
    if grid is not None:
        planes = resample(planes, stamp.wcs, grid, stamp.data.shape)
    good = (planes[2] == 0) & np.isfinite(planes[0])
    weight = 1.0 / float(np.median(planes[1][good])) if good.any() else 0.0
    return planes, weight


def _resampled(image: Any, ra: float, dec: float, size: int, psf: Any, grid: Any,
               zeropoint: float) -> tuple[np.ndarray, float]:
    """One input, cut and resampled onto the reference grid (the per-image step)."""
    return _planes(_stamp(image, ra, dec, size, psf), zeropoint, grid)


def build_reference(images: Iterable[Any], position: Any, psf: Any, *, band: str | None = None,
                    before: float | None = None, size: int = 65, kernel_half: int = 5,
                    client: Any = None, workers: int | None = None, progress: bool = False,
                    callback: Callable[[int, int], Any] | None = None) -> Reference:
    """Coadd the stamps of many images of one band into a reference (module docstring).

    Parameters
    ----------
    images : iterable of Image
        Candidate images (e.g. every epoch of the field).
    position : str, SkyCoord or (float, float)
        The sky position (:func:`snapscope.batch.parse_position`).
    psf : PSF, mapping band → PSF, or callable image → PSF
        Each image's PSF, as in :func:`snapscope.batch.forced_photometry`.
    band : str, optional
        The band, needed when the images span several.
    before : float, optional
        Use only the images earlier than this MJD.
    size : int
        Side (odd, pixels) of the science stamps the reference is for.
    kernel_half : int
        Half-size of the PSF-matching kernel the differences will use.
    client, workers, progress, callback
        How the per-image step (cut, resample) runs: as :func:`snapscope.batch.forced_photometry`,
        but in :func:`~snapscope.diff.default_workers` threads by default.

    Returns
    -------
    Reference

    Raises
    ------
    ValueError
        See :func:`select_images`; also for an unreadable position or bad sizes.
    """
    from snapscope.batch import image_key, parse_position, portable, run
    from snapscope.image import Numpy2DImage

    check_sizes(size, kernel_half)
    ra, dec = parse_position(position)
    chosen, band = select_images(list(images), (ra, dec), band, before)
    side = reference_size(size, kernel_half)
    first = _stamp(chosen[0], ra, dec, side, psf)
    grid, zeropoint = first.wcs, first.zeropoint
    items = [portable(im) for im in chosen] if client is not None else chosen
    results = run(_resampled, items[1:], shared={"ra": ra, "dec": dec, "size": side, "psf": psf,
                                                 "grid": grid, "zeropoint": zeropoint},
                  client=client, workers=default_workers() if workers is None else workers, progress=progress,
                  desc="reference",
                  callback=callback)
    results.insert(0, _planes(first, zeropoint, None))
    planes = np.stack([r[0] for r in results])  # (n, 4, side, side)
    weights = np.array([r[1] for r in results])
    if not weights.sum() > 0:
        raise ValueError(f"no good pixels at ({ra:.6f}, {dec:.6f}) in the {band} reference images")
    good = (planes[:, 2] == 0) & np.isfinite(planes[:, 0])
    w = np.where(good, weights[:, None, None], 0.0)
    total = w.sum(axis=0)
    covered = total > 0
    norm = np.where(covered, total, 1.0)
    data = np.where(covered, np.sum(w * np.where(good, planes[:, 0], 0.0), axis=0) / norm, 0.0)
    variance = np.sum(w**2 * np.where(good, planes[:, 1], 0.0), axis=0) / norm**2
    noise = np.sqrt(variance)  # 0 where flagged (no input)
    flags = np.where(covered, 0, DO_NOT_USE).astype(np.int32)
    fractions = weights / weights.sum()
    psf_plane = np.tensordot(fractions, np.nan_to_num(planes[:, 3]), axes=1)
    mjds = [im.mjd for im in chosen if im.mjd is not None]
    image = Numpy2DImage(data=data, noise=noise, flags=flags, wcs=grid, band=band,
                         mjd=max(mjds) if mjds else None, zeropoint=zeropoint)
    return Reference(image=image, psf=psf_plane, ra=ra, dec=dec,
                     inputs=[image_key(im) for im in chosen], weights=fractions)


def check_sizes(size: Any, kernel_half: Any) -> None:
    """Raise ValueError unless ``size`` is a positive odd int and ``kernel_half`` a positive int."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd number of pixels, not {size!r}")
    if isinstance(kernel_half, bool) or not isinstance(kernel_half, int) or kernel_half < 1:
        raise ValueError(f"kernel_half must be a positive integer, not {kernel_half!r}")

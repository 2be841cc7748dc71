"""PSFs stored as (oversampled) images: ``OversampledImagePSF`` and ``photutilsImagePSF``."""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage

from ._base import PSF

if TYPE_CHECKING:
    from astropy.io.fits import Header

__all__ = ["OversampledImagePSF", "photutilsImagePSF"]


def _read_psf_file(path: str | Path) -> tuple[np.ndarray, Header]:
    """Return the first 2-D image in a FITS file and its header."""
    from astropy.io import fits

    with fits.open(path) as hdul:
        for hdu in hdul:
            if hdu.data is not None and hdu.data.ndim == 2:
                return np.asarray(hdu.data, dtype=float), hdu.header
    raise ValueError(f"{path} has no 2-D image HDU holding a PSF")


def _load(
    data: np.ndarray | None,
    psffile: str | Path | None,
    oversample_factor: int | None,
    normalize: bool,
) -> tuple[np.ndarray, int, Header | None]:
    """Validate the PSF image and oversampling factor (from arguments or a FITS file).

    Returns a float64 copy of the image (divided by its sum if ``normalize``), the factor and
    the file's header (None for an array).
    """
    if (data is None) == (psffile is None):
        raise ValueError("Give exactly one of data (an array) or psffile (a FITS file)")
    header = None
    if psffile is not None:
        data, header = _read_psf_file(psffile)
        if "OVERSAMP" in header:
            from_file = header["OVERSAMP"]
            if oversample_factor is not None and oversample_factor != from_file:
                raise ValueError(
                    f"oversample_factor={oversample_factor} disagrees with OVERSAMP={from_file} "
                    f"in {psffile}"
                )
            oversample_factor = from_file
    oversample_factor = 1 if oversample_factor is None else oversample_factor
    if (
        not isinstance(oversample_factor, numbers.Real)
        or not float(oversample_factor).is_integer()
        or oversample_factor < 1
    ):
        raise ValueError(f"oversample_factor must be a positive integer, got {oversample_factor!r}")
    arr = np.array(data, dtype=float)  # a copy: later changes to the caller's array don't leak
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise TypeError(f"PSF data must be a square 2-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.sum() <= 0:
        raise ValueError("PSF data must be finite with a positive sum")
    if normalize:
        arr /= arr.sum()
    return arr, int(oversample_factor), header


def _pixel_kernel(n: int) -> np.ndarray:
    """1-D weights integrating over one image pixel sampled ``n`` times per pixel (sum 1).

    A pixel spans ``n`` samples: odd ``n`` → ``n`` whole samples (midpoint rule); even ``n``
    → the pixel edges fall on samples, weighted ½ (trapezoid rule). Either way the kernel
    has odd length and is centred.
    """
    if n % 2:
        return np.full(n, 1.0 / n)
    kernel = np.ones(n + 1)
    kernel[[0, -1]] = 0.5
    return kernel / n


def _stamp_size_for(data_side: int, n: int) -> int:
    size = data_side // n
    return size + 1 if size % 2 == 0 else size


class _OversampledArray:
    """Properties shared by the PSFs built from an oversampled array (``_data``, ``_oversamp``)."""

    _data: np.ndarray
    _oversamp: int

    @property
    def oversample_factor(self) -> int:
        """Samples per image pixel along each axis."""
        return self._oversamp

    @property
    def oversampled_data(self) -> np.ndarray:
        """The PSF image as given (a copy, normalised if asked)."""
        return self._data

    @property
    def stamp_size(self) -> int:
        """``floor(side / oversample_factor)``, made odd."""
        return _stamp_size_for(self._data.shape[0], self._oversamp)


class OversampledImagePSF(_OversampledArray, PSF, psfclass="OversampledImagePSF"):
    """A PSF given as an image sampled ``oversample_factor`` times per image pixel.

    The PSF centre (fiducial point) is the centre of the data array, ``(side - 1) / 2`` in
    array pixels (the centre pixel for odd sides; photutils' and GalSim's convention). Stamps
    are the effective PSF (the PSF integrated over each image pixel) interpolated with a cubic
    spline at the requested sub-pixel position.

    Differences from snappl: any integer oversampling (odd or even) and any square size is
    accepted; the PSF may be read from a FITS file with an ``OVERSAMP`` keyword (e.g. the
    simulator's ``epsf_{band}_{sca}.fits``); ``x, y`` only set the default position of
    :meth:`get_stamp` (in snappl a fractional ``x, y`` also means the PSF in ``data`` is off
    centre by that fraction).

    Parameters
    ----------
    data : numpy.ndarray, optional
        Square PSF image. Its sum is the fraction of the PSF flux it holds (use
        ``normalize=True`` if it holds all of it). Copied.
    oversample_factor : int, optional
        Samples per image pixel along each axis; default: ``OVERSAMP`` of ``psffile``, else 1.
    psffile : str or pathlib.Path, optional
        FITS file holding the PSF image (first 2-D HDU) instead of ``data``.
    epsf : bool, optional
        True when the image already includes the pixel response (an effective PSF, as made by
        photutils' ``EPSFBuilder`` or the snapscope simulator); False when it is the optical
        PSF and stamps must integrate it over pixels (snappl's convention). Default: False for
        ``data``; for ``psffile``, True unless the header's ``PSFTYPE`` (written by the
        simulator as ``'ePSF'``) names another kind.
    normalize : bool
        Divide the image by its sum (the caller's array is not modified).
    **kwargs
        ``x, y, band, observation_id, sca, image, seed`` (see :class:`PSF`).
    """

    def __init__(
        self,
        data: np.ndarray | None = None,
        oversample_factor: int | None = None,
        psffile: str | Path | None = None,
        epsf: bool | None = None,
        normalize: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._data, self._oversamp, header = _load(data, psffile, oversample_factor, normalize)
        if epsf is None:
            epsf = header is not None and str(header.get("PSFTYPE", "ePSF")).lower() == "epsf"
        self.epsf = bool(epsf)
        n = self._oversamp
        effective = self._data
        if not self.epsf:
            kernel = _pixel_kernel(n)
            effective = ndimage.convolve1d(effective, kernel, axis=0, mode="constant")
            effective = ndimage.convolve1d(effective, kernel, axis=1, mode="constant")
        # Scaled so that samples one image pixel apart sum to 1 (photutils' ImagePSF convention).
        self._epsf = effective * n**2
        self._coeffs = ndimage.spline_filter(self._epsf, order=3, mode="grid-constant")
        self._origin = (self._data.shape[0] - 1) / 2.0

    def _render(self, x: float, y: float, dx: float, dy: float) -> np.ndarray:
        n = self._oversamp
        cols = self._origin + n * self._stamp_offsets(dx)
        rows = self._origin + n * self._stamp_offsets(dy)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        return ndimage.map_coordinates(
            self._coeffs, [rr, cc], order=3, mode="grid-constant", cval=0.0, prefilter=False
        )

    def _oversampled_epsf(self, x: float, y: float) -> tuple[np.ndarray, int]:
        return self._epsf, self._oversamp


class photutilsImagePSF(_OversampledArray, PSF, psfclass="photutilsImagePSF"):  # noqa: N801  (snappl's name)
    """An effective PSF image evaluated with photutils' ``ImagePSF`` (cubic spline).

    ``data`` is the effective PSF (pixel response included) sampled ``oversample_factor``
    times per image pixel, centred at the array centre ``(side - 1) / 2``, summing to the
    fraction of the flux it holds (1 for a complete PSF), as in snappl.

    Parameters
    ----------
    data : numpy.ndarray, optional
        Square effective-PSF image (copied).
    oversample_factor : int, optional
        Samples per image pixel; default: ``OVERSAMP`` of ``psffile``, else 1.
    psffile : str or pathlib.Path, optional
        FITS file holding the image (first 2-D HDU) instead of ``data``.
    normalize : bool
        Divide the image by its sum (the caller's array is not modified).
    **kwargs
        ``x, y, band, observation_id, sca, image, seed`` (see :class:`PSF`).
    """

    def __init__(
        self,
        data: np.ndarray | None = None,
        oversample_factor: int | None = None,
        psffile: str | Path | None = None,
        normalize: bool = False,
        **kwargs: Any,
    ) -> None:
        from photutils.psf import ImagePSF

        super().__init__(**kwargs)
        self._data, self._oversamp, _ = _load(data, psffile, oversample_factor, normalize)
        self._model = ImagePSF(self._data * self._oversamp**2, oversampling=self._oversamp)

    def _render(self, x: float, y: float, dx: float, dy: float) -> np.ndarray:
        centre = self.stamp_size // 2
        yy, xx = np.mgrid[0 : self.stamp_size, 0 : self.stamp_size].astype(float)
        return self._model.evaluate(xx, yy, 1.0, centre + dx, centre + dy)

    def _oversampled_epsf(self, x: float, y: float) -> tuple[np.ndarray, int]:
        return self._model.data, self._oversamp

"""The simulator's PSF: GalSim's Roman optical PSF as an effective (pixel-convolved) PSF.

``galsim.roman.getPSF(sca, band, wavelength=bandpass, pupil_bin=8)`` is achromatic at the band's
effective wavelength and oriented along the SCA's pixel axes; scaled by the mean pixel scale it is
the PSF in pixel units (exactly what ``wcs.local(pos).toImage`` of the world-coordinate PSF
gives, without depending on the pointing, so every exposure and every worker process gets
bit-identical stamps). It is convolved with the pixel, drawn 4× oversampled in a 128-pixel box,
normalised to unit sum and wrapped in an ``InterpolatedImage`` (Lanczos-5), which is drawn with
``method='no_pixel'``.

One ePSF per band and SCA, evaluated at the SCA centre and used for every source of every
exposure on that SCA (the Roman PSF changes little across an SCA; this keeps
``epsf_{band}_{sca}.fits`` exactly the PSF the pixels were drawn with).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from snapscope._utils._optional import require
from snapscope.roman import PIXEL_SCALE, SCA_PIXELS, check_band

require("galsim", purpose="simulating Roman images (snapscope.sim)")
import galsim  # noqa: E402
import galsim.roman  # noqa: E402

__all__ = ["EPSF", "OVERSAMPLING", "BOX", "epsf", "epsf_header"]

#: Oversampling of the stored ePSF and its side in native pixels.
OVERSAMPLING = 4
BOX = 128
PUPIL_BIN = 8


class EPSF(NamedTuple):
    """An effective PSF: the oversampled array (sum 1) and the GalSim profile in pixel units."""

    band: str
    sca: int
    array: np.ndarray
    profile: Any


@functools.lru_cache(maxsize=32)
def _bandpass(band: str) -> Any:
    return galsim.roman.getBandpasses()[band]


def bandpass(band: str) -> Any:
    """GalSim's Roman bandpass for ``band`` (AB zeropoint set), cached per process."""
    return _bandpass(check_band(band))


@functools.lru_cache(maxsize=16)
def epsf(band: str, sca: int) -> EPSF:
    """Return the ePSF of ``band`` on SCA ``sca`` (cached per process).

    Parameters
    ----------
    band : str
        Roman band.
    sca : int
        Detector, 1–18.
    """
    bp = bandpass(band)
    optical = galsim.roman.getPSF(sca, band, wavelength=bp, pupil_bin=PUPIL_BIN)
    in_pixels = galsim.PixelScale(PIXEL_SCALE).toImage(optical)
    n = BOX * OVERSAMPLING
    image = galsim.Convolve(in_pixels, galsim.Pixel(1.0)).drawImage(
        nx=n, ny=n, scale=1.0 / OVERSAMPLING, method="no_pixel"
    )
    array = image.array / image.array.sum()
    image = galsim.ImageD(array, scale=1.0 / OVERSAMPLING)
    profile = galsim.InterpolatedImage(image, x_interpolant="lanczos5")
    array.setflags(write=False)
    return EPSF(band, sca, array, profile)


def epsf_header(psf: EPSF) -> dict[str, Any]:
    """FITS keywords describing an ePSF file (``epsf_{band}_{sca}.fits``)."""
    centre = (SCA_PIXELS + 1) / 2.0
    return {
        "BAND": (psf.band, "Roman filter"),
        "FILTER": (psf.band, "Roman filter"),
        "SCA_NUM": (psf.sca, "detector"),
        "SCA_X": (centre, "PSF position on the SCA (1-based pixels)"),
        "SCA_Y": (centre, "PSF position on the SCA (1-based pixels)"),
        "OVERSAMP": (OVERSAMPLING, "samples per native pixel"),
        "PUPILBIN": (PUPIL_BIN, "galsim.roman.getPSF pupil_bin"),
        "WAVELEN": (bandpass(psf.band).effective_wavelength, "[nm] achromatic PSF wavelength"),
        "PSFTYPE": ("ePSF", "optical PSF convolved with the pixel"),
        "NORMSUM": (1.0, "array sum; photutils wants data*OVERSAMP**2"),
        "COMMENT": "Centred at ((N-1)/2, (N-1)/2), 0-based. The simulator drew every source "
        "of this band and SCA with this PSF (GalSim InterpolatedImage, lanczos5).",
    }


def write_epsf(path: Path, psf: EPSF) -> None:
    """Write ``psf`` to ``path`` (float32 image in the primary HDU), unless it is already there."""
    import io

    from astropy.io import fits

    from snapscope.sim._write import write_bytes_if_changed

    header = fits.Header()
    for key, value in epsf_header(psf).items():
        if key == "COMMENT":
            header["COMMENT"] = value
        else:
            header[key] = value
    buffer = io.BytesIO()
    fits.PrimaryHDU(psf.array.astype(np.float32), header=header).writeto(buffer)
    write_bytes_if_changed(path, buffer.getvalue())

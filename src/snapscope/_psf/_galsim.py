"""``ou24PSF``: the GalSim model of the Roman WFI PSF (as used by OpenUniverse 2024)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .._utils._optional import require
from ._base import PSF, check_stamp_size

__all__ = ["ou24PSF", "galsim_band"]

_PURPOSE = "the Roman PSF (ou24PSF)"
#: Roman data-model filter names → GalSim band names.
_BAND_ALIASES = {
    "F062": "R062",
    "F087": "Z087",
    "F106": "Y106",
    "F129": "J129",
    "F158": "H158",
    "F146": "W146",
    "F213": "K213",
}
_SCA_PIXELS = 4088
_N_SCA = 18
#: GalSim PSFs are computed (and cached) at SCA positions rounded to this many pixels: the
#: Roman PSF changes little over such distances, and computing one takes ~0.2 s.
POSITION_GRID = 64


def galsim_band(band: str) -> str:
    """Return GalSim's name of a Roman filter (``'F106'`` → ``'Y106'``; ``'Y106'`` stays)."""
    return _BAND_ALIASES.get(band, band)


@functools.cache
def _bandpass(band: str) -> Any:
    bandpasses = require("galsim.roman", purpose=_PURPOSE).getBandpasses()
    if band not in bandpasses:
        known = ", ".join(sorted(bandpasses) + sorted(_BAND_ALIASES))
        raise ValueError(f"Unknown Roman band {band!r}; known: {known}")
    return bandpasses[band]


@functools.lru_cache(maxsize=64)
def _pixel_psf(band: str, sca: int, sca_x: float, sca_y: float, pupil_bin: int) -> Any:
    """Return the GalSim PSF (pixel units, detector axes) at 1-origin SCA position (x, y)."""
    galsim = require("galsim", purpose=_PURPOSE)
    roman = require("galsim.roman", purpose=_PURPOSE)

    world = roman.getPSF(
        sca,
        band,
        SCA_pos=galsim.PositionD(sca_x, sca_y),
        wavelength=_bandpass(band),
        pupil_bin=pupil_bin,
    )
    # getPSF returns arcsec units aligned with the detector axes (GalSim's own comment), so the
    # mean pixel scale converts it to pixels whatever the image's sky WCS is.
    return galsim.PixelScale(roman.pixel_scale).toImage(world)


def _grid_position(v: float) -> float:
    """1-origin SCA coordinate of 0-origin pixel ``v``, rounded to POSITION_GRID, on the SCA."""
    snapped = POSITION_GRID * math.floor((v + 1.0) / POSITION_GRID + 0.5)
    return float(min(max(snapped, 1), _SCA_PIXELS))


class ou24PSF(PSF, psfclass="ou24PSF"):  # noqa: N801  (snappl's name)
    """The GalSim Roman WFI PSF for a band, detector (SCA) and detector position.

    Achromatic, at the band's effective wavelength (as the snapscope simulator draws stars),
    from ``galsim.roman.getPSF`` (offline: GalSim ships the pupil and aberration data). Stamps
    are drawn by GalSim, including the pixel response, so they are exact at any sub-pixel
    offset. Needs the ``sim`` extra (``pip install 'snapscope[sim]'``).

    ``x, y`` are taken as 0-origin detector pixels when choosing the PSF (rounded to
    :data:`POSITION_GRID` pixels); for a sub-image, pass detector coordinates.

    Parameters
    ----------
    stamp_size : int
        Odd stamp side (41 holds ~98% of the flux in Y106).
    pupil_bin : int
        Pupil-plane binning passed to GalSim (8: fast and accurate enough; 4: finer).
    **kwargs
        ``x, y, band, observation_id, sca, image, seed`` (see :class:`PSF`). ``band`` (Roman
        or data-model name, e.g. ``'Y106'`` or ``'F106'``) and ``sca`` (1–18) are required,
        or taken from ``image``.
    """

    def __init__(self, stamp_size: int = 41, pupil_bin: int = 8, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self._band is None and self._image is not None:
            self._band = self._image.band
        if self._sca is None and self._image is not None and self._image.sca is not None:
            self._sca = int(self._image.sca)
        if self._band is None:
            raise ValueError("ou24PSF needs a band (or an image with one)")
        if self._sca is None or not 1 <= self._sca <= _N_SCA:
            raise ValueError(f"ou24PSF needs sca between 1 and {_N_SCA}, got {self._sca}")
        self._galsim_band = galsim_band(self._band)
        _bandpass(self._galsim_band)  # fail now on an unknown band (or missing galsim)
        self._stamp_size = check_stamp_size(stamp_size)
        self.pupil_bin = int(pupil_bin)

    @property
    def stamp_size(self) -> int:
        """Side of the stamps returned by :meth:`get_stamp` (odd)."""
        return self._stamp_size

    def _default_position(self) -> tuple[float, float]:
        centre = _SCA_PIXELS / 2
        return centre, centre

    def _galsim_psf(self, x: float, y: float) -> Any:
        return _pixel_psf(
            self._galsim_band, self._sca, _grid_position(x), _grid_position(y), self.pupil_bin
        )

    def _render(self, x: float, y: float, dx: float, dy: float) -> np.ndarray:
        size = self._stamp_size
        image = self._galsim_psf(x, y).drawImage(
            nx=size, ny=size, scale=1.0, offset=(dx, dy), dtype=np.float64
        )
        return image.array

    def _oversampled_epsf(self, x: float, y: float) -> tuple[np.ndarray, int]:
        galsim = require("galsim", purpose=_PURPOSE)
        n = self.photutils_oversampling
        side = n * self._stamp_size
        epsf = galsim.Convolve(self._galsim_psf(x, y), galsim.Pixel(1.0))
        image = epsf.drawImage(nx=side, ny=side, scale=1.0 / n, method="no_pixel", dtype=np.float64)
        return image.array * n**2, n

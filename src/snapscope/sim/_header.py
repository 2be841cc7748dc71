"""An exposure's photometric scale, sky level and FITS header.

Photometric scale: SCI is e⁻ per exposure; ``ZP_AB = bandpass.zeropoint + ZPTMAG`` with
``ZPTMAG = 2.5 log10(EXPTIME · collecting area)``, the OU2024 convention, so readers that add the
GalSim bandpass zeropoint to ZPTMAG get ZP_AB. Sky: zodiacal light from
``galsim.roman.getSkyLevel`` at the image centre and date, plus 10 % stray light
(``galsim.roman.stray_light_fraction``, as roman_imsim does), times the local pixel area, plus
the band's thermal background.

The header of SCI, ERR and DQ is GalSim's TAN-SIP WCS of the sub-array (``writeToFitsHeader``
re-centres CRPIX/CRVAL on it) plus the OU2024 keywords and snappl's "standard" ones; HDU0 gets
the identification keywords only.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from snapscope.roman import EXPTIME
from snapscope.sim._noise import DARK_CURRENT, READ_NOISE, SATURATION
from snapscope.sim._pointing import Pointing, galsim, mjd_to_datetime
from snapscope.sim._psf import bandpass
from snapscope.sim._write import clean_wcs_header

__all__ = ["Scale", "exposure_scale", "image_cards", "PRIMARY_KEYS"]

#: Keywords repeated in the (data-less) primary header.
PRIMARY_KEYS = ("TELESCOP", "INSTRUME", "FILTER", "SCA_NUM", "POINTING", "MJD-OBS", "EXPTIME",
                "SIMSEED", "ORIGIN")


class Scale(NamedTuple):
    """Exposure time (s), ZPTMAG, AB zeropoint and sky (e⁻/pixel) of an exposure."""

    exptime: float
    zptmag: float
    zp_ab: float
    sky: float


def exposure_scale(band: str, pointing: Pointing, wcs: Any) -> Scale:
    """Return the photometric scale and sky level of an exposure in ``band`` at ``pointing``."""
    bp = bandpass(band)
    exptime = EXPTIME[band]
    zptmag = 2.5 * math.log10(exptime * galsim.roman.collecting_area)
    centre = pointing.bounds.true_center
    zodi = galsim.roman.getSkyLevel(bp, world_pos=wcs.toWorld(centre), exptime=exptime,
                                    date=mjd_to_datetime(pointing.mjd))
    sky = (zodi * (1.0 + galsim.roman.stray_light_fraction) * wcs.local(centre).pixelArea()
           + galsim.roman.thermal_backgrounds[band] * exptime)
    return Scale(exptime, zptmag, bp.zeropoint + zptmag, sky)


def _position_angle(wcs: Any, pos: Any) -> float:
    """Position angle (deg east of north) of the image +y axis at SCA pixel ``pos``."""
    a = wcs.toWorld(pos)
    b = wcs.toWorld(galsim.PositionD(pos.x, pos.y + 1.0))
    north = galsim.CelestialCoord(a.ra, 90.0 * galsim.degrees)
    return float(a.angleBetween(north, b).deg % 360.0)


def image_cards(*, band: str, number: int, pointing: Pointing, wcs: Any, scale: Scale,
                seed: int, scene_seed: int) -> list[tuple[str, Any, str]]:
    """Return the ``(key, value, comment)`` cards of the SCI/ERR/DQ headers.

    Parameters
    ----------
    band : str
        Roman band.
    number : int
        Visit number (``POINTING``).
    pointing : Pointing
        Geometry of the exposure.
    wcs : galsim.GSFitsWCS
        WCS of the whole SCA.
    scale : Scale
        Photometric scale and sky.
    seed, scene_seed : int
        Seeds of the exposure and of the sky.
    """
    header = galsim.FitsHeader()
    wcs.writeToFitsHeader(header, pointing.bounds)
    centre = pointing.bounds.true_center
    world = wcs.toWorld(centre)
    mjd = pointing.mjd
    cards = [c for c in clean_wcs_header(header) if c[0] != "INSTRUME"]
    return cards + [
        ("INSTRUME", "WFI", "Wide Field Instrument"),
        ("FILTER", band, "Roman filter"),
        ("BAND", band, "Roman filter"),
        ("SCA", pointing.sca, "detector"),
        ("POINTING", number, "visit number"),
        ("MJD-OBS", mjd, "[d] start of exposure (MJD)"),
        ("MJD", mjd, "[d] start of exposure (MJD)"),
        ("DATE-OBS", mjd_to_datetime(mjd).isoformat(timespec="milliseconds"), "start (UTC)"),
        ("EXPTIME", scale.exptime, "[s] exposure time"),
        ("ZPTMAG", scale.zptmag, "2.5 log10(EXPTIME * collecting area)"),
        ("ZP_AB", scale.zp_ab, "AB zeropoint: bandpass zeropoint + ZPTMAG"),
        ("ZPT", scale.zp_ab, "AB zeropoint (same as ZP_AB)"),
        ("BUNIT", "electron", "e- per exposure"),
        ("GAIN", galsim.roman.gain, "[e-/e-] data are electrons"),
        ("RDNOISE", READ_NOISE, "[e-] read noise"),
        ("SKY_MEAN", scale.sky, "[e-] mean sky per pixel, left in SCI"),
        ("SKYLEVEL", scale.sky, "[e-] mean sky per pixel, left in SCI"),
        ("SATURATE", SATURATION - DARK_CURRENT * scale.exptime, "[e-] value of saturated pixels"),
        ("RA", world.ra.deg, "[deg] image centre"),
        ("DEC", world.dec.deg, "[deg] image centre"),
        ("POSANG", _position_angle(wcs, centre), "[deg] PA of image +y, E of N"),
        ("X0_SCA", pointing.x0, "SCA pixel of image pixel 0 (0-based)"),
        ("Y0_SCA", pointing.y0, "SCA pixel of image pixel 0 (0-based)"),
        ("SIMSEED", seed, "snapscope.sim seed (noise, dither)"),
        ("SCNSEED", scene_seed, "snapscope.sim scene seed"),
        ("ORIGIN", "snapscope.sim", "simulated with GalSim's Roman module"),
    ]

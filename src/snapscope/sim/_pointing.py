"""Where each simulated exposure looks: boresight, roll, SCA, sub-array and GalSim's Roman WCS.

Decisions
---------
* **WCS.** ``galsim.roman.getWCS`` (the real TAN-SIP model of every SCA). GalSim refuses
  positions it thinks the Sun forbids on that date (OU2024 dates fail that check), so
  :func:`any_position_allowed` replaces ``galsim.roman.roman_wcs.allowedPos`` for the duration of
  a ``with`` block and always restores it (roman_imsim does the same with ``force_cvz``).
* **Roll.** ``pa=None`` follows OU2024's TDS roll law: the roll advances 1.972° per day (about
  720° a year; fitted to seven OU2024 visits of the SN field, the six below and 13205, within
  0.29°), so exposures at different epochs have different rolls and the bands of one epoch share
  theirs.
* **Dither.** Synthetic exposures put the field centre at the SCA centre offset by a dither
  uniform in ±15 % of the image size in x and y (drawn from the exposure seed), so every exposure
  of a position has its own WCS.
* **Boresight.** Found exactly by turning the focal plane rigidly from an equatorial pointing
  (``_boresight_for``), so the requested roll is the focal plane's position angle *at the field*;
  ``PA_FPA`` in the header (GalSim's, at the boresight) differs from it by the convergence of
  the meridians between boresight and field: tenths of a degree at |Dec| ≈ 45°, anything near
  a pole, where a fixed boresight roll cannot reach every field at all. This is what makes
  fields at the poles and across RA = 0 work (``galsim.roman.convertCenter`` iterates in RA and
  Dec and fails near the poles).
* **Sub-arrays.** An image smaller than 4088² is a sub-array of the SCA (SCA pixel =
  image pixel + ``X0_SCA``/``Y0_SCA``, 0-based), centred on the SCA for synthetic exposures and on
  the SN (kept inside the SCA) for OU2024 visits. Defects and the PSF are defined in SCA pixels.
* **Visit numbers.** Synthetic ``pointing = round(100·MJD)·10 + band digit`` (unique per band and
  0.01 d). ``ou2024_pointings`` replays six real Y106 visits (boresight, roll and SCA recovered
  by fitting GalSim's WCS to the public OU2024 truth tables: 0.001 px rms, and the SCA corner of
  visit 13205 reproduces snappl's test value to 1e-8°). The H158 (or other band) exposures of
  those visits use the same boresight, roll and SCA 0.005·digit d later; their real visit
  numbers are not public, so they are numbered ``visit + 100000·band digit``, outside OU2024's
  range so they can never be mistaken for real visits.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from snapscope._utils._optional import require
from snapscope.roman import BAND_CODE, SCA_PIXELS

require("galsim", purpose="simulating Roman images (snapscope.sim)")
import galsim  # noqa: E402
import galsim.roman  # noqa: E402
import galsim.roman.roman_wcs  # noqa: E402

__all__ = [
    "Pointing",
    "OU2024_VISITS",
    "any_position_allowed",
    "default_pointing",
    "default_roll",
    "mjd_to_datetime",
    "synthetic_pointing",
    "ou2024_pointing",
]

_MJD_ZERO = datetime.datetime(1858, 11, 17)
#: Dither amplitude, as a fraction of the image side.
DITHER = 0.15
#: OU2024 roll law: PA_FPA = ROLL_REF + ROLL_RATE·(MJD - ROLL_MJD) (deg, deg/day).
ROLL_MJD, ROLL_REF, ROLL_RATE = 62455.669, 177.5621, 1.97201
#: Offset of the visit numbers given to non-Y106 exposures of OU2024 visits.
COMPANION_OFFSET = 100_000


class _Visit(NamedTuple):
    sca: int
    mjd: float
    ra_targ: float
    dec_targ: float
    pa_fpa: float


#: Six real OU2024 Y106 visits that contain SN 20172782 (the first is before the explosion).
OU2024_VISITS = {
    5934: _Visit(3, 62075.648, 7.37202, -44.58750, 147.94515),
    35198: _Visit(2, 62455.669, 7.59898, -44.72590, 177.53441),
    35967: _Visit(3, 62465.665, 7.71213, -44.54150, 197.26021),
    36736: _Visit(15, 62475.661, 7.50628, -44.45790, 216.98657),
    38645: _Visit(15, 62500.579, 7.80171, -44.63090, 266.30162),
    39790: _Visit(15, 62515.527, 8.00613, -44.71020, 295.89031),
}


@contextlib.contextmanager
def any_position_allowed() -> Iterator[None]:
    """Let GalSim's Roman WCS look anywhere on any date inside the ``with`` block.

    Replaces ``galsim.roman.roman_wcs.allowedPos`` by a function that always says yes and
    restores the original on exit (also on error). Not thread-safe: the simulator runs
    exposures in processes, never in threads.
    """
    module = galsim.roman.roman_wcs
    original = module.allowedPos
    module.allowedPos = lambda *args, **kwargs: True
    try:
        yield
    finally:
        module.allowedPos = original


def mjd_to_datetime(mjd: float) -> datetime.datetime:
    """Naive UTC datetime of ``mjd`` (no leap seconds: they do not matter for pointing or sky)."""
    return _MJD_ZERO + datetime.timedelta(days=float(mjd))


def default_roll(mjd: float) -> float:
    """OU2024-like ``PA_FPA`` (deg) on ``mjd``: it advances 720° per year."""
    return float((ROLL_REF + ROLL_RATE * (mjd - ROLL_MJD)) % 360.0)


def default_pointing(mjd: float, band: str) -> int:
    """Synthetic visit number: ``round(100·mjd)·10 + band digit``."""
    return int(round(mjd * 100.0)) * 10 + BAND_CODE[band]


@dataclass(frozen=True)
class Pointing:
    """One exposure's geometry.

    Attributes
    ----------
    ra_targ, dec_targ : float
        Boresight (centre of the focal plane array), degrees.
    pa_fpa : float
        Position angle of the focal plane (deg east of north), GalSim's ``PA_is_FPA=True``.
    sca : int
        Detector, 1–18.
    mjd : float
        Start of the exposure.
    x0, y0 : int
        0-based SCA pixel of the image's first pixel.
    size : int
        Image side (pixels).
    """

    ra_targ: float
    dec_targ: float
    pa_fpa: float
    sca: int
    mjd: float
    x0: int
    y0: int
    size: int

    @property
    def bounds(self) -> Any:
        """The image's ``galsim.BoundsI`` in 1-based SCA pixels."""
        return galsim.BoundsI(self.x0 + 1, self.x0 + self.size, self.y0 + 1, self.y0 + self.size)

    def sca_wcs(self) -> Any:
        """GalSim's WCS of the whole SCA (1-based SCA pixel coordinates)."""
        return _sca_wcs(self.ra_targ, self.dec_targ, self.pa_fpa, self.sca, self.mjd)



def _sca_wcs(ra: float, dec: float, pa: float, sca: int, mjd: float) -> Any:
    boresight = galsim.CelestialCoord(ra * galsim.degrees, dec * galsim.degrees)
    with any_position_allowed():
        return galsim.roman.getWCS(
            boresight, PA=pa * galsim.degrees, date=mjd_to_datetime(mjd), SCAs=sca, PA_is_FPA=True
        )[sca]


def _frame(ra: float, dec: float) -> np.ndarray:
    """Columns: unit vectors of the position, local east and local north at (ra, dec) (deg)."""
    a, d = np.radians(ra), np.radians(dec)
    return np.array(
        [
            [np.cos(d) * np.cos(a), -np.sin(a), -np.sin(d) * np.cos(a)],
            [np.cos(d) * np.sin(a), np.cos(a), -np.sin(d) * np.sin(a)],
            [np.sin(d), 0.0, np.cos(d)],
        ]
    )


def _radec(vector: np.ndarray) -> tuple[float, float]:
    x, y, z = vector / np.linalg.norm(vector)
    return float(np.degrees(np.arctan2(y, x)) % 360.0), float(
        np.degrees(np.arcsin(np.clip(z, -1, 1)))
    )


def _boresight_for(
    ra: float, dec: float, pixel: Any, sca: int, pa: float, mjd: float
) -> tuple[float, float, float]:
    """Boresight (ra, dec) and ``PA_FPA`` that put SCA ``pixel`` (1-based) on (ra, dec).

    The focal plane is laid out at the equator (boresight RA = Dec = 0, roll ``pa``) and turned
    rigidly so that ``pixel`` lands on (ra, dec) with the same orientation relative to local
    north there. Works everywhere, including the poles, where no boresight roll would do for
    some requested rolls (north swings around the pole); ``PA_FPA`` is the resulting roll.
    """
    reference = _sca_wcs(0.0, 0.0, pa, sca, mjd).toWorld(pixel)
    rotation = _frame(ra, dec) @ _frame(reference.ra.deg, reference.dec.deg).T
    boresight = rotation @ np.array([1.0, 0.0, 0.0])
    b_ra, b_dec = _radec(boresight)
    north = rotation @ np.array([0.0, 0.0, 1.0])  # where the equatorial north went
    frame = _frame(b_ra, b_dec)
    turn = np.degrees(np.arctan2(north @ frame[:, 1], north @ frame[:, 2]))
    return b_ra, b_dec, float((pa + turn) % 360.0)


def synthetic_pointing(
    ra: float, dec: float, *, mjd: float, sca: int, size: int, pa: float, rng: np.random.Generator
) -> Pointing:
    """Return a pointing that puts (ra, dec) near the image centre, dithered by ±15 %.

    Parameters
    ----------
    ra, dec : float
        Field centre (deg).
    mjd : float
        Date of the exposure.
    sca : int
        Detector.
    size : int
        Image side; the image is the central ``size``² sub-array of the SCA.
    pa : float
        Roll (deg): the focal plane's position angle as seen at the field.
    rng : numpy.random.Generator
        Source of the dither.
    """
    dx, dy = rng.uniform(-DITHER, DITHER, size=2) * size
    centre = (SCA_PIXELS + 1) / 2.0
    b_ra, b_dec, pa_fpa = _boresight_for(
        ra, dec, galsim.PositionD(centre + dx, centre + dy), sca, pa, mjd
    )
    offset = (SCA_PIXELS - size) // 2
    return Pointing(b_ra, b_dec, pa_fpa, sca, float(mjd), offset, offset, size)


def ou2024_pointing(
    visit: int, band: str, *, size: int, ra: float, dec: float
) -> tuple[Pointing, int]:
    """Return the pointing of OU2024 visit ``visit`` in ``band``, and its visit number.

    Parameters
    ----------
    visit : int
        A key of :data:`OU2024_VISITS`.
    band : str
        Y106 replays the visit itself; other bands get a companion exposure (module doc).
    size : int
        Image side; the sub-array is centred on (ra, dec) and kept inside the SCA.
    ra, dec : float
        Position to centre the sub-array on (the SN).
    """
    v = OU2024_VISITS[visit]
    if band == "Y106":
        number, mjd = visit, v.mjd
    else:
        number = visit + COMPANION_OFFSET * BAND_CODE[band]
        mjd = round(v.mjd + 0.005 * BAND_CODE[band], 6)
    x, y = _sca_wcs(v.ra_targ, v.dec_targ, v.pa_fpa, v.sca, mjd).radecToxy(ra, dec, units="deg")
    x0, y0 = (int(np.clip(round(c - 1 - (size - 1) / 2), 0, SCA_PIXELS - size)) for c in (x, y))
    return Pointing(v.ra_targ, v.dec_targ, v.pa_fpa, v.sca, mjd, x0, y0, size), number

"""Sky positions as a notebook user types them: degrees, sexagesimal, SkyCoord, lists of those.

Decisions
---------
* Two numbers are degrees (``"7.5511 -44.8072"``, ``"7.5511, -44.8072"``, ``(7.55, -44.8)``).
* Anything with ``:`` or the letters h/d/m/s is sexagesimal: RA in hours when written with
  colons or ``h`` (``"00:30:12.26 -44:48:25.9"``, ``"0h30m12.26s -44d48m25.9s"``), as every
  catalogue writes it; RA written with ``d`` is degrees.
* RA is wrapped into [0, 360); Dec must be in [-90, 90]. Errors are ``ValueError`` whose message
  says what was expected, so a form can show it next to the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["parse_position", "sky_positions"]

_SEXAGESIMAL = re.compile(r"[:hdms°'\"]", re.IGNORECASE)
_EXPECTED = ("expected 'RA Dec' in degrees (e.g. '7.5511 -44.8072') or sexagesimal "
             "(e.g. '00:30:12.26 -44:48:25.9')")


def _checked(ra: float, dec: float) -> tuple[float, float]:
    if not (math.isfinite(ra) and math.isfinite(dec)):
        raise ValueError(f"RA and Dec must be finite numbers, got ({ra}, {dec})")
    if not -90.0 <= dec <= 90.0:
        raise ValueError(f"Dec must be between -90 and 90 degrees, got {dec}")
    return ra % 360.0, dec


def _parse_text(text: str) -> tuple[float, float]:
    text = text.strip()
    if not text:
        raise ValueError(f"no position given; {_EXPECTED}")
    parts = text.replace(",", " ").split()
    if len(parts) == 6:  # "00 30 12.26 -44 48 25.9"
        parts = [":".join(parts[:3]), ":".join(parts[3:])]
    if len(parts) != 2:
        raise ValueError(f"could not read {text!r}: {_EXPECTED}")
    if not _SEXAGESIMAL.search(" ".join(parts)):
        try:
            ra, dec = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(f"could not read {text!r}: {_EXPECTED}") from None
        return _checked(ra, dec)
    from astropy import units as u
    from astropy.coordinates import Angle

    ra_unit = u.deg if re.match(r"^[+-]?\d+(\.\d*)?d", parts[0], re.IGNORECASE) else u.hourangle
    try:
        ra, dec = Angle(parts[0], unit=ra_unit).deg, Angle(parts[1], unit=u.deg).deg
    except (ValueError, TypeError) as err:
        raise ValueError(f"could not read {text!r} ({err}); {_EXPECTED}") from None
    return _checked(float(ra), float(dec))


def parse_position(value: Any) -> tuple[float, float]:
    """Return ``(ra, dec)`` in degrees of one sky position.

    Parameters
    ----------
    value : str, SkyCoord or (float, float)
        ``"7.5511 -44.8072"`` (degrees), ``"00:30:12.26 -44:48:25.9"`` (RA in hours),
        a scalar SkyCoord, or a pair of numbers in degrees.

    Returns
    -------
    tuple of float
        RA in [0, 360) and Dec in [-90, 90], degrees (ICRS).

    Raises
    ------
    ValueError
        When the value cannot be read; the message says what is expected.
    """
    if isinstance(value, str):
        return _parse_text(value)
    if hasattr(value, "icrs") and hasattr(value, "isscalar"):
        if not value.isscalar:
            raise ValueError("parse_position takes one position; use sky_positions for several")
        icrs = value.icrs
        return _checked(float(icrs.ra.deg), float(icrs.dec.deg))
    try:
        ra, dec = value
        return _checked(float(ra), float(dec))
    except (TypeError, ValueError) as err:
        if isinstance(err, ValueError) and ("Dec must" in str(err) or "finite" in str(err)):
            raise
        raise ValueError(f"could not read the position {value!r}: {_EXPECTED}") from None


def sky_positions(positions: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return float64 arrays ``(ra, dec)`` in degrees of one or more sky positions.

    Parameters
    ----------
    positions : str, SkyCoord, (ra, dec) or iterable of those
        One position (see :func:`parse_position`), an array SkyCoord, or a list of positions.

    Raises
    ------
    ValueError
        When a position cannot be read, or none is given.
    """
    if hasattr(positions, "icrs") and hasattr(positions, "isscalar") and not positions.isscalar:
        icrs = positions.icrs
        pairs = [_checked(float(r), float(d))
                 for r, d in zip(icrs.ra.deg, icrs.dec.deg, strict=True)]
    elif _is_single(positions):
        pairs = [parse_position(positions)]
    elif isinstance(positions, Iterable):
        pairs = [parse_position(p) for p in positions]
    else:
        raise ValueError(f"could not read the positions {positions!r}: {_EXPECTED}")
    if not pairs:
        raise ValueError("no positions given")
    ra, dec = zip(*pairs, strict=True)
    return np.array(ra, dtype=float), np.array(dec, dtype=float)


def _is_single(value: Any) -> bool:
    if isinstance(value, str) or hasattr(value, "icrs"):
        return True
    if isinstance(value, tuple | list | np.ndarray) and len(value) == 2:
        return all(isinstance(v, int | float | np.integer | np.floating) for v in value)
    return False

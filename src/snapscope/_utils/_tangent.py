"""The gnomonic (tangent-plane) projection about a sky point, and its inverse.

One implementation for the parts that need it without a WCS object: the simulator places
galaxies and supernovae in tangent-plane offsets, and the widgets' WCS grid interpolates
tangent-plane coordinates (``js/src/wcs.ts`` is its browser twin). Formulas of Calabretta &
Greisen (2002), zenithal TAN with the native pole at the reference point.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["gnomonic", "inverse_gnomonic"]


def gnomonic(ra: Any, dec: Any, ra0: float, dec0: float) -> tuple[np.ndarray, np.ndarray]:
    """Tangent-plane coordinates (radians; xi east, eta north) of (ra, dec) about (ra0, dec0).

    Parameters
    ----------
    ra, dec : float or array
        Positions, degrees.
    ra0, dec0 : float
        The tangent point, degrees.
    """
    a, d = np.radians(ra), np.radians(dec)
    a0, d0 = np.radians(ra0), np.radians(dec0)
    cos_c = np.sin(d0) * np.sin(d) + np.cos(d0) * np.cos(d) * np.cos(a - a0)
    xi = np.cos(d) * np.sin(a - a0) / cos_c
    eta = (np.cos(d0) * np.sin(d) - np.sin(d0) * np.cos(d) * np.cos(a - a0)) / cos_c
    return xi, eta


def inverse_gnomonic(xi: Any, eta: Any, ra0: float, dec0: float) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) in degrees, ra in [0, 360), of tangent-plane coordinates (radians).

    Parameters
    ----------
    xi, eta : float or array
        Tangent-plane coordinates about (ra0, dec0), radians (xi east, eta north).
    ra0, dec0 : float
        The tangent point, degrees.
    """
    a0, d0 = np.radians(ra0), np.radians(dec0)
    xi, eta = np.asarray(xi, dtype=float), np.asarray(eta, dtype=float)
    rho = np.hypot(xi, eta)
    c = np.arctan(rho)
    sin_c, cos_c = np.sin(c), np.cos(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(rho > 0, eta * sin_c / np.where(rho > 0, rho, 1.0), 0.0)
    dec = np.arcsin(np.clip(cos_c * np.sin(d0) + ratio * np.cos(d0), -1.0, 1.0))
    ra = a0 + np.arctan2(xi * sin_c, rho * np.cos(d0) * cos_c - eta * np.sin(d0) * sin_c)
    return np.degrees(ra) % 360.0, np.degrees(dec)

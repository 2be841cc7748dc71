"""Synthetic image footprints for tests, benchmarks and demos of the catalogue.

Footprints are squares of a given angular size (gnomonic, so their edges are great circles)
with random centres and rotations; a chosen fraction sits on RA = 0/360 and near the poles,
where naive (RA, Dec) boxes fail.
"""

from __future__ import annotations

import numpy as np

from snapscope.db._spatial import radec_to_xyz

__all__ = ["random_footprints", "xyz_to_radec"]


def xyz_to_radec(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Convert unit vectors (..., 3) to (ra, dec) in degrees, ra in [0, 360)."""
    ra = np.degrees(np.arctan2(v[..., 1], v[..., 0])) % 360.0
    dec = np.degrees(np.arctan2(v[..., 2], np.hypot(v[..., 0], v[..., 1])))
    return ra, dec


def random_footprints(
    n: int,
    size: float | tuple[float, float] = 0.125,
    seed: int = 0,
    ra0_fraction: float = 0.2,
    pole_fraction: float = 0.2,
) -> dict[str, np.ndarray]:
    """Random square footprints.

    Parameters
    ----------
    n : int
        Number of footprints.
    size : float or (float, float)
        Side in degrees, or a range to draw log-uniformly from.
    seed : int
        Random seed.
    ra0_fraction, pole_fraction : float
        Fractions centred within 1 degree of RA = 0, and above |Dec| = 85.

    Returns
    -------
    dict
        ``ra``, ``dec`` (centres) and ``ra_corner_00`` ... ``dec_corner_10`` arrays, corners in
        snappl's pixel order (00 = first pixel, 01 = +y, 11, 10 = +x).
    """
    rng = np.random.default_rng(seed)
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    n0, npole = int(n * ra0_fraction), int(n * pole_fraction)
    ra[:n0] = rng.uniform(-1, 1, n0) % 360
    dec[n0 : n0 + npole] = rng.choice([-1.0, 1.0], npole) * rng.uniform(85, 90, npole)
    if np.ndim(size):
        side = np.exp(rng.uniform(np.log(size[0]), np.log(size[1]), n))
    else:
        side = np.full(n, float(size))
    c = radec_to_xyz(ra, dec)
    east = np.cross([0.0, 0.0, 1.0], c)
    polar = np.linalg.norm(east, axis=1) < 1e-9
    east[polar] = [0.0, 1.0, 0.0]
    east /= np.linalg.norm(east, axis=1)[:, None]
    north = np.cross(c, east)
    theta = rng.uniform(0, 2 * np.pi, n)
    ex = np.cos(theta)[:, None] * east + np.sin(theta)[:, None] * north  # image +x
    ey = -np.sin(theta)[:, None] * east + np.cos(theta)[:, None] * north  # image +y
    h = np.tan(np.radians(side) / 2)[:, None]
    out = {"ra": ra % 360, "dec": dec}
    for name, sx, sy in (("00", -1, -1), ("01", -1, 1), ("11", 1, 1), ("10", 1, -1)):
        p = c + h * (sx * ex + sy * ey)
        p /= np.linalg.norm(p, axis=1)[:, None]
        out[f"ra_corner_{name}"], out[f"dec_corner_{name}"] = xyz_to_radec(p)
    return out

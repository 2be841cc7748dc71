"""Brute-force spherical geometry in numpy, independent of snapscope's SQL and cell index.

Point in polygon: project polygon and point gnomonically on the plane tangent at the polygon's
centre (great circles become straight lines) and count ray crossings in that plane.
Circle-polygon distance: densely sample the edges (slerp) and take the nearest sample.
"""

from __future__ import annotations

import numpy as np


def unit(ra, dec):
    ra, dec = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], -1)


def _tangent(poly):
    c = poly.sum(0)
    c /= np.linalg.norm(c)
    a = np.cross([0.0, 0.0, 1.0], c)
    if np.linalg.norm(a) < 1e-9:
        a = np.array([0.0, 1.0, 0.0])
    a /= np.linalg.norm(a)
    b = np.cross(c, a)
    return c, a, b


def contains(poly_ra, poly_dec, ra, dec):
    """Boolean array: which points (ra, dec arrays) lie inside the polygon."""
    poly = unit(np.asarray(poly_ra), np.asarray(poly_dec))
    pts = unit(np.asarray(ra), np.asarray(dec))
    c, a, b = _tangent(poly)
    pd = poly @ c
    qx, qy = (poly @ a) / pd, (poly @ b) / pd
    d = pts @ c
    front = d > 1e-12
    d = np.where(front, d, 1.0)
    x, y = (pts @ a) / d, (pts @ b) / d
    inside = np.zeros(len(pts), bool)
    k = len(qx)
    for i in range(k):
        x1, y1, x2, y2 = qx[i], qy[i], qx[(i + 1) % k], qy[(i + 1) % k]
        cross = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= cross & (x < xi)
    return inside & front


def distance_deg(poly_ra, poly_dec, ra, dec, samples=4000):
    """Angular distance (degrees) from a point to the polygon (0 inside)."""
    if contains(poly_ra, poly_dec, [ra], [dec])[0]:
        return 0.0
    poly = unit(np.asarray(poly_ra), np.asarray(poly_dec))
    p = unit(ra, dec)
    best = -1.0
    t = np.linspace(0, 1, samples)[:, None]
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        omega = np.arccos(np.clip(a @ b, -1, 1))
        if omega < 1e-15:
            s = a[None]
        else:
            s = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
        best = max(best, float((s @ p).max()))
    return float(np.degrees(np.arccos(np.clip(best, -1, 1))))

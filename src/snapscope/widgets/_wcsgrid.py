"""The WCS grid: sky coordinates on a coarse pixel grid, sent to the browser once per image.

The browser turns a cursor position into RA/Dec with no kernel round trip by interpolating this
grid (``js/src/wcs.ts``, the twin of :func:`grid_pixel_to_sky`). To make interpolation nearly
exact, the grid holds gnomonic (tangent-plane) coordinates ``xi, eta`` about the image centre, not
RA/Dec: for a TAN WCS they are affine in the pixel coordinates, and for distorted (SIP) or other
projections they are smooth. Interpolation is bicubic Catmull-Rom, which reproduces quadratics;
the grid spacing is halved until the interpolated positions agree with astropy within
``tol_arcsec`` at the quarter, half and three-quarter points of every cell.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from snapscope._utils._tangent import gnomonic, inverse_gnomonic

__all__ = ["wcs_grid", "grid_pixel_to_sky", "grid_arrays"]


def _catmull_rom(t: np.ndarray) -> list[np.ndarray]:
    t2, t3 = t * t, t * t * t
    return [
        0.5 * (-t3 + 2 * t2 - t),
        0.5 * (3 * t3 - 5 * t2 + 2),
        0.5 * (-3 * t3 + 4 * t2 + t),
        0.5 * (t3 - t2),
    ]


def _interp(grid: dict[str, Any], values: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    nx, ny = grid["nx"], grid["ny"]
    fx = (np.asarray(x, float) - grid["x0"]) / grid["dx"]
    fy = (np.asarray(y, float) - grid["y0"]) / grid["dy"]
    i = np.clip(np.floor(fx).astype(int), 1, nx - 3)
    j = np.clip(np.floor(fy).astype(int), 1, ny - 3)
    wx, wy = _catmull_rom(fx - i), _catmull_rom(fy - j)
    v = values.reshape(ny, nx)
    out = np.zeros(np.broadcast(fx, fy).shape)
    for b in range(4):
        row = sum(wx[a] * v[j + b - 1, i + a - 1] for a in range(4))
        out = out + wy[b] * row
    return out


def grid_arrays(grid: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``xi`` and ``eta`` node values (radians) of a grid made by :func:`wcs_grid`."""
    return np.frombuffer(grid["xi"], "<f8"), np.frombuffer(grid["eta"], "<f8")


def grid_pixel_to_sky(grid: dict[str, Any], x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate sky coordinates from a WCS grid, exactly as the browser does.

    Parameters
    ----------
    grid : dict
        A grid from :func:`wcs_grid`.
    x, y : array-like
        0-based pixel coordinates.

    Returns
    -------
    lon, lat : numpy.ndarray
        Degrees, in the WCS's celestial frame (RA in [0, 360)).
    """
    xi, eta = grid_arrays(grid)
    return inverse_gnomonic(
        _interp(grid, xi, x, y), _interp(grid, eta, x, y), grid["ra0"], grid["dec0"]
    )


def _nodes(wcs, shape: tuple[int, int], step: float, ra0: float, dec0: float) -> dict[str, Any]:
    h, w = shape
    x0 = y0 = -0.5 - step
    nx = int(math.floor((w - 0.5 - x0) / step)) + 4
    ny = int(math.floor((h - 0.5 - y0) / step)) + 4
    gx, gy = np.meshgrid(x0 + step * np.arange(nx), y0 + step * np.arange(ny))
    ra, dec = wcs.celestial.pixel_to_world_values(gx.ravel(), gy.ravel())
    xi, eta = gnomonic(np.asarray(ra), np.asarray(dec), ra0, dec0)
    return {
        "ra0": ra0,
        "dec0": dec0,
        "x0": x0,
        "y0": y0,
        "dx": step,
        "dy": step,
        "nx": nx,
        "ny": ny,
        "xi": xi.astype("<f8").tobytes(),
        "eta": eta.astype("<f8").tobytes(),
    }


def _max_error_arcsec(wcs, grid: dict[str, Any], shape: tuple[int, int]) -> float:
    h, w = shape
    step = grid["dx"]
    # Quarter, half and three-quarter points of every cell, plus the far edges.
    offsets = np.array([0.25, 0.5, 0.75]) * step
    xs = np.clip((np.arange(-0.5, w, step)[:, None] + offsets).ravel(), -0.5, w - 0.5)
    ys = np.clip((np.arange(-0.5, h, step)[:, None] + offsets).ravel(), -0.5, h - 0.5)
    gx, gy = np.meshgrid(np.append(xs, w - 0.5), np.append(ys, h - 0.5))
    gx, gy = gx.ravel(), gy.ravel()
    ra, dec = grid_pixel_to_sky(grid, gx, gy)
    tra, tdec = wcs.celestial.pixel_to_world_values(gx, gy)
    r1, d1, r2, d2 = map(np.radians, (ra, dec, np.asarray(tra), np.asarray(tdec)))
    hav = np.sin((d2 - d1) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((r2 - r1) / 2) ** 2
    sep = 2 * np.arcsin(np.sqrt(np.clip(hav, 0, 1)))
    return float(np.degrees(np.nanmax(sep)) * 3600) if np.isfinite(sep).any() else math.inf


def wcs_grid(
    wcs, shape: tuple[int, int], tol_arcsec: float = 2e-4, max_nodes: int = 129
) -> dict[str, Any] | None:
    """Sample a celestial WCS on a pixel grid fine enough for ``tol_arcsec`` interpolation error.

    Parameters
    ----------
    wcs : astropy.wcs.WCS or None
        Celestial WCS, 0-based pixels.
    shape : tuple of int
        ``(height, width)`` of the image.
    tol_arcsec : float, optional
        Largest allowed interpolation error at the test points (default 0.2 mas).
    max_nodes : int, optional
        Most nodes per axis; the finest grid within it is used if the tolerance is not met.

    Returns
    -------
    dict or None
        JSON-able grid with float64 buffers ``xi``/``eta`` (radians, row-major ``ny × nx``),
        node origin ``x0, y0`` and spacing ``dx, dy`` in pixels, the tangent point
        ``ra0, dec0`` (degrees), ``max_error_arcsec`` as measured, and ``lon_name``/``lat_name``
        for the readout; None when ``wcs`` is None.
    """
    if wcs is None:
        return None
    h, w = shape
    ra0, dec0 = (float(v) for v in wcs.celestial.pixel_to_world_values((w - 1) / 2, (h - 1) / 2))
    step = float(2 ** max(0, math.floor(math.log2(max(h, w) / 8))))
    grid, err = None, math.inf
    while True:
        candidate = _nodes(wcs, shape, step, ra0, dec0)
        if grid is not None and max(candidate["nx"], candidate["ny"]) > max_nodes:
            break
        grid, err = candidate, _max_error_arcsec(wcs, candidate, shape)
        if err <= tol_arcsec or step <= 1:
            break
        step /= 2
    ctype = wcs.celestial.wcs.ctype[0].upper()
    galactic = ctype.startswith("GLON")
    grid.update(
        max_error_arcsec=err,
        lon_name="l" if galactic else "RA",
        lat_name="b" if galactic else "Dec",
    )
    return grid

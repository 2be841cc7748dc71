"""Drawing the scene into an image of expected electrons (no noise).

Each source is drawn into its own stamp with ``method='no_pixel'`` (the ePSF already contains the
pixel) and added to the overlapping part of the model. Stars and the SN are the ePSF; galaxies
are the (world-coordinate) galaxy profile mapped to pixels with the WCS Jacobian at the image
centre, then convolved with the ePSF. Stamp half-sizes grow with flux (8 px below 1e3 e⁻ up to
64 px, the whole ePSF box, above 1e5 e⁻), and galaxies get at least 5 half-light radii more;
the SN and its host always get the whole box. The small negative Lanczos lobes are clipped at
the end, so the model can be Poisson-sampled.

Galaxy bulges are drawn only for galaxies brighter than Y106 = 24: fainter ones are pure
exponential disks (their bulges are unresolved, and a de Vaucouleurs profile costs three times
a disk in GalSim's FFT).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from snapscope._utils._optional import require
from snapscope.sim._catalog import GALAXY, HOST, Catalog
from snapscope.sim._psf import BOX, EPSF

require("galsim", purpose="simulating Roman images (snapscope.sim)")
import galsim  # noqa: E402

__all__ = ["draw_catalog", "draw_point", "stamp_half_size", "MAX_HALF", "BULGE_MAG_LIMIT"]

#: Largest stamp half-size (pixels); enough for a 4″ half-light-radius galaxy.
MAX_HALF = 200
#: Galaxies fainter than this (Y106 AB) are drawn without their bulge.
BULGE_MAG_LIMIT = 24.0


def stamp_half_size(flux: np.ndarray) -> np.ndarray:
    """Stamp half-size (pixels) of a point source of ``flux`` e⁻."""
    return np.select([flux < 1e3, flux < 1e4, flux < 1e5], [8, 16, 32], BOX // 2).astype(int)


def _add(model: Any, profile: Any, x: float, y: float, half: int) -> None:
    ix, iy = int(np.floor(x + 0.5)), int(np.floor(y + 0.5))
    bounds = galsim.BoundsI(ix - half, ix + half, iy - half, iy + half)
    overlap = bounds & model.bounds
    if not overlap.isDefined():
        return
    stamp = galsim.ImageD(bounds, scale=1.0)
    profile.drawImage(image=stamp, center=galsim.PositionD(x, y), method="no_pixel")
    model[overlap] += stamp[overlap]


def draw_point(
    model: Any, psf: EPSF, x: float, y: float, flux: float, half: int = BOX // 2
) -> None:
    """Add a point source of ``flux`` e⁻ at SCA pixel (x, y) (1-based) to ``model``."""
    if flux > 0:
        _add(model, psf.profile.withFlux(flux), x, y, half)


def _galaxy_profile(cat: Catalog, k: int, jacobian: Any) -> Any:
    disk = galsim.Exponential(half_light_radius=cat.hlr[k])
    bulge_fraction = cat.bulge[k] if cat.mag[k] < BULGE_MAG_LIMIT else 0.0
    if bulge_fraction > 0:
        hlr = 0.5 * cat.hlr[k]
        bulge = galsim.DeVaucouleurs(half_light_radius=hlr, trunc=5.0 * hlr)
        disk = galsim.Add(disk * (1.0 - bulge_fraction), bulge * bulge_fraction)
    world = disk.shear(q=cat.q[k], beta=cat.beta[k] * galsim.degrees)
    return jacobian.toImage(world)


def draw_catalog(
    model: Any,
    cat: Catalog,
    x: np.ndarray,
    y: np.ndarray,
    flux: np.ndarray,
    psf: EPSF,
    jacobian: Any,
) -> None:
    """Add every source of ``cat`` to ``model``.

    Parameters
    ----------
    model : galsim.ImageD
        Image in SCA pixel coordinates (its bounds), in e⁻.
    cat : Catalog
        Sources to draw.
    x, y : numpy.ndarray
        1-based SCA pixel positions of the sources.
    flux : numpy.ndarray
        Total flux of each source (e⁻ per exposure).
    psf : EPSF
        The effective PSF.
    jacobian : galsim.JacobianWCS
        Local WCS used to map galaxy shapes from arcsec to pixels.
    """
    half = stamp_half_size(flux)
    pixel_scale = np.sqrt(jacobian.pixelArea())
    for k in range(len(cat)):
        if flux[k] <= 0:
            continue
        if cat.kind[k] in (GALAXY, HOST):
            size = half[k] + int(np.ceil(5.0 * cat.hlr[k] / pixel_scale))
            if cat.kind[k] == HOST:
                size = max(size, BOX // 2)
            profile = galsim.Convolve(_galaxy_profile(cat, k, jacobian), psf.profile)
            _add(model, profile.withFlux(flux[k]), x[k], y[k], min(size, MAX_HALF))
        else:
            draw_point(model, psf, x[k], y[k], flux[k], half[k])

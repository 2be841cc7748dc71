"""Pixel-integrated elliptical Gaussian PSFs: ``gaussian`` and ``varying_gaussian``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import ndtr

from ._base import PSF, check_stamp_size

__all__ = ["GaussianPSF", "VaryingGaussianPSF", "pixel_integrated_gaussian"]

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


def _pixel_fraction_1d(offsets: np.ndarray, sigma: float) -> np.ndarray:
    """Fraction of a 1-D unit Gaussian of width ``sigma`` in [offset - 0.5, offset + 0.5]."""
    return ndtr((offsets + 0.5) / sigma) - ndtr((offsets - 0.5) / sigma)


def pixel_integrated_gaussian(
    dx: np.ndarray, dy: np.ndarray, sigmax: float, sigmay: float, theta: float = 0.0
) -> np.ndarray:
    """Integrals of a unit-flux elliptical Gaussian over square pixels.

    The Gaussian, centred at the origin, has standard deviation ``sigmax`` along an axis
    rotated ``theta`` degrees counter-clockwise from +x, and ``sigmay`` perpendicular to it
    (the convention of snappl's GaussianPSF and astropy's ``Gaussian2D``).

    Parameters
    ----------
    dx, dy : numpy.ndarray
        1-D arrays of the pixel-centre offsets from the Gaussian's centre, in pixels.
    sigmax, sigmay : float
        Standard deviations in pixels (> 0).
    theta : float
        Rotation in degrees.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``(len(dy), len(dx))``; element ``[j, i]`` is the integral over
        ``[dx[i] - 0.5, dx[i] + 0.5] × [dy[j] - 0.5, dy[j] + 0.5]``.

    Notes
    -----
    Axis-aligned Gaussians (theta a multiple of 90°) are integrated exactly with the error
    function. Otherwise the Gaussian is written as the marginal in x times the conditional in
    y; the y integral is exact (error function) and the x integral uses Gauss-Legendre
    quadrature with enough nodes per pixel for the narrower width (relative error < 1e-9).
    """
    dx = np.asarray(dx, dtype=float)
    dy = np.asarray(dy, dtype=float)
    quarter_turns = theta / 90.0
    if float(quarter_turns).is_integer():
        sx, sy = (sigmax, sigmay) if int(quarter_turns) % 2 == 0 else (sigmay, sigmax)
        return np.outer(_pixel_fraction_1d(dy, sy), _pixel_fraction_1d(dx, sx))

    t = math.radians(theta)
    c, s = math.cos(t), math.sin(t)
    var_x = (c * sigmax) ** 2 + (s * sigmay) ** 2
    cov_xy = c * s * (sigmax**2 - sigmay**2)
    slope = cov_xy / var_x  # conditional mean of y given x is slope * x
    cond_sigma = sigmax * sigmay / math.sqrt(var_x)

    n_nodes = int(np.clip(math.ceil(8.0 / min(sigmax, sigmay)), 8, 64))
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    xs = dx[:, None] + 0.5 * nodes[None, :]  # (nx, n_nodes) abscissae within each pixel
    marginal = np.exp(-0.5 * xs**2 / var_x) / math.sqrt(2.0 * math.pi * var_x)
    mean_y = slope * xs
    upper = ndtr((dy[:, None, None] + 0.5 - mean_y[None]) / cond_sigma)
    lower = ndtr((dy[:, None, None] - 0.5 - mean_y[None]) / cond_sigma)
    return np.einsum("ijk,jk,k->ij", upper - lower, marginal, 0.5 * weights)


def _check_sigma(value: Any, name: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number of pixels, got {value}")
    return value


def _default_stamp_size(sigma: float) -> int:
    """Snappl's default: ``2 * floor(5 * FWHM) + 1``."""
    return 2 * int(math.floor(5.0 * _FWHM_PER_SIGMA * sigma)) + 1


class GaussianPSF(PSF, psfclass="gaussian"):
    """A pixel-integrated elliptical Gaussian PSF, the same everywhere on the image.

    The surface density is that of a normal distribution with standard deviation ``sigmax``
    along an axis rotated ``theta`` degrees counter-clockwise from +x and ``sigmay``
    perpendicular to it; each stamp pixel is its integral over the pixel (computed
    analytically, see :func:`pixel_integrated_gaussian`).

    Parameters
    ----------
    sigmax, sigmay : float
        Standard deviations in pixels.
    theta : float
        Rotation in degrees.
    stamp_size : int, optional
        Odd stamp side; default ``2 * floor(5 * FWHM) + 1`` with the larger sigma.
    **kwargs
        ``x, y, band, observation_id, sca, image, seed`` (see :class:`PSF`).
    """

    def __init__(
        self,
        sigmax: float = 1.0,
        sigmay: float = 1.0,
        theta: float = 0.0,
        stamp_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sigmax = _check_sigma(sigmax, "sigmax")
        self.sigmay = _check_sigma(sigmay, "sigmay")
        self.theta = float(theta)
        self._stamp_size = (
            _default_stamp_size(self._largest_sigma())
            if stamp_size is None
            else check_stamp_size(stamp_size)
        )

    def _largest_sigma(self) -> float:
        return max(self.sigmax, self.sigmay)

    @property
    def stamp_size(self) -> int:
        """Side of the stamps returned by :meth:`get_stamp` (odd)."""
        return self._stamp_size

    def _sigmas(self, x: float, y: float) -> tuple[float, float]:
        return self.sigmax, self.sigmay

    def _render(self, x: float, y: float, dx: float, dy: float) -> np.ndarray:
        sigmax, sigmay = self._sigmas(x, y)
        return pixel_integrated_gaussian(
            self._stamp_offsets(dx), self._stamp_offsets(dy), sigmax, sigmay, self.theta
        )


class VaryingGaussianPSF(GaussianPSF, psfclass="varying_gaussian"):
    """A Gaussian PSF whose widths vary linearly across the detector (for tests), as snappl's.

    ``sigma_x(x) = base_sigma_x + (x - sca_size / 2) * linear_coefficient / sca_size`` and
    likewise ``sigma_y(y)``; ``linear_coefficient = 0.1`` is a 10% change across the detector
    (Aldoroty et al. 2025). Unlike snappl's, evaluating a stamp does not modify the object.

    Parameters
    ----------
    sca_size : int
        Detector side in pixels.
    base_sigma_x, base_sigma_y : float
        Widths at the detector centre, in pixels.
    linear_coefficient : float
        Change of sigma, in pixels, across ``sca_size`` pixels.
    theta : float
        Rotation in degrees.
    stamp_size : int, optional
        Odd stamp side; default ``2 * floor(5 * FWHM) + 1`` with the largest sigma on the
        detector.
    **kwargs
        ``x, y, band, observation_id, sca, image, seed`` (see :class:`PSF`).
    """

    def __init__(
        self,
        sca_size: int = 256,
        base_sigma_x: float = 1.0,
        base_sigma_y: float = 1.0,
        linear_coefficient: float = 0.1,
        theta: float = 0.0,
        stamp_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        if sca_size <= 0:
            raise ValueError(f"sca_size must be positive, got {sca_size}")
        self.sca_size = int(sca_size)
        self.base_sigma_x = _check_sigma(base_sigma_x, "base_sigma_x")
        self.base_sigma_y = _check_sigma(base_sigma_y, "base_sigma_y")
        self.linear_coefficient = float(linear_coefficient)
        super().__init__(
            sigmax=base_sigma_x, sigmay=base_sigma_y, theta=theta, stamp_size=stamp_size, **kwargs
        )

    def _largest_sigma(self) -> float:
        return max(self.base_sigma_x, self.base_sigma_y) + abs(self.linear_coefficient) / 2

    def _default_position(self) -> tuple[float, float]:
        return self.sca_size / 2, self.sca_size / 2

    def _sigmas(self, x: float, y: float) -> tuple[float, float]:
        centre = self.sca_size / 2
        rate = self.linear_coefficient / self.sca_size
        return (
            _check_sigma(self.base_sigma_x + (x - centre) * rate, "sigma_x at this x"),
            _check_sigma(self.base_sigma_y + (y - centre) * rate, "sigma_y at this y"),
        )

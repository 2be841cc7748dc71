"""The :class:`PSF` base class: snappl's PSF interface, stamp geometry and photutils models."""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from photutils.psf import ImagePSF

__all__ = ["PSF"]

# snappl PSF classes that snapscope does not provide (they need CRDS, STScI data downloads,
# roman_imsim or private files); asking for one gets a specific message.
_SNAPPL_ONLY = frozenset(
    {
        "Sampling_OversampledImagePSF",
        "YamlSerialized_OversampledImagePSF",
        "A25ePSF",
        "ou24PSF_slow",
        "ou24PSF_slow_photonshoot",
        "ou24PSF_photonshoot",
        "STPSF",
        "romandatamodel_psf",
    }
)


def nearest_pixel(v: float) -> int:
    """Return the pixel whose centre is nearest to ``v``: ``floor(v + 0.5)`` (never ``round``)."""
    return int(math.floor(v + 0.5))


def _pixel_index(v: Any, name: str) -> int:
    """Return ``v`` as an int pixel index; integral floats (``112.0``) are accepted."""
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real) and float(v).is_integer():
        return int(v)
    raise TypeError(f"{name} must be an integer pixel index, got {v!r}")


def check_stamp_size(stamp_size: Any) -> int:
    """Return ``stamp_size`` as an int, or raise ValueError unless it is a positive odd integer."""
    if (
        not isinstance(stamp_size, numbers.Integral)
        or isinstance(stamp_size, bool)
        or stamp_size < 1
        or stamp_size % 2 != 1
    ):
        raise ValueError(f"stamp_size must be a positive odd integer, got {stamp_size!r}")
    return int(stamp_size)


class PSF:
    """A point-spread function, as seen on an image (snappl's ``snappl.psf.PSF`` interface).

    Do not instantiate this class or a subclass directly: call :meth:`PSF.get_psf_object`.

    Conventions (as snappl): arrays are indexed ``[y, x]``; pixel centres are integer,
    0-origin positions; "nearest pixel" is ``floor(v + 0.5)``. Stamps are pixel-integrated
    (effective) PSFs at image scale, normalised so that an infinitely large stamp sums to the
    requested flux.

    Parameters
    ----------
    x, y : float, optional
        Image position this PSF is for; the default position of :meth:`get_stamp`.
    band : str, optional
        Filter of the image (used by the Roman PSF).
    observation_id : str, optional
        Observation of the image (kept for reference).
    sca : int, optional
        Roman detector number (used by the Roman PSF).
    image : snapscope.image.Image, optional
        The image this PSF is for (the Roman PSF takes band and SCA from it).
    seed : int, optional
        Random seed for subclasses that draw random numbers (none of the built-in ones do).
    """

    _registry: ClassVar[dict[str, type[PSF]]] = {}
    #: Default oversampling of ``getPhotutilsPSF(imagesampled=False)`` models (odd).
    photutils_oversampling: ClassVar[int] = 5

    def __init_subclass__(cls, psfclass: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if psfclass is not None:
            PSF._registry[psfclass] = cls

    def __init__(
        self,
        x: float | None = None,
        y: float | None = None,
        band: str | None = None,
        observation_id: str | None = None,
        sca: int | None = None,
        image: Any = None,
        seed: int | None = None,
        *,
        _called_from_get_psf_object: bool = False,
    ) -> None:
        if not _called_from_get_psf_object:
            raise RuntimeError(
                f"Don't instantiate a {type(self).__name__} directly, call PSF.get_psf_object"
            )
        self._x = None if x is None else float(x)
        self._y = None if y is None else float(y)
        self._band = band
        self._observation_id = observation_id
        self._sca = None if sca is None else int(sca)
        self._image = image
        self._seed = seed

    @classmethod
    def get_psf_object(
        cls,
        psfclass: str,
        x: float | None = None,
        y: float | None = None,
        band: str | None = None,
        observation_id: str | None = None,
        sca: int | None = None,
        image: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> PSF:
        """Return a PSF object of the class named ``psfclass``.

        Parameters
        ----------
        psfclass : str
            ``"gaussian"``, ``"varying_gaussian"``, ``"OversampledImagePSF"``,
            ``"photutilsImagePSF"`` or ``"ou24PSF"`` (needs galsim: ``pip install
            'snapscope[sim]'``).
        x, y, band, observation_id, sca, image, seed
            See :class:`PSF`.
        **kwargs
            Arguments of the chosen class (see its docstring); an unknown one raises TypeError.

        Returns
        -------
        PSF

        Raises
        ------
        ValueError
            ``psfclass`` is not a known PSF class (the message lists the known ones).
        """
        from . import _galsim, _gaussian, _oversampled  # noqa: F401  (register the classes)

        known = ", ".join(sorted(PSF._registry))
        if psfclass in _SNAPPL_ONLY:
            raise ValueError(
                f"snappl's PSF class {psfclass!r} is not available in snapscope; known: {known}"
            )
        if psfclass not in PSF._registry:
            raise ValueError(f"Unknown PSF class {psfclass!r}; known: {known}")
        return PSF._registry[psfclass](
            x=x,
            y=y,
            band=band,
            observation_id=observation_id,
            sca=sca,
            image=image,
            seed=seed,
            _called_from_get_psf_object=True,
            **kwargs,
        )

    # --- properties -------------------------------------------------------------------------

    @property
    def x(self) -> float | None:
        """Image x position this PSF is for (default of :meth:`get_stamp`)."""
        return self._x

    @x.setter
    def x(self, val: float | None) -> None:
        self._x = None if val is None else float(val)

    @property
    def y(self) -> float | None:
        """Image y position this PSF is for (default of :meth:`get_stamp`)."""
        return self._y

    @y.setter
    def y(self, val: float | None) -> None:
        self._y = None if val is None else float(val)

    @property
    def band(self) -> str | None:
        """Filter this PSF is for, or None."""
        return self._band

    @property
    def sca(self) -> int | None:
        """Roman detector this PSF is for, or None."""
        return self._sca

    @property
    def observation_id(self) -> str | None:
        """Observation this PSF is for, or None."""
        return self._observation_id

    @property
    def stamp_size(self) -> int:
        """Side of the stamps returned by :meth:`get_stamp`, in image pixels (always odd)."""
        raise NotImplementedError(f"{type(self).__name__} needs to implement stamp_size.")

    @property
    def clip_size(self) -> int:
        """Old name of :attr:`stamp_size`."""
        return self.stamp_size

    # --- stamps -----------------------------------------------------------------------------

    def _default_position(self) -> tuple[float, float]:
        """Position used when neither get_stamp nor the constructor gave one."""
        return 0.0, 0.0

    def _resolve_position(self, x: float | None, y: float | None) -> tuple[float, float]:
        dx, dy = self._default_position()
        x = (self._x if self._x is not None else dx) if x is None else float(x)
        y = (self._y if self._y is not None else dy) if y is None else float(y)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"PSF position must be finite, got x={x}, y={y}")
        return x, y

    def _render(self, x: float, y: float, dx: float, dy: float) -> np.ndarray:
        """Return the unit-flux stamp for image position (x, y), centred (dx, dy) from its middle.

        Subclasses implement this; :meth:`get_stamp` resolves defaults and scales by the flux.
        """
        raise NotImplementedError(f"{type(self).__name__} needs to implement get_stamp")

    def get_stamp(
        self,
        x: float | None = None,
        y: float | None = None,
        x0: int | None = None,
        y0: int | None = None,
        flux: float = 1.0,
    ) -> np.ndarray:
        """Return the PSF at image scale, as a ``stamp_size`` × ``stamp_size`` array.

        Parameters
        ----------
        x, y : float, optional
            Image position of the centre of the PSF (0-origin pixel coordinates; the fractional
            part shifts the PSF on the stamp). Defaults: the position given at construction,
            else a class-specific default (the centre of the SCA for position-dependent PSFs).
        x0, y0 : int, optional
            Image pixel that the centre pixel of the stamp corresponds to. Defaults:
            ``floor(x + 0.5)``, ``floor(y + 0.5)``. The PSF centre lies ``(x - x0, y - y0)``
            pixels from the centre of the stamp; so ``image[y0-h:y0+h+1, x0-h:x0+h+1] += stamp``
            (``h = stamp_size // 2``) injects a source at (x, y).
        flux : float
            Total flux; an infinitely large stamp would sum to it.

        Returns
        -------
        numpy.ndarray
            float64 array of shape ``(stamp_size, stamp_size)``, indexed ``[y, x]``.
        """
        x, y = self._resolve_position(x, y)
        x0 = nearest_pixel(x) if x0 is None else _pixel_index(x0, "x0")
        y0 = nearest_pixel(y) if y0 is None else _pixel_index(y0, "y0")
        return self._render(x, y, x - x0, y - y0) * flux

    def _stamp_offsets(self, d: float) -> np.ndarray:
        """Pixel-centre offsets (in pixels) from a PSF centred ``d`` from the stamp centre."""
        half = self.stamp_size // 2
        return np.arange(-half, half + 1, dtype=float) - d

    # --- photutils --------------------------------------------------------------------------

    def _oversampled_epsf(self, x: float, y: float) -> tuple[np.ndarray, int]:
        """Return the centred effective PSF for (x, y) sampled ``n`` times per pixel, and ``n``.

        The array sums to ``n**2`` (photutils' ImagePSF convention). This default interleaves
        ``n**2`` stamps drawn at sub-pixel offsets (``n = photutils_oversampling``).
        """
        n = self.photutils_oversampling
        h = n // 2
        size = self.stamp_size
        out = np.empty((n * size, n * size))
        for b in range(-h, h + 1):
            for a in range(-h, h + 1):
                out[b + h :: n, a + h :: n] = self._render(x, y, -a / n, -b / n)
        return out, n

    def getPhotutilsPSF(  # noqa: N802  (snappl's name)
        self, x: float | None = None, y: float | None = None, imagesampled: bool = True
    ) -> ImagePSF:
        """Return a photutils PSF model of this PSF at (x, y), e.g. for ``PSFPhotometry``.

        Unlike snappl's, this works for PSFs constructed with a fractional ``x``, ``y``.

        Parameters
        ----------
        x, y : float, optional
            Image position the PSF is evaluated for; also the model's ``x_0``, ``y_0``.
            Defaults as in :meth:`get_stamp`.
        imagesampled : bool
            True (default, as snappl): the model interpolates the image-scale stamp, which
            is poor for undersampled PSFs at sub-pixel offsets. False: the model interpolates
            an oversampled effective PSF (the stored oversampling of image PSFs, else
            ``photutils_oversampling`` samples per pixel), accurate at any sub-pixel position.

        Returns
        -------
        photutils.psf.ImagePSF
            Normalised so that its ``flux`` parameter is the total flux.
        """
        from photutils.psf import ImagePSF

        x, y = self._resolve_position(x, y)
        if imagesampled:
            return ImagePSF(self._render(x, y, 0.0, 0.0), flux=1.0, x_0=x, y_0=y)
        data, oversampling = self._oversampled_epsf(x, y)
        return ImagePSF(data, flux=1.0, x_0=x, y_0=y, oversampling=oversampling)

    def getImagePSF(self, *args: Any, **kwargs: Any) -> ImagePSF:  # noqa: N802  (snappl's name)
        """Raise RuntimeError: deprecated in snappl too; use :meth:`getPhotutilsPSF`."""
        raise RuntimeError("getImagePSF is deprecated; call getPhotutilsPSF(x, y) instead")

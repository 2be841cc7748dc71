"""``Numpy2DImage``: an image whose planes are numpy arrays (the base of the FITS classes)."""

from __future__ import annotations

from typing import Any

import numpy as np

from snapscope.exceptions import NoWCSError
from snapscope.image._base import Image, check_which

__all__ = ["Numpy2DImage", "as_base_wcs"]

_PLANES = ("data", "noise", "flags")


def as_base_wcs(wcs: Any) -> Any:
    """Accept a snapscope ``BaseWCS``, an ``astropy.wcs.WCS`` or None; return a ``BaseWCS`` or None."""
    from snapscope.wcs import AstropyWCS, BaseWCS

    if wcs is None or isinstance(wcs, BaseWCS):
        return wcs
    from astropy.wcs import WCS

    if isinstance(wcs, WCS):
        return AstropyWCS(wcs)
    raise TypeError(f"wcs must be a snapscope.wcs.BaseWCS or astropy.wcs.WCS, not {type(wcs).__name__}")


def validate_plane(which: str, value: Any) -> np.ndarray | None:
    """Check a plane before storing it: 2-D float arrays for data/noise, 2-D integers for flags."""
    if value is None:
        return None
    if which == "flags":
        ok = isinstance(value, np.ndarray) and value.ndim == 2 and (
            np.issubdtype(value.dtype, np.integer) or value.dtype == bool)
        if not ok:
            raise TypeError("Flags must be a 2d numpy array of integers.")
        return value
    ok = isinstance(value, np.ndarray) and value.ndim == 2 and np.issubdtype(value.dtype, np.floating)
    if not ok:
        raise TypeError(f"{which.capitalize()} must be a 2d numpy array of floats.")
    return value


class Numpy2DImage(Image):
    """An image held as numpy arrays.

    Parameters
    ----------
    data, noise : numpy.ndarray, optional
        2-D float arrays (data; 1σ noise).
    flags : numpy.ndarray, optional
        2-D integer array, non-zero = flagged.
    wcs : snapscope.wcs.BaseWCS or astropy.wcs.WCS, optional
        The world coordinate system of the pixels.
    *args, **kwargs
        Passed to :class:`Image`.
    """

    def __init__(self, *args: Any, data: Any = None, noise: Any = None, flags: Any = None,
                 wcs: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._data = validate_plane("data", data)
        self._noise = validate_plane("noise", noise)
        self._flags = validate_plane("flags", flags)
        self._wcs = as_base_wcs(wcs)
        shapes = {a.shape for a in (self._data, self._noise, self._flags) if a is not None}
        if len(shapes) > 1:
            raise ValueError(f"data, noise and flags must have the same shape, got {sorted(shapes)}")

    # planes -------------------------------------------------------------
    def _plane(self, which: str) -> np.ndarray | None:
        value = self.__dict__.get("_" + which)
        if value is None and not self._is_cutout:
            value = self.get_data(which=which, cache=True)[0]
        return value

    def _set_plane(self, which: str, value: Any) -> None:
        self.__dict__["_" + which] = validate_plane(which, value)

    data = property(lambda self: self._plane("data"), lambda self, v: self._set_plane("data", v),
                    doc="The image data, a 2-D float array (lazy-loaded).")
    noise = property(lambda self: self._plane("noise"), lambda self, v: self._set_plane("noise", v),
                     doc="The 1σ pixel noise, a 2-D float array (lazy-loaded).")
    flags = property(lambda self: self._plane("flags"), lambda self, v: self._set_plane("flags", v),
                     doc="Integer 2-D array of pixel flags, non-zero = flagged (lazy-loaded).")

    def _read_plane(self, which: str) -> np.ndarray | None:
        return None  # in-memory images have nothing to (re)load

    def get_data_view(self, which: str = "data") -> np.ndarray | None:
        """Return the plane (already in memory) without copying it."""
        check_which(which)
        if which == "all":
            raise ValueError("get_data_view takes one plane: 'data', 'noise' or 'flags'")
        return self._plane(which)

    def free(self) -> None:
        """Drop the pixel planes (a file-backed image re-reads them on next use)."""
        self._data = self._noise = self._flags = None

    def _get_image_shape(self) -> None:
        view = self.get_data_view("data")
        if view is None:
            raise ValueError(f"{type(self).__name__} has no data, so its shape is unknown")
        self._height, self._width = (int(n) for n in view.shape)

    # WCS -----------------------------------------------------------------
    def get_wcs(self, wcsclass: str | None = None) -> Any:
        """Return the WCS given at construction (or made for a cutout); NoWCSError when none."""
        if self._wcs is None and callable(self.__dict__.get("_wcs_factory")):
            self._wcs = self._wcs_factory()
        if self._wcs is None:
            raise NoWCSError(f"{self!r} has no WCS")
        if wcsclass not in (None, type(self._wcs).__name__):
            raise TypeError(f"{type(self).__name__} can't give a WCS of type {wcsclass}")
        return self._wcs

    # cutouts -------------------------------------------------------------
    def get_cutout(self, x: Any, y: Any, xsize: int, ysize: int | None = None,
                   mode: str = "strict", fill_value: float = np.nan) -> Image:
        """Cut out ``ysize × xsize`` pixels centred on pixel (x, y) (0-origin, ``data[y, x]``).

        Parameters
        ----------
        x, y : int or float
            Centre pixel; a non-integer value is taken to the nearest pixel, ``floor(v + 0.5)``.
        xsize : int
            Width in pixels, a positive odd integer (so the centre pixel is well defined).
        ysize : int, optional
            Height in pixels (default ``xsize``), a positive odd integer.
        mode : {'strict', 'partial'}
            'strict' refuses cutouts that leave the image; 'partial' fills the missing pixels
            with ``fill_value`` (flags with 1, "bad pixel"), as ``astropy.nddata.Cutout2D``.
        fill_value : float
            Value of data and noise pixels off the image in 'partial' mode.

        Returns
        -------
        Image
            An image of the same class with its own arrays, header and WCS (pixel (c, c) of the
            cutout is pixel (x, y) of this image).

        Raises
        ------
        snapscope.exceptions.OutsideImageError
            If the cutout does not touch the image (both modes); it is also an
            ``astropy.nddata.NoOverlapError``, as ``Cutout2D`` raises.
        astropy.nddata.PartialOverlapError
            If ``mode='strict'`` and the cutout is not entirely on the image, as ``Cutout2D``.
        """
        from snapscope.image._cutout import make_cutout

        return make_cutout(self, x, y, xsize, ysize, mode=mode, fill_value=fill_value)

    def _cutout_init_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of an (empty) cutout object of this class."""
        return {"full_filepath": self.full_filepath, "no_base_path": True}

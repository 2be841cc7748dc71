"""Viewport logic of ``ImageWidget`` (AIDA ``set_viewport``/``get_viewport``, ``center_on``).

The view of each image is kept in pixels only, ``ImageEntry.view = (x, y, fov)``: the centre in
0-based pixel coordinates and the field of view in image pixels along the shorter side of the
view, exactly what the browser shows (the ``_view`` trait, ``_state.View``). A sky centre or an
angular field of view given to ``set_viewport`` is turned into pixels once, there; pans and
zooms made in the browser are stored as they come; sky coordinates are computed only when
``get_viewport`` is asked for them. (Storing what the user gave, as before, sent the centre
pixel → sky → pixel on every load and pixel → sky on every pan.) A blink (``ImageWidget.blink``
and the browser's ``b`` key) gives the next image the view ``aligned_view`` computes.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.units import Quantity
from astropy.wcs.utils import proj_plane_pixel_scales

from ._inputs import ImageEntry

__all__ = ["ViewportMixin", "aligned_view", "fit_view", "pixel_scale_deg", "sky_view"]

#: A pixel view ``(x, y, fov)``, the form of ``ImageEntry.view``.
PixelView = tuple[float, float, float]


def pixel_scale_deg(entry: ImageEntry) -> float:
    """Pixel scale (degrees per pixel) along the image's largest dimension."""
    # proj_plane_pixel_scales is ordered by WCS pixel axis (0 = x), largest_dimension by numpy
    # axis (0 = y), hence the flip.
    return float(proj_plane_pixel_scales(entry.wcs)[1 - entry.largest_dimension])


def fit_view(entry: ImageEntry) -> PixelView:
    """The view of a newly loaded image: centred, the whole larger dimension in view.

    Twin of ``fitView`` in ``js/src/view.ts``.
    """
    h, w = entry.shape
    return (w - 1) / 2, (h - 1) / 2, float(max(h, w))


def sky_view(source: ImageEntry, view: PixelView, target: ImageEntry) -> PixelView | None:
    """The view of ``target`` on the sky centre and at the angular scale of ``view`` of ``source``.

    None unless both images have a WCS. The scale ratio is that of the two WCSs' pixel scales
    (``proj_plane_pixel_scales``); the browser takes it from the local Jacobian of its WCS
    grids (``js/src/viewer/state.ts``), which differs by far less than 1e-4 for tangent-plane
    images of a Roman detector's size.

    Parameters
    ----------
    source, target : ImageEntry
        The image shown and the image to show.
    view : tuple of float
        ``(x, y, fov)`` of ``source`` in its pixels.

    Returns
    -------
    tuple of float or None
        ``(x, y, fov)`` of ``target`` in its pixels.
    """
    if source.wcs is None or target.wcs is None:
        return None
    x, y, fov = view
    tx, ty = (float(v) for v in target.wcs.world_to_pixel(source.wcs.pixel_to_world(x, y)))
    ratio = (
        proj_plane_pixel_scales(source.wcs.celestial).mean()
        / proj_plane_pixel_scales(target.wcs.celestial).mean()
    )
    return tx, ty, float(fov * ratio)


def aligned_view(source: ImageEntry, view: PixelView, target: ImageEntry) -> PixelView:
    """The view a blink from ``view`` of ``source`` gives ``target``.

    The same sky centre and scale (both have a WCS), else the same pixels (images of one
    shape), else the whole image. Twin of ``alignedView`` in ``js/src/viewer/state.ts`` (the
    ``b`` key's blink); ``tests/browser/test_widget_browser.py`` checks that the two agree.
    Parameters and result as :func:`sky_view`'s, except that the result is never None.
    """
    aligned = sky_view(source, view, target)
    if aligned is not None:
        return aligned
    return view if source.shape == target.shape else fit_view(target)


class ViewportMixin:
    """AIDA viewport methods.

    Needs ``_entries``, ``_displayed_labels``, ``_resolve_image_label`` and ``_apply_viewport``.
    """

    def set_viewport(
        self,
        center: SkyCoord | tuple[numbers.Real, numbers.Real] | None = None,
        fov: Quantity | numbers.Real | None = None,
        image_label: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Set the centre and field of view of an image's view.

        Parameters
        ----------
        center : `~astropy.coordinates.SkyCoord` or tuple of float, optional
            New centre, as sky position or 0-based ``(x, y)`` pixel; default: unchanged.
        fov : `~astropy.units.Quantity` or float, optional
            Field of view along the shorter side of the view, as an angle or in image pixels;
            default: unchanged.
        image_label : str, optional
            The image; may be omitted when only one is loaded.
        **kwargs
            Ignored.

        Raises
        ------
        TypeError
            "Invalid value for center/fov", or (image without WCS) "Center must be a tuple" /
            "FOV must be a float".
        astropy.units.UnitTypeError
            "Incorrect unit for fov" when ``fov`` is not an angle.
        ValueError
            For an unknown or ambiguous ``image_label``.
        """
        label = self._resolve_image_label(image_label)
        entry = self._entries[label]
        if isinstance(center, list | np.ndarray) and len(center) == 2:
            center = (center[0], center[1])
        if center is not None and (
            not isinstance(center, SkyCoord | tuple)
            or (isinstance(center, tuple) and len(center) != 2)
        ):
            raise TypeError(
                "Invalid value for center. Center must be a SkyCoord or tuple of (X, Y)."
            )
        if fov is not None and not isinstance(fov, Quantity | numbers.Real):
            raise TypeError("Invalid value for fov. fov must be an angular Quantity or float.")
        if isinstance(fov, Quantity) and not fov.unit.is_equivalent(u.deg):
            raise u.UnitTypeError(
                "Incorrect unit for fov. fov must be an angular Quantity or float."
            )
        if entry.wcs is None:
            if isinstance(center, SkyCoord):
                raise TypeError("Center must be a tuple for this image when WCS is not set.")
            if isinstance(fov, Quantity):
                raise TypeError("FOV must be a float for this image when WCS is not set.")
        x, y, width = entry.view
        if isinstance(center, SkyCoord):
            x, y = (float(v) for v in entry.wcs.world_to_pixel(center))
        elif center is not None:
            x, y = float(center[0]), float(center[1])
        if isinstance(fov, Quantity):
            width = fov.to_value(u.deg) / pixel_scale_deg(entry)
        elif fov is not None:
            width = float(fov)
        entry.view = (x, y, width)
        if label in self._displayed_labels:
            self._apply_viewport(label)

    def get_viewport(
        self, sky_or_pixel: str | None = None, image_label: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Return the centre and field of view of an image's view.

        Parameters
        ----------
        sky_or_pixel : {"sky", "pixel", None}, optional
            Form of the result; None means sky when the image has a WCS, else pixel.
        image_label : str, optional
            The image; may be omitted when only one is loaded.
        **kwargs
            Ignored.

        Returns
        -------
        dict
            ``center`` (`~astropy.coordinates.SkyCoord` or ``(x, y)`` tuple), ``fov`` (angular
            `~astropy.units.Quantity` or float pixels) and ``image_label``.

        Raises
        ------
        ValueError
            For a bad ``sky_or_pixel``, an unknown or ambiguous label, or "WCS is not set" when
            sky coordinates are asked of an image without a WCS.
        """
        if sky_or_pixel not in (None, "sky", "pixel"):
            raise ValueError("sky_or_pixel must be 'sky', 'pixel', or None.")
        label = self._resolve_image_label(image_label)
        entry = self._entries[label]
        if sky_or_pixel is None:
            sky_or_pixel = "sky" if entry.wcs is not None else "pixel"
        x, y, fov = entry.view
        if sky_or_pixel == "pixel":
            return {"center": (x, y), "fov": fov, "image_label": label}
        if entry.wcs is None:
            raise ValueError("WCS is not set. Cannot convert pixel coordinates to sky coordinates.")
        center = entry.wcs.pixel_to_world(x, y)
        return {"center": center, "fov": pixel_scale_deg(entry) * fov * u.deg, "image_label": label}

    def center_on(
        self, ra: float | SkyCoord, dec: float | None = None, image_label: str | None = None
    ) -> None:
        """Centre the view on a sky position, keeping the zoom.

        Parameters
        ----------
        ra : float or `~astropy.coordinates.SkyCoord`
            Right ascension in degrees (ICRS), or a sky position (then ``dec`` is not given).
        dec : float, optional
            Declination in degrees (ICRS).
        image_label : str, optional
            The image; may be omitted when only one is loaded.

        Raises
        ------
        TypeError
            When the image has no WCS.
        """
        coord = ra if isinstance(ra, SkyCoord) else SkyCoord(ra * u.deg, dec * u.deg, frame="icrs")
        label = self._resolve_image_label(image_label)
        if self._entries[label].wcs is None:
            raise TypeError(f"Image {label!r} has no WCS: center_on needs sky coordinates.")
        self.set_viewport(center=coord, image_label=label)

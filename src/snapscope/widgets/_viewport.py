"""Viewport logic of ``ImageWidget`` (AIDA ``set_viewport``/``get_viewport``, ``center_on``).

The viewport of each image is stored as the user gave it (pixel tuple or ``SkyCoord`` centre,
pixel float or angular ``Quantity`` field of view) so that ``get_viewport`` returns exactly what
was set. The browser only sees the pixel form, ``{"key", "x", "y", "fov"}``: the centre in
0-based pixel coordinates and the field of view in image pixels along the shorter side of the
view. Pans and zooms made in the browser come back through the same trait and replace the
stored viewport (in the unit kind that was stored).
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

__all__ = ["ViewportMixin", "pixel_scale_deg", "pixel_view"]


def pixel_scale_deg(entry: ImageEntry) -> float:
    """Pixel scale (degrees per pixel) along the image's largest dimension."""
    # proj_plane_pixel_scales is ordered by WCS pixel axis (0 = x), largest_dimension by numpy
    # axis (0 = y), hence the flip.
    return float(proj_plane_pixel_scales(entry.wcs)[1 - entry.largest_dimension])


def pixel_view(entry: ImageEntry) -> tuple[float, float, float]:
    """Return the stored viewport of ``entry`` as ``(x, y, fov)`` in pixels."""
    center, fov = entry.center, entry.fov
    if isinstance(center, SkyCoord):
        x, y = entry.wcs.world_to_pixel(center)
    else:
        x, y = center
    if isinstance(fov, Quantity):
        fov = fov.to_value(u.deg) / pixel_scale_deg(entry)
    return float(x), float(y), float(fov)


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
        center = entry.center if center is None else center
        fov = entry.fov if fov is None else fov
        if isinstance(center, list | np.ndarray) and len(center) == 2:
            center = (center[0], center[1])
        if not isinstance(center, SkyCoord | tuple) or (
            isinstance(center, tuple) and len(center) != 2
        ):
            raise TypeError(
                "Invalid value for center. Center must be a SkyCoord or tuple of (X, Y)."
            )
        if not isinstance(fov, Quantity | numbers.Real):
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
        entry.center, entry.fov = center, fov
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
        center, fov = entry.center, entry.fov
        if sky_or_pixel == "sky":
            if entry.wcs is None and not (
                isinstance(center, SkyCoord) and isinstance(fov, Quantity)
            ):
                raise ValueError(
                    "WCS is not set. Cannot convert pixel coordinates to sky coordinates."
                )
            if not isinstance(center, SkyCoord):
                center = entry.wcs.pixel_to_world(center[0], center[1])
            if not isinstance(fov, Quantity):
                fov = pixel_scale_deg(entry) * fov * u.deg
        else:
            if isinstance(center, SkyCoord):
                center = entry.wcs.world_to_pixel(center)
            if isinstance(fov, Quantity):
                fov = fov.to_value(u.deg) / pixel_scale_deg(entry)
        return {"center": center, "fov": fov, "image_label": label}

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
        entry = self._entries[label]
        if entry.wcs is None:
            raise TypeError(f"Image {label!r} has no WCS: center_on needs sky coordinates.")
        if isinstance(entry.center, SkyCoord):
            self.set_viewport(center=coord, image_label=label)
        else:
            x, y = entry.wcs.world_to_pixel(coord)
            self.set_viewport(center=(float(x), float(y)), image_label=label)

    def _viewport_from_browser(self, entry: ImageEntry, x: float, y: float, fov: float) -> None:
        """Store a pan/zoom made in the browser, keeping the stored unit kinds."""
        if isinstance(entry.center, SkyCoord):
            entry.center = entry.wcs.pixel_to_world(x, y)
        else:
            entry.center = (x, y)
        if isinstance(entry.fov, Quantity):
            entry.fov = (fov * pixel_scale_deg(entry) * u.deg).to(entry.fov.unit)
        else:
            entry.fov = fov

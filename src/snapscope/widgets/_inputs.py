"""What ``ImageWidget.load_image`` accepts, turned into one :class:`ImageEntry` per label.

Accepted: a snapscope ``Image`` (any subclass), a 2-D numpy array (memory maps stay memory
maps), an `~astropy.nddata.NDData` / `~astropy.nddata.CCDData`, a FITS path (opened with
``snapscope.image.FITSImage``: the widget never reads files itself) or an astropy HDU / HDUList.
Nothing here reads pixels: the entry keeps the image's pixel sources (``image.pixel_source``:
the data plane and the flags as a :class:`~snapscope.image.PixelMask`; a bare array is wrapped
in a ``PixelSource``), opened once, which the tile pyramids and the cut levels slice on demand.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snapscope.image import PixelMask, PixelSource, ScaledPlane, resolve_mask

__all__ = ["ImageEntry", "make_entry"]


@dataclass(eq=False)
class ImageEntry:
    """One loaded image and its display state.

    Attributes
    ----------
    label : str
        The AIDA image label.
    data : object
        What ``get_image`` returns (the object that was loaded, or the ``Image`` made from a path).
    pixels : snapscope.image.PixelSource
        The 2-D data plane (its ``array`` possibly a read-only, big-endian memory map).
    mask : snapscope.image.PixelMask or None
        The bad pixels (an Image's flags != 0, or a given mask), or None.
    wcs : astropy.wcs.WCS or None
        A celestial WCS (0-based pixels), or None.
    key : str
        Unique id of this load, used by the browser to key tiles.
    """

    label: str
    data: Any
    pixels: PixelSource
    mask: PixelMask | None
    wcs: Any
    key: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    #: ``(x, y, fov)`` in pixels (see ``_viewport.py``); None until loaded.
    view: tuple[float, float, float] | None = None
    cuts: Any = None
    stretch: Any = None
    colormap: str | None = None
    cache: dict = field(default_factory=dict)

    @property
    def array(self) -> Any:
        """The 2-D data plane (``pixels.array``), possibly a read-only, big-endian memory map."""
        return self.pixels.array

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the image."""
        return self.pixels.shape

    @property
    def largest_dimension(self) -> int:
        """Numpy axis of the larger dimension (0 = y, the default when square)."""
        return int(self.array.shape[1] > self.array.shape[0])


def _celestial(wcs: Any):
    """Return ``wcs`` when it is an astropy WCS with celestial axes, else None."""
    from astropy.wcs import WCS

    if isinstance(wcs, WCS) and wcs.has_celestial and wcs.pixel_n_dim == 2:
        return wcs
    return None


def _check_plane(array: Any, what: str) -> np.ndarray | ScaledPlane:
    arr = array if isinstance(array, np.ndarray | ScaledPlane) else np.asarray(array)
    if arr.ndim != 2:
        raise ValueError(f"load_image needs a 2-D image; {what} has shape {arr.shape}.")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"load_image needs numeric pixels; {what} has dtype {arr.dtype}.")
    if 0 in arr.shape:
        raise ValueError(f"load_image needs a non-empty image; {what} has shape {arr.shape}.")
    return arr


def _from_image(image: Any) -> tuple[PixelSource, PixelSource | None, Any]:
    """The data plane, the flags plane (or None) and the celestial WCS of an Image."""
    from snapscope.exceptions import NoWCSError

    pixels = image.pixel_source("data")
    _check_plane(None if pixels is None else pixels.array, f"{type(image).__name__} data")
    try:
        wcs = _celestial(image.get_wcs().get_astropy_wcs())
    except NoWCSError:
        wcs = None
    return pixels, image.pixel_source("flags"), wcs


def _from_hdu(hdu: Any, what: str) -> tuple[np.ndarray, Any]:
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning

    array = _check_plane(hdu.data, what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(hdu.header)
    return array, _celestial(wcs)


def _open_fits(path: str | os.PathLike) -> Any:
    from snapscope.image import FITSImage

    return FITSImage(full_filepath=os.fspath(path))


def make_entry(data: Any, label: str) -> ImageEntry:
    """Build the :class:`ImageEntry` for one ``load_image`` call.

    Parameters
    ----------
    data : Image, array-like, NDData, str, os.PathLike, HDU or HDUList
        What to show (see the module docstring).
    label : str
        The resolved image label.

    Returns
    -------
    ImageEntry

    Raises
    ------
    TypeError
        For pixels that are not numbers, or an HDUList without an image.
    ValueError
        For data that are not 2-D or empty.
    """
    from astropy.io import fits

    # An NDData can exist only once astropy.nddata is imported; importing it here would cost
    # ~0.3 s (it imports scipy.sparse) on every first load_image of an array or a file.
    nddata = sys.modules.get("astropy.nddata")
    if isinstance(data, str | os.PathLike):
        data = _open_fits(data)
    given = flags = None
    if hasattr(data, "pixel_source") and hasattr(data, "get_wcs"):
        pixels, flags, wcs = _from_image(data)
        given = None if flags is None else "flags"
    else:
        if nddata is not None and isinstance(data, nddata.NDData):
            array, wcs = _check_plane(data.data, "NDData.data"), _celestial(data.wcs)
            given = None if data.mask is None else np.asarray(data.mask)
        elif isinstance(data, fits.HDUList):
            hdus = [h for h in data if getattr(h, "is_image", False) and h.data is not None]
            if not hdus:
                raise TypeError("load_image: this HDUList has no image HDU with data.")
            array, wcs = _from_hdu(hdus[0], "the first image HDU")
        elif isinstance(data, fits.PrimaryHDU | fits.ImageHDU | fits.CompImageHDU):
            array, wcs = _from_hdu(data, type(data).__name__)
        else:
            array, wcs = _check_plane(data, "the array"), None
        pixels = PixelSource(array)
    try:
        mask = resolve_mask(given, pixels.shape, flags)
    except ValueError as err:
        raise ValueError(f"load_image: {err}.") from None
    return ImageEntry(label=label, data=data, pixels=pixels, mask=mask, wcs=wcs)

"""What ``ImageWidget.load_image`` accepts, turned into one :class:`ImageEntry` per label.

Accepted: a snapscope ``Image`` (any subclass), a 2-D numpy array (memory maps stay memory
maps), an `~astropy.nddata.NDData` / `~astropy.nddata.CCDData`, a FITS path (opened with
``snapscope.image.FITSImage``: the widget never reads files itself) or an astropy HDU / HDUList.
Nothing here reads pixels: the entry keeps a *view* of the data plane (``get_data_view``), which
the tile pyramid slices on demand.
"""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    array : numpy.ndarray
        The 2-D data plane, possibly a read-only, big-endian memory map.
    mask : numpy.ndarray or None
        Flags (nonzero = bad) or boolean mask of the same shape, or None.
    wcs : astropy.wcs.WCS or None
        A celestial WCS (0-based pixels), or None.
    source : object
        What the tile pyramid reads: the ``Image`` when one was loaded, else ``array``.
    key : str
        Unique id of this load, used by the browser to key tiles.
    """

    label: str
    data: Any
    array: np.ndarray
    mask: np.ndarray | None
    wcs: Any
    source: Any = None
    key: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    #: ``(x, y, fov)`` in pixels (see ``_viewport.py``); None until loaded.
    view: tuple[float, float, float] | None = None
    cuts: Any = None
    stretch: Any = None
    colormap: str | None = None
    cache: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the image."""
        return tuple(self.array.shape)

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


def _check_plane(array: Any, what: str) -> np.ndarray:
    arr = array if isinstance(array, np.ndarray) else np.asarray(array)
    if arr.ndim != 2:
        raise ValueError(f"load_image needs a 2-D image; {what} has shape {arr.shape}.")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"load_image needs numeric pixels; {what} has dtype {arr.dtype}.")
    if 0 in arr.shape:
        raise ValueError(f"load_image needs a non-empty image; {what} has shape {arr.shape}.")
    return arr


def _from_image(image: Any) -> tuple[np.ndarray, Any, Any]:
    from snapscope.exceptions import NoWCSError

    array = _check_plane(image.get_data_view("data"), f"{type(image).__name__} data")
    mask = image.get_data_view("flags")
    try:
        wcs = _celestial(image.get_wcs().get_astropy_wcs())
    except NoWCSError:
        wcs = None
    return array, mask, wcs


def _from_hdu(hdu: Any, what: str) -> tuple[np.ndarray, Any, Any]:
    import warnings

    from astropy.wcs import WCS, FITSFixedWarning

    array = _check_plane(hdu.data, what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        wcs = WCS(hdu.header)
    return array, None, _celestial(wcs)


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
    if hasattr(data, "get_data_view") and hasattr(data, "get_wcs"):
        array, mask, wcs = _from_image(data)
    elif nddata is not None and isinstance(data, nddata.NDData):
        array = _check_plane(data.data, "NDData.data")
        mask = None if data.mask is None else np.asarray(data.mask)
        wcs = _celestial(data.wcs)
    elif isinstance(data, fits.HDUList):
        hdus = [h for h in data if getattr(h, "is_image", False) and h.data is not None]
        if not hdus:
            raise TypeError("load_image: this HDUList has no image HDU with data.")
        array, mask, wcs = _from_hdu(hdus[0], "the first image HDU")
    elif isinstance(data, fits.PrimaryHDU | fits.ImageHDU | fits.CompImageHDU):
        array, mask, wcs = _from_hdu(data, type(data).__name__)
    else:
        array, mask, wcs = _check_plane(data, "the array"), None, None
    if mask is not None and mask.shape != array.shape:
        raise ValueError(
            f"load_image: mask shape {mask.shape} differs from data shape {array.shape}."
        )
    is_image = hasattr(data, "get_data_view") and hasattr(data, "get_wcs")
    return ImageEntry(
        label=label, data=data, array=array, mask=mask, wcs=wcs, source=data if is_image else array
    )

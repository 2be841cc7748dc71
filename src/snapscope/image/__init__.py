"""snappl-compatible image classes: ``from snapscope.image import Image`` works like snappl's.

``import snapscope.image`` stays light (numpy only): astropy, photutils and the database layer
are imported when first used, and ``RomanDatamodelImage`` (extra ``roman``) on first access.
"""

from __future__ import annotations

from typing import Any

from snapscope.image._base import Image
from snapscope.image._fits import FITSImage
from snapscope.image._fitscache import open_file_limit, set_open_file_limit
from snapscope.image._mask import PixelMask, resolve_mask
from snapscope.image._numpy import Numpy2DImage
from snapscope.image._ou2024 import CompressedFITSImage, FITSImageOnDisk, OpenUniverse2024FITSImage
from snapscope.image._pixels import PixelSource
from snapscope.image._scaled import ScaledPlane
from snapscope.image._stdheaders import FITSImageStdHeaders

__all__ = [
    "Image",
    "Numpy2DImage",
    "FITSImage",
    "FITSImageStdHeaders",
    "CompressedFITSImage",
    "FITSImageOnDisk",
    "OpenUniverse2024FITSImage",
    "RomanDatamodelImage",
    "image_class_for_format",
    "image_from_db_row",
    "ScaledPlane",
    "PixelSource",
    "PixelMask",
    "resolve_mask",
    "CutoutOutsideImageError",
    "open_file_limit",
    "set_open_file_limit",
]

_LAZY = {"RomanDatamodelImage": "snapscope.image._roman",
         "CutoutOutsideImageError": "snapscope.image._cutout"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'snapscope.image' has no attribute {name!r}")


def image_class_for_format(fmt: int) -> type[Image]:
    """Return the Image subclass that reads database ``format`` ``fmt``.

    Raises
    ------
    ValueError
        For an unknown format, or format -1 (not a database image).
    """
    try:
        name = Image._format_def[int(fmt)]["image_class"]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"unknown image format {fmt!r}; known: {sorted(Image._format_def)}") from None
    if name is None:
        raise ValueError("format -1 is not a database image format")
    return Image if name == "Image" else globals().get(name) or __getattr__(name)


def image_from_db_row(row: dict[str, Any]) -> Image:
    """Build the right Image subclass from an ``l2image`` row (a dict of columns).

    Columns that are not constructor arguments (``extension``, ``properties``, spatial-index
    columns…) are ignored; ``filepath`` is resolved against the format's base path
    (``snapscope.config``), or taken as absolute when that is not configured.
    """
    from snapscope.image._properties import INTERNAL_PROPERTIES

    cls = image_class_for_format(row["format"])
    keep = {"id", "provenance_id", "filepath", "format", *INTERNAL_PROPERTIES}
    kwargs = {k: v for k, v in row.items() if k in keep and v is not None}
    return cls(**kwargs)

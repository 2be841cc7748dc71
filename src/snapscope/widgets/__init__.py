"""Jupyter widgets: :class:`ImageWidget`, a tile-streaming AIDA image viewer."""

from snapscope.widgets._compare import CompareView
from snapscope.widgets._image_widget import ImageWidget
from snapscope.widgets._link import lock_views

__all__ = ["CompareView", "ImageWidget", "lock_views"]

# Linked widgets for searching, cutouts, photometry and light curves (issue 6).
from snapscope.widgets._cutouts import CutoutGrid  # noqa: E402
from snapscope.widgets._explorer import Explorer, explore  # noqa: E402
from snapscope.widgets._lightcurve import LightCurve  # noqa: E402
from snapscope.widgets._phot_table import PhotometryTable  # noqa: E402
from snapscope.widgets._search import SearchForm  # noqa: E402

__all__ += ["SearchForm", "CutoutGrid", "PhotometryTable", "LightCurve", "Explorer", "explore"]

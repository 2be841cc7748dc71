"""Jupyter widgets: :class:`ImageWidget`, a tile-streaming AIDA image viewer."""

from snapscope.widgets._image_widget import ImageWidget
from snapscope.widgets._link import lock_views

__all__ = ["ImageWidget", "lock_views"]

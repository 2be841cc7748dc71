"""Lock several ``ImageWidget`` views together by sky position (as DS9's "lock frame wcs").

When one view is panned or zoomed (in the browser or from Python), the others are moved so that
their centre shows the same sky position at the same angular scale, each through its own
image's WCS. Views of images without a WCS follow in pixel coordinates.
"""

from __future__ import annotations

from typing import Any

from ._viewport import sky_view

__all__ = ["ViewLock", "lock_views"]


class ViewLock:
    """A group of widgets whose views follow each other; ``unlock()`` releases them.

    Parameters
    ----------
    widgets : sequence of ImageWidget
    """

    def __init__(self, widgets: Any) -> None:
        self.widgets = list(widgets)
        self._busy = False
        for w in self.widgets:
            w.observe(self._moved, names="_view")

    def unlock(self) -> None:
        """Stop following."""
        for w in self.widgets:
            w.unobserve(self._moved, names="_view")

    def _moved(self, change: dict) -> None:
        if self._busy or not change["new"]:
            return
        source = change["owner"]
        view = change["new"]
        entry = source._entry_by_key(view.key)
        if entry is None:
            return
        self._busy = True
        try:
            for other in self.widgets:
                if other is not source:
                    _follow(other, entry, view)
        finally:
            self._busy = False


def _follow(widget: Any, entry: Any, view: Any, sky: bool = True) -> None:
    """Show in ``widget`` the view ``view`` (a ``_state.View``) of ``entry``.

    The same sky when ``sky`` and both images have a WCS, else the same pixels.
    """
    target = widget._entry_by_key(widget._displayed)
    if target is None:
        return
    pixels = (float(view.x), float(view.y), float(view.fov))
    x, y, fov = (sky and sky_view(entry, pixels, target)) or pixels
    target.view = (x, y, fov)
    widget._apply_viewport(target.label)


def lock_views(*widgets: Any) -> ViewLock:
    """Lock the views of several widgets together by sky position.

    Parameters
    ----------
    *widgets : ImageWidget
        Two or more widgets.

    Returns
    -------
    ViewLock
        Call its ``unlock()`` to release the views.
    """
    if len(widgets) < 2:
        raise ValueError("lock_views needs at least two widgets")
    return ViewLock(widgets)

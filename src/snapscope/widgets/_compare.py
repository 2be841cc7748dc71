"""``CompareView``: 2 to 12 ``ImageWidget`` panes locked on the sky, blinkable, one crosshair.

Decisions
---------
* **Linked in the page.** Each pane is an ordinary ``ImageWidget`` with a ``_link`` trait
  ``{"group", "mode", "display"}``. Its views meet the other panes' views in a registry on
  ``globalThis`` keyed by the group id (``js/src/link/group.ts``) and move them synchronously
  when the user pans or zooms, each pane turning the shared sky view (centre, scale,
  orientation) into its own pixel view through its own WCS grid (``js/src/link/skyView.ts``).
  No kernel round trip: every pane then syncs its own ``_view`` (debounced), so Python's
  ``get_viewport`` agrees. Changes made from Python (``set_viewport``, ``center_on``… on any
  pane) are followed here, in Python, by the other panes.
* **Shared display.** With ``shared_stretch`` a display-control edit is applied by every pane to
  its own image in the browser (a percentile stays a percentile of each image); a Python setter
  on one pane (``cuts``, ``stretch``, ``colormap``) is copied here to the others.
* **One view owns the layout.** The CompareView is itself an anywidget (same bundle) whose view
  renders each pane through anywidget's host (``host.getWidget``) into its slot and blinks them
  (``js/src/link/compare.ts``): blinking is a style change in the page, so it costs one frame
  and, once every pane has its tiles, no pixels.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import anywidget
import traitlets as t

from ._image_widget import ImageWidget
from ._inputs import make_entry
from ._link import _follow
from ._records import RecordTrait
from ._state import Link

__all__ = ["CompareView"]

#: How many panes a CompareView shows.
MIN_PANES, MAX_PANES = 2, 12
LINKS = ("wcs", "pixel", None)
LAYOUTS = ("grid", "row")
TRIPLET = ("science", "reference", "difference")


def _pane_refs(panes: list, _widget: Any) -> list[str]:
    """The panes on the wire: anywidget widget references."""
    return [f"anywidget:{p.model_id}" for p in panes]


def _check(images: list, labels: list[str], link: str | None, layout: str) -> None:
    """Raise ValueError naming what is wrong with the arguments (before any widget exists)."""
    if not MIN_PANES <= len(images) <= MAX_PANES:
        raise ValueError(f"CompareView needs {MIN_PANES} to {MAX_PANES} images, got {len(images)}")
    if link not in LINKS:
        raise ValueError(f"link must be 'wcs', 'pixel' or None, not {link!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be 'grid' or 'row', not {layout!r}")
    if len(labels) != len(images) or len(set(labels)) != len(labels):
        raise ValueError(f"labels must be {len(images)} distinct strings, got {labels!r}")
    if link is None:
        return
    entries = [make_entry(image, label) for image, label in zip(images, labels, strict=True)]
    if link == "wcs":
        missing = [e.label for e in entries if e.wcs is None]
        if missing:
            raise ValueError(
                f"link='wcs' needs a celestial WCS on every image; {missing!r} have none. "
                "Use link='pixel' for images on one pixel grid, or link=None."
            )
    elif len({e.shape for e in entries}) > 1:
        shapes = {e.label: e.shape for e in entries}
        raise ValueError(f"link='pixel' needs images of one shape, got {shapes!r}")


class CompareView(anywidget.AnyWidget):
    """Compare 2 to 12 images side by side, locked on the sky, with a shared crosshair and blink.

    Pans and zooms in one pane move every pane in the browser, with no kernel round trip; each
    pane shows the same sky centre and angular scale through its own WCS, so images on
    different pixel grids line up. The cursor's sky position is marked in every pane, with each
    pane's pixel value and RA/Dec. The ``b`` key or the Blink button shows the panes one at a
    time in one slot (``Escape`` or All: back to the layout).

    Parameters
    ----------
    images : sequence of Image, array-like, NDData, str, os.PathLike or HDU
        2 to 12 images, anything ``ImageWidget.load_image`` takes.
    labels : sequence of str, optional
        One distinct label per image; default ``"image 1"``, ``"image 2"``…
    link : {"wcs", "pixel", None}, optional
        Lock the views on the sky (every image needs a WCS), on the pixel grid (images of one
        shape), or not at all.
    shared_stretch : bool, optional
        Cuts, stretch and colormap changed in one pane (display control or Python setters)
        apply to every pane.
    layout : {"grid", "row"}, optional
        Panes in a near-square grid or in one row.
    height : str, optional
        CSS height of each pane's image area.
    **kwargs
        Passed to each pane's ``ImageWidget`` (``tile_size``, ``renderer``…).

    Raises
    ------
    ValueError
        For fewer than 2 or more than 12 images, an unknown ``link`` or ``layout``, labels
        that are not one distinct string per image, images without a WCS for ``link="wcs"``
        or of different shapes for ``link="pixel"``.
    """

    _esm = ImageWidget._esm

    _panes = t.List().tag(sync=True, to_json=_pane_refs)
    _labels = t.List(t.Unicode()).tag(sync=True)
    _arrangement = t.Enum(LAYOUTS, "grid").tag(sync=True)
    _link = RecordTrait(Link, allow_none=True)

    def __init__(
        self,
        images: Sequence[Any],
        labels: Sequence[str] | None = None,
        link: str | None = "wcs",
        shared_stretch: bool = True,
        layout: str = "grid",
        height: str = "320px",
        **kwargs: Any,
    ) -> None:
        images = list(images)
        labels = [f"image {i + 1}" for i in range(len(images))] if labels is None else list(labels)
        _check(images, labels, link, layout)
        self._mode, self._shared, self._busy = link, bool(shared_stretch), False
        group = Link(group=uuid.uuid4().hex, mode=link or "none", display=self._shared)
        panes = []
        for image, label in zip(images, labels, strict=True):
            pane = ImageWidget(height=height, **kwargs)
            pane.load_image(image, image_label=label)
            pane._link = group
            panes.append(pane)
        super().__init__(_panes=panes, _labels=labels, _arrangement=layout, _link=group)
        for pane in panes:
            pane.observe(self._pane_view, names="_view")
            pane.observe(self._pane_display, names="_displays")
        if link is not None:
            self._follow_from(panes[0])

    @classmethod
    def triplet(cls, science: Any, reference: Any, difference: Any, **kwargs: Any) -> CompareView:
        """Show a science, reference and difference image of one epoch, locked on the sky.

        Parameters
        ----------
        science, reference, difference : Image or anything ``ImageWidget.load_image`` takes
            The three images, labelled "science", "reference" and "difference".
        **kwargs
            Passed to ``CompareView`` (``link``, ``shared_stretch``, ``layout``…); the default
            layout is one row.

        Returns
        -------
        CompareView
        """
        kwargs.setdefault("layout", "row")
        return cls([science, reference, difference], labels=TRIPLET, **kwargs)

    # ------------------------------------------------------------------ access
    @property
    def panes(self) -> tuple[ImageWidget, ...]:
        """The panes' ``ImageWidget`` objects, in order."""
        return tuple(self._panes)

    @property
    def labels(self) -> tuple[str, ...]:
        """The panes' labels, in order."""
        return tuple(self._labels)

    def pane(self, which: int | str) -> ImageWidget:
        """Return one pane by index or label.

        Parameters
        ----------
        which : int or str

        Raises
        ------
        KeyError
            For an unknown label (the message lists the labels).
        """
        if isinstance(which, str):
            if which not in self._labels:
                raise KeyError(f"no pane {which!r}; the panes are {self.labels!r}")
            which = self._labels.index(which)
        return self._panes[which]

    def close(self) -> None:
        """Close the panes and this view."""
        for pane in self._panes:
            pane.close()
        super().close()

    # ------------------------------------------------------------------ views
    def set_viewport(self, center: Any = None, fov: Any = None, pane: int | str = 0) -> None:
        """Set the view of one pane (``ImageWidget.set_viewport``); linked panes follow.

        Parameters
        ----------
        center : SkyCoord or tuple of float, optional
        fov : Quantity or float, optional
        pane : int or str, optional
            The pane whose view is given.
        """
        self.pane(pane).set_viewport(center=center, fov=fov)

    def get_viewport(self, pane: int | str = 0, sky_or_pixel: str | None = None) -> dict:
        """Return the view of one pane (``ImageWidget.get_viewport``).

        Parameters
        ----------
        pane : int or str, optional
        sky_or_pixel : {"sky", "pixel"}, optional
        """
        return self.pane(pane).get_viewport(sky_or_pixel=sky_or_pixel)

    def _pane_view(self, change: dict) -> None:
        """A pane's view set from Python: the others follow (browser pans are linked there)."""
        source = change["owner"]
        if self._mode is not None and source._from_python and not self._busy and change["new"]:
            self._follow_from(source)

    def _follow_from(self, source: ImageWidget) -> None:
        view = source._view
        entry = source._entry_by_key(view.key) if view else None
        if entry is None:
            return
        self._busy = True
        try:
            for other in self._panes:
                if other is not source:
                    _follow(other, entry, view, sky=self._mode == "wcs")
        finally:
            self._busy = False

    # ------------------------------------------------------------------ display
    def set_cuts(self, cuts: Any, pane: int | str | None = None) -> None:
        """Set the cuts of every pane, or of one (``ImageWidget.set_cuts``).

        Parameters
        ----------
        cuts : tuple or astropy.visualization.BaseInterval
        pane : int or str, optional
            One pane; with ``shared_stretch`` the others follow it anyway.
        """
        for p in self._targets(pane):
            p.set_cuts(cuts)

    def set_stretch(self, stretch: Any, pane: int | str | None = None) -> None:
        """Set the stretch of every pane, or of one (``ImageWidget.set_stretch``).

        Parameters
        ----------
        stretch : astropy.visualization.BaseStretch
        pane : int or str, optional
        """
        for p in self._targets(pane):
            p.set_stretch(stretch)

    def set_colormap(self, map_name: str, pane: int | str | None = None) -> None:
        """Set the colormap of every pane, or of one (``ImageWidget.set_colormap``).

        Parameters
        ----------
        map_name : str
        pane : int or str, optional
        """
        for p in self._targets(pane):
            p.set_colormap(map_name)

    def _targets(self, pane: int | str | None) -> list[ImageWidget]:
        if pane is not None:
            return [self.pane(pane)]
        return self._panes[:1] if self._shared else list(self._panes)

    def _pane_display(self, change: dict) -> None:
        """A Python setter changed one pane's display: copy it to the others when shared.

        Edits made in the browser are shared there; Python only normalises them per pane.
        """
        source = change["owner"]
        if not self._shared or self._busy or not source._from_python:
            return
        if source._display_from_browser:
            return
        entry = next(iter(source._entries.values()))
        self._busy = True
        try:
            for other in self._panes:
                if other is not source:
                    target = next(iter(other._entries.values()))
                    target.cuts, target.stretch = entry.cuts, entry.stretch
                    target.colormap = entry.colormap
                    other._apply_display()
        finally:
            self._busy = False

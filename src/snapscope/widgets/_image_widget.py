"""``ImageWidget``: a tile-streaming image viewer implementing the AIDA 0.3.0 interface.

State lives in traits (``_images``, ``_displayed``, ``_displays``, ``_view``, ``_catalogs``,
``show_mask``…), so a re-rendered view finds everything it needs. The structured ones hold typed
records (``_state.py``, twins of ``js/src/model.ts``) that check themselves when set, from
Python or from the browser, and serialise themselves; pixels travel as tiles pulled
by the browser (see ``_protocol.py`` and ``_tile_server.py``), except the overview tile of the
last loaded image, which is part of the state (``_overview``): a view draws its first picture
as soon as it exists, with no request round trip, even while the kernel is busy (a message sent
before a view exists would be lost, and the kernel reads browser messages only when idle).
``load_image`` changes all traits inside ``hold_sync`` (one state message).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ._bundles import bundle
from ._catalogs import CatalogMixin
from ._display import DisplayMixin, control_colormaps
from ._errors import ErrorLog
from ._inputs import ImageEntry, make_entry
from ._labels import resolve_label
from ._protocol import MSG_CANCEL, MSG_CLICK, MSG_TILE, ProtocolError
from ._records import RecordDict, RecordList, RecordTrait
from ._state import Catalog, Display, ImageInfo, Link, Overview, View
from ._tile_server import TileServer
from ._viewport import ViewportMixin, aligned_view, fit_view
from ._wcsgrid import wcs_grid

__all__ = ["ImageWidget"]


class ImageWidget(DisplayMixin, ViewportMixin, CatalogMixin, anywidget.AnyWidget):
    """Show images in Jupyter: pan, zoom, stretch, catalogs, WCS readout, any image size.

    Implements the astro-image-display-api 0.3.0 ``ImageViewerInterface``. Images may be
    snapscope ``Image`` objects, 2-D arrays (memory maps stay on disk), ``NDData``/``CCDData``,
    FITS paths or HDUs. The browser pulls only the tiles it shows and applies cuts, stretch and
    colormap on the GPU.

    Parameters
    ----------
    height : str, optional
        CSS height of the image area.
    tile_size : int, optional
        Tile edge in pixels (256: a first picture of ~128 kB as float16, ~53 kB compressed).
    tile_dtype : {"float16", "float32"}, optional
        Encoding of the tile values sent to the browser.
    tile_compression : bool, optional
        Compress tiles losslessly (40 % of the float16 bytes on noisy sky).
    **kwargs
        Trait values (``show_mask``, ``renderer``…).
    """

    _esm = bundle("widget")

    #: The loaded images by key.
    _images = RecordDict(ImageInfo)
    _displayed = t.Unicode("").tag(sync=True)
    # No echo: Python answers every browser change of the displays with its normalised state.
    _displays = RecordDict(Display).tag(echo_update=False)
    #: 256 × RGBA uint8 tables of the colormaps the display control offers (~6 kB, sent once).
    _colormaps = t.Dict(value_trait=t.Bytes(), key_trait=t.Unicode()).tag(sync=True)
    _view = RecordTrait(View, allow_none=True)
    _catalogs = RecordList(Catalog)
    _overview = RecordTrait(Overview, allow_none=True)
    #: CSS width and height of the view (the browser's; ``save`` renders at this size).
    _viewer_size = t.Tuple(t.Int(), t.Int(), default_value=(600, 480)).tag(sync=True)
    _last_error = t.Unicode("").tag(sync=True)
    #: Link group of the view (see ``_compare.py``); None: alone.
    _link = RecordTrait(Link, allow_none=True)
    #: Show flagged / masked pixels in red.
    show_mask = t.Bool(False).tag(sync=True)
    #: CSS height of the image area.
    height = t.Unicode("480px").tag(sync=True)
    #: "auto" (WebGL2, else canvas 2D), "webgl2" or "canvas".
    renderer = t.Enum(["auto", "webgl2", "canvas"], "auto").tag(sync=True)

    def __init__(
        self,
        height: str = "480px",
        tile_size: int = 256,
        tile_dtype: str = "float16",
        tile_compression: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(height=height, _colormaps=control_colormaps(), **kwargs)
        self._entries: dict[str, ImageEntry] = {}
        self._catalog_tables: dict = {}
        self._catalog_styles: dict = {}
        self._click_callbacks: list[Callable[[dict], Any]] = []
        self._from_python = False
        #: True while Python normalises a display change made in the browser.
        self._display_from_browser = False
        self.errors = ErrorLog()
        self.tiles = TileServer(
            self._send_message,
            self._entry_by_key,
            self.errors,
            tile_size=tile_size,
            dtype=tile_dtype,
            compress=tile_compression,
        )
        self.on_msg(self._on_browser_msg)

    def close(self) -> None:
        """Close the widget and stop answering tile requests."""
        self.tiles.close()
        super().close()

    # ------------------------------------------------------------------ helpers
    def _send_message(self, content: dict, buffers: list) -> None:
        self.send(content, buffers=buffers or None)

    def _entry_by_key(self, key: str) -> ImageEntry | None:
        return next((e for e in self._entries.values() if e.key == key), None)

    def _resolve_image_label(self, label: str | None, allow_new: bool = False) -> str:
        return resolve_label(self._entries, label, "image", allow_new)

    @property
    def _displayed_labels(self) -> tuple[str, ...]:
        entry = self._entry_by_key(self._displayed)
        return (entry.label,) if entry else ()

    def _set_traits(self, **values: Any) -> None:
        """Set traits from Python (observers know the browser did not make the change)."""
        self._from_python = True
        try:
            with self.hold_sync():
                for name, value in values.items():
                    setattr(self, name, value)
        finally:
            self._from_python = False

    # ------------------------------------------------------------------ images
    def load_image(self, data: Any, image_label: str | None = None, **kwargs: Any) -> None:
        """Load an image and display it, fitted to the view.

        Parameters
        ----------
        data : Image, array-like, NDData, CCDData, str, os.PathLike, HDU or HDUList
            What to show; a path is opened as ``snapscope.image.FITSImage``.
        image_label : str, optional
            Label of the image; the same label replaces that image (keeping its cuts, stretch
            and colormap). Without a label, one shared default label is used.
        **kwargs
            Ignored.

        Raises
        ------
        TypeError, ValueError
            When ``data`` is not a 2-D numeric image (nothing is changed then).
        """
        label = self._resolve_image_label(image_label, allow_new=True)
        entry = make_entry(data, label)
        previous = self._entries.get(label)
        h, w = entry.shape
        entry.view = fit_view(entry)
        # None: AIDA's defaults (0.5-99.5 percentile cuts, linear), built when first asked for.
        entry.cuts = previous.cuts if previous else None
        entry.stretch = previous.stretch if previous else None
        entry.colormap = previous.colormap if previous else None
        pyr = self.tiles.pyramid(entry)
        images = {k: v for k, v in self._images.items() if not previous or k != previous.key}
        images[entry.key] = ImageInfo(
            key=entry.key,
            label=label,
            width=w,
            height=h,
            tile_size=self.tiles.tile_size,
            levels=[pyr.level_shape(level) for level in range(pyr.n_levels)],
            has_mask=entry.mask is not None,
            wcs=wcs_grid(entry.wcs, entry.shape),
            quantiles=self._quantiles(entry),
        )
        self._entries[label] = entry
        self._set_traits(
            _images=images,
            _displayed=entry.key,
            _displays=self._display_traits(),
            _view=self._view_trait(entry),
            _catalogs=self._catalog_trait(entry.wcs),
            _overview=self.tiles.overview_state(entry),
        )

    def get_image(self, image_label: str | None = None, **kwargs: Any) -> Any:
        """Return what was loaded under a label (an ``Image`` for FITS paths).

        Parameters
        ----------
        image_label : str, optional
            The image; may be omitted when only one is loaded.
        **kwargs
            Ignored.
        """
        return self._entries[self._resolve_image_label(image_label)].data

    @property
    def image_labels(self) -> tuple[str, ...]:
        """Labels of the loaded images."""
        return tuple(self._entries)

    @property
    def displayed_label(self) -> str | None:
        """Label of the image on screen (None before any load)."""
        labels = self._displayed_labels
        return labels[0] if labels else None

    def blink(self, image_label: str | None = None) -> None:
        """Show another loaded image (the next one, or ``image_label``) where the view was.

        The same blink as the ``b`` key in the browser: the new image shows the same sky
        position at the same angular scale when both images have a WCS, else the same pixels
        when they have one shape, else the whole image.

        Parameters
        ----------
        image_label : str, optional
            The image to show; default: the one after the displayed one.
        """
        if image_label is None:
            labels = list(self._entries)
            if not labels:
                raise ValueError("No image is loaded. Please load an image first.")
            current = self.displayed_label
            image_label = (
                labels[(labels.index(current) + 1) % len(labels)] if current else labels[0]
            )
        entry = self._entries[self._resolve_image_label(image_label)]
        current = self._entry_by_key(self._displayed)
        if current is not None and current is not entry:
            entry.view = aligned_view(current, current.view, entry)
        self._set_traits(
            _displayed=entry.key,
            _view=self._view_trait(entry),
            _catalogs=self._catalog_trait(entry.wcs),
        )

    # ------------------------------------------------------------- view
    def _view_trait(self, entry: ImageEntry) -> View:
        x, y, fov = entry.view
        return View(key=entry.key, x=x, y=y, fov=fov)

    def _apply_viewport(self, label: str) -> None:
        self._set_traits(_view=self._view_trait(self._entries[label]))

    @t.observe("_view")
    def _view_changed(self, change: dict) -> None:
        view = change["new"]
        if self._from_python or view is None:
            return
        entry = self._entry_by_key(view.key)
        if entry is not None:  # a pan or zoom in the browser: stored as it comes, in pixels
            entry.view = (view.x, view.y, view.fov)

    @t.observe("_displays")
    def _displays_changed(self, change: dict) -> None:
        if not self._from_python:
            self._display_from_browser = True
            try:
                self._displays_from_browser(change["new"])
            finally:
                self._display_from_browser = False

    @t.observe("_displayed")
    def _displayed_changed(self, change: dict) -> None:
        entry = self._entry_by_key(change["new"])
        if not self._from_python and entry is not None:
            self._set_traits(_catalogs=self._catalog_trait(entry.wcs))

    def _sync_catalogs(self) -> None:
        entry = self._entry_by_key(self._displayed)
        self._set_traits(_catalogs=self._catalog_trait(entry.wcs if entry else None))

    def save(self, filename: str | os.PathLike, overwrite: bool = False, **kwargs: Any) -> None:
        """Save the current view (as the browser shows it, without overlays) to an image file.

        Rendered in Python from the tile pyramid, so it works with no browser. The size is the
        view's size in the browser (600 × 480 before the first render).

        Parameters
        ----------
        filename : str or os.PathLike
            The format comes from the extension (``.png``, ``.jpg``, …; Pillow).
        overwrite : bool, optional
            Replace an existing file.
        **kwargs
            Ignored.

        Raises
        ------
        FileExistsError
            If the file exists and ``overwrite`` is False.
        """
        from ._save import save_view

        path = Path(filename)
        if path.exists() and not overwrite:
            raise FileExistsError(
                f"File {path} already exists. Use overwrite=True to overwrite it."
            )
        entry = self._entry_by_key(self._displayed)
        width, height = (int(v) for v in self._viewer_size)
        save_view(path, self, entry, width, height)

    # ------------------------------------------------------------- events
    def on_click(self, callback: Callable[[dict], Any], remove: bool = False) -> None:
        """Call ``callback(event)`` when the image is clicked (not dragged) in the browser.

        Parameters
        ----------
        callback : callable
            Gets a dict with ``x``, ``y`` (0-based pixels), ``ra``, ``dec`` (degrees, or None
            without a WCS) and ``image_label``. Its exceptions are caught and kept in
            ``errors``, so one failing callback does not stop the others.
        remove : bool, optional
            Unregister ``callback`` instead.
        """
        if remove:
            self._click_callbacks.remove(callback)
        else:
            self._click_callbacks.append(callback)

    def _click(self, content: dict) -> None:
        entry = self._entry_by_key(content.get("key", ""))
        if entry is None:
            raise ProtocolError(f"click on unknown image key {content.get('key')!r}")
        x, y = float(content["x"]), float(content["y"])
        ra = dec = None
        if entry.wcs is not None:
            ra, dec = (float(v) for v in entry.wcs.celestial.pixel_to_world_values(x, y))
        event = {"x": x, "y": y, "ra": ra, "dec": dec, "image_label": entry.label}
        for callback in list(self._click_callbacks):
            try:
                callback(event)
            except Exception as exc:  # noqa: BLE001 - isolate user callbacks
                self._last_error = (
                    self.errors.record(exc, "click callback").strip().splitlines()[-1]
                )

    def _on_browser_msg(self, _widget: Any, content: Any, buffers: list) -> None:
        """Dispatch one browser message; never raises (errors become replies)."""
        try:
            kind = content.get("kind") if isinstance(content, dict) else None
            if kind == MSG_TILE:
                self.tiles.request(content)
            elif kind == MSG_CANCEL:
                self.tiles.cancel(content)
            elif kind == MSG_CLICK:
                self._click(content)
            else:
                raise ProtocolError(f"unknown message kind {kind!r}")
        except Exception as exc:  # noqa: BLE001 - a bad message must not kill the kernel
            rid = content.get("id") if isinstance(content, dict) else None
            self.tiles.error(rid if isinstance(rid, int) else None, exc)

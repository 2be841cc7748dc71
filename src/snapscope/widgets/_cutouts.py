"""``CutoutGrid``: cutouts of one sky position over many images, epoch by epoch.

Decisions
---------
* **Ordered by MJD** (images without one last), band, MJD and the flagged fraction under each.
* **One shared stretch**, so a supernova's rise and fall are visible from cutout to cutout: the
  cuts come from the finite, unflagged pixels of every loaded cutout (``zscale`` by default;
  99.5 %, 99 %, min–max, or typed limits), then one of the viewer's stretches and colormaps.
  Thumbnails are rendered in Python with ``snapscope.tiles.render_rgba`` (the twin of the
  ImageWidget's shader), flipped so that pixel row 0 is at the bottom as in the viewer, and
  flagged pixels are tinted red.
* **Lazy**: a page of cutouts (24 by default) is cut when the grid is shown, more on "load more";
  a progress bar follows each batch. Cutting is ``snapscope.batch.cutouts``, i.e.
  ``image.get_ra_dec_cutout(ra, dec, size, mode='partial')`` per image.
* Clicking a cutout opens its image in the linked ``ImageWidget`` centred on the position (the
  zoom is kept) and sets ``selected_key``; ``highlighted_key`` (set by a light curve) outlines one.
* "Save FITS" cuts whatever is not loaded yet and writes the whole stack
  (:meth:`snapscope.batch.CutoutStack.write_fits`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import ipywidgets as ipw
import numpy as np
import traitlets as t

from snapscope import batch
from snapscope.widgets._fields import one_line, status_html
from snapscope.widgets._open import open_in_viewer
from snapscope.widgets._views import Thumbnails

__all__ = ["CutoutGrid", "shared_cuts"]

INTERVALS = ("zscale", "99.5%", "99%", "minmax", "manual")
STRETCHES = ("linear", "sqrt", "log", "asinh")
COLORMAPS = ("gray", "viridis", "magma", "inferno", "gray_r")
_FLAG_TINT = np.array([255, 0, 0], dtype=np.float32)


def shared_cuts(cutouts: list[Any], interval: str) -> tuple[float, float]:
    """Return (vmin, vmax) of ``interval`` over the finite, unflagged pixels of all cutouts."""
    from astropy.visualization import MinMaxInterval, PercentileInterval, ZScaleInterval

    values = []
    for cut in cutouts:
        if cut is None:
            continue
        good = np.isfinite(cut.data)
        if cut.flags is not None:
            good &= cut.flags == 0
        values.append(np.asarray(cut.data[good], dtype=np.float64))
    values = np.concatenate(values) if values else np.zeros(0)
    if values.size == 0:
        return 0.0, 1.0
    if interval == "zscale":
        limits = ZScaleInterval().get_limits(values)
    elif interval == "minmax":
        limits = MinMaxInterval().get_limits(values)
    else:
        limits = PercentileInterval(float(interval.rstrip("%"))).get_limits(values)
    return float(limits[0]), float(limits[1])


def _png(cut: Any, cuts: tuple[float, float], stretch: str, cmap: str) -> bytes:
    from PIL import Image as PILImage

    from snapscope.tiles import render_rgba

    rgba = render_rgba(np.asarray(cut.data, dtype=np.float32), cuts[0], cuts[1], stretch, cmap,
                       nan_color=(40, 40, 40, 255))
    if cut.flags is not None:
        bad = cut.flags != 0
        rgba[bad, :3] = (0.45 * rgba[bad, :3] + 0.55 * _FLAG_TINT).astype(np.uint8)
    buf = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(rgba[::-1])).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


class CutoutGrid(ipw.VBox):
    """Cutouts of one position over many images, with one shared stretch.

    Parameters
    ----------
    viewer : ImageWidget, optional
        Where a clicked cutout's image is opened.
    size : int
        Cutout side in pixels (odd).
    page_size : int
        Cutouts cut per page ("load more" cuts the next page).
    thumb_px : int
        Display size of a thumbnail in CSS pixels.
    client : distributed.Client, optional
        Cut on a Dask cluster.
    workers : int, optional
        Local threads (see ``snapscope.batch``).

    Attributes
    ----------
    images : list of Image
        The images shown, in MJD order.
    cutouts : list of Image or None
        Their cutouts (None: not loaded yet, or failed: ``errors`` says why).
    """

    position = t.Any(None, allow_none=True)
    selected_key = t.Unicode("")
    highlighted_key = t.Unicode("")

    def __init__(self, viewer: Any = None, size: int = 31, page_size: int = 24,
                 thumb_px: int = 96, client: Any = None, workers: int | None = None) -> None:
        self.viewer, self.size, self.page_size = viewer, size, page_size
        self.client, self.workers = client, workers
        self.images: list[Any] = []
        self.cutouts: list[Any] = []
        self.errors: list[str | None] = []
        self.image_keys: list[str] = []
        self._cuts = (0.0, 1.0)
        self._loaded = 0
        self._setting = False
        self.interval = ipw.Dropdown(options=INTERVALS, value="zscale", description="cuts",
                                     layout=ipw.Layout(width="160px"))
        self.stretch = ipw.Dropdown(options=STRETCHES, value="linear", description="stretch",
                                    layout=ipw.Layout(width="170px"))
        self.cmap = ipw.Dropdown(options=COLORMAPS, value="gray", description="colormap",
                                 layout=ipw.Layout(width="190px"))
        self.vmin = ipw.FloatText(description="min", layout=ipw.Layout(width="150px"))
        self.vmax = ipw.FloatText(description="max", layout=ipw.Layout(width="150px"))
        for w in (self.interval, self.stretch, self.cmap, self.vmin, self.vmax):
            w.style.description_width = "initial"
        self.more = ipw.Button(description="load more", disabled=True)
        self.progress = ipw.IntProgress(value=0, min=0, max=1, description="cutouts",
                                        layout=ipw.Layout(width="260px"))
        self.filename = ipw.Text(value="cutouts.fits", layout=ipw.Layout(width="200px"))
        self.save_button = ipw.Button(description="Save FITS", icon="save")
        self.status = ipw.HTML("")
        self.thumbnails = Thumbnails(thumb_px=thumb_px)
        super().__init__([
            ipw.HBox([self.interval, self.vmin, self.vmax, self.stretch, self.cmap]),
            ipw.HBox([self.progress, self.more, self.filename, self.save_button]),
            self.status, self.thumbnails])
        self.add_class("snapscope-cutouts")
        for w in (self.interval, self.stretch, self.cmap):
            w.observe(lambda _: self._render(), "value")
        for w in (self.vmin, self.vmax):
            w.observe(self._typed_cut, "value")
        self.more.on_click(lambda _: self.load_more())
        self.save_button.on_click(lambda _: self._save_clicked())
        self.thumbnails.on_click(self.open_image)
        self.observe(self._on_highlight, "highlighted_key")

    # ------------------------------------------------------------------ public
    def show(self, images: list[Any], position: Any) -> None:
        """Show cutouts of ``position`` (degrees or sexagesimal) over ``images``.

        The first page is cut at once; the rest on "load more".
        """
        ra, dec = batch.parse_position(position)
        self.images = sorted(images, key=lambda im: (im.mjd is None, im.mjd or 0.0))
        self.image_keys = [batch.image_key(im) for im in self.images]
        self.cutouts = [None] * len(self.images)
        self.errors = [None] * len(self.images)
        self.position = (ra, dec)
        self.thumbnails.items = [{"caption": self._caption(i), "title": self._title(i)}
                                 for i in range(len(self.images))]
        self.thumbnails.images = [b""] * len(self.images)
        self.thumbnails.selected = -1
        self.selected_key = ""
        self._loaded = 0
        self.load_more()

    def load_more(self) -> None:
        """Cut the next page of cutouts (with a progress bar) and redraw."""
        start, stop = self._loaded, min(self._loaded + self.page_size, len(self.images))
        self._cut(start, stop)
        self._loaded = stop
        self._render()

    def stack(self) -> batch.CutoutStack:
        """Return every cutout (cutting the ones not loaded yet) as a ``CutoutStack``."""
        self._cut(self._loaded, len(self.images))
        self._loaded = len(self.images)
        ra, dec = self.position
        return batch.CutoutStack(ra, dec, self.size, list(self.images), list(self.cutouts),
                                 list(self.errors))

    def write_fits(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write every cutout as one multi-extension FITS file (``CutoutStack.write_fits``)."""
        written = self.stack().write_fits(path, overwrite=overwrite)
        self._render()
        return written

    def set_stretch(self, stretch: str) -> None:
        """Use stretch ``stretch`` (one of ``STRETCHES``) for every cutout."""
        self.stretch.value = stretch

    def set_cuts(self, cuts: str | tuple[float, float]) -> None:
        """Use an interval name (``INTERVALS``) or fixed ``(vmin, vmax)`` for every cutout."""
        if isinstance(cuts, str):
            self.interval.value = cuts
            return
        self._cuts = (float(cuts[0]), float(cuts[1]))
        if self.interval.value == "manual":
            self._render()
        else:
            self.interval.value = "manual"  # renders

    def get_cuts(self) -> tuple[float, float]:
        """Return the shared (vmin, vmax)."""
        return self._cuts

    def set_colormap(self, name: str) -> None:
        """Use colormap ``name`` (one of ``COLORMAPS``)."""
        self.cmap.value = name

    def open_image(self, index: int) -> None:
        """Open the image of cutout ``index`` in the viewer, centred on the position."""
        image = self.images[index]
        self.selected_key = self.image_keys[index]
        self.thumbnails.selected = index
        if self.viewer is None:
            return
        failed = open_in_viewer(self.viewer, image, self.position)
        self.status.value = status_html(failed or f"showing {image.filename}", error=bool(failed))

    def state(self) -> dict[str, Any]:
        """Return the display state (interval, cuts, stretch, colormap) as plain values."""
        return {"interval": self.interval.value, "cuts": list(self._cuts),
                "stretch": self.stretch.value, "cmap": self.cmap.value}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""
        self.stretch.value, self.cmap.value = state["stretch"], state["cmap"]
        if state["interval"] == "manual":
            self.set_cuts(tuple(state["cuts"]))
        else:
            self.interval.value = state["interval"]

    # ---------------------------------------------------------------- internal
    def _cut(self, start: int, stop: int) -> None:
        if stop <= start:
            return
        self.progress.max, self.progress.value = stop - start, 0

        def tick(done: int, total: int) -> None:
            self.progress.value = done

        stack = batch.cutouts(self.images[start:stop], self.position, self.size,
                              client=self.client, workers=self.workers, progress=False,
                              callback=tick)
        self.cutouts[start:stop] = stack.cutouts
        self.errors[start:stop] = stack.errors
        failed = sum(e is not None for e in self.errors)
        left = len(self.images) - stop
        self.more.disabled = left == 0
        self.more.description = f"load more ({left} left)" if left else "all loaded"
        self.status.value = status_html(f"{stop} of {len(self.images)} cutouts"
                                        + (f", {failed} failed (hover for why)" if failed else ""))

    def _render(self) -> None:
        if self.interval.value != "manual":
            self._cuts = shared_cuts(self.cutouts, self.interval.value)
        self._setting = True
        try:
            self.vmin.value, self.vmax.value = self._cuts
        finally:
            self._setting = False
        pngs = [b"" if c is None else _png(c, self._cuts, self.stretch.value, self.cmap.value)
                for c in self.cutouts]
        with self.thumbnails.hold_sync():
            self.thumbnails.items = [{"caption": self._caption(i), "title": self._title(i),
                                      "error": "failed" if self.errors[i] else ""}
                                     for i in range(len(self.images))]
            self.thumbnails.images = pngs

    def _typed_cut(self, change: dict) -> None:
        if self._setting:
            return
        self.set_cuts((self.vmin.value, self.vmax.value))

    def _caption(self, i: int) -> str:
        im, cut = self.images[i], self.cutouts[i]
        mjd = "MJD ?" if im.mjd is None else f"{im.mjd:.2f}"
        flags = "" if cut is None else f"\n{100 * cut.fraction_masked():.1f}% flagged"
        return f"{im.band or '?'} {mjd}{flags}"

    def _title(self, i: int) -> str:
        return self.errors[i] or f"{self.images[i].filename}: click to open"

    def _on_highlight(self, change: dict) -> None:
        key = change["new"]
        keys = self.image_keys
        self.thumbnails.highlighted = keys.index(key) if key in keys else -1

    def _save_clicked(self) -> None:
        try:
            path = self.write_fits(self.filename.value, overwrite=True)
        except Exception as err:  # noqa: BLE001 - a bad path becomes a status line
            self.status.value = status_html(f"not saved: {one_line(err)}", error=True)
            return
        self.status.value = status_html(f"saved {len(self.images)} cutouts to {path}")

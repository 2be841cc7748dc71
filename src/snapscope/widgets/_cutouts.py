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
* **Science / reference / difference.** Given a reference (``show(..., reference=, psf=)``:
  a ``snapscope.diff.Reference`` or a mapping band → Reference), the grid can show each epoch as
  one row of three stamps: the science side, the PSF-matched reference and their difference
  (``snapscope.diff.differences``, on the same page-by-page schedule). Science and reference share
  the cuts (the same flux scale); the differences get the interval's own cuts over all
  difference stamps, or in manual mode ±(max − min)/2 around 0, the same data units per gray
  level as the science cuts. Stretch and colormap are shared by all.
* Clicking a cutout opens its image in the linked ``ImageWidget`` centred on the position (the
  zoom is kept) and sets ``selected_key``; ``highlighted_key`` (set by a light curve) outlines one.
* "Save" writes what is shown, everything loaded first, by the file's suffix: ``.fits`` every
  plane (:meth:`snapscope.batch.CutoutStack.write_fits`, or ``snapscope.diff.write_differences``
  in the difference view), ``.png`` a sheet of the stamps (a row per epoch in the difference
  view), ``.gif`` an animation over epochs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as ipw
import numpy as np
import traitlets as t

from snapscope import batch
from snapscope.widgets._fields import one_line, status_html
from snapscope.widgets._open import open_in_viewer
from snapscope.widgets._stamp_pictures import png_bytes, sheet, stamp_rgba, write_gif, write_png
from snapscope.widgets._views import Thumbnails

__all__ = ["CutoutGrid", "shared_cuts"]

INTERVALS = ("zscale", "99.5%", "99%", "minmax", "manual")
STRETCHES = ("linear", "sqrt", "log", "asinh")
COLORMAPS = ("gray", "viridis", "magma", "inferno", "gray_r")
#: The two views: every cutout, or science / reference / difference per epoch.
VIEWS = (("cutouts", "cutouts"), ("science / reference / difference", "triplets"))
SAVE_SUFFIXES = (".fits", ".png", ".gif")
_SIDES = ("science", "reference", "difference")


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
    differences : list of snapscope.diff.Difference or None
        Their difference stamps when a reference was given (None: not loaded, no reference of
        the band, or failed: ``difference_errors`` says why).
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
        self.differences: list[Any] = []
        self.difference_errors: list[str | None] = []
        self.reference: Any = None
        self.psf: Any = None
        self.image_keys: list[str] = []
        self._cuts = (0.0, 1.0)
        self._pictures_shown: list[list[Any]] = []  # the RGBA of each thumbnail, by _render
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
        self.view = ipw.ToggleButtons(options=VIEWS, value="cutouts", disabled=True,
                                      tooltips=["every cutout", "each epoch as science, "
                                                "reference and difference"],
                                      style={"button_width": "auto"},
                                      layout=ipw.Layout(display="none"))  # shown with a reference
        self.filename = ipw.Text(value="cutouts.fits", layout=ipw.Layout(width="200px"),
                                 tooltip="the suffix chooses: .fits (every plane), .png, .gif")
        self.save_button = ipw.Button(description="Save", icon="save",
                                      tooltip=".fits: every plane; .png: a sheet; .gif: epochs")
        self.status = ipw.HTML("")
        self.thumbnails = Thumbnails(thumb_px=thumb_px)
        super().__init__([
            ipw.HBox([self.interval, self.vmin, self.vmax, self.stretch, self.cmap]),
            self.view,
            ipw.HBox([self.progress, self.more, self.filename, self.save_button]),
            self.status, self.thumbnails])
        self.add_class("snapscope-cutouts")
        for w in (self.interval, self.stretch, self.cmap, self.view):
            w.observe(lambda _: self._render(), "value")
        for w in (self.vmin, self.vmax):
            w.observe(self._typed_cut, "value")
        self.more.on_click(lambda _: self.load_more())
        self.save_button.on_click(lambda _: self._save_clicked())
        self.thumbnails.on_click(self.open_image)
        self.observe(self._on_highlight, "highlighted_key")

    # ------------------------------------------------------------------ public
    def show(self, images: list[Any], position: Any, reference: Any = None,
             psf: Any = None) -> None:
        """Show cutouts of ``position`` (degrees or sexagesimal) over ``images``.

        The first page is cut at once; the rest on "load more".

        Parameters
        ----------
        images : list of Image
            The images (shown in MJD order).
        position : str, SkyCoord or (float, float)
            The sky position.
        reference : snapscope.diff.Reference or mapping band → Reference, optional
            Also make each epoch's difference stamp (science / reference / difference view,
            shown first); epochs of a band without a reference show their cutout only.
        psf : PSF, mapping band → PSF, or callable image → PSF
            The images' PSFs (needed with ``reference``), as ``snapscope.diff.difference``.

        Raises
        ------
        ValueError
            When ``reference`` is given without ``psf``.
        """
        if reference is not None and psf is None:
            raise ValueError("a reference needs the images' psf= to match it to each epoch")
        ra, dec = batch.parse_position(position)
        self.images = sorted(images, key=lambda im: (im.mjd is None, im.mjd or 0.0))
        self.image_keys = [batch.image_key(im) for im in self.images]
        self.cutouts = [None] * len(self.images)
        self.errors = [None] * len(self.images)
        self.differences = [None] * len(self.images)
        self.difference_errors = [None] * len(self.images)
        self.reference, self.psf = reference, psf
        self.position = (ra, dec)
        self._setting = True
        try:
            self.view.disabled = reference is None
            self.view.layout.display = "none" if reference is None else ""
            self.view.value = "cutouts" if reference is None else "triplets"
        finally:
            self._setting = False
        self.thumbnails.columns = 3 if self._triplets() else 0
        self.thumbnails.items = self._items()  # placeholders ("…") while the first page is cut
        self.thumbnails.images = [b""] * len(self.thumbnails.items)
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
        """Write every stamp shown as one multi-extension FITS file, atomically.

        The cutout view writes ``CutoutStack.write_fits`` (SCI/ERR/DQ per cutout), the
        difference view ``snapscope.diff.write_differences`` (SCI/REF/DIFF/DIFFERR/DQ per epoch).
        """
        stack = self.stack()
        if self._triplets():
            from snapscope.diff import write_differences

            written = write_differences(path, self.images, self.differences, overwrite=overwrite)
        else:
            written = stack.write_fits(path, overwrite=overwrite)
        self._render()
        return written

    def save(self, path: str | Path, overwrite: bool = False, duration_ms: int = 500) -> Path:
        """Save what is shown (everything loaded first), by the suffix of ``path``.

        Parameters
        ----------
        path : str or Path
            ``.fits``: every plane (:meth:`write_fits`); ``.png``: a sheet of the stamps as
            shown (a row per epoch in the difference view); ``.gif``: one frame per epoch.
        overwrite : bool
            Replace an existing file (else ``FileExistsError``).
        duration_ms : int
            Time each GIF frame is shown.

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        ValueError
            For another suffix, or when no stamp could be made.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in SAVE_SUFFIXES:
            raise ValueError(f"cannot save {path.name!r}: use a name ending in one of {SAVE_SUFFIXES}")
        if suffix == ".fits":
            return self.write_fits(path, overwrite=overwrite)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
        self.stack()
        self._render()
        rows = [row for row in self._pictures_shown if any(p is not None for p in row)]
        if suffix == ".gif":
            return write_gif(path, [sheet([row]) for row in rows], duration_ms=duration_ms)
        if not self._triplets():  # one cutout per epoch: 8 to a row
            flat = [p for row in rows for p in row]
            rows = [flat[k:k + 8] for k in range(0, len(flat), 8)]
        return write_png(path, sheet(rows))

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
        """Open the image of thumbnail ``index`` in the viewer, centred on the position."""
        per_epoch = 3 if self._triplets() else 1
        epoch = index // per_epoch
        image = self.images[epoch]
        self.selected_key = self.image_keys[epoch]
        self.thumbnails.selected = index
        if self.viewer is None:
            return
        failed = open_in_viewer(self.viewer, image, self.position)
        self.status.value = status_html(failed or f"showing {image.filename}", error=bool(failed))

    def state(self) -> dict[str, Any]:
        """Return the display state (interval, cuts, stretch, colormap) as plain values."""
        return {"interval": self.interval.value, "cuts": list(self._cuts),
                "stretch": self.stretch.value, "cmap": self.cmap.value, "view": self.view.value}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state` returned."""
        self.stretch.value, self.cmap.value = state["stretch"], state["cmap"]
        if not self.view.disabled:
            self.view.value = state.get("view", self.view.value)
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
        if self.reference is not None:
            self._difference(start, stop, tick)
        failed = sum(e is not None for e in self.errors)
        left = len(self.images) - stop
        self.more.disabled = left == 0
        self.more.description = f"load more ({left} left)" if left else "all loaded"
        self.status.value = status_html(f"{stop} of {len(self.images)} cutouts"
                                        + (f", {failed} failed (hover for why)" if failed else ""))

    def _difference(self, start: int, stop: int, tick: Any) -> None:
        """Difference stamps of the epochs ``start:stop`` whose band has a reference."""
        from snapscope.diff import differences, reference_bands

        bands = reference_bands(self.reference)
        ra, dec = self.position
        todo = []
        for i in range(start, stop):
            image = self.images[i]
            if image.band not in bands:
                self.difference_errors[i] = f"no reference for band {image.band}"
            elif self.cutouts[i] is None or not image.includes_radec(ra, dec):
                self.difference_errors[i] = self.errors[i] or "the position is off the image"
            else:
                todo.append(i)
        self.progress.max, self.progress.value = max(len(todo), 1), 0
        try:
            made = differences([self.images[i] for i in todo], self.reference, self.psf,
                               size=self.size, client=self.client, workers=self.workers,
                               progress=False, callback=tick)
        except Exception as err:  # noqa: BLE001 - one bad epoch: say which, keep the rest
            made = [None] * len(todo)
            for k, i in enumerate(todo):
                try:
                    made[k] = differences([self.images[i]], self.reference, self.psf,
                                          size=self.size, progress=False)[0]
                except Exception as one:  # noqa: BLE001 - shown on hover, never a traceback
                    self.difference_errors[i] = one_line(one)
            if all(d is None for d in made):
                self.status.value = status_html(f"no difference stamp: {one_line(err)}",
                                                error=True)
        for i, d in zip(todo, made, strict=True):
            self.differences[i] = d

    def _triplets(self) -> bool:
        return self.view.value == "triplets" and self.reference is not None

    def _pictures(self) -> list[list[Any]]:
        """Per epoch, the RGBA pictures shown (one, or science / reference / difference)."""
        stretch, cmap = self.stretch.value, self.cmap.value
        if not self._triplets():
            return [[None if c is None else stamp_rgba(c, self._cuts, stretch, cmap)]
                    for c in self.cutouts]
        sides = [[None] * 3 if d is None else [d.science_stamp, d.reference_stamp, d.image]
                 for d in self.differences]
        if self.interval.value == "manual":
            half = (self._cuts[1] - self._cuts[0]) / 2
            diff_cuts = (-half, half)
        else:
            diff_cuts = shared_cuts([row[2] for row in sides], self.interval.value)
        cuts = (self._cuts, self._cuts, diff_cuts)
        return [[None if stamp is None else stamp_rgba(stamp, c, stretch, cmap)
                 for stamp, c in zip(row, cuts, strict=True)] for row in sides]

    def _render(self) -> None:
        if self._setting:
            return
        triplets = self._triplets()
        if self.interval.value != "manual":
            shown = ([s for d in self.differences if d is not None
                      for s in (d.science_stamp, d.reference_stamp)] if triplets else self.cutouts)
            self._cuts = shared_cuts(shown, self.interval.value)
        self._setting = True
        try:
            self.vmin.value, self.vmax.value = self._cuts
        finally:
            self._setting = False
        self._pictures_shown = self._pictures()
        pngs = [b"" if p is None else png_bytes(p) for row in self._pictures_shown for p in row]
        with self.thumbnails.hold_sync():
            self.thumbnails.columns = 3 if triplets else 0
            self.thumbnails.items = self._items()
            self.thumbnails.images = pngs
            self._on_highlight({"new": self.highlighted_key})

    def _items(self) -> list[dict[str, str]]:
        """Every thumbnail's caption, hover text and error mark, in display order."""
        sides = _SIDES if self._triplets() else (None,)
        return [self._item(i, side) for i in range(len(self.images)) for side in sides]

    def _item(self, i: int, side: str | None) -> dict[str, str]:
        """Caption, hover text and error mark of epoch ``i``'s thumbnail (one ``side`` of it)."""
        error = self.errors[i] if side is None else self.difference_errors[i]
        caption = self._caption(i)
        if side is not None:
            caption = caption.split("\n")[0] + f"\n{side}"
        return {"caption": caption, "title": error or f"{self.images[i].filename}: click to open",
                "error": "failed" if error else ""}

    def _typed_cut(self, change: dict) -> None:
        if self._setting:
            return
        self.set_cuts((self.vmin.value, self.vmax.value))

    def _caption(self, i: int) -> str:
        im, cut = self.images[i], self.cutouts[i]
        mjd = "MJD ?" if im.mjd is None else f"{im.mjd:.2f}"
        flags = "" if cut is None else f"\n{100 * cut.fraction_masked():.1f}% flagged"
        return f"{im.band or '?'} {mjd}{flags}"

    def _on_highlight(self, change: dict) -> None:
        key = change["new"]
        keys = self.image_keys
        per_epoch = 3 if self._triplets() else 1
        # the difference of a highlighted epoch (its last thumbnail) is what a light curve shows
        self.thumbnails.highlighted = (keys.index(key) + 1) * per_epoch - 1 if key in keys else -1

    def _save_clicked(self) -> None:
        try:
            path = self.save(self.filename.value, overwrite=True)
        except Exception as err:  # noqa: BLE001 - a bad path becomes a status line
            self.status.value = status_html(f"not saved: {one_line(err)}", error=True)
            return
        what = "epochs" if self._triplets() else "cutouts"
        self.status.value = status_html(f"saved {len(self.images)} {what} to {path}")

"""``Explorer``: search form, image viewer, cutout grid, photometry table and light curve, linked.

Decisions
---------
* **One flow.** A search with a position (typed, or clicked on the viewer) finds *every*
  matching image (not just the page shown), cuts them into the grid (lazily) and measures them;
  the light curve follows the table. The form's page of results is for opening single images.
  Image objects of earlier searches are reused (same catalogue id), so moving the position
  does not parse their headers again (most of the cost of a cutout).
* **Links** (all through traits, so they work the same from Python and from the browser):
  light-curve hover → table row highlight and cutout outline; light-curve click ↔ table row
  selection (``traitlets.link``) → the cutout of the first selected row is outlined; clicking a
  cutout opens its image centred on the position and selects that image's rows (so its points
  light up); clicking the viewer sets the position and searches again.
* **Difference photometry** (``reference_before``, an MJD): after each search a reference is
  built per band (``snapscope.diff.build_reference``) from that band's epochs before the date;
  bands without any (or whose reference fails) are named on the status line and measured
  direct only. The references go to the photometry table (difference on, unless the user chose
  direct: the choice is kept across searches) and to the cutout grid, which shows the
  differences too.
* **State** is what a person would want back tomorrow: the form's fields, the position, the
  selected rows (by image, method and position — not row numbers, which depend on the sort),
  the shared cutout stretch, the photometry parameters, the direct | difference choice and
  ``reference_before``. ``state()`` is JSON-serialisable;
  ``set_state()`` re-runs the search and re-selects the rows. Objects (the PSF, a Dask client,
  the catalogue connection) are not state: give them to the new explorer.
"""

from __future__ import annotations

import json
from typing import Any

import ipywidgets as ipw
import traitlets as t

from snapscope.batch import image_key, parse_position
from snapscope.widgets._cutouts import CutoutGrid
from snapscope.widgets._fields import one_line, status_html
from snapscope.widgets._lightcurve import LightCurve
from snapscope.widgets._phot_table import PhotometryTable
from snapscope.widgets._search import SearchForm

__all__ = ["Explorer", "explore"]

#: Version 2 added ``mode`` and ``reference_before`` (a version-1 state means direct, None).
STATE_VERSION = 2


class Explorer(ipw.VBox):
    """Find images of a sky position, look at them epoch by epoch, measure the light curve.

    Parameters
    ----------
    dbclient : DBClient or str, optional
        The catalogue (default: ``SNAPSCOPE_DSN`` or the embedded server).
    psf : PSF, mapping band → PSF, or callable, optional
        Also fit this PSF in the photometry.
    client : distributed.Client, optional
        Run cutouts and photometry on a Dask cluster.
    workers : int, optional
        Local threads for cutouts and photometry.
    size : int
        Cutout side in pixels.
    reference_before : float, optional
        Build per-band references from the epochs before this MJD and measure difference
        photometry (needs ``psf``); default: direct photometry only.
    **search
        Initial search-form values (``SearchForm.set_values``); with a ``position`` the search
        runs at once.

    Attributes
    ----------
    viewer : ImageWidget
    search : SearchForm
    cutouts : CutoutGrid
    photometry : PhotometryTable
    lightcurve : LightCurve
    images : list of Image
        Every image of the last search with a position, in MJD order.
    references : dict
        Band → ``snapscope.diff.Reference`` of the last search (empty without
        ``reference_before``).
    """

    images = t.List()

    def __init__(self, dbclient: Any = None, psf: Any = None, client: Any = None,
                 workers: int | None = None, size: int = 31,
                 reference_before: float | None = None, **search: Any) -> None:
        from snapscope.widgets._image_widget import ImageWidget

        self.viewer = ImageWidget(height="420px")
        self.search = SearchForm(viewer=self.viewer, dbclient=dbclient)
        self.cutouts = CutoutGrid(viewer=self.viewer, size=size, client=client, workers=workers)
        self.photometry = PhotometryTable(psf=psf, client=client, workers=workers)
        self.lightcurve = LightCurve()
        self.status = ipw.HTML("")
        self._known: dict[str, Any] = {}
        self.reference_before = reference_before
        self.references: dict[str, Any] = {}
        self._difference = True  # the user's choice, kept while a search has no reference
        half = ipw.Layout(width="50%")
        super().__init__([
            ipw.HBox([ipw.VBox([self.search], layout=half), ipw.VBox([self.viewer], layout=half)]),
            self.status,
            ipw.HBox([ipw.VBox([self.cutouts], layout=half),
                      ipw.VBox([self.lightcurve], layout=half)]),
            self.photometry])
        self.add_class("snapscope-explorer")
        t.dlink((self.photometry, "table"), (self.lightcurve, "table"))
        t.link((self.photometry, "selected"), (self.lightcurve, "selected"))
        self.lightcurve.observe(self._on_hover, "hovered")
        self.photometry.observe(self._on_rows_selected, "selected")
        self.cutouts.observe(self._on_cutout_opened, "selected_key")
        self.photometry.mode.observe(self._on_mode, "value")
        self.search.observe(self._on_search, "searches")
        self.viewer.on_click(self._on_viewer_click)
        self.search.set_values(**search)
        if search.get("position"):
            self.search.search()

    # ------------------------------------------------------------------ public
    def go(self, position: Any) -> bool:
        """Search at ``position`` (text, SkyCoord or degrees) keeping the other filters.

        Returns False (the form says why) when the position is invalid or the search failed.
        """
        if not isinstance(position, str):
            position = " ".join(f"{v:.7f}" for v in parse_position(position))
        self.search.set_values(position=position)
        return self.search.search()

    def state(self) -> dict[str, Any]:
        """Return the explorer's state as JSON-serialisable values (see the module docstring)."""
        table = self.photometry.table
        selection = [] if table is None else [
            dict(zip(("image", "method", "position"), _selection_key(table, r), strict=True))
            for r in self.photometry.selected]
        return {"version": STATE_VERSION, "reference_before": self.reference_before,
                "mode": "difference" if self._difference else "direct", "search": self.search.values(),
                "position": None if self.search.position is None else list(self.search.position),
                "selection": selection, "cutouts": self.cutouts.state(),
                "photometry": {k: (list(v) if isinstance(v, tuple) else v)
                               for k, v in (self.photometry.params() or {}).items()},
                "quantity": self.lightcurve.quantity.value}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state`: fill the form, search, re-select the rows, restyle.

        Raises
        ------
        ValueError
            When the state is from a newer snapscope.
        """
        if state.get("version", 0) > STATE_VERSION:
            raise ValueError(f"explorer state version {state['version']} is newer than this "
                             f"snapscope understands ({STATE_VERSION})")
        params = dict(state["photometry"])
        if "fit_shape" in params:
            params["fit_shape"] = tuple(params["fit_shape"])
        self.photometry.set_params(**params)
        self.cutouts.set_state(state["cutouts"])
        self.lightcurve.quantity.value = state["quantity"]
        self.reference_before = state.get("reference_before")
        self._difference = state.get("mode", "difference") == "difference"
        self.search.set_values(**state["search"])
        if state["search"].get("position"):
            self.search.search()
        table = self.photometry.table
        if table is not None:
            wanted = {(s["image"], s["method"], s["position"]) for s in state["selection"]}
            self.photometry.selected = [r for r in range(len(table))
                                        if _selection_key(table, r) in wanted]

    def to_json(self) -> str:
        """Return :meth:`state` as a JSON string."""
        return json.dumps(self.state())

    def from_json(self, text: str) -> None:
        """Restore a state written by :meth:`to_json`."""
        self.set_state(json.loads(text))

    # ---------------------------------------------------------------- internal
    def _on_search(self, change: dict) -> None:
        position = self.search.position
        if position is None:
            self.status.value = status_html("give a position to see cutouts and a light curve")
            return
        try:
            found = self.search.find_all(order_by="mjd")
        except Exception as err:  # noqa: BLE001 - a failed search becomes a status line
            self.status.value = status_html(f"search failed: {one_line(err)}", error=True)
            return
        # keep the Image objects of earlier searches: their headers and WCSs are parsed already
        self._known.update((image_key(im), im) for im in self.images)
        self.images = [self._known.get(image_key(im), im) for im in found]
        refs, notes = self._build_references(position)
        self.references = refs
        self.status.value = status_html("; ".join(
            [f"{len(self.images)} images contain ({position[0]:.6f}, {position[1]:.6f})",
             *notes]))
        self.photometry.set_reference(refs, difference=self._difference)
        self.cutouts.show(self.images, position, reference=refs or None, psf=self.photometry.psf)
        self.photometry.measure(self.images, [position])

    def _build_references(self, position: tuple[float, float]) -> tuple[dict[str, Any],
                                                                        list[str]]:
        """References of the bands with epochs before ``reference_before``; status notes."""
        from snapscope.diff import build_reference

        before = self.reference_before
        if before is None or not self.images:
            return {}, []
        psf = self.photometry.psf
        if psf is None:
            return {}, ["difference photometry needs a PSF: direct photometry only"]
        early = {str(im.band) for im in self.images if im.mjd is not None and im.mjd < before}
        refs, failed = {}, {}
        for band in sorted(early):
            try:
                refs[band] = build_reference(self.images, position, psf, band=band,
                                             before=before, client=self.photometry.client,
                                             workers=self.photometry.workers)
            except (OSError, ValueError) as err:
                failed[band] = one_line(err)
        notes = [f"references before MJD {before:g}: " + ", ".join(
            f"{b} ({len(r.inputs)} images)" for b, r in refs.items())] if refs else []
        notes += [f"{b}: no reference ({why}), direct photometry only"
                  for b, why in failed.items()]
        late = sorted({str(im.band) for im in self.images} - early)
        if late:
            notes.append(f"{', '.join(late)}: no epoch before MJD {before:g}, direct photometry "
                         "only")
        return refs, notes

    def _on_mode(self, change: dict) -> None:
        if not self.photometry.mode.disabled:
            self._difference = change["new"] == "difference"

    def _key_of_row(self, row: int) -> str:
        table = self.photometry.table
        return "" if table is None or not 0 <= row < len(table) else _row_key(table[row])

    def _on_hover(self, change: dict) -> None:
        self.photometry.highlighted = change["new"]
        self.cutouts.highlighted_key = self._key_of_row(change["new"])

    def _on_rows_selected(self, change: dict) -> None:
        if change["new"]:
            self.cutouts.highlighted_key = self._key_of_row(change["new"][0])

    def _on_cutout_opened(self, change: dict) -> None:
        table = self.photometry.table
        if table is None or not change["new"]:
            return
        rows = [r for r in range(len(table)) if _row_key(table[r]) == change["new"]]
        if rows != self.photometry.selected:
            self.photometry.selected = rows

    def _on_viewer_click(self, event: dict) -> None:
        if event.get("ra") is not None:
            self.go((event["ra"], event["dec"]))


def _row_key(row: Any) -> str:
    """Return the image key (``snapscope.batch.image_key``) of a photometry row."""
    return str(row["image_id"]) or str(row["path"])


def _selection_key(table: Any, row: int) -> tuple[str, str, int]:
    """(image key, method, position) of a row; position 0 in difference tables (one position)."""
    position = int(table["position"][row]) if "position" in table.colnames else 0
    return _row_key(table[row]), str(table["method"][row]), position


def explore(position: Any = None, dbclient: Any = None, **kwargs: Any) -> Explorer:
    """Open an :class:`Explorer`, searching at ``position`` at once when one is given.

    Parameters
    ----------
    position : str, SkyCoord or (float, float), optional
        Where to look (degrees or sexagesimal text).
    dbclient : DBClient or str, optional
        The catalogue.
    **kwargs
        ``psf``, ``client``, ``workers``, ``size``, ``reference_before`` and search-form
        values (``provenance``, ``bands``, ``radius``…), as :class:`Explorer` takes them.

    Returns
    -------
    Explorer
        Display it (it is a widget): ``snapscope.widgets.explore("7.5511 -44.8072")``.
    """
    explorer = Explorer(dbclient=dbclient, **kwargs)
    if position is not None:
        explorer.go(position)
    return explorer

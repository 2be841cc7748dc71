"""``PhotometryTable``: forced photometry of positions over images, as a sortable table.

Decisions
---------
* The numbers are ``snapscope.batch.forced_photometry`` (its docstring has the measurement
  decisions); the widget shows its parameters as editable fields and re-measures on "Measure".
  Invalid parameters are marked on their field; nothing is measured until they are fixed.
* ``table`` is the astropy Table the batch call returned, in its own order; ``selected`` and
  ``highlighted`` are row numbers of that table whatever the display order, so links to the
  light curve and the cutouts do not depend on how the user sorted. Sorting is local (all rows
  are in memory).
* **Direct | difference.** With a reference (``snapscope.diff.Reference`` or a mapping band →
  reference) and a PSF the switch is enabled, and a reference given turns it to difference.
  Difference mode is ``snapscope.batch.difference_photometry`` of the *first* position (it is
  one position: the status line says so when several were given), on the images of the bands
  that have a reference (the others are named on the status line: direct photometry only),
  with the fields' aperture and PSF-fit parameters; the stamp, background box and PSF model
  are the difference layer's (the reference was cut for its default stamp), so those fields
  are disabled. Flipping the switch re-measures what was measured.
* Export writes the full table with its parameters (``meta``): ECSV (keeps units and meta), CSV,
  or Parquet (extra ``parquet``: pyarrow); the format follows the file suffix unless chosen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as ipw
import numpy as np
import traitlets as t

from snapscope import batch
from snapscope.diff import Reference, reference_bands
from snapscope.widgets._fields import INVALID, Field, one_line, parse_positive_float, status_html
from snapscope.widgets._views import DataTable
from snapscope.widgets._warmup import warm_up_photometry

__all__ = ["PhotometryTable", "EXPORT_FORMATS"]

#: Export format name → astropy ``Table.write`` format.
EXPORT_FORMATS = {"ecsv": "ascii.ecsv", "csv": "ascii.csv", "parquet": "parquet"}
_SHOWN = [("path", "image", False), ("band", "band", False), ("mjd", "MJD", True),
          ("position", "pos", True), ("x", "x", True), ("y", "y", True),
          ("method", "method", False), ("flux", "flux", True), ("flux_err", "flux err", True),
          ("snr", "S/N", True), ("mag", "mag", True), ("mag_err", "mag err", True),
          ("upper_limit", "limit", True), ("zeropoint", "zp", True),
          ("flag_frac", "flagged", True)]
#: Fields of the direct photometry that difference photometry also takes.
_DIFFERENCE_PARAMS = ("ap_r", "method", "subpixels", "fit_shape", "bginner", "bgouter")


def _int(minimum: int, odd: bool = False, allow_none: str = "") -> Callable[[str], Any]:
    def parse(text: str) -> int | None:
        text = text.strip()
        if allow_none and text.lower() in ("", allow_none):
            return None
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an integer") from None
        if value < minimum or (odd and value % 2 == 0):
            raise ValueError(f"must be {'an odd integer ' if odd else 'an integer '}≥ {minimum}")
        return value
    return parse


def _required(parser: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = parser(text)
        if value is None:
            raise ValueError("required")
        return value
    return parse


def _fmt(name: str, value: Any) -> str:
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if name == "mjd":
            return f"{value:.4f}"
        if name in ("mag", "mag_err", "upper_limit", "zeropoint", "x", "y"):
            return f"{value:.3f}"
        if name == "flag_frac":
            return f"{100 * value:.1f}%"
        return f"{value:.1f}"
    if name == "path":
        return Path(str(value)).name
    return str(value)


class PhotometryTable(ipw.VBox):
    """Forced photometry of sky positions over images, with editable parameters and export.

    Parameters
    ----------
    psf : PSF, mapping band → PSF, or callable, optional
        Also fit this PSF (see ``snapscope.batch.forced_photometry``).
    client : distributed.Client, optional
        Measure on a Dask cluster.
    workers : int, optional
        Local threads.
    reference : Reference or mapping band → Reference, optional
        Enables difference photometry (and turns it on; see :meth:`set_reference`).
    **params
        Initial photometry parameters (``snapscope.batch.DEFAULTS`` names).

    Attributes
    ----------
    table : astropy.table.Table or None
        The last measurement (``snapscope.batch.COLUMNS``, or ``DIFFERENCE_COLUMNS``).
    selected : list of int
        Selected rows of ``table``.
    highlighted : int
        Highlighted row of ``table`` (-1: none).
    """

    table = t.Any(None, allow_none=True)
    selected = t.List(t.Int())
    highlighted = t.Int(-1)

    def __init__(self, psf: Any = None, client: Any = None, workers: int | None = None,
                 reference: Reference | Mapping[str, Reference] | None = None,
                 **params: Any) -> None:
        warm_up_photometry()
        self.psf, self.client, self.workers = psf, client, workers
        self.reference: Reference | Mapping[str, Reference] | None = None
        self._switching = False
        self.images: list[Any] = []
        self.positions: Any = None
        self._order: list[int] = []
        self.fields = {
            "ap_r": Field("aperture radius (px)", _required(parse_positive_float), width="200px"),
            "bgsize": Field("background box (px, 0: none)", _int(0), width="260px"),
            "stamp": Field("stamp (px, or 'full')", _int(3, odd=True, allow_none="full"),
                           width="200px"),
            "subpixels": Field("subpixels", _int(1), width="130px"),
            "fit_shape": Field("PSF fit box (px)", _int(1, odd=True), width="170px"),
            "bginner": Field("PSF annulus from", _required(parse_positive_float), width="180px"),
            "bgouter": Field("to (px)", _required(parse_positive_float), width="120px"),
        }
        self.method = ipw.Dropdown(options=("exact", "subpixel", "center"), description="overlap",
                                   layout=ipw.Layout(width="170px"))
        self.use_psf = ipw.Checkbox(psf is not None, description="PSF photometry", indent=False,
                                    disabled=psf is None)
        self.imagesampled = ipw.Checkbox(False, description="snappl image-sampled PSF model",
                                         indent=False)
        self.mode = ipw.ToggleButtons(options=["direct", "difference"], value="direct",
                                      description="photometry", disabled=True,
                                      tooltips=["forced photometry of the images",
                                                "photometry of the images minus the reference"],
                                      style={"button_width": "90px"})
        self.measure_button = ipw.Button(description="Measure", button_style="primary")
        self.progress = ipw.IntProgress(value=0, min=0, max=1, description="photometry",
                                        layout=ipw.Layout(width="260px"))
        self.filename = ipw.Text(value="photometry.ecsv", layout=ipw.Layout(width="200px"))
        self.export_format = ipw.Dropdown(options=["from suffix", *EXPORT_FORMATS],
                                          layout=ipw.Layout(width="120px"))
        self.export_button = ipw.Button(description="Export", icon="save")
        self.status = ipw.HTML("")
        self.view = DataTable(columns=[{"name": n, "label": lab, "numeric": num}
                                       for n, lab, num in _SHOWN if n in batch.COLUMNS],
                              empty_text="nothing measured yet")
        f = self.fields
        super().__init__([
            self.mode,
            ipw.HBox([f["ap_r"], self.method, f["subpixels"], f["bgsize"], f["stamp"]]),
            ipw.HBox([self.use_psf, f["fit_shape"], f["bginner"], f["bgouter"],
                      self.imagesampled]),
            ipw.HBox([self.measure_button, self.progress, self.filename, self.export_format,
                      self.export_button]),
            self.status, self.view])
        self.add_class("snapscope-photometry")
        self.set_params(**{**batch.DEFAULTS, **params})
        self.mode.observe(self._on_mode, "value")
        self.set_reference(reference)
        self.measure_button.on_click(lambda _: self.measure())
        self.export_button.on_click(lambda _: self._export_clicked())
        self.view.observe(self._on_view_select, "selected")
        self.view.observe(lambda _: self._redraw(), "sort")
        self.observe(lambda _: self._sync_view(), ["selected", "highlighted"])

    # ------------------------------------------------------------------ params
    def set_params(self, **params: Any) -> None:
        """Show these photometry parameters in the fields (``snapscope.batch.DEFAULTS`` names)."""
        for key, value in params.items():
            if key == "method":
                self.method.value = value
            elif key == "imagesampled":
                self.imagesampled.value = bool(value)
            elif key == "stamp":
                self.fields[key].value = "full" if value is None else str(value)
            elif key == "fit_shape":
                self.fields[key].value = str(value[0] if isinstance(value, tuple | list) else value)
            elif key in self.fields:
                self.fields[key].value = f"{value:g}" if isinstance(value, float) else str(value)
            else:
                raise TypeError(f"unknown photometry parameter {key!r}; known: "
                                f"{sorted(batch.DEFAULTS)}")

    def params(self) -> dict[str, Any] | None:
        """Return the parameters in the fields, or None (fields marked) when one is invalid."""
        parsed = {k: f.parse() for k, f in self.fields.items()}
        if any(v is INVALID for v in parsed.values()):
            return None
        if parsed["bginner"] >= parsed["bgouter"]:
            self.fields["bgouter"].mark("must be larger than the inner radius")
            return None
        parsed["fit_shape"] = (parsed["fit_shape"],) * 2
        return {**parsed, "method": self.method.value, "imagesampled": self.imagesampled.value}

    def set_reference(self, reference: Reference | Mapping[str, Reference] | None,
                      difference: bool = True) -> None:
        """Use ``reference`` for difference photometry (None: direct only); nothing is measured.

        Parameters
        ----------
        reference : Reference, mapping band → Reference, or None
            From ``snapscope.diff.build_reference``. The switch is enabled when there is a
            reference and a PSF.
        difference : bool
            Turn the switch to difference (when it is enabled).
        """
        self.reference = reference or None
        usable = self.reference is not None and self.psf is not None
        self._switching = True
        try:
            self.mode.disabled = not usable
            self.mode.value = "difference" if usable and difference else "direct"
        finally:
            self._switching = False

    # --------------------------------------------------------------- measuring
    def measure(self, images: list[Any] | None = None, positions: Any = None) -> Any:
        """Measure ``positions`` on ``images`` (default: the previous ones); return the table.

        Returns None (the status line says why) when parameters are invalid or it failed.
        """
        if images is not None:
            self.images = list(images)
        if positions is not None:
            self.positions = positions
        params = self.params()
        if params is None:
            self.status.value = status_html("not measured: fix the marked fields", error=True)
            return None
        if self.positions is None:
            self.status.value = status_html("no position to measure yet", error=True)
            return None
        self.progress.max, self.progress.value = max(len(self.images), 1), 0

        def tick(done: int, total: int) -> None:
            self.progress.value = done

        try:
            if self.mode.value == "difference":
                table, notes = self._difference(params, tick)
            else:
                table, notes = batch.forced_photometry(
                    self.images, self.positions, psf=self.psf if self.use_psf.value else None,
                    client=self.client, workers=self.workers, progress=False, callback=tick,
                    **params), []
        except Exception as err:  # noqa: BLE001 - shown on the status line, never a traceback
            self.status.value = status_html(f"{self.mode.value} photometry failed: "
                                            f"{one_line(err)}", error=True)
            return None
        skipped = len(table.meta["skipped"])
        if skipped:
            notes.insert(0, f"{skipped} image × position pairs skipped (off the image or "
                            "unreadable)")
        kind = "difference " if self.mode.value == "difference" else ""
        self.status.value = status_html("; ".join(
            [f"{len(table)} {kind}measurements on {len(self.images)} images", *notes]))
        self.selected, self.highlighted = [], -1
        self.table = table
        self._redraw()
        return table

    def export(self, path: str | Path, format: str | None = None) -> Path:  # noqa: A002
        """Write the table (with its parameters) as ECSV, CSV or Parquet.

        Parameters
        ----------
        path : str or Path
            The file (replaced if it exists).
        format : {'ecsv', 'csv', 'parquet'}, optional
            Default: from the suffix of ``path``.
        """
        path = Path(path)
        name = format or path.suffix.lstrip(".").lower()
        if name not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {name!r}; use one of {list(EXPORT_FORMATS)}")
        if self.table is None:
            raise ValueError("nothing to export: measure first")
        self.table.write(path, format=EXPORT_FORMATS[name], overwrite=True)
        return path

    # ---------------------------------------------------------------- internal
    def _difference(self, params: dict[str, Any], tick: Callable[[int, int], None],
                    ) -> tuple[Any, list[str]]:
        """Difference photometry of the first position; the table and notes for the status."""
        ras, decs = batch.sky_positions(self.positions)
        ref = self.reference
        have = reference_bands(ref)
        images = [im for im in self.images if str(im.band) in have]
        missing = sorted({str(im.band) for im in self.images} - have)
        notes = [f"difference photometry is of one position: measured the first of {len(ras)}"
                 ] if len(ras) > 1 else []
        if missing:
            notes.append(f"no reference for {', '.join(missing)} "
                         f"({len(self.images) - len(images)} images): direct photometry only")
        if not images:
            raise ValueError(f"no reference for the bands of the images ({', '.join(missing)})")
        self.progress.max = len(images)
        table = batch.difference_photometry(
            images, (float(ras[0]), float(decs[0])), ref, psf=self.psf, client=self.client,
            workers=self.workers, progress=False, callback=tick,
            **{k: params[k] for k in _DIFFERENCE_PARAMS})
        return table, notes

    def _on_mode(self, change: dict) -> None:
        difference = change["new"] == "difference"
        for widget in (self.fields["bgsize"].text, self.fields["stamp"].text, self.use_psf,
                       self.imagesampled):
            widget.disabled = difference or (widget is self.use_psf and self.psf is None)
        if not self._switching and self.table is not None:
            self.measure()

    def _redraw(self) -> None:
        if self.table is None:
            return
        sort = self.view.sort or {}
        order = list(range(len(self.table)))
        if sort.get("column") in self.table.colnames:
            col = self.table[sort["column"]]
            missing = [i for i in order if _is_nan(col[i])]
            valid = sorted((i for i in order if not _is_nan(col[i])), key=lambda i: col[i],
                           reverse=bool(sort.get("descending")))
            order = valid + missing  # blanks last, whichever the direction
        self._order = order
        shown = [c for c in _SHOWN if c[0] in self.table.colnames]
        with self.view.hold_sync():
            self.view.columns = [{"name": n, "label": lab, "numeric": num}
                                 for n, lab, num in shown]
            self.view.rows = [[_fmt(n, self.table[n][i]) for n, _, _ in shown] for i in order]
            self.view.empty_text = "no measurement (position off every image?)"
            self._sync_view()

    def _sync_view(self) -> None:
        position = {row: k for k, row in enumerate(self._order)}
        shown = [position[r] for r in self.selected if r in position]
        if self.view.selected != shown:
            self.view.selected = shown
        self.view.highlighted = position.get(self.highlighted, -1)

    def _on_view_select(self, change: dict) -> None:
        rows = [self._order[k] for k in change["new"] if k < len(self._order)]
        if rows != self.selected:
            self.selected = rows

    def _export_clicked(self) -> None:
        fmt = None if self.export_format.value == "from suffix" else self.export_format.value
        try:
            path = self.export(self.filename.value, fmt)
        except Exception as err:  # noqa: BLE001 - a bad path or format becomes a status line
            self.status.value = status_html(f"not exported: {one_line(err)}", error=True)
            return
        self.status.value = status_html(f"wrote {len(self.table)} rows to {path}")


def _is_nan(value: Any) -> bool:
    return isinstance(value, float | np.floating) and math.isnan(value)

"""``LightCurve``: flux or magnitude against MJD, one colour per band, with error bars (bqplot).

Decisions
---------
* It plots a photometry table (``snapscope.batch.COLUMNS``) for one method and one position at
  a time (menus; PSF photometry first when the table has it: it is the total flux, while an
  aperture flux is the flux within the aperture). Points without a finite value (magnitudes of
  non-positive fluxes) are left out, not clipped.
* Magnitudes are plotted with the axis reversed (brighter up). Error bars are a bqplot ``Lines``
  mark of vertical segments (bqplot has no error-bar mark).
* bqplot is imported on first use, with bqscales' traitlets ``DeprecationWarning`` (emitted at
  import, harmless, not ours to fix) silenced.
* Linking is by row numbers of the table: ``hovered`` is the row under the mouse, ``selected``
  the clicked / selected rows; setting ``selected`` (from the table) highlights points.
"""

from __future__ import annotations

import warnings
from typing import Any

import ipywidgets as ipw
import numpy as np
import traitlets as t

__all__ = ["LightCurve", "BAND_COLORS"]

#: Plot colour of each Roman band (blue to red with wavelength).
BAND_COLORS = {"R062": "#6a3d9a", "Z087": "#1f78b4", "Y106": "#2b8cbe", "J129": "#33a02c",
               "W146": "#7f7f7f", "H158": "#ff7f00", "F184": "#e31a1c", "K213": "#b15928"}


class LightCurve(ipw.VBox):
    """A light curve of a photometry table, linked by table row numbers.

    Parameters
    ----------
    quantity : {'flux', 'mag'}
        What to plot first.
    height : str
        CSS height of the plot.

    Attributes
    ----------
    table : astropy.table.Table or None
        The photometry shown.
    selected : list of int
        Selected rows of ``table`` (their points are highlighted).
    hovered : int
        Row of the point under the mouse (-1: none).
    points : dict
        Band → (bqplot Scatter, array of table rows of its points).
    """

    table = t.Any(None, allow_none=True)
    selected = t.List(t.Int())
    hovered = t.Int(-1)

    def __init__(self, quantity: str = "flux", height: str = "320px") -> None:
        bq = _bqplot()
        self.quantity = ipw.ToggleButtons(options=[("flux", "flux"), ("magnitude", "mag")],
                                          value=quantity, style={"button_width": "90px"})
        self.method = ipw.Dropdown(description="method", options=[],
                                   layout=ipw.Layout(width="190px"))
        self.position = ipw.Dropdown(description="position", options=[],
                                     layout=ipw.Layout(width="190px"))
        self.x_scale, self.y_scale = bq.LinearScale(), bq.LinearScale()
        self.x_axis = bq.Axis(scale=self.x_scale, label="MJD", tick_format="0.0f")
        self.y_axis = bq.Axis(scale=self.y_scale, side="left", label="flux",
                              label_offset="50px")
        self.figure = bq.Figure(marks=[], axes=[self.x_axis, self.y_axis],
                                legend_location="top-right",
                                fig_margin={"top": 20, "bottom": 45, "left": 70, "right": 20},
                                layout=ipw.Layout(width="100%", height=height))
        self.points: dict[str, tuple[Any, np.ndarray]] = {}
        self._drawing = False
        super().__init__([ipw.HBox([self.quantity, self.method, self.position]), self.figure])
        self.add_class("snapscope-lightcurve")
        for w in (self.quantity, self.method, self.position):
            w.observe(lambda _: self._draw(), "value")
        self.observe(lambda _: self._fill_menus(), "table")
        self.observe(lambda _: self._show_selection(), "selected")

    def set_table(self, table: Any) -> None:
        """Plot ``table`` (a ``snapscope.batch.forced_photometry`` result)."""
        self.table = table

    def hover(self, row: int) -> None:
        """Do what hovering the point of table row ``row`` does."""
        self.hovered = row

    def click(self, row: int) -> None:
        """Do what clicking the point of table row ``row`` does (select it)."""
        self.selected = [row]

    # ---------------------------------------------------------------- internal
    def _fill_menus(self) -> None:
        table = self.table
        methods = [] if table is None else sorted({str(m) for m in table["method"]},
                                                  key=lambda m: m != "psf")
        positions = [] if table is None else sorted(set(int(p) for p in table["position"]))
        self._drawing = True
        try:
            self.method.options = methods
            self.method.value = methods[0] if methods else None
            self.position.options = [(f"#{p}", p) for p in positions]
            self.position.value = positions[0] if positions else None
        finally:
            self._drawing = False
        self._draw()

    def _draw(self) -> None:
        bq = _bqplot()
        if self._drawing:
            return
        self.points = {}
        marks = []
        table = self.table
        mag = self.quantity.value == "mag"
        self.y_scale.reverse = mag
        self.y_axis.label = "AB magnitude" if mag else "flux (image units)"
        if table is not None and self.method.value is not None and self.position.value is not None:
            kind = "mag" if mag else "flux"
            value = np.asarray(table[kind], float)
            err = np.asarray(table[f"{kind}_err"], float)
            keep = ((np.asarray(table["method"]) == self.method.value)
                    & (np.asarray(table["position"]) == self.position.value) & np.isfinite(value))
            bands = sorted({str(b) for b in table["band"][keep]}, key=_band_order)
            for band in bands:
                rows = np.flatnonzero(keep & (np.asarray(table["band"]) == band))
                x, y, e = np.asarray(table["mjd"][rows], float), value[rows], err[rows]
                color = BAND_COLORS.get(band, "#444444")
                e = np.where(np.isfinite(e), e, 0.0)
                bars = bq.Lines(x=np.repeat(x[:, None], 2, axis=1), y=np.c_[y - e, y + e],
                                scales={"x": self.x_scale, "y": self.y_scale}, colors=[color],
                                stroke_width=1.5)
                scatter = bq.Scatter(x=x, y=y, scales={"x": self.x_scale, "y": self.y_scale},
                                     colors=[color], default_size=48, labels=[band],
                                     display_legend=True, stroke="white",
                                     selected_style={"stroke": "black", "stroke-width": 3,
                                                     "opacity": 1.0},
                                     unselected_style={"opacity": 0.45},
                                     tooltip=bq.Tooltip(fields=["x", "y"], labels=["MJD", band],
                                                        formats=["0.2f", "0.4g"]))
                scatter.on_hover(self._point_handler(rows, self.hover))
                scatter.on_element_click(self._point_handler(rows, self.click))
                self.points[band] = (scatter, rows)
                marks += [bars, scatter]
        self.figure.marks = marks
        self._show_selection()

    @staticmethod
    def _point_handler(rows: np.ndarray, action: Any):
        """A bqplot point-event handler calling ``action(row)`` with the point's table row."""
        def handle(_mark: Any, event: dict) -> None:
            index = (event.get("data") or {}).get("index")
            if index is not None:
                action(int(rows[int(index)]))
        return handle

    def _show_selection(self) -> None:
        chosen = set(self.selected)
        for scatter, rows in self.points.values():
            hit = [k for k, r in enumerate(rows) if int(r) in chosen]
            scatter.selected = hit if chosen else None


def _bqplot() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "metadata .* was set from the constructor",
                                DeprecationWarning)
        import bqplot
    return bqplot


def _band_order(band: str) -> tuple[int, str]:
    order = list(BAND_COLORS)
    return (order.index(band) if band in order else len(order), band)

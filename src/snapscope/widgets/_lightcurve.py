"""``LightCurve``: flux or magnitude against MJD, one colour per band, with error bars (bqplot).

Decisions
---------
* It plots a photometry table (``snapscope.batch.COLUMNS``, or the
  ``snapscope.batch.DIFFERENCE_COLUMNS`` of difference photometry) for one method and one
  position at a time (menus; PSF photometry first when the table has it: it is the total flux,
  while an aperture flux is the flux within the aperture). A table without a ``position``
  column (difference photometry is of one position) hides the position menu. Points without a
  finite value (magnitudes of non-positive fluxes) are left out, not clipped.
* **Upper limits.** In magnitude mode, rows with a finite ``upper_limit`` (non-detections of
  difference photometry) are drawn as a downward triangle at the limit with a stem of
  ``LIMIT_STEM`` magnitudes towards fainter (down, the axis being reversed), not as
  detections; in flux mode every row is a point with its error bar, negative fluxes included
  (that is where a non-detection's information is). Limit points link to the table like the
  others (``limits``).
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

from snapscope.roman import BAND_COLORS

__all__ = ["LightCurve", "LIMIT_STEM"]

#: Length (magnitudes) of the stem under an upper-limit triangle.
LIMIT_STEM = 0.3


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
    limits : dict
        Band → (bqplot Scatter, array of table rows) of its upper limits (magnitude mode).
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
        self.limits: dict[str, tuple[Any, np.ndarray]] = {}
        self._drawing = False
        super().__init__([ipw.HBox([self.quantity, self.method, self.position]), self.figure])
        self.add_class("snapscope-lightcurve")
        for w in (self.quantity, self.method, self.position):
            w.observe(lambda _: self._draw(), "value")
        self.observe(lambda _: self._fill_menus(), "table")
        self.observe(lambda _: self._show_selection(), "selected")

    def set_table(self, table: Any) -> None:
        """Plot ``table`` (from ``batch.forced_photometry`` or ``batch.difference_photometry``)."""
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
        by_position = table is not None and "position" in table.colnames
        positions = sorted(set(int(p) for p in table["position"])) if by_position else []
        self._drawing = True
        try:
            self.method.options = methods
            self.method.value = methods[0] if methods else None
            self.position.options = [(f"#{p}", p) for p in positions]
            self.position.value = positions[0] if positions else None
            self.position.disabled = not by_position
            self.position.layout.display = None if by_position else "none"
        finally:
            self._drawing = False
        self._draw()

    def _chosen(self) -> np.ndarray:
        """Rows of the chosen method (and position, when the table has several)."""
        table = self.table
        keep = np.asarray(table["method"]) == self.method.value
        if "position" in table.colnames:
            keep &= np.asarray(table["position"]) == self.position.value
        return keep

    def _draw(self) -> None:
        if self._drawing:
            return
        self.points, self.limits = {}, {}
        marks = []
        table = self.table
        mag = self.quantity.value == "mag"
        self.y_scale.reverse = mag
        self.y_axis.label = "AB magnitude" if mag else "flux (image units)"
        if table is not None and self.method.value is not None:
            kind = "mag" if mag else "flux"
            value = np.asarray(table[kind], float)
            err = np.asarray(table[f"{kind}_err"], float)
            err = np.where(np.isfinite(err), err, 0.0)
            limit = np.full(len(table), np.nan)
            if mag and "upper_limit" in table.colnames:
                limit = np.asarray(table["upper_limit"], float)
            chosen = self._chosen()
            is_limit = chosen & np.isfinite(limit)
            detected = chosen & np.isfinite(value) & ~is_limit
            band = np.asarray(table["band"]).astype(str)
            mjd = np.asarray(table["mjd"], float)
            for name in sorted(set(band[detected | is_limit]), key=_band_order):
                color = BAND_COLORS.get(name, "#444444")
                rows = np.flatnonzero(detected & (band == name))
                if len(rows):
                    y = value[rows]
                    marks += self._mark(name, rows, mjd[rows], y,
                                        np.c_[y - err[rows], y + err[rows]], color)
                rows = np.flatnonzero(is_limit & (band == name))
                if len(rows):
                    y = limit[rows]
                    marks += self._mark(name, rows, mjd[rows], y, np.c_[y, y + LIMIT_STEM],
                                        color, limit=True)
        self.figure.marks = marks
        self._show_selection()

    def _mark(self, band: str, rows: np.ndarray, x: np.ndarray, y: np.ndarray,
              segments: np.ndarray, color: str, limit: bool = False) -> list[Any]:
        """The marks of one band's points or upper limits: vertical segments and a scatter.

        ``segments`` are the (bottom, top) ends of the error bars or stems. The scatter and its
        table rows go in ``limits`` or ``points``; hover and click report table rows.
        """
        bq = _bqplot()
        scales = {"x": self.x_scale, "y": self.y_scale}
        lines = bq.Lines(x=np.repeat(x[:, None], 2, axis=1), y=segments, scales=scales,
                         colors=[color], stroke_width=1.5)
        scatter = bq.Scatter(x=x, y=y, scales=scales, colors=[color], default_size=48,
                             marker="triangle-down" if limit else "circle", labels=[band],
                             display_legend=band not in self.points, stroke="white",
                             selected_style={"stroke": "black", "stroke-width": 3,
                                             "opacity": 1.0},
                             unselected_style={"opacity": 0.45},
                             tooltip=bq.Tooltip(fields=["x", "y"],
                                                labels=["MJD", f"{band} limit" if limit else band],
                                                formats=["0.2f", "0.4g"]))
        scatter.on_hover(self._point_handler(rows, self.hover))
        scatter.on_element_click(self._point_handler(rows, self.click))
        (self.limits if limit else self.points)[band] = (scatter, rows)
        return [lines, scatter]

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
        for scatter, rows in [*self.points.values(), *self.limits.values()]:
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

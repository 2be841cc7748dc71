"""``SearchForm``: every ``Image.find_images`` filter as a form, with paged, sortable results.

Decisions
---------
* The form calls ``Image.find_images`` exactly as a user would (``form.filters()`` returns the
  keyword arguments, so the search can be repeated in one line). A page is fetched with
  ``limit = page size + 1``: the extra row says whether there is a next page without a
  ``COUNT(*)`` over a million-row catalogue.
* Sorting by a column header re-runs the search ordered by that column (the catalogue sorts, so
  paging stays consistent); ``id`` is the tie-breaker (``find_images`` adds it).
* Positions are degrees or sexagesimal (RA in hours); the radius has a unit (default arcmin).
  Without a radius the search finds the images whose footprint *contains* the position; with one,
  those whose footprint touches the circle.
* Invalid input never raises: the field is outlined, the reason is written under it, and the
  status line says nothing was searched. Catalogue errors (no server, unknown tag) go to the
  status line as one sentence.
* Opening a result loads it into the linked ``ImageWidget`` (see ``_open``), centred on the
  searched position when there is one; "footprints" draws the edges of the page's results as
  small markers through the viewer's public ``load_catalog`` (it has no polygon overlay).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as ipw
import numpy as np
import traitlets as t

from snapscope.batch import image_key, parse_position
from snapscope.roman import BANDS
from snapscope.widgets._catalogue import SEARCH_COLUMNS
from snapscope.widgets._fields import (
    INVALID,
    Field,
    one_line,
    parse_float,
    parse_int_list,
    parse_positive_float,
    status_html,
)
from snapscope.widgets._open import open_in_viewer
from snapscope.widgets._views import DataTable

__all__ = ["SearchForm", "footprint_points"]

_RADIUS_UNITS = {"arcsec": 1 / 3600, "arcmin": 1 / 60, "deg": 1.0}
_COLUMNS = [("band", "band", False), ("mjd", "MJD", True), ("sca", "SCA", True),
            ("exptime", "exptime", True), ("observation_id", "observation", False),
            ("filepath", "file", False)]


def _catalogue_running() -> bool:
    """True when the default catalogue can be listed without starting a server."""
    from snapscope.db import default_dsn

    try:
        return default_dsn(start=False) is not None
    except Exception:  # noqa: BLE001 - no embedded server set up at all: nothing is running
        return False


def _position_or_none(text: str) -> tuple[float, float] | None:
    return parse_position(text) if text.strip() else None


def footprint_points(images: list[Any], per_edge: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Return RA, Dec (degrees) of points along the footprint edges of catalogued images.

    Corners come from the images' header values (the catalogue row), in snappl's polygon
    order 00 → 01 → 11 → 10; edges are sampled linearly (footprints are small).
    """
    ras, decs = [], []
    steps = np.arange(per_edge) / per_edge
    for im in images:
        corners = [(getattr(im, f"ra_corner_{c}"), getattr(im, f"dec_corner_{c}"))
                   for c in ("00", "01", "11", "10")]
        if any(v is None for c in corners for v in c):
            continue
        ra = np.array([c[0] for c in corners])
        ra = ra[0] + (ra - ra[0] + 180.0) % 360.0 - 180.0  # unwrap around RA = 0
        dec = np.array([c[1] for c in corners])
        for k in range(4):
            ras.append((ra[k] + steps * (ra[(k + 1) % 4] - ra[k])) % 360.0)
            decs.append(dec[k] + steps * (dec[(k + 1) % 4] - dec[k]))
    if not ras:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(ras), np.concatenate(decs)


class SearchForm(ipw.VBox):
    """Search the image catalogue with a form; open results in a linked ``ImageWidget``.

    Parameters
    ----------
    viewer : ImageWidget, optional
        Where a selected result is opened.
    dbclient : DBClient or str, optional
        The catalogue (default: ``SNAPSCOPE_DSN`` or the embedded server).
    page_size : int
        Results per page.
    **values
        Initial field values, as :meth:`set_values` takes them.

    Attributes
    ----------
    images : list of Image
        The results on the current page.
    selected_image : Image or None
        The result opened last.
    position : tuple of float or None
        ``(ra, dec)`` of the last successful search (None without a position).
    searches : int
        Number of successful searches so far (observe it to follow searches).
    """

    images = t.List()
    selected_image = t.Any(None, allow_none=True)
    position = t.Any(None, allow_none=True)
    searches = t.Int(0)

    def __init__(self, viewer: Any = None, dbclient: Any = None, page_size: int = 25,
                 **values: Any) -> None:
        self.viewer, self.dbclient = viewer, dbclient
        self.page, self.has_next = 0, False
        self.provenance = ipw.Dropdown(description="provenance", options=[("any", None)],
                                       style={"description_width": "initial"})
        self.bands = ipw.SelectMultiple(options=BANDS, rows=4, description="bands",
                                        layout=ipw.Layout(width="170px"))
        self.fields = {
            "position": Field("position", _position_or_none,
                              "7.5511 -44.8072 or 00:30:12 -44:48:26", width="340px"),
            "radius": Field("radius", parse_positive_float, "blank: footprint contains it",
                            width="240px"),
            "mjd_min": Field("MJD from", parse_float, "any"),
            "mjd_max": Field("MJD to", parse_float, "any"),
            "sca": Field("SCA", parse_int_list, "e.g. 1, 3-5"),
            "exptime_min": Field("exptime from (s)", parse_float, "any"),
            "exptime_max": Field("exptime to (s)", parse_float, "any"),
        }
        self.radius_unit = ipw.Dropdown(options=list(_RADIUS_UNITS), value="arcmin",
                                        layout=ipw.Layout(width="90px"))
        self.order_by = ipw.Dropdown(options=SEARCH_COLUMNS, value="mjd", description="order by")
        self.descending = ipw.Checkbox(False, description="descending", indent=False)
        self.page_size = ipw.Dropdown(options=[10, 25, 50, 100], value=page_size,
                                      description="per page")
        self.search_button = ipw.Button(description="Search", button_style="primary",
                                        icon="search")
        self.prev_button = ipw.Button(description="◀ previous", disabled=True)
        self.next_button = ipw.Button(description="next ▶", disabled=True)
        self.footprints = ipw.Checkbox(False, description="draw footprints", indent=False)
        self.status = ipw.HTML("")
        self.table = DataTable(columns=[{"name": "index", "label": "#", "numeric": True,
                                         "sortable": False}]
                               + [{"name": n, "label": lab, "numeric": num}
                                  for n, lab, num in _COLUMNS],
                               empty_text="no search yet")
        f = self.fields
        super().__init__([
            ipw.HBox([self.provenance, self.bands]),
            ipw.HBox([f["position"], f["radius"], self.radius_unit]),
            ipw.HBox([f["mjd_min"], f["mjd_max"], f["sca"]]),
            ipw.HBox([f["exptime_min"], f["exptime_max"]]),
            ipw.HBox([self.order_by, self.descending, self.page_size]),
            ipw.HBox([self.search_button, self.prev_button, self.next_button, self.footprints]),
            self.status, self.table])
        self.add_class("snapscope-search")
        self.search_button.on_click(lambda _: self.search())
        self.prev_button.on_click(lambda _: self.search(self.page - 1))
        self.next_button.on_click(lambda _: self.search(self.page + 1))
        self.footprints.observe(lambda _: self._draw_footprints(), "value")
        self.table.observe(self._on_table_select, "selected")
        self.table.observe(self._on_table_sort, "sort")
        self._provenances_listed = False
        if dbclient is not None or _catalogue_running():
            self.refresh_provenances()
        else:  # constructing a form starts no server: the first search does
            self._say("the catalogue (the embedded server) starts on the first search")
        self.set_values(**values)

    # ------------------------------------------------------------------ values
    def refresh_provenances(self) -> None:
        """Fill the provenance menu with the catalogue's ``(tag, process)`` pairs."""
        from snapscope.db import list_provenance_tags

        try:
            pairs = list_provenance_tags(self.dbclient)
        except Exception as err:  # noqa: BLE001 - any catalogue failure becomes a status line
            self._say(f"cannot list provenances: {one_line(err)}", error=True)
            return
        current = self.provenance.value
        self._provenances_listed = True
        self.provenance.options = [("any", None)] + [(f"{tg} / {pr}", (tg, pr))
                                                     for tg, pr in pairs]
        if current in [v for _, v in self.provenance.options]:
            self.provenance.value = current

    def set_values(self, **values: Any) -> None:
        """Set form fields (text fields take str or numbers).

        Parameters
        ----------
        **values
            ``provenance`` ((tag, process) or None), ``bands``, ``position``, ``radius``,
            ``radius_unit``, ``mjd_min``/``mjd_max``, ``sca``, ``exptime_min``/``exptime_max``,
            ``order_by``, ``descending``, ``page_size``.

        Raises
        ------
        ValueError
            For a provenance the catalogue does not have.
        TypeError
            For an unknown field name.
        """
        for key, value in values.items():
            if key in self.fields:
                self.fields[key].value = "" if value is None else _text(value)
            elif key == "provenance":
                if not self._provenances_listed and value is not None:
                    self.refresh_provenances()
                options = [v for _, v in self.provenance.options]
                value = None if value is None else tuple(value)
                if value not in options:
                    raise ValueError(f"provenance {value!r} is not in the catalogue; "
                                     f"known: {options[1:]}")
                self.provenance.value = value
            elif key == "bands":
                self.bands.value = tuple(value or ())
            elif key in ("radius_unit", "order_by", "descending", "page_size"):
                getattr(self, key).value = value
            else:
                raise TypeError(f"unknown search field {key!r}")

    def values(self) -> dict[str, Any]:
        """Return the form's contents (JSON-serialisable; :meth:`set_values` takes it back)."""
        out: dict[str, Any] = {k: f.value for k, f in self.fields.items()}
        prov = self.provenance.value
        out.update(provenance=None if prov is None else list(prov),
                   bands=list(self.bands.value), radius_unit=self.radius_unit.value,
                   order_by=self.order_by.value, descending=self.descending.value,
                   page_size=self.page_size.value)
        return out

    @property
    def errors(self) -> dict[str, str]:
        """Field name → why its text is invalid (after the last :meth:`filters` call)."""
        return {k: f.error for k, f in self.fields.items() if f.error}

    def filters(self) -> dict[str, Any] | None:
        """Return the ``Image.find_images`` keyword arguments of the form (no paging).

        Returns None, with the invalid fields marked, when some input is invalid.
        """
        parsed = {k: f.parse() for k, f in self.fields.items()}
        if any(v is INVALID for v in parsed.values()):
            return None
        for lo, hi in (("mjd_min", "mjd_max"), ("exptime_min", "exptime_max")):
            if parsed[lo] is not None and parsed[hi] is not None and parsed[lo] > parsed[hi]:
                self.fields[hi].mark(f"must not be smaller than {parsed[lo]:g}")
                return None
        kwargs: dict[str, Any] = {"dbclient": self.dbclient}
        if self.provenance.value is not None:
            kwargs["provenance_tag"], kwargs["process"] = self.provenance.value
        if self.bands.value:
            kwargs["band"] = list(self.bands.value)
        position, radius = parsed.pop("position"), parsed.pop("radius")
        if radius is not None and position is None:
            self.fields["radius"].mark("a radius needs a position")
            return None
        if position is not None:
            kwargs["ra"], kwargs["dec"] = position
            if radius is not None:
                kwargs["radius"] = radius * _RADIUS_UNITS[self.radius_unit.value]
        sca = parsed.pop("sca")
        if sca is not None:
            kwargs["sca"] = sca
        kwargs.update({k: v for k, v in parsed.items() if v is not None})
        kwargs["order_by"] = ("-" if self.descending.value else "") + self.order_by.value
        return kwargs

    # ------------------------------------------------------------------ search
    def search(self, page: int = 0) -> bool:
        """Run the search and show page ``page``; return False (status says why) on failure."""
        from snapscope.image import Image

        kwargs = self.filters()
        if kwargs is None:
            self._say("nothing searched: fix the marked fields", error=True)
            return False
        size = self.page_size.value
        try:
            found = Image.find_images(**kwargs, limit=size + 1, offset=page * size)
        except Exception as err:  # noqa: BLE001 - any catalogue failure becomes a status line
            self._say(f"search failed: {one_line(err)}", error=True)
            return False
        if not self._provenances_listed:
            self.refresh_provenances()
        self.page, self.has_next = page, len(found) > size
        self.position = (kwargs["ra"], kwargs["dec"]) if "ra" in kwargs else None
        self.images = found[:size]
        self.table.selected = []
        self.table.rows = [[str(page * size + i + 1), *(_cell(im, n) for n, _, _ in _COLUMNS)]
                           for i, im in enumerate(self.images)]
        self.table.empty_text = "no image matches"
        self.table.sort = {"column": self.order_by.value, "descending": self.descending.value}
        self.prev_button.disabled, self.next_button.disabled = page == 0, not self.has_next
        first = page * size + 1
        shown = f"{first}–{first + len(self.images) - 1}" if self.images else "none"
        self._say(f"images {shown}{' (more on the next page)' if self.has_next else ''}")
        self._draw_footprints()
        self.searches += 1
        return True

    def find_all(self, order_by: str = "mjd") -> list[Any]:
        """Return every image matching the form (no paging), ordered by ``order_by``."""
        from snapscope.image import Image

        kwargs = self.filters()
        if kwargs is None:
            raise ValueError(f"the search form has invalid fields: {self.errors}")
        return Image.find_images(**{**kwargs, "order_by": order_by})

    def open_image(self, index: int) -> Any:
        """Open result ``index`` of the page in the viewer (also what selecting its row does)."""
        image = self.images[index]
        self.selected_image = image
        if self.table.selected != [index]:
            self.table.selected = [index]
        if self.viewer is not None:
            failed = open_in_viewer(self.viewer, image, self.position)
            if failed:
                self._say(failed, error=True)
            else:
                self._say(f"showing {image.filename or image_key(image)}")
                self._draw_footprints()
        return image

    # ---------------------------------------------------------------- internal
    def _on_table_select(self, change: dict) -> None:
        if len(change["new"]) == 1 and change["new"] != change["old"]:
            self.open_image(change["new"][0])

    def _on_table_sort(self, change: dict) -> None:
        column = (change["new"] or {}).get("column")
        if column not in SEARCH_COLUMNS:
            return
        descending = bool(change["new"].get("descending"))
        if (column, descending) != (self.order_by.value, self.descending.value):
            self.order_by.value, self.descending.value = column, descending
            self.search(0)

    def _draw_footprints(self) -> None:
        if self.viewer is None or not self.viewer.image_labels:
            return
        if "footprints" in self.viewer.catalog_labels:
            self.viewer.remove_catalog("footprints")
        if not self.footprints.value or not self.images:
            return
        from astropy.coordinates import SkyCoord
        from astropy.table import Table

        ra, dec = footprint_points(self.images)
        self.viewer.load_catalog(Table({"coord": SkyCoord(ra, dec, unit="deg")}),
                                 use_skycoord=True, catalog_label="footprints",
                                 catalog_style={"shape": "circle", "color": "yellow", "size": 1})

    def _say(self, text: str, error: bool = False) -> None:
        self.status.value = status_html(text, error)


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _cell(image: Any, name: str) -> str:
    value = getattr(image, "filename" if name == "filepath" else name)
    if value is None:
        return ""
    if name == "mjd":
        return f"{value:.4f}"
    if name == "exptime":
        return f"{value:.1f}"
    return str(value)

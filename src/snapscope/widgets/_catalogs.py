"""Catalog (marker) logic of ``ImageWidget``: the AIDA catalog methods.

Catalogs are stored with canonical column names ``x``, ``y``, ``coord`` (pixel and sky
positions; either may be ``None`` when it cannot be computed) and returned under whatever names
are asked for. The browser gets, per catalog, its style and the marker positions in the pixel
frame of the *displayed* image (``_catalogs`` trait, float64 buffers): recomputed from the sky
positions through that image's WCS when both exist, else the stored pixel columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ._labels import resolve_label
from ._state import Catalog

__all__ = ["CatalogMixin", "SHAPES"]

#: Marker shapes the browser draws.
SHAPES = ("circle", "square", "crosshair", "plus", "diamond")


def _default_style() -> dict[str, Any]:
    return {"shape": "circle", "color": "red", "size": 5}


class CatalogMixin:
    """AIDA catalog methods.

    Needs ``_catalog_tables``, ``_catalog_styles``, ``_entries`` and ``_sync_catalogs``.
    """

    def _resolve_catalog_label(self, label: str | None, allow_new: bool = False) -> str:
        return resolve_label(self._catalog_tables, label, "catalog", allow_new)

    def _catalog_conversion_wcs(self, required: bool):
        if len(self._entries) == 1:
            return next(iter(self._entries.values())).wcs
        if len(self._entries) > 1 and len(self._displayed_labels) == 1:
            return self._entries[self._displayed_labels[0]].wcs
        if required and self._entries:
            raise ValueError(
                "Multiple image labels defined. Cannot determine which image's WCS to use to "
                "convert catalog coordinates."
            )
        return None

    def load_catalog(
        self,
        table: Table,
        x_colname: str = "x",
        y_colname: str = "y",
        skycoord_colname: str = "coord",
        use_skycoord: bool = False,
        catalog_label: str | None = None,
        catalog_style: dict | None = None,
        **kwargs: Any,
    ) -> None:
        """Show a table of positions as markers.

        Parameters
        ----------
        table : `~astropy.table.Table`
            The positions (never modified; extra columns are kept).
        x_colname, y_colname : str, optional
            Columns of 0-based pixel positions.
        skycoord_colname : str, optional
            Column of `~astropy.coordinates.SkyCoord` positions.
        use_skycoord : bool, optional
            Whether the sky positions are the primary ones; missing pixel or sky columns are
            computed through the image WCS.
        catalog_label : str, optional
            Name of the catalog; the same name replaces it.
        catalog_style : dict, optional
            ``shape``, ``color``, ``size`` (marker radius in screen pixels) and any extra keys.
        **kwargs
            Ignored.

        Raises
        ------
        ValueError
            "Cannot use pixel coordinates without pixel columns …" or "Cannot use sky coordinates
            without …" when the positions cannot be had.
        """
        coords = table[skycoord_colname] if skycoord_colname in table.colnames else None
        has_xy = x_colname in table.colnames and y_colname in table.colnames
        wcs = self._catalog_conversion_wcs(
            required=(not has_xy and coords is not None) or (coords is None and use_skycoord)
        )
        out = table.copy()
        if not has_xy:
            if wcs is not None and coords is not None:
                out[x_colname], out[y_colname] = wcs.world_to_pixel(coords)
                has_xy = True
            elif not use_skycoord:
                raise ValueError(
                    "Cannot use pixel coordinates without pixel columns or both coordinates and "
                    "a WCS."
                )
            else:
                out[x_colname] = out[y_colname] = None
        if coords is None:
            if use_skycoord and wcs is None:
                raise ValueError("Cannot use sky coordinates without a SkyCoord column or WCS.")
            if has_xy and wcs is not None:
                out[skycoord_colname] = wcs.pixel_to_world(out[x_colname], out[y_colname])
            else:
                out[skycoord_colname] = None
        out.rename_columns([x_colname, y_colname, skycoord_colname], ["x", "y", "coord"])
        label = self._resolve_catalog_label(catalog_label, allow_new=True)
        self._catalog_tables[label] = out
        if catalog_style is not None:
            self._catalog_styles[label] = dict(catalog_style)
        else:
            self._catalog_styles.setdefault(label, _default_style())
        self._sync_catalogs()

    def set_catalog_style(
        self,
        catalog_label: str | None = None,
        shape: str = "circle",
        color: str = "red",
        size: float = 5.0,
        **kwargs: Any,
    ) -> None:
        """Set how a catalog's markers are drawn.

        Parameters
        ----------
        catalog_label : str, optional
            The catalog; may be omitted when only one is loaded.
        shape : {"circle", "square", "crosshair", "plus", "diamond"}, optional
        color : str, optional
            A CSS color name or hex string.
        size : float, optional
            Marker radius in screen pixels.
        **kwargs
            Extra style keys, stored and returned by `get_catalog_style`.

        Raises
        ------
        ValueError
            Before any catalog is loaded, for an unknown/ambiguous label or an unknown shape.
        """
        if not self._catalog_tables:
            raise ValueError("Must load a catalog before setting a catalog style.")
        if shape not in SHAPES:
            raise ValueError(f"Marker shape {shape!r} is not one of {SHAPES}.")
        label = self._resolve_catalog_label(catalog_label)
        self._catalog_styles[label] = dict(shape=shape, color=color, size=size, **kwargs)
        self._sync_catalogs()

    def get_catalog_style(self, catalog_label: str | None = None, **kwargs: Any) -> dict:
        """Return the marker style of a catalog.

        Parameters
        ----------
        catalog_label : str, optional
            The catalog; may be omitted when only one is loaded.
        **kwargs
            Ignored.

        Returns
        -------
        dict
            ``shape``, ``color``, ``size``, extra keys, and ``catalog_label`` (None for the
            default style returned when no catalog is loaded).
        """
        if catalog_label is None and not self._catalog_tables:
            return {**_default_style(), "catalog_label": None}
        label = self._resolve_catalog_label(catalog_label)
        return {**self._catalog_styles[label], "catalog_label": label}

    def remove_catalog(self, catalog_label: str | None = None, **kwargs: Any) -> None:
        """Remove a catalog's markers.

        Parameters
        ----------
        catalog_label : str, optional
            The catalog, or ``"*"`` for all; may be omitted when only one is loaded.
        **kwargs
            Ignored.

        Raises
        ------
        TypeError
            For a list of labels.
        ValueError
            When no catalog or no such catalog is loaded.
        """
        if isinstance(catalog_label, list):
            raise TypeError(
                "Cannot remove multiple catalogs from a list. Please specify a single catalog "
                "label or use '*' to remove all catalogs."
            )
        if catalog_label == "*":
            self._catalog_tables.clear()
            self._catalog_styles.clear()
        else:
            label = self._resolve_catalog_label(catalog_label)
            del self._catalog_tables[label]
            del self._catalog_styles[label]
        self._sync_catalogs()

    def get_catalog(
        self,
        x_colname: str = "x",
        y_colname: str = "y",
        skycoord_colname: str = "coord",
        catalog_label: str | None = None,
        **kwargs: Any,
    ) -> Table:
        """Return a copy of a catalog with its position columns under the names asked for.

        Parameters
        ----------
        x_colname, y_colname, skycoord_colname : str, optional
            Names of the pixel and sky position columns in the result.
        catalog_label : str, optional
            The catalog; may be omitted when only one is loaded.
        **kwargs
            Ignored.

        Returns
        -------
        `~astropy.table.Table`
            Empty, with the three position columns, when no catalog is loaded.
        """
        if catalog_label is None and not self._catalog_tables:
            return Table(names=[x_colname, y_colname, skycoord_colname])
        label = self._resolve_catalog_label(catalog_label)
        result = self._catalog_tables[label].copy()
        result.rename_columns(["x", "y", "coord"], [x_colname, y_colname, skycoord_colname])
        return result

    @property
    def catalog_labels(self) -> tuple[str, ...]:
        """Labels of the loaded catalogs."""
        return tuple(self._catalog_tables)

    def _catalog_trait(self, wcs) -> list[Catalog]:
        """Marker positions and styles for the browser, in the frame of ``wcs``'s image."""
        out = []
        for label, table in self._catalog_tables.items():
            x, y = _positions(table, wcs)
            style = self._catalog_styles[label]
            out.append(
                Catalog(
                    label=label,
                    shape=style.get("shape", "circle"),
                    color=str(style.get("color", "red")),
                    size=float(style.get("size", 5)),
                    n=len(x),
                    x=x.tobytes(),
                    y=y.tobytes(),
                )
            )
        return out


def _positions(table: Table, wcs) -> tuple[np.ndarray, np.ndarray]:
    coord = table["coord"]
    if wcs is not None and isinstance(coord, SkyCoord):
        x, y = wcs.world_to_pixel(coord)
    elif table["x"].dtype != object:
        x, y = table["x"], table["y"]
    else:
        x = y = np.empty(0)
    keep = np.isfinite(x) & np.isfinite(y)
    return (np.asarray(x, dtype="<f8")[keep], np.asarray(y, dtype="<f8")[keep])

"""The widget state on the wire: one record per interface of ``js/src/model.ts``.

Twin of ``js/src/model.ts`` (and of the interfaces it uses: ``TileAddress`` and
``TileReplyMsg`` in ``js/src/protocol.ts``, ``TileHeader`` in ``js/src/tiles/decode.ts``,
``CutsSpec`` in ``js/src/ui/cuts.ts``). ``tests/unit/test_widget_state.py`` reads those files
and fails when a field, its type or its optionality differs, or when an interface has no record
(see ``_records.py`` for how the types map).

==================  ======================  ============================================
record              TypeScript              synced as
==================  ======================  ============================================
ImageInfo           ImageTrait              ``_images[key]`` (geometry, WCS grid, quantiles)
WcsGrid             WcsGridTrait            ``ImageInfo.wcs`` (``_wcsgrid.wcs_grid``)
Quantiles           QuantilesTrait          ``ImageInfo.quantiles``
Display             DisplayTrait            ``_displays[key]`` (cuts, stretch, colormap)
Stretch             StretchTrait            ``Display.stretch``
*Cuts               CutsSpec (a union)      ``Display.cuts``
View                ViewTrait               ``_view`` (pixels; sky only in ``get_viewport``)
Link                LinkTrait               ``_link`` (CompareView groups)
Catalog             CatalogTrait            ``_catalogs[i]``
TileReply           TileReplyMsg            tile replies (custom messages)
Overview            OverviewTrait           ``_overview`` (a reply plus its buffer)
==================  ======================  ============================================
"""

from __future__ import annotations

from typing import Literal

from ._records import Record, record

__all__ = [
    "ImageInfo",
    "WcsGrid",
    "Quantiles",
    "Display",
    "Stretch",
    "PercentileCuts",
    "ManualCuts",
    "OtherCuts",
    "Cuts",
    "View",
    "Link",
    "Catalog",
    "TileReply",
    "Overview",
]


@record
class WcsGrid(Record):
    """Gnomonic ``xi``/``eta`` (radians, little-endian float64, ``ny × nx``) on a pixel grid."""

    ts_interface = "WcsGridTrait"
    ra0: float
    dec0: float
    x0: float
    y0: float
    dx: float
    dy: float
    nx: int
    ny: int
    xi: bytes
    eta: bytes
    max_error_arcsec: float
    lon_name: str
    lat_name: str


@record
class Quantiles(Record):
    """Values (little-endian float64 ``q``) of an image's pixel sample at percentiles ``p``."""

    ts_interface = "QuantilesTrait"
    p: tuple[float, ...]
    q: bytes


@record
class ImageInfo(Record):
    """One loaded image: its pyramid's geometry, WCS grid and quantile table."""

    ts_interface = "ImageTrait"
    key: str
    label: str
    width: int
    height: int
    tile_size: int
    #: ``(height, width)`` of each pyramid level; level 0 is the full image.
    levels: tuple[tuple[int, int], ...]
    has_mask: bool
    wcs: WcsGrid | None
    #: None when the image has no finite pixel.
    quantiles: Quantiles | None


@record
class Stretch(Record):
    """A stretch by name and two parameters, or sampled (``name == "lut"``, float32 ``lut``)."""

    ts_interface = "StretchTrait"
    name: str
    params: tuple[float, ...]
    lut: bytes | None


@record
class PercentileCuts(Record):
    """Cuts at two percentiles of the image's pixel sample (0-100: min/max)."""

    ts_interface = "CutsSpec"
    kind: Literal["percentile"]
    lower: float
    upper: float


@record
class ManualCuts(Record):
    """Cuts typed as numbers (``Display.vmin``, ``vmax``)."""

    ts_interface = "CutsSpec"
    kind: Literal["manual"]


@record
class OtherCuts(Record):
    """Cuts of an interval the browser cannot compute (ZScale…), by class name."""

    ts_interface = "CutsSpec"
    kind: Literal["other"]
    name: str


Cuts = PercentileCuts | ManualCuts | OtherCuts


@record
class Display(Record):
    """Cuts, stretch and colormap of one image: everything the shader needs."""

    ts_interface = "DisplayTrait"
    vmin: float
    vmax: float
    stretch: Stretch
    cmap: str
    #: 256 × RGBA uint8.
    cmap_lut: bytes
    cuts: Cuts


@record
class View(Record):
    """The view of the displayed image, in its pixels.

    The centre ``x, y`` is 0-based; ``fov`` is in image pixels along the shorter side of the view.
    """

    ts_interface = "ViewTrait"
    key: str
    x: float
    y: float
    fov: float


@record
class Link(Record):
    """A view's link group (``_compare.py``)."""

    ts_interface = "LinkTrait"
    group: str
    mode: Literal["wcs", "pixel", "none"]
    #: Display edits apply to every pane of the group.
    display: bool


@record
class Catalog(Record):
    """Markers of one catalog in the displayed image's pixels (little-endian float64 x, y)."""

    ts_interface = "CatalogTrait"
    label: str
    shape: str
    color: str
    size: float
    n: int
    x: bytes
    y: bytes


@record
class TileReply(Record):
    """A tile reply's JSON: the tile's address, the request id and ``encode_tile``'s header."""

    ts_interface = "TileReplyMsg"
    kind: Literal["tile"]
    #: The request answered; None for the ``_overview`` trait and for previews.
    id: int | None
    key: str
    plane: Literal["data", "mask"]
    level: int
    tx: int
    ty: int
    dtype: str
    shape: tuple[int, int]
    scale: float | None = None
    compression: str | None = None
    shuffle: int | None = None
    base: int | None = None
    #: A sampled stand-in, replaced by the exact tile.
    preview: bool | None = None


@record
class Overview(TileReply):
    """The overview tile of the last loaded image, carried by the widget state."""

    ts_interface = "OverviewTrait"
    buffer: bytes

"""Message kinds and request validation of the tile protocol between Python and the browser.

Twin of ``js/src/protocol.ts``: every ``MSG_*`` and ``PLANE_*`` constant here has the same name
and value there, and ``tests/unit/test_widget_protocol.py`` compares the two files.

Browser → kernel (custom messages, JSON only)
    ``{"kind": "tile", "id": int, "key": str, "plane": "data"|"mask", "level": int,
    "tx": int, "ty": int}``
    ``{"kind": "cancel", "ids": [int, ...]}``: drop requests not answered yet.
    ``{"kind": "click", "key": str, "x": float, "y": float}``: a click (not a drag) on the image.

Kernel → browser
    ``{"kind": "tile", "id": int|None, "key", "plane", "level", "tx", "ty", **encode_header}`` plus
    exactly one binary buffer with the tile values, or
    ``{"kind": "error", "id": int|None, "error": traceback}`` so that no request waits forever.

The overview tile of the last loaded image is not a message but the ``_overview`` trait: the
same content (``id`` None) plus ``"buffer"``, so a new view draws it without asking.

A request for the overview of a big image whose exact overview is not cached is answered twice:
first ``{"kind": "tile", "id": None, "preview": true, ...}`` (one sampled pixel per block),
then the exact tile with the request's id; the browser stores each under the tile's address, so
the exact one replaces the preview.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "MSG_TILE",
    "MSG_CANCEL",
    "MSG_CLICK",
    "MSG_ERROR",
    "PLANE_DATA",
    "PLANE_MASK",
    "PROTOCOL_VERSION",
    "ProtocolError",
    "TileRequest",
    "parse_tile_request",
    "parse_cancel",
]

PROTOCOL_VERSION = 2
MSG_TILE = "tile"
MSG_CANCEL = "cancel"
MSG_CLICK = "click"
MSG_ERROR = "error"
PLANE_DATA = "data"
PLANE_MASK = "mask"
_PLANES = (PLANE_DATA, PLANE_MASK)


class ProtocolError(ValueError):
    """A browser message does not follow the tile protocol (it gets an error reply)."""


@dataclass(frozen=True)
class TileRequest:
    """One validated tile request from the browser.

    Attributes
    ----------
    id : int or None
        The browser's request id, echoed in the reply (None for the overview in ``_overview``).
    key : str
        The image key (``_images`` trait) the tile belongs to.
    plane : str
        ``"data"`` for pixel values, ``"mask"`` for the masked fraction (0–1).
    level, tx, ty : int
        Pyramid level (0 = full resolution) and tile column and row.
    """

    id: int | None
    key: str
    plane: str
    level: int
    tx: int
    ty: int


def _int(content: dict[str, Any], name: str) -> int:
    value = content.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(f"tile request field {name!r} must be an integer, got {value!r}")
    return value


def parse_tile_request(content: dict[str, Any]) -> TileRequest:
    """Validate a ``tile`` message.

    Parameters
    ----------
    content : dict
        The JSON content of the custom message.

    Returns
    -------
    TileRequest

    Raises
    ------
    ProtocolError
        When a field is missing or of the wrong type. Whether level, tx and ty exist is the
        pyramid's to say (``OutsideImageError`` from ``TilePyramid.tile``), the one range check.
    """
    rid = content.get("id")
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, int)):
        raise ProtocolError(f"tile request field 'id' must be an integer, got {rid!r}")
    key = content.get("key")
    if not isinstance(key, str):
        raise ProtocolError(f"tile request field 'key' must be a string, got {key!r}")
    plane = content.get("plane", PLANE_DATA)
    if plane not in _PLANES:
        raise ProtocolError(f"tile request field 'plane' must be one of {_PLANES}, got {plane!r}")
    return TileRequest(
        rid, key, plane, _int(content, "level"), _int(content, "tx"), _int(content, "ty")
    )


def parse_cancel(content: dict[str, Any]) -> list[int]:
    """Validate a ``cancel`` message and return the request ids to drop.

    Raises
    ------
    ProtocolError
        When ``ids`` is not a list of integers.
    """
    ids = content.get("ids")
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        raise ProtocolError(f"cancel message field 'ids' must be a list of integers, got {ids!r}")
    return ids

"""What the search form needs from the catalogue besides ``Image.find_images``.

``snapscope.db`` has no call that lists the provenance tags (snappl has none either), so this
module holds the one read-only query the widgets send themselves, through the public
:meth:`snapscope.db.DBClient.fetch` — exactly what a notebook user would type. It belongs in
``snapscope.db`` (e.g. ``list_provenance_tags(dbclient=None)``); when that exists this module
should call it instead.
"""

from __future__ import annotations

from typing import Any

__all__ = ["provenance_tags", "ROMAN_BANDS", "SEARCH_COLUMNS"]

#: Roman WFI filters, blue to red (W146 is the wide filter).
ROMAN_BANDS = ("R062", "Z087", "Y106", "J129", "W146", "H158", "F184", "K213")
#: Catalogue columns a search can be ordered by (all ``l2image`` columns a person sorts on).
SEARCH_COLUMNS = ("mjd", "band", "sca", "exptime", "ra", "dec", "observation_id", "filepath",
                  "position_angle")


def provenance_tags(dbclient: Any = None) -> list[tuple[str, str]]:
    """Return the ``(tag, process)`` pairs of the catalogue, sorted.

    Parameters
    ----------
    dbclient : DBClient or str, optional
        The catalogue (default: ``SNAPSCOPE_DSN`` or the embedded server).
    """
    from snapscope.db import get_client

    rows = get_client(dbclient).fetch(
        "SELECT tag, process FROM provenance_tag ORDER BY tag, process")
    return [(r["tag"], r["process"]) for r in rows]

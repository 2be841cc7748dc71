"""Catalogue vocabulary of the search form: the columns a search sorts on.

The provenance menu is filled by ``snapscope.db.list_provenance_tags`` and the results by
``Image.find_images``: the widgets send no SQL of their own.
"""

from __future__ import annotations

__all__ = ["SEARCH_COLUMNS"]

#: Catalogue columns a search can be ordered by (all ``l2image`` columns a person sorts on).
SEARCH_COLUMNS = ("mjd", "band", "sca", "exptime", "ra", "dec", "observation_id", "filepath",
                  "position_angle")

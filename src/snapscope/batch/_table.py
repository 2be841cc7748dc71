"""The result table of a photometry call: from row dicts, or from per-image column chunks.

Decisions
---------
* **Per-image chunks, not row dicts, at scale.** An image's measurements travel (from a thread,
  or pickled from a Dask worker) as one :class:`Chunk`: its per-image values once (id, path,
  band, …) and one short numpy array per per-row column. 1000 positions × 100 images are 10⁵
  rows: as Python dicts they took ~1 kB each, and building the table from them made a second
  full copy (a list per row) before the columns; chunks take ~0.1 kB per row and are joined
  column by column (``numpy.concatenate`` / ``numpy.repeat``) straight into the table's columns.
* The column types are those an astropy ``Table`` infers from the same Python values (str →
  unicode of the longest value, float → float64, int → int64), so both builders give the same
  table for the same measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Chunk", "photometry_table", "chunk_table"]


@dataclass
class Chunk:
    """The rows of one image.

    Attributes
    ----------
    image : dict
        Columns whose value is the same on every row of the image (e.g. ``image_id``, ``band``).
    rows : dict of numpy.ndarray
        The other columns, one array each, all of the same length.
    """

    image: dict[str, Any]
    rows: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.rows.values()))) if self.rows else 0


def _with_meta(table: Any, p: dict[str, Any], psf: Any, skipped: list[list]) -> Any:
    table.meta["parameters"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in p.items()}
    table.meta["parameters"]["psf"] = None if psf is None else repr(psf)
    table.meta["skipped"] = skipped
    return table


def photometry_table(rows: list[dict[str, Any]], columns: tuple[str, ...], dtypes: list[type],
                     p: dict[str, Any], psf: Any, skipped: list[list]) -> Any:
    """The result table: ``columns`` of ``rows`` (``dtypes`` when empty), parameters and skips."""
    from astropy.table import Table

    table = Table(rows=[[row[c] for c in columns] for row in rows] or None, names=columns,
                  dtype=None if rows else dtypes)
    return _with_meta(table, p, psf, skipped)


def chunk_table(chunks: Sequence[Chunk | None], columns: tuple[str, ...], dtypes: list[type],
                p: dict[str, Any], psf: Any, skipped: list[list]) -> Any:
    """The result table of per-image chunks (in order; None or empty chunks give no rows).

    The same table :func:`photometry_table` makes of the same rows as dicts.
    """
    from astropy.table import Table

    chunks = [c for c in chunks if c is not None and len(c)]
    if not chunks:
        return photometry_table([], columns, dtypes, p, psf, skipped)
    counts = [len(c) for c in chunks]
    data = {}
    for name in columns:
        if name in chunks[0].image:
            data[name] = np.repeat(np.array([c.image[name] for c in chunks]), counts)
        else:
            data[name] = np.concatenate([c.rows[name] for c in chunks])
    return _with_meta(Table(data, names=columns, copy=False), p, psf, skipped)

"""Columnar rows for ``l2image`` and their COPY (binary) inside the caller's transaction.

:func:`prepare` validates and completes column arrays (ids, centres, spatial cells, all
vectorised in numpy); :func:`copy_rows` streams them with ``COPY ... FROM STDIN (FORMAT BINARY)``,
the payload built column-wise by :mod:`snapscope.db._copybin` (no per-row Python),
either straight into ``l2image`` (a duplicate aborts everything: nothing is written) or, with
``skip_existing=True``, through a temporary table and ``INSERT ... ON CONFLICT DO NOTHING``, so
two processes ingesting the same files at once still write each row once.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from snapscope.db import _copybin, _spatial
from snapscope.exceptions import DatabaseError

__all__ = [
    "COLUMNS",
    "COMPUTED",
    "CORNERS",
    "prepare",
    "copy_rows",
    "settle",
    "ANALYZE_MIN_ROWS",
    "new_ids",
    "uuids",
    "binary_payload",
]

CORNERS = ("00", "01", "11", "10")  # polygon order
RA_CORNERS = tuple(f"ra_corner_{c}" for c in CORNERS)
DEC_CORNERS = tuple(f"dec_corner_{c}" for c in CORNERS)

#: (column, PostgreSQL type) written by COPY, in table order
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "uuid"),
    ("provenance_id", "uuid"),
    ("observation_id", "text"),
    ("sca", "int4"),
    ("band", "text"),
    ("ra", "float8"),
    ("dec", "float8"),
    *((c, "float8") for c in RA_CORNERS),
    *((c, "float8") for c in DEC_CORNERS),
    ("filepath", "text"),
    ("width", "int4"),
    ("height", "int4"),
    ("format", "int2"),
    ("mjd", "float8"),
    ("exptime", "float8"),
    ("position_angle", "float8"),
    ("cells", "int8[]"),
    ("cap_x", "float8"),
    ("cap_y", "float8"),
    ("cap_z", "float8"),
    ("cap_cos", "float8"),
    *((f"e{k}{a}", "float8") for k in range(4) for a in "xyz"),
)
#: columns computed by :func:`prepare` (spatial index), never taken from the caller
COMPUTED = ("cells", "cap_x", "cap_y", "cap_z", "cap_cos",
            *(f"e{k}{a}" for k in range(4) for a in "xyz"))
_FLOATS = ("mjd", "exptime", "position_angle")
_INTS = ("sca", "width", "height")


def new_ids(n: int) -> np.ndarray:
    """``n`` new time-ordered UUIDs (version 7, RFC 9562) as raw bytes, shape (n, 16) of uint8.

    48 bits of Unix time in milliseconds, then 74 random bits. The ids of one bulk save share
    their leading bits, so the primary-key btree takes them in a few adjacent (cached) pages;
    random version-4 ids scatter over the whole index (measured on 1M rows: 13 us of server CPU
    per row for the primary key, a quarter of a bulk insert).
    """
    words = np.frombuffer(os.urandom(16 * n), ">u8").reshape(n, 2).copy()
    millis = np.uint64(time.time_ns() // 1_000_000)
    words[:, 0] = (millis << np.uint64(16)) | np.uint64(0x7000) | (words[:, 0] & np.uint64(0x0FFF))
    words[:, 1] = (words[:, 1] & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
    return words.view(np.uint8).reshape(n, 16)


def uuids(raw: np.ndarray) -> list[uuid.UUID]:
    """UUID objects of raw ids, shape (n, 16) of uint8 (as :func:`prepare` returns them)."""
    return [uuid.UUID(bytes=bytes(row)) for row in raw]


def _uuid_bytes(values: Sequence, what: str) -> np.ndarray:
    """Raw bytes (n, 16) of UUIDs given as UUID or str; None gets a new random id."""
    known: dict[Any, bytes] = {}
    fresh = iter(new_ids(sum(v is None for v in values)))
    out = []
    for v in values:
        if v is None:
            out.append(next(fresh).tobytes())
            continue
        b = known.get(v)
        if b is None:
            try:
                b = known[v] = (v if isinstance(v, uuid.UUID) else uuid.UUID(str(v))).bytes
            except ValueError:
                raise ValueError(f"bulk save: {what} {v!r} is not a UUID") from None
        out.append(b)
    return np.frombuffer(b"".join(out), np.uint8).reshape(len(values), 16)


def _centres(ra_c: np.ndarray, dec_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    v = _spatial.radec_to_xyz(ra_c, dec_c).sum(axis=1)
    return (
        np.degrees(np.arctan2(v[:, 1], v[:, 0])) % 360,
        np.degrees(np.arctan2(v[:, 2], np.hypot(v[:, 0], v[:, 1]))),
    )


def _nullable(values: Sequence | None, n: int, dtype: type) -> np.ma.MaskedArray:
    """A numeric column with NULLs masked: None is NULL, and NaN too for integer columns."""
    if values is None:
        return np.ma.masked_all(n, dtype)
    if isinstance(values, np.ndarray) and values.dtype.kind in ("iu" if dtype is int else "fiu"):
        return np.ma.MaskedArray(values.astype(dtype), mask=np.zeros(n, bool))
    mask = np.array(
        [v is None or (dtype is int and isinstance(v, float) and v != v) for v in values], bool
    )
    data = [0 if m else dtype(v) for v, m in zip(values, mask.tolist(), strict=True)]
    return np.ma.MaskedArray(np.array(data, dtype), mask=mask)


def _strings(values: Sequence | None, n: int) -> list[str | None]:
    """A text column: None (and a float NaN, pandas' missing value) is NULL."""
    if values is None:
        return [None] * n
    return [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]


def _check_rows(filepath: list, provs: Sequence, ra_c: np.ndarray, dec_c: np.ndarray) -> None:
    """Raise ValueError naming the first row without filepath/provenance or a bad footprint."""
    bad = ~_spatial.valid_footprints(ra_c, dec_c)
    bad |= np.array([f is None for f in filepath], bool)
    bad |= np.array([p is None for p in provs], bool)
    if not bad.any():
        return
    i = int(np.argmax(bad))
    why = (
        "no filepath"
        if filepath[i] is None
        else "no provenance_id"
        if provs[i] is None
        else f"corners (00, 01, 11, 10) RA {ra_c[i].tolist()} Dec {dec_c[i].tolist()} "
        "are not a convex quadrilateral smaller than a hemisphere"
    )
    raise ValueError(f"cannot save image {filepath[i]!r}: {why} ({int(bad.sum())} bad rows)")


def _footprint_columns(ra_c: np.ndarray, dec_c: np.ndarray) -> dict[str, Any]:
    """The computed spatial columns (:data:`COMPUTED`) of footprints with corners (N, 4)."""
    out: dict[str, Any] = {}
    v = _spatial.radec_to_xyz(ra_c, dec_c)
    m = v.sum(axis=1)
    m /= np.linalg.norm(m, axis=1)[:, None]
    out["cap_x"], out["cap_y"], out["cap_z"] = m[:, 0], m[:, 1], m[:, 2]
    # the convex footprint lies inside the cap that holds its corners; 1e-12 of slack for rounding
    out["cap_cos"] = np.einsum("nki,ni->nk", v, m).min(axis=1) - 1e-12
    normals = np.cross(v, np.roll(v, -1, axis=1))  # edge k: corner k -> k+1 (polygon order)
    inward = np.sign(np.einsum("ni,ni->n", normals[:, 0], v[:, 2]))  # 3rd corner is inside edge 0
    normals *= inward[:, None, None]
    for k in range(4):
        for a, axis in enumerate("xyz"):
            out[f"e{k}{axis}"] = normals[:, k, a]
    out["cells"] = _spatial.footprint_cells(ra_c, dec_c)
    return out


def prepare(cols: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and complete column data for :func:`copy_rows`.

    Parameters
    ----------
    cols : mapping of column name to sequence
        Required: ``provenance_id``, ``filepath`` and the eight corners. Optional: ``id``
        (new UUIDs), ``ra``/``dec`` (centre of the corners when missing or None), ``format`` (0)
        and the other ``l2image`` columns (None).

    Returns
    -------
    dict
        Column name → values, in the caller's row order: ``id`` and ``provenance_id`` as raw
        UUID bytes (N, 16) (see :func:`uuids`), numbers as arrays (masked where NULL), text as
        lists, ``cells`` as the CSR pair of :func:`snapscope.db._spatial.footprint_cells`.

    Raises
    ------
    ValueError
        Missing columns, or a footprint that is not a convex quadrilateral (the message names
        the first offending filepath).
    """
    missing = [c for c in ("provenance_id", "filepath", *RA_CORNERS, *DEC_CORNERS) if c not in cols]
    if missing:
        raise ValueError(f"bulk save needs the columns {missing}")
    filepath = [None if f is None else str(f) for f in cols["filepath"]]
    n = len(filepath)
    ra_c = np.array([np.asarray(cols[c], dtype=float) for c in RA_CORNERS]).T.reshape(n, 4)
    dec_c = np.array([np.asarray(cols[c], dtype=float) for c in DEC_CORNERS]).T.reshape(n, 4)
    ra_c = ra_c % 360.0
    _check_rows(filepath, cols["provenance_id"], ra_c, dec_c)
    out: dict[str, Any] = {"filepath": filepath, "_n": n}
    for k in range(4):
        out[RA_CORNERS[k]], out[DEC_CORNERS[k]] = ra_c[:, k], dec_c[:, k]
    ids = cols.get("id")
    out["id"] = new_ids(n) if ids is None else _uuid_bytes(ids, "id")
    out["provenance_id"] = _uuid_bytes(cols["provenance_id"], "provenance_id")
    cra, cdec = _centres(ra_c, dec_c)
    for name, fallback in (("ra", cra), ("dec", cdec)):
        given = cols.get(name)
        if given is None:
            out[name] = fallback
        else:
            arr = np.array([np.nan if v is None else v for v in given], dtype=float)
            out[name] = np.where(np.isfinite(arr), arr, fallback)
    for name in _FLOATS:
        out[name] = _nullable(cols.get(name), n, float)
    for name in _INTS:
        out[name] = _nullable(cols.get(name), n, int)
    out["observation_id"] = _strings(cols.get("observation_id"), n)
    out["band"] = _strings(cols.get("band"), n)
    fmt = cols.get("format")
    out["format"] = np.zeros(n, int) if fmt is None else np.array(
        [0 if f is None else int(f) for f in fmt], int
    )
    out.update(_footprint_columns(ra_c, dec_c))
    return out


def _take_csr(keys: np.ndarray, offsets: np.ndarray, order: np.ndarray):
    """Rows ``order`` of a CSR pair (keys, offsets), as a new CSR pair."""
    counts = np.diff(offsets)[order]
    new_offsets = np.zeros(len(order) + 1, np.int64)
    np.cumsum(counts, out=new_offsets[1:])
    src = np.repeat(offsets[:-1][order] - new_offsets[:-1], counts) + np.arange(new_offsets[-1])
    return keys[src], new_offsets


def _piece(value: Any, pgtype: str, order: np.ndarray) -> _copybin.Piece:
    """The binary COPY piece of one prepared column, rows taken in ``order``."""
    if pgtype == "int8[]":
        return _copybin.int8_arrays(*_take_csr(*value, order))
    if pgtype == "text":
        return _copybin.text(np.asarray(value, dtype=object)[order])
    if pgtype == "uuid":
        return _copybin.fixed(value[order], "u1")
    dtype = {"float8": ">f8", "int4": ">i4", "int2": ">i2"}[pgtype]
    null = np.ma.getmaskarray(value)[order] if np.ma.isMaskedArray(value) else None
    return _copybin.fixed(np.ma.getdata(value)[order], dtype, null)


def binary_payload(prepared: Mapping[str, Any]) -> tuple[list[str], bytes]:
    """The binary COPY stream of prepared rows, and its column order.

    Fixed-width columns come first (see :func:`snapscope.db._copybin.payload`). Rows are
    written in the order of the sky cell of their centre, so footprints of one region share
    heap pages and a position search reads few pages (measured on 1M rows stored in arrival
    order: the ~1300 candidates of a deep-field point sat on ~1300 distinct pages).
    """
    order = np.argsort(_spatial.point_cells(prepared["ra"], prepared["dec"]), kind="stable")
    pieces = {c: _piece(prepared[c], t, order) for c, t in COLUMNS}
    names = sorted(pieces, key=lambda c: not _copybin.is_fixed(pieces[c]))
    return names, _copybin.payload([pieces[c] for c in names])


def copy_rows(conn: Any, prepared: Mapping[str, Any], *, skip_existing: bool = False) -> list[str]:
    """COPY prepared rows into ``l2image`` inside the caller's transaction.

    Parameters
    ----------
    conn : psycopg.Connection
        A connection inside a transaction (``with client.transaction() as conn``).
    prepared : mapping
        Output of :func:`prepare`.
    skip_existing : bool
        Skip rows whose filepath (or id) is already catalogued instead of failing.

    Returns
    -------
    list of str
        The filepaths written.

    Raises
    ------
    snapscope.exceptions.DatabaseError
        A row duplicates a catalogued filepath or id (without ``skip_existing``), or its
        provenance is not saved; the transaction is then rolled back by the caller's block.
    """
    import psycopg
    from psycopg import sql

    n = prepared["_n"]
    names, data = binary_payload(prepared)
    target = "l2image"
    if skip_existing:
        target = "_snapscope_stage"
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _snapscope_stage "
            "(LIKE l2image INCLUDING DEFAULTS) ON COMMIT DROP"
        )
    collist = sql.SQL(", ").join(map(sql.Identifier, names))
    stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(target), collist
    )
    try:
        with conn.cursor() as cur, cur.copy(stmt) as copy:
            copy.write(data)
        if not skip_existing:
            return list(prepared["filepath"])
        written = conn.execute(
            sql.SQL(
                "INSERT INTO l2image ({cols}) SELECT {cols} FROM _snapscope_stage "
                "ON CONFLICT DO NOTHING RETURNING filepath"
            ).format(cols=collist)
        ).fetchall()
        conn.execute("DROP TABLE _snapscope_stage")
        return [r[0] for r in written]
    except psycopg.errors.UniqueViolation as err:
        raise DatabaseError(
            f"nothing saved: {err.diag.message_detail or err} ({n} rows in this batch)"
        ) from None
    except psycopg.errors.ForeignKeyViolation as err:
        raise DatabaseError(
            f"nothing saved: {err.diag.message_detail or err}; save the "
            "Provenance first (prov.save_to_db())"
        ) from None


#: A bulk write of at least this many rows refreshes the planner's statistics at once.
ANALYZE_MIN_ROWS = 10_000


def settle(client: Any, written: int) -> None:
    """Leave ``l2image`` query-ready after a bulk write of ``written`` rows (best effort).

    Called once per save (:func:`snapscope.db._save.save_columns`, ``bulk_save_to_db``,
    ``ingest``), after all its chunks.

    * The GIN index's pending list is merged: until then (or until autovacuum does it) every
      spatial query scans the pending entries.
    * After ``ANALYZE_MIN_ROWS`` rows or more, ``ANALYZE l2image`` runs at once: a provenance the
      statistics do not know yet is estimated at ~1 row, and the planner picks plans that are
      8× slower for the user who queries right after saving (until autovacuum's ANALYZE, a
      minute or more later). ANALYZE samples a fixed number of rows (0.1–0.3 s whatever the
      table's size), so small saves skip it.

    Both need ownership of the table; without it (a read-only role cannot save anyway) they are
    left to autovacuum.
    """
    import psycopg

    from snapscope.exceptions import DatabaseError as _DatabaseError

    statements = ["SELECT gin_clean_pending_list('l2image_cells_idx'::regclass)"]
    if written >= ANALYZE_MIN_ROWS:
        statements.append("ANALYZE l2image")
    for statement in statements:
        try:
            with client.connection() as conn:
                conn.execute(statement)
        except (psycopg.Error, _DatabaseError):
            pass

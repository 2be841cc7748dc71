"""PostgreSQL binary COPY payloads built column by column with numpy (no per-row Python).

A binary COPY stream is a signature, then per row an int16 field count and per field an int32
byte length (-1 for NULL) followed by the value in network byte order, then an int16 -1
trailer. Encoding row by row (``psycopg``'s ``write_row``) costs ~13 us per 33-column row in
Python; here each column is turned into a *piece*, ``(lengths, bytes)`` with one entry per
row. :func:`interleave` lays adjacent fixed-width pieces side by side as one (rows, bytes)
block (plain copies) and places the rest with one masked assignment per piece. Measured in
``benchmarks/db.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "SIGNATURE", "TRAILER", "Piece", "fixed", "text", "int8_arrays", "is_fixed", "interleave",
    "payload",
]

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
_INT8_OID = 20

#: one value per row: (byte length of each row's value, all values' bytes back to back)
Piece = tuple[np.ndarray, np.ndarray]


def _prefixed(lengths: np.ndarray, data: np.ndarray) -> Piece:
    """A field piece: each value preceded by its int32 length (-1 and no bytes for NULL)."""
    head = (np.full(len(lengths), 4, np.int64), lengths.astype(">i4").view(np.uint8))
    return interleave([head, (np.maximum(lengths, 0).astype(np.int64), data)])


def fixed(values: np.ndarray, dtype: str, null: np.ndarray | None = None) -> Piece:
    """Field piece of a fixed-width column.

    Parameters
    ----------
    values : ndarray, shape (N,) or (N, width) of uint8
        The values (for ``dtype='u1'``, each row's raw bytes, e.g. a UUID's 16 bytes).
    dtype : str
        Big-endian numpy type of the PostgreSQL value: ``'>f8'`` float8, ``'>i4'`` int4,
        ``'>i2'`` int2, ``'u1'`` raw bytes.
    null : ndarray of bool, optional
        True where the value is NULL.
    """
    values = np.asarray(values)
    n = len(values)
    raw = np.ascontiguousarray(values.astype(dtype)).view(np.uint8).reshape(n, -1)
    width = raw.shape[1]
    if null is None or not null.any():
        record = np.empty((n, 4 + width), np.uint8)
        record[:, :4] = np.array([width], ">i4").view(np.uint8)
        record[:, 4:] = raw
        return np.full(n, 4 + width, np.int64), record.ravel()
    lengths = np.where(null, -1, width)
    return _prefixed(lengths, raw[~null].ravel())


def text(values: Sequence[str | None]) -> Piece:
    """Field piece of a text column (None is NULL), UTF-8 encoded."""
    values = np.asarray(values, dtype=object)
    null = np.equal(values, None)
    strings = np.where(null, "", values).tolist()
    data = "".join(strings).encode()
    lengths = np.fromiter(map(len, strings), np.int64, len(strings))
    if len(data) != lengths.sum():  # not all ASCII: byte lengths differ from character counts
        lengths = np.fromiter((len(v.encode()) for v in strings), np.int64, len(strings))
    lengths[null] = -1
    return _prefixed(lengths, np.frombuffer(data, np.uint8))


def int8_arrays(keys: np.ndarray, offsets: np.ndarray) -> Piece:
    """Field piece of an ``int8[]`` column given as CSR: row ``i`` is ``keys[offsets[i]:offsets[i+1]]``.

    Each field is its byte length, the array header (ndim 1, no NULLs, element type int8,
    length, lower bound 1) and an (int32 length 8, int64 value) pair per element.
    """
    counts = np.diff(offsets)
    n = len(counts)
    head = np.empty((n, 6), ">i4")
    head[:] = (0, 1, 0, _INT8_OID, 0, 1)
    head[:, 0] = 20 + 12 * counts
    head[:, 4] = counts
    elems = np.empty(len(keys), [("len", ">i4"), ("value", ">i8")])
    elems["len"] = 8
    elems["value"] = keys
    return interleave(
        [(np.full(n, 24, np.int64), head.view(np.uint8).ravel()),
         (counts.astype(np.int64) * 12, elems.view(np.uint8))]
    )


def is_fixed(piece: Piece) -> bool:
    """True when every row's value in the piece has the same byte length."""
    lengths = piece[0]
    return bool(len(lengths) == 0 or (lengths == lengths[0]).all())


def _merge_fixed(pieces: Sequence[Piece]) -> list[Piece]:
    """Join runs of adjacent fixed-width pieces into one piece (a plain copy, side by side)."""
    out: list[Piece] = []
    run: list[Piece] = []
    for piece in (*pieces, None):
        if piece is not None and is_fixed(piece):
            run.append(piece)
            continue
        if len(run) > 1:
            n = len(run[0][0])
            block = np.concatenate([d.reshape(n, -1) for _, d in run], axis=1)
            out.append((sum(lens for lens, _ in run), block.ravel()))
        else:
            out.extend(run)
        run = []
        if piece is not None:
            out.append(piece)
    return out


def interleave(pieces: Sequence[Piece]) -> Piece:
    """Concatenate the pieces row by row (row ``i`` = value ``i`` of piece 0, of piece 1, ...).

    Adjacent fixed-width pieces are joined with a plain copy; the rest is one pass per piece
    over a byte-to-piece map (no per-byte index arrays).
    """
    if not len(pieces[0][0]):
        return np.zeros(0, np.int64), np.zeros(0, np.uint8)
    pieces = _merge_fixed(pieces)
    if len(pieces) == 1:
        return pieces[0]
    lengths = np.stack([p[0] for p in pieces], axis=1)
    n, k = lengths.shape
    which = np.repeat(np.tile(np.arange(k, dtype=np.min_scalar_type(k)), n), lengths.ravel())
    out = np.empty(which.size, np.uint8)
    for j, (_, data) in enumerate(pieces):
        out[which == j] = data
    return lengths.sum(axis=1), out


def payload(fields: Sequence[Piece]) -> bytes:
    """The whole COPY stream (signature, rows, trailer) of field pieces in COPY column order.

    Putting the fixed-width fields (:func:`is_fixed`) side by side makes the assembly cheaper.
    """
    n = len(fields[0][0]) if fields else 0
    count = (np.full(n, 2, np.int64), np.full(n, len(fields), ">i2").view(np.uint8))
    _, rows = interleave([count, *fields])
    return SIGNATURE + rows.tobytes() + TRAILER

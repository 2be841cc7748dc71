"""Saving rows into ``l2image``: one atomic write, and the columnar bulk save for survey scale.

:func:`write` commits one COPY (:mod:`snapscope.db._bulk`) in one transaction; ``save_to_db``,
``bulk_save_to_db``, ``ingest`` and :func:`save_columns` all write through it.
:func:`save_columns` is public as ``snapscope.db.save_columns``.

Decisions:

* **Columns, not objects, at survey scale.** ``Image.bulk_save_to_db(images)`` takes Image
  objects and writes them in one transaction: right for the thousands of images a notebook
  holds. A survey's 10⁶–10⁷ rows come from tables (a pipeline's output, a Parquet file of
  headers): making 10⁷ Image objects first would cost ~60 µs each (10 minutes of client time)
  and gigabytes before the first row is sent. :func:`save_columns` takes the columns
  themselves (a dict of arrays, a DataFrame, or an iterable of them read lazily) and streams
  them in chunks with a progress bar in rows; memory stays at ``writers + 1`` chunks.
* **One transaction per chunk.** Each chunk is all or nothing and ``writers`` chunks are in
  flight on their own pooled connections (the server indexes one chunk while the client
  prepares the next). A failing chunk stops the save; the error says how many rows were
  committed before it, and re-running with ``skip_existing=True`` completes the save.
* **An interrupted write resolves itself.** When the connection is lost during a write (a
  server restart), the transaction is whole (the loss came as it committed) or absent (rolled
  back). :func:`write` reconnects (waiting up to the client's ``timeout``), looks its rows up by
  their ids (new ids are made on the client) and either returns (whole) or writes again once
  (absent). If the server does not come back in time, a
  :class:`~snapscope.exceptions.DatabaseInterruptedError` says so and how to finish.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from snapscope.db import _bulk
from snapscope.exceptions import DatabaseError, DatabaseInterruptedError, DatabaseUnavailableError

__all__ = ["write", "save_columns"]


def _commit(client: Any, prepared: Mapping[str, Any], skip_existing: bool) -> list[str]:
    with client.transaction() as conn:
        return _bulk.copy_rows(conn, prepared, skip_existing=skip_existing)


def _present(client: Any, prepared: Mapping[str, Any], skip_existing: bool,
             lost: DatabaseInterruptedError) -> list[str]:
    """Filepaths of this write's rows found in the catalogue after an interrupted commit."""
    n = prepared["_n"]
    try:
        rows = client.fetch("SELECT filepath FROM l2image WHERE id = ANY(%s)",
                            (_bulk.uuids(prepared["id"]),))
    except DatabaseUnavailableError as down:
        raise DatabaseInterruptedError(
            f"a save of {n} rows was interrupted ({lost.__cause__ or lost}) and the catalogue "
            f"did not answer again within {client.timeout:g} s. A transaction is all or "
            "nothing: the rows are either all saved or none. Run the save again when the "
            "server is back: one that went through then fails as 'already catalogued' and "
            "changes nothing (save_columns(..., skip_existing=True) completes either way)."
        ) from down
    found = [r["filepath"] for r in rows]
    if found and not skip_existing and len(found) != n:
        raise DatabaseError(
            f"a save of {n} rows was interrupted and {len(found)} of their ids are in the "
            "catalogue: some ids were catalogued before this save; nothing more was written"
        )
    return found


def write(client: Any, prepared: Mapping[str, Any], *, skip_existing: bool = False) -> list[str]:
    """Commit prepared rows (:func:`snapscope.db._bulk.prepare`) in one transaction.

    As :func:`snapscope.db._bulk.copy_rows` (same arguments and result, a client instead of a
    connection), and a lost connection is resolved (module docstring); raises
    :class:`~snapscope.exceptions.DatabaseInterruptedError` when the server does not come
    back within the client's timeout, or the connection is lost twice.
    """
    try:
        return _commit(client, prepared, skip_existing)
    except DatabaseInterruptedError as lost:
        found = _present(client, prepared, skip_existing, lost)
        if found:
            return found  # the commit went through before the connection went
        try:
            return _commit(client, prepared, skip_existing)
        except DatabaseInterruptedError as again:
            raise DatabaseInterruptedError(
                f"a save of {prepared['_n']} rows lost its connection twice ({again.__cause__}); "
                "nothing of it was saved: run it again when the server is stable"
            ) from again


def _is_table(obj: Any) -> bool:
    """A mapping of columns, or an object that behaves like one (a pandas DataFrame)."""
    return isinstance(obj, Mapping) or (hasattr(obj, "keys") and hasattr(obj, "__getitem__"))


def _columns(table: Any) -> dict[str, Any]:
    """The table's columns as sliceable sequences (pandas columns become numpy arrays)."""
    out = {}
    for name in table.keys():
        values = table[name]
        out[str(name)] = values.to_numpy() if hasattr(values, "to_numpy") else values
    return out


def _length(cols: Mapping[str, Any]) -> int:
    for values in cols.values():
        return len(values)
    return 0


def _pieces(chunks: Iterable[Any], size: int) -> Iterator[dict[str, Any]]:
    """Each table of ``chunks`` cut into pieces of at most ``size`` rows."""
    for chunk in chunks:
        if not _is_table(chunk):
            raise TypeError(
                "save_columns takes a mapping of columns (or a DataFrame), or an iterable of "
                f"them; got a {type(chunk).__name__} in the iterable"
            )
        cols = _columns(chunk)
        n = _length(cols)
        for start in range(0, n, size):
            yield cols if n <= size else {k: v[start:start + size] for k, v in cols.items()}


def _save_one(client: Any, cols: Mapping[str, Any], skip_existing: bool) -> int:
    return len(write(client, _bulk.prepare(cols), skip_existing=skip_existing))


def save_columns(
    columns: Any,
    dbclient: Any = None,
    *,
    chunk_size: int = 50_000,
    skip_existing: bool = False,
    writers: int = 2,
    progress: bool = True,
    total: int | None = None,
) -> int:
    """Save catalogue rows given as columns: the bulk path for millions of images.

    Parameters
    ----------
    columns : mapping, DataFrame, or iterable of them
        Column name → sequence (list, numpy array, pandas column), names as in ``l2image``
        (the keys of ``Image.db_row()``). Required: ``provenance_id`` and ``filepath`` (one
        per row) and the eight corners ``ra_corner_00`` … ``dec_corner_10`` (snappl's pixel
        order). Optional: ``id`` (new time-ordered UUIDs), ``ra``/``dec`` (the centre of the
        corners), ``observation_id, sca, band, width, height, format, mjd, exptime,
        position_angle`` (None/NaN is NULL). An iterable (e.g. a generator reading a file
        batch by batch) is consumed lazily.
    dbclient : DBClient or str, optional
        The catalogue (default: ``SNAPSCOPE_DSN`` or the embedded server).
    chunk_size : int
        Rows per transaction.
    skip_existing : bool
        Skip rows whose filepath (or id) is already catalogued instead of failing; re-running
        an interrupted save with it completes the save.
    writers : int
        Chunks written at once, each on its own connection.
    progress : bool
        Show a progress bar (rows).
    total : int, optional
        Rows to expect, for the bar of an iterable (a table gives its own length).

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    ValueError
        Missing columns or a bad footprint (the message names the row); earlier chunks stay.
    snapscope.exceptions.DatabaseError
        A duplicate filepath or id (without ``skip_existing``), or an unsaved provenance; the
        failing chunk wrote nothing, earlier ones stay (the message counts them).
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from snapscope._utils._progress import counter
    from snapscope.db import get_client

    if chunk_size < 1 or writers < 1:
        raise ValueError(f"chunk_size and writers must be positive, not {chunk_size}, {writers}")
    client = get_client(dbclient)
    if _is_table(columns):
        total = _length(_columns(columns))
        columns = [columns]
    bar = counter(total=total, desc="save", unit="rows", enabled=progress)
    written = 0

    def collect(done: set) -> BaseException | None:
        """Count the finished chunks that succeeded; return the first failure, if any."""
        nonlocal written
        for future in done:
            if future.exception() is None:
                written += future.result()
                bar.update(future.result())
        return next((f.exception() for f in done if f.exception() is not None), None)

    try:
        with ThreadPoolExecutor(max_workers=writers) as pool:
            running: set = set()
            failure = None
            try:
                for cols in _pieces(columns, chunk_size):
                    if len(running) >= writers:
                        done, running = wait(running, return_when=FIRST_COMPLETED)
                        failure = collect(done)
                        if failure is not None:
                            break
                    running.add(pool.submit(_save_one, client, cols, skip_existing))
            finally:
                failure = collect(wait(running)[0]) or failure
        if failure is not None:
            raise failure
    except (DatabaseError, ValueError) as err:
        if not written:
            raise
        raise type(err)(
            f"{err} ({written} rows were saved before: re-run with skip_existing=True to "
            "complete the save)"
        ) from err
    finally:
        bar.close()
        _bulk.settle(client, written)
    return written

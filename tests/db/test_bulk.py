"""The columnar binary COPY path: every value, NULL and row order survives the round trip."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from snapscope.db import _bulk, _copybin, _spatial, save_columns
from snapscope.db._synthetic import random_footprints
from snapscope.exceptions import DatabaseError

N = 400


def test_interleave_concatenates_row_by_row():
    a = (np.array([1, 0, 2]), np.frombuffer(b"abc", np.uint8))
    b = (np.array([2, 2, 2]), np.frombuffer(b"xxyyzz", np.uint8))
    lengths, data = _copybin.interleave([a, b])
    assert lengths.tolist() == [3, 2, 4]
    assert data.tobytes() == b"axxyybczz"


def test_csr_rows_are_reordered_with_their_keys():
    keys, offsets = np.arange(6), np.array([0, 1, 3, 6])
    got_keys, got_offsets = _bulk._take_csr(keys, offsets, np.array([2, 0, 1]))
    assert got_keys.tolist() == [3, 4, 5, 0, 1, 2]
    assert got_offsets.tolist() == [0, 3, 4, 6]


def _columns(provenance_id) -> dict:
    fp = random_footprints(N, size=(0.01, 3.0), seed=5)
    rng = np.random.default_rng(5)
    cols: dict = {k: v for k, v in fp.items()}
    cols["provenance_id"] = [provenance_id] * N
    cols["filepath"] = [f"/bulk/é{'x' * (i % 7)}/{i:04d}.fits" for i in range(N)]
    cols["id"] = [None if i % 3 else uuid.uuid4() for i in range(N)]
    cols["band"] = [None if i % 5 == 0 else ("Y106", "J129", "ß")[i % 3] for i in range(N)]
    cols["observation_id"] = [str(i) if i % 4 else None for i in range(N)]
    cols["mjd"] = [None if i % 6 == 0 else 60000.0 + rng.random() for i in range(N)]
    cols["exptime"] = rng.random(N)
    cols["exptime"][3] = np.nan  # a float NaN stays NaN (not NULL)
    cols["sca"] = [None if i % 9 == 0 else i % 18 + 1 for i in range(N)]
    cols["width"] = [float("nan") if i % 8 == 0 else 4088 for i in range(N)]
    cols["format"] = [i % 3 for i in range(N)]
    return cols


@pytest.mark.db
def test_copy_round_trips_every_column(dbclient, provenance):
    cols = _columns(provenance.id)
    prepared = _bulk.prepare(cols)
    with dbclient.transaction() as conn:
        _bulk.copy_rows(conn, prepared)
    rows = {
        r["filepath"]: r
        for r in dbclient.fetch(
            "SELECT id, filepath, band, observation_id, mjd, exptime, sca, width, height, "
            "format, ra_corner_11, cells FROM l2image"
        )
    }
    ids = _bulk.uuids(prepared["id"])
    keys, offsets = prepared["cells"]
    assert len(rows) == N
    for i, path in enumerate(cols["filepath"]):
        r = rows[path]
        assert r["id"] == ids[i] and (cols["id"][i] is None or r["id"] == cols["id"][i])
        assert r["band"] == cols["band"][i] and r["observation_id"] == cols["observation_id"][i]
        assert r["mjd"] == cols["mjd"][i] and r["sca"] == cols["sca"][i]
        assert r["exptime"] == cols["exptime"][i] or (i == 3 and np.isnan(r["exptime"]))
        assert r["width"] == (None if i % 8 == 0 else 4088) and r["height"] is None
        assert r["format"] == i % 3
        assert r["ra_corner_11"] == cols["ra_corner_11"][i] % 360
        assert r["cells"] == keys[offsets[i] : offsets[i + 1]].tolist()


@pytest.mark.db
def test_rows_are_stored_in_sky_order(dbclient, provenance):
    cols = _columns(provenance.id)
    with dbclient.transaction() as conn:
        _bulk.copy_rows(conn, _bulk.prepare(cols))
    stored = dbclient.fetch("SELECT ra, dec FROM l2image ORDER BY ctid")
    cells = _spatial.point_cells([r["ra"] for r in stored], [r["dec"] for r in stored])
    assert (np.diff(cells) >= 0).all()


def test_new_ids_are_unique_time_ordered_uuids():
    ids = _bulk.uuids(_bulk.new_ids(1000))
    assert len(set(ids)) == 1000
    assert {u.version for u in ids} == {7} and {u.variant for u in ids} == {uuid.RFC_4122}
    assert len({u.bytes[:6] for u in ids}) <= 2  # one millisecond (or two, at a tick)


def _provenance_stats(dbclient) -> list:
    rows = dbclient.fetch("SELECT most_common_vals::text AS mcv, n_distinct FROM pg_stats "
                          "WHERE tablename = 'l2image' AND attname = 'provenance_id'")
    return rows


@pytest.mark.db
def test_a_big_save_leaves_the_table_query_ready(dbclient, provenance, monkeypatch):
    """The planner knows a provenance right after its rows were bulk saved (ANALYZE at once),
    while a small save leaves the statistics to autovacuum."""
    monkeypatch.setattr(_bulk, "ANALYZE_MIN_ROWS", N)
    small = _columns(provenance.id)
    small = {k: v[: N // 4] for k, v in small.items()}
    assert save_columns(small, dbclient=dbclient, progress=False) == N // 4
    assert _provenance_stats(dbclient) == []  # a fresh database: never analysed
    big = _columns(provenance.id)
    big["filepath"] = [f"/big/{i:04d}.fits" for i in range(N)]
    big["id"] = [None] * N
    assert save_columns([big], dbclient=dbclient, progress=False) == N
    stats = _provenance_stats(dbclient)
    assert stats and str(provenance.id) in (stats[0]["mcv"] or ""), stats


@pytest.mark.db
def test_save_columns_chunks_a_table_and_reports_what_a_failure_left(dbclient, provenance):
    """The public columnar save: a table is cut into transactions of ``chunk_size`` rows; a
    chunk that fails writes nothing, the error counts the rows saved before it, and the same
    call with ``skip_existing=True`` completes the save."""
    cols = _columns(provenance.id)
    cols["id"] = None
    first = {k: v[: N // 2] for k, v in cols.items() if v is not None}
    assert save_columns(first, dbclient=dbclient, chunk_size=N // 2, progress=False) == N // 2
    clash = {k: list(v) for k, v in cols.items() if v is not None}
    clash["filepath"] = clash["filepath"][N // 2 :] + clash["filepath"][: N // 2]  # saved ones last
    with pytest.raises(DatabaseError, match=rf"already exists.* \({N // 2} rows were saved before: "
                       r"re-run with skip_existing=True"):
        save_columns(clash, dbclient=dbclient, chunk_size=N // 4, writers=1, progress=False)
    count = "SELECT count(*) AS n FROM l2image"
    assert dbclient.fetch(count)[0]["n"] == N  # the first save and the clash's first two chunks
    assert save_columns(iter([clash]), dbclient=dbclient, chunk_size=N // 4, skip_existing=True,
                        progress=False) == 0
    assert dbclient.fetch(count)[0]["n"] == N
    with pytest.raises(TypeError, match="mapping of columns"):
        save_columns([["not", "columns"]], dbclient=dbclient, progress=False)

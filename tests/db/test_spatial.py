"""The spatial index and the exact SQL tests against brute-force spherical geometry in numpy."""

from __future__ import annotations

import numpy as np
import pytest
import spherical_brute as brute

from snapscope.db import _bulk, _spatial
from snapscope.db._synthetic import random_footprints, xyz_to_radec

N_FOOTPRINTS = 3000
CORNER_ORDER = ("00", "01", "11", "10")


def _corners(fp, i):
    return (
        [fp[f"ra_corner_{c}"][i] for c in CORNER_ORDER],
        [fp[f"dec_corner_{c}"][i] for c in CORNER_ORDER],
    )


def _inside_points(fp, n, rng):
    """Random points strictly inside footprints 0..n-1 (positive combinations of corners)."""
    v = np.stack(
        [brute.unit(fp[f"ra_corner_{c}"][:n], fp[f"dec_corner_{c}"][:n]) for c in CORNER_ORDER], 1
    )
    w = rng.dirichlet(np.ones(4), n)
    p = (w[:, :, None] * v).sum(1)
    return xyz_to_radec(p / np.linalg.norm(p, axis=1)[:, None])


def test_cells_cover_their_footprint():
    rng = np.random.default_rng(3)
    fp = random_footprints(4000, size=(0.001, 20.0), seed=3)
    ra_c = np.stack([fp[f"ra_corner_{c}"] for c in CORNER_ORDER], 1)
    dec_c = np.stack([fp[f"dec_corner_{c}"] for c in CORNER_ORDER], 1)
    keys, off = _spatial.footprint_cells(ra_c, dec_c)
    assert np.all(np.diff(off) > 0)
    assert (np.diff(off) <= 60).all(), "a footprint has too many index keys"
    ra, dec = _inside_points(fp, 4000, rng)
    for i in range(4000):
        mine = set(keys[off[i] : off[i + 1]].tolist())
        assert mine & set(_spatial.point_keys(ra[i], dec[i])), f"point not covered (footprint {i})"
        assert mine & set(_spatial.cone_keys(ra[i], dec[i], 0.0)), (
            f"cone not covered (footprint {i})"
        )


def test_point_keys_are_nested():
    keys = _spatial.point_keys(359.99999999, -89.9999)
    uniq = [k // 2 for k in keys]
    assert all(a >> 2 == b for a, b in zip(uniq, uniq[1:], strict=False))
    assert 8 <= uniq[-1] < 14  # level 0: one of the six faces


def test_valid_footprints_rejects_bad_shapes():
    good = ([10, 10, 11, 11], [0, 1, 1, 0])
    bowtie = ([10, 11, 10, 11], [0, 1, 1, 0])
    repeated = ([10, 10, 10, 10], [0, 0, 0, 0])
    nan = ([10, np.nan, 11, 11], [0, 1, 1, 0])
    reversed_ = (good[0][::-1], good[1][::-1])
    ra = np.array([good[0], bowtie[0], repeated[0], nan[0], reversed_[0]], float)
    dec = np.array([good[1], bowtie[1], repeated[1], nan[1], reversed_[1]], float)
    assert _spatial.valid_footprints(ra, dec).tolist() == [True, False, False, False, True]


@pytest.fixture
def footprint_table(dbclient, provenance):
    fp = random_footprints(N_FOOTPRINTS, size=(0.005, 5.0), seed=11)
    cols = {k: v for k, v in fp.items()}
    cols["provenance_id"] = [provenance.id] * N_FOOTPRINTS
    cols["filepath"] = [f"/synthetic/{i:05d}.fits" for i in range(N_FOOTPRINTS)]
    cols["format"] = [10] * N_FOOTPRINTS
    prepared = _bulk.prepare(cols)
    with dbclient.transaction() as conn:
        _bulk.copy_rows(conn, prepared)
    _bulk.settle(dbclient, N_FOOTPRINTS)
    index_of = {fp_: i for i, fp_ in enumerate(cols["filepath"])}
    return fp, index_of


def _query_points(fp, rng, n):
    ra_in, dec_in = _inside_points(fp, n // 2, rng)
    ra_near = (fp["ra"][: n // 2] + rng.normal(0, 0.5, n // 2)) % 360
    dec_near = np.clip(fp["dec"][: n // 2] + rng.normal(0, 0.5, n // 2), -90, 90)
    special_ra = np.array([0.0, 359.9999999, 360.0 - 1e-12, 0.0, 180.0, 0.5, 359.5])
    special_dec = np.array([0.0, 0.3, -0.2, 90.0, -90.0, 89.999, -89.999])
    return (
        np.concatenate([ra_in, ra_near, special_ra]),
        np.concatenate([dec_in, dec_near, special_dec]),
    )


@pytest.mark.db
def test_containment_matches_brute_force(footprint_table, dbclient):
    from snapscope.db._query import find_rows

    fp, index_of = footprint_table
    rng = np.random.default_rng(5)
    ra, dec = _query_points(fp, rng, 2000)
    truth = np.zeros((N_FOOTPRINTS, len(ra)), bool)
    for i in range(N_FOOTPRINTS):
        truth[i] = brute.contains(*_corners(fp, i), ra, dec)
    assert truth.any(0).sum() > 1000, "test points should mostly hit footprints"
    assert truth[: int(0.2 * N_FOOTPRINTS)].any(), "RA 0/360 footprints must be exercised"
    for j in range(len(ra)):
        got = {index_of[r["filepath"]] for r in find_rows(dbclient=dbclient, ra=ra[j], dec=dec[j])}
        want = set(np.nonzero(truth[:, j])[0].tolist())
        assert got == want, (
            f"point {j} ({ra[j]}, {dec[j]}): extra {got - want}, missing {want - got}"
        )


@pytest.mark.db
def test_sequential_scan_sql_agrees(footprint_table, dbclient):
    """The exact SQL test alone (no index) gives the same answers: the index never drops a row."""
    fp, index_of = footprint_table
    rng = np.random.default_rng(8)
    ra, dec = _query_points(fp, rng, 60)
    truth = np.array([brute.contains(*_corners(fp, i), ra, dec) for i in range(N_FOOTPRINTS)])
    for j in range(len(ra)):
        x, y, z = (float(c) for c in _spatial.radec_to_xyz(ra[j], dec[j]))
        rows = dbclient.fetch(
            "SELECT filepath FROM l2image WHERE snapscope_in_quad(%s, %s, %s, ra_corner_00, "
            "dec_corner_00, ra_corner_01, dec_corner_01, ra_corner_11, dec_corner_11, "
            "ra_corner_10, dec_corner_10)",
            (x, y, z),
        )
        want = set(np.nonzero(truth[:, j])[0].tolist())
        assert {index_of[r["filepath"]] for r in rows} == want


@pytest.mark.db
def test_cone_matches_brute_force(footprint_table, dbclient):
    from snapscope.db._query import find_rows

    fp, index_of = footprint_table
    rng = np.random.default_rng(9)
    centres = brute.unit(fp["ra"], fp["dec"])
    half_diag = np.array(
        [
            max(np.degrees(np.arccos(np.clip(brute.unit(*_corners(fp, i)) @ centres[i], -1, 1))))
            for i in range(N_FOOTPRINTS)
        ]
    )
    ra, dec = _query_points(fp, rng, 300)
    radii = np.exp(rng.uniform(np.log(1e-3), np.log(3.0), len(ra)))
    checked = 0
    for j in range(len(ra)):
        got = {
            index_of[r["filepath"]]
            for r in find_rows(dbclient=dbclient, ra=ra[j], dec=dec[j], radius=radii[j])
        }
        sep = np.degrees(np.arccos(np.clip(centres @ brute.unit(ra[j], dec[j]), -1, 1)))
        near = np.nonzero(sep <= radii[j] + half_diag + 0.01)[0]
        assert got <= set(near.tolist())
        for i in near:
            d = brute.distance_deg(*_corners(fp, i), ra[j], dec[j])
            if abs(d - radii[j]) < 2e-3:  # too close to call with sampled edges
                continue
            assert (i in got) == (d <= radii[j]), (
                f"cone {j} footprint {i}: distance {d}, r {radii[j]}"
            )
            checked += 1
    assert checked > 1000


@pytest.mark.db
def test_point_query_uses_the_index(footprint_table, dbclient):
    from snapscope.db import _query

    query, params = _query.build_query(None, {"ra": 10.0, "dec": 20.0})
    dbclient.execute("ANALYZE l2image")
    with dbclient.connection() as conn:
        plan = "\n".join(r[0] for r in conn.execute(b"EXPLAIN " + query.as_bytes(conn), params))
    assert "l2image_cells_idx" in plan

"""The 10 M-row catalogue's shape at 50 k rows, through the benchmark's code path.

``benchmarks/db.py --rows 10000000`` loads the synthetic survey (``survey_columns``) with
``snapscope.db.save_columns`` under ten provenance tags on the same sky (90 % of the rows under
other tags) and searches one tag. Here the same loader and searches run at 50 k rows and every
answer is compared with brute-force spherical geometry in numpy (``spherical_brute``), at random
points, in the deep fields, on RA 0/360 and at the poles; and the plans are checked: a tagged
search is one scan of the spatial index, whose pages do not depend on the other tags' rows.
"""

from __future__ import annotations

import numpy as np
import pytest
import spherical_brute as brute

from snapscope.db import _bulk, save_columns
from snapscope.db._query import find_rows
from snapscope.db._synthetic import SPECIAL_POINTS, survey_columns, survey_points
from snapscope.provenance import Provenance

pytestmark = pytest.mark.db

ROWS, TAGS, CHUNK = 50_000, 10, 4_000
CORNERS = ("00", "01", "11", "10")


def _chunks(provs):
    """The survey in load order: the searched tag's rows, then the other tags' round-robin."""
    per_tag = ROWS // TAGS
    for tag, prov in enumerate(provs):
        for first in range(0, per_tag, CHUNK):
            yield survey_columns(min(CHUNK, per_tag - first), prov.id, seed=tag * 10**6 + first,
                                 first=first, prefix=f"/t{tag}")


@pytest.fixture(scope="module")
def survey_db(pg_admin_dsn, pg_template):
    """A database holding the survey (loaded once for the module): (client, columns)."""
    from dbfixtures import fresh_database

    from snapscope.db._client import DBClient

    with fresh_database(pg_admin_dsn, pg_template) as dsn, DBClient(dsn, timeout=5) as client:
        provs = []
        for k in range(TAGS):
            prov = Provenance("survey", 1, k)
            prov.save_to_db(tag=f"t{k}", dbclient=client)
            provs.append(prov)
        chunks = list(_chunks(provs))
        assert save_columns(iter(chunks), dbclient=client, progress=False) == ROWS
        cols = {k: np.concatenate([np.asarray(c[k]) for c in chunks])
                for k in ("ra", "dec", "filepath", *(f"{a}_corner_{c}" for c in CORNERS
                                                     for a in ("ra", "dec")))}
        cols["searched"] = np.char.startswith(cols["filepath"].astype(str), "/t0/")
        yield client, cols


def _points(cols):
    """Random and deep-field points, RA 0/360 and the poles, and centres of footprints there."""
    ra, dec, _ = survey_points(80, seed=3)
    edge = np.nonzero(cols["searched"] & ((np.abs(((cols["ra"] + 180) % 360) - 180) < 1)
                                          | (np.abs(cols["dec"]) > 85)))[0][:30]
    return [*zip(ra.tolist(), dec.tolist(), strict=True), *SPECIAL_POINTS,
            *zip(cols["ra"][edge].tolist(), cols["dec"][edge].tolist(), strict=True)]


def _brute_contains(cols, ra, dec, rows=None):
    """Filepaths of the footprints (of ``rows``, default all) containing (ra, dec), in numpy."""
    rows = np.arange(len(cols["ra"])) if rows is None else rows
    near = rows[brute.unit(cols["ra"][rows], cols["dec"][rows]) @ brute.unit(ra, dec)
                > np.cos(np.radians(0.2))]  # survey footprints are < 0.1 degree from centre
    return {str(cols["filepath"][i]) for i in near
            if brute.contains([cols[f"ra_corner_{c}"][i] for c in CORNERS],
                              [cols[f"dec_corner_{c}"][i] for c in CORNERS], [ra], [dec])[0]}


def test_tagged_and_untagged_containment_match_brute_force(survey_db):
    dbclient, cols = survey_db
    searched = np.nonzero(cols["searched"])[0]
    hits = {"tag": 0, "all": 0, "edge": 0, "filtered": 0}
    for ra, dec in _points(cols):
        want_tag = _brute_contains(cols, ra, dec, searched)
        want_all = _brute_contains(cols, ra, dec)
        got_tag = {r["filepath"] for r in find_rows(dbclient=dbclient, ra=ra, dec=dec,
                                                    provenance_tag="t0", process="survey")}
        got_all = {r["filepath"] for r in find_rows(dbclient=dbclient, ra=ra, dec=dec)}
        assert got_tag == want_tag, (ra, dec, "tag", got_tag ^ want_tag)
        assert got_all == want_all, (ra, dec, "all", got_all ^ want_all)
        hits["tag"] += len(want_tag)
        hits["all"] += len(want_all)
        hits["filtered"] += len(want_all) > len(want_tag)
        hits["edge"] += bool(want_tag) and (abs(dec) > 85 or min(ra, 360 - ra) < 1)
    # the comparison must have exercised the tag filter, RA 0/360 and the poles
    assert hits["tag"] > 50 and hits["all"] > 5 * hits["tag"], hits
    assert hits["filtered"] > 30 and hits["edge"] > 15, hits


def test_tagged_cones_match_brute_force(survey_db):
    dbclient, cols = survey_db
    searched = np.nonzero(cols["searched"])[0]
    ra, dec, _ = survey_points(24, seed=4)
    points = [*zip(ra.tolist(), dec.tolist(), strict=True), *SPECIAL_POINTS[:6]]
    radii = np.exp(np.random.default_rng(4).uniform(np.log(0.01), np.log(0.5), len(points)))
    checked = 0
    for (ra, dec), r in zip(points, radii, strict=True):
        got = {row["filepath"] for row in find_rows(dbclient=dbclient, ra=ra, dec=dec, radius=r,
                                                    provenance_tag="t0", process="survey")}
        near = searched[brute.unit(cols["ra"][searched], cols["dec"][searched])
                        @ brute.unit(ra, dec) > np.cos(np.radians(r + 0.2))]
        assert got <= {str(cols["filepath"][i]) for i in near}
        for i in near:
            d = brute.distance_deg([cols[f"ra_corner_{c}"][i] for c in CORNERS],
                                   [cols[f"dec_corner_{c}"][i] for c in CORNERS], ra, dec)
            if abs(d - r) < 2e-3:  # too close to call with sampled edges
                continue
            assert (str(cols["filepath"][i]) in got) == (d <= r), (ra, dec, r, i, d)
            checked += d <= r
    assert checked > 100


def _plan(dbclient, **filters):
    import json

    from snapscope.db._query import build_query, provenance_selector

    selector = provenance_selector(filters.pop("provenance", None),
                                   filters.pop("provenance_tag", None), filters.pop("process", None))
    query, params = build_query(selector, filters)
    with dbclient.connection() as conn:
        out = conn.execute(b"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, FORMAT JSON) "
                           + query.as_bytes(conn), params).fetchone()[0]
    return out[0]["Plan"] if not isinstance(out, str) else json.loads(out)[0]["Plan"]


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def test_a_tagged_search_is_one_scan_of_the_spatial_index(survey_db):
    """Deep-field searches for one tag read the index pages and heap pages of that tag's rows:
    one GIN scan selects position and provenance; the btree on provenance_id is never ANDed in."""
    dbclient, _ = survey_db
    ra, dec, deep = survey_points(40, seed=6)
    for i in np.nonzero(deep)[0]:
        plan = _plan(dbclient, ra=float(ra[i]), dec=float(dec[i]), provenance_tag="t0",
                     process="survey")
        scans = [n for n in _nodes(plan) if n.get("Relation Name") == "l2image"
                 or n.get("Index Name", "").startswith("l2image")]
        names = {n.get("Index Name") for n in scans} - {None}
        assert names == {"l2image_cells_idx"}, names
        (gin,) = [n for n in scans if n.get("Index Name") == "l2image_cells_idx"]
        assert "ARRAY[provenance_id]" in gin["Index Cond"]
        # every row the index hands over is the tag's: none is dropped by the provenance test
        assert plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0) == gin["Actual Rows"]


def _pages(plan) -> tuple:
    """The plan's shape and the pages each node touched (buffers hit or read)."""
    return tuple((n["Node Type"], n.get("Index Name"), n.get("Shared Hit Blocks", 0)
                  + n.get("Shared Read Blocks", 0)) for n in _nodes(plan))


def test_first_searches_after_a_big_save_equal_those_after_analyze(dbclient, provenance):
    """Query-ready: right after a bulk save of a new provenance, its searches (by position, and
    by provenance alone) run the plans and touch the pages they do once ANALYZE has run.

    Plans and pages, not wall time: a plan chosen on stale statistics reads more pages whatever
    the machine's load (before saves ran ANALYZE, a new provenance's first searches took 8x
    longer). The same comparison without the save's ANALYZE must show a difference, or the
    case would prove nothing.
    """
    save_columns(survey_columns(10_000, provenance.id, seed=1, prefix="/old"), dbclient=dbclient,
                 progress=False)  # a table with rows and statistics, none of the new provenance
    ra, dec, _ = survey_points(30, seed=8)

    def searches(prov):
        found = [_pages(_plan(dbclient, ra=float(a), dec=float(b), provenance=prov.id))
                 for a, b in zip(ra, dec, strict=True)]
        found.append(_pages(_plan(dbclient, provenance=prov.id, band="Y106")))
        found.append(_pages(_plan(dbclient, provenance=prov.id, observation_id="7")))
        return found

    rows = _bulk.ANALYZE_MIN_ROWS  # the smallest save that analyses

    def fresh(name, analyze_min):
        prov = Provenance(name, 1, 0)
        prov.save_to_db(tag=name, dbclient=dbclient)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_bulk, "ANALYZE_MIN_ROWS", analyze_min)
            save_columns(survey_columns(rows, prov.id, seed=99, prefix=f"/{name}"),
                         dbclient=dbclient, progress=False)
        first = searches(prov)
        with dbclient.connection() as conn:
            conn.execute("ANALYZE l2image")
        return first, searches(prov)

    first, analysed = fresh("fresh", _bulk.ANALYZE_MIN_ROWS)
    assert first == analysed
    stale, analysed = fresh("stale", 10**12)  # the save leaves statistics to autovacuum
    assert stale != analysed, "without the save's ANALYZE the plans should differ"

"""Position searches of the catalogue benchmark: timings, pages touched, brute-force answers.

Every search goes through ``snapscope.db._query.find_rows`` (what ``Image.find_images`` runs,
without making Image objects); pages come from ``EXPLAIN (ANALYZE, BUFFERS)`` of the same
statement; the brute-force check is ``tests/db/spherical_brute.py`` in numpy.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
from _dbbench import FOOTPRINT, PROCESS, ROOT, TAG, line

sys.path.insert(0, str(ROOT / "tests" / "db"))

#: answer sizes (rows) the time-versus-answer table groups searches by
BINS = (0, 1, 10, 100, 1000, 10**9)


@dataclass
class Searches:
    """One suite of searches: durations (s), answer sizes, which points are in deep fields."""

    label: str
    times: np.ndarray
    hits: np.ndarray
    deep: np.ndarray


def tag_filter(tagged: bool) -> dict:
    return {"provenance_tag": TAG, "process": PROCESS} if tagged else {}


def run(client, label: str, ra, dec, deep, radii=None, tagged: bool = True) -> Searches:
    """Time one search per point (a cone when ``radii`` is given), after 20 warm-up searches."""
    from snapscope.db._query import find_rows

    extra = tag_filter(tagged)
    for i in range(min(20, len(ra))):
        find_rows(dbclient=client, ra=float(ra[i]), dec=float(dec[i]), **extra)
    times, hits = [], []
    for i in range(len(ra)):
        if radii is not None:
            extra["radius"] = float(radii[i])
        t0 = time.perf_counter()
        rows = find_rows(dbclient=client, ra=float(ra[i]), dec=float(dec[i]), **extra)
        times.append(time.perf_counter() - t0)
        hits.append(len(rows))
    return Searches(label, np.array(times), np.array(hits), np.asarray(deep))


def report(s: Searches, median_target: float | None = None, p99_target: float | None = None):
    print(f"  {s.label}: {np.mean(s.hits[s.deep]):.0f} rows per search in deep fields, "
          f"{np.mean(s.hits[~s.deep]):.2f} elsewhere")
    print(line("    all", s.times))
    print(line("    deep-field", s.times[s.deep]))
    print(line("    wide-sky", s.times[~s.deep]))
    if median_target is not None:
        med, p99 = np.median(s.times) * 1e3, np.percentile(s.times, 99) * 1e3
        print(f"    target median <= {median_target:g} ms: {med:.2f} ms"
              + (f"; p99 <= {p99_target:g} ms: {p99:.2f} ms" if p99_target else ""))


def answer_table(suites: list[Searches]) -> None:
    """Median time per answer size, one column per suite: time follows the answer, not the table."""
    print(f"  {'rows in the answer':<20}" + "".join(f"{s.label:>26}" for s in suites))
    for lo, hi in zip(BINS[:-1], BINS[1:], strict=True):
        name = f"{lo}" if hi == lo + 1 else f"{lo}-{hi - 1}" if hi < 10**9 else f">= {lo}"
        cells = []
        for s in suites:
            sel = (s.hits >= lo) & (s.hits < hi)
            cells.append(f"{np.median(s.times[sel]) * 1e3:8.2f} ms ({sel.sum():4d})"
                         if sel.any() else f"{'-':>19}")
        print(f"  {name:<20}" + "".join(f"{c:>26}" for c in cells))


def _buffers(node: dict) -> int:
    return int(node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0))


def explain_pages(client, filters: dict) -> tuple[int, int, list[str]]:
    """Pages (buffers hit or read) of one search: (spatial index, heap, indexes used).

    The heap figure is the statement's pages minus every index node's (so the tag's look-up
    in ``provenance_tag``, two pages, is left out of both).
    """
    import json

    from snapscope.db._query import build_query, provenance_selector

    selector = provenance_selector(filters.pop("provenance", None), filters.pop("provenance_tag", None),
                                   filters.pop("process", None))
    query, params = build_query(selector, filters)
    with client.connection() as conn:
        sql = b"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query.as_bytes(conn)
        plan = conn.execute(sql, params).fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    top = plan[0]["Plan"]
    indexes = [n for n in _walk(top) if "Index Name" in n]
    spatial = sum(_buffers(n) for n in indexes if n["Index Name"] == "l2image_cells_idx")
    # an InitPlan's pages (the tag's look-up) are not in its parent's count
    heap = _buffers(top) - sum(_buffers(n) for n in _walk(top, initplans=False) if "Index Name" in n)
    return spatial, heap, sorted({n["Index Name"] for n in indexes})


def _walk(node: dict, initplans: bool = True):
    yield node
    for child in node.get("Plans", []):
        if initplans or child.get("Parent Relationship") != "InitPlan":
            yield from _walk(child, initplans)


def pages_report(client, label: str, ra, dec, deep, tagged: bool = True, n: int = 100) -> None:
    """Median and maximum pages touched by ``n`` searches (half deep, half wide)."""
    pick = np.r_[np.nonzero(deep)[0][: n // 2], np.nonzero(~deep)[0][: n - n // 2]]
    index, heap, names = [], [], set()
    for i in pick:
        a, b, used = explain_pages(client, {"ra": float(ra[i]), "dec": float(dec[i]),
                                            **tag_filter(tagged)})
        index.append(a)
        heap.append(b)
        names.update(used)
    index, heap, d = np.array(index), np.array(heap), np.asarray(deep)[pick]
    print(f"  {label}: pages per search (EXPLAIN BUFFERS, {len(pick)} searches, index {sorted(names)}):"
          f" deep-field spatial index {np.median(index[d]):.0f} / heap {np.median(heap[d]):.0f} median"
          f" (max {index[d].max()} / {heap[d].max()}); wide-sky index {np.median(index[~d]):.0f}"
          f" / heap {np.median(heap[~d]):.0f}")


def lookup_pages(client) -> str:
    """Pages of ``get_image`` (primary key look-up): the btree's depth plus one heap page."""
    import json

    row = client.fetch("SELECT id FROM l2image ORDER BY random() LIMIT 1")[0]
    with client.connection() as conn:
        plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT * FROM l2image "
                            "WHERE id = %s", (row["id"],)).fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return f"get_image by id: {_buffers(plan[0]['Plan'])} pages (btree levels + 1 heap page)"


def index_levels(client) -> str:
    """Btree levels and GIN entry/data pages from ``pageinspect``, when the server has it."""
    try:
        with client.connection() as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
            out = []
            for name in ("l2image_pkey", "l2image_filepath_key", "l2image_provenance_observation_idx"):
                level = conn.execute("SELECT level FROM bt_metap(%s)", (name,)).fetchone()[0]
                out.append(f"{name} {level + 1} levels")
            gin = conn.execute(
                "SELECT n_entry_pages, n_data_pages, n_entries, n_pending_pages FROM "
                "gin_metapage_info(get_raw_page('l2image_cells_idx', 0))").fetchone()
            out.append(f"GIN {gin[2]:,} keys on {gin[0]:,} entry pages + {gin[1]:,} posting "
                       f"pages, {gin[3]} pending pages")
            return "index shape (pageinspect): " + "; ".join(out)
    except Exception as err:  # no contrib on this server: pages per search still tell the story
        return f"index shape: pageinspect unavailable ({str(err).splitlines()[0]})"


def brute_check(client, store, target: int, points: list[tuple[float, float]]) -> str:
    """Compare tagged containment answers with brute force over the tag's stored footprints."""
    import spherical_brute as brute

    from snapscope.db._query import find_rows
    from snapscope.db._synthetic import SPECIAL_POINTS

    fp = np.asarray(store[:target])
    col = {k: fp[:, j] for j, k in enumerate(FOOTPRINT)}
    centres = brute.unit(col["ra"], col["dec"])
    ra_c = np.stack([col[f"ra_corner_{c}"] for c in ("00", "01", "11", "10")], 1)
    dec_c = np.stack([col[f"dec_corner_{c}"] for c in ("00", "01", "11", "10")], 1)
    near = np.cos(np.radians(0.2))  # SCA half-diagonals are < 0.1 degree
    agree, total = 0, 0
    for ra, dec in points:
        cand = np.nonzero(centres @ brute.unit(ra, dec) > near)[0]
        want = {f"/{TAG}/{i:09d}.fits" for i in cand
                if brute.contains(ra_c[i], dec_c[i], [ra], [dec])[0]}
        got = {r["filepath"] for r in find_rows(dbclient=client, ra=ra, dec=dec, **tag_filter(True))}
        agree += got == want
        total += len(want)
        if got != want:
            print(f"    MISMATCH at ({ra}, {dec}): extra {sorted(got - want)[:3]}, "
                  f"missing {sorted(want - got)[:3]}")
    return (f"  brute force (numpy, tests/db/spherical_brute.py) on {len(points)} points, "
            f"{len(SPECIAL_POINTS)} of them on RA 0/360 or the poles: identical answers {agree}/{len(points)}"
            f" ({total} rows)")


def seq_compare(client, s: Searches, ra, dec, radii=None, n: int = 6) -> None:
    """The same exact test without the index (snappl's q3c polygon test scans the table too)."""
    from snapscope.db._spatial import radec_to_xyz

    corners = ("ra_corner_00, dec_corner_00, ra_corner_01, dec_corner_01, "
               "ra_corner_11, dec_corner_11, ra_corner_10, dec_corner_10")
    idx = np.r_[np.nonzero(s.deep)[0][: n // 2], np.nonzero(~s.deep)[0][: n - n // 2]]
    seq, agree = [], 0
    for i in idx:
        xyz = [float(c) for c in radec_to_xyz(ra[i], dec[i])]
        if radii is None:
            sql = f"SELECT id FROM l2image WHERE snapscope_in_quad(%s, %s, %s, {corners})"
            params = xyz
        else:
            r = np.radians(radii[i])
            sql = f"SELECT id FROM l2image WHERE snapscope_cone_quad(%s, %s, %s, %s, %s, {corners})"
            params = [*xyz, float(np.cos(r)), float(np.sin(r) ** 2)]
        t0 = time.perf_counter()
        got = client.fetch(sql, params)
        seq.append(time.perf_counter() - t0)
        agree += len(got) == s.hits[i]
    if len(seq):
        print(line(f"    sequential scan, same exact test ({len(seq)})", seq))
        print(f"    same answers: {agree}/{len(seq)}; median ratio seq/index "
              f"{np.median(seq) / np.median(s.times[idx]):,.0f}x")

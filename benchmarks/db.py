"""Image catalogue speed at survey scale: bulk save, containment and cone searches, ingest.

Run: ``python benchmarks/db.py [--rows 1000000] [--target-rows 1000000] [--tags 10]
[--segment 1000000] [--queries 1000] [--seq-queries 6] [--files 500] [--dsn DSN]
[--data DIR] [--keep] [--set name=value ...]``. Prints figures and targets, asserts nothing.
Targets (``ARCHITECTURE.md``, issue 12): bulk save >= 30k rows/s sustained into a table that
already holds millions of rows; containment with a provenance tag median <= 5 ms, p99 <= 30 ms
at 10 M rows, answers identical to brute force; cone median <= 10 ms; query time set by the
answer's size, not the table's; header ingest >= 200 files/s.

* Server: a fresh embedded PostgreSQL (``snapscope db start``'s settings, default durability)
  in a temporary directory (``--data`` keeps it for ``db_load.py``), or a new database
  ``snapscope_bench`` on ``--dsn``; ``--set`` changes server settings (ALTER SYSTEM).
* The survey (``snapscope.db._synthetic.survey_columns``, the code the scale test runs at 50k
  rows): Roman-SCA footprints, half over the whole sky (5 % on RA 0/360, 5 % near the poles),
  half in 10 deep fields. The searched tag holds ``--target-rows`` (the 1 M benchmark's
  rows); the other ``--tags - 1`` tags share the rest on the same sky (``--rows 10000000``:
  90 % of the rows belong to other tags, ~2600 footprints over a deep-field point, ~260 of the
  searched tag). Footprints are made before the clock starts (a user's columns are ready).
* Bulk save through ``snapscope.db.save_columns`` (the public columnar path: 50k-row COPY
  transactions, two writers, progress bar), one call per ``--segment`` rows, so the rate is
  shown as the table grows; CPU per row of this process and of the server's processes.
  20k rows more through ``Image.bulk_save_to_db`` (Image objects).
* Searches, with the tag and the table holding only that tag's rows (after its segment), then
  the same searches with the whole table: 1000 points (half in deep fields), 1000 cones of
  0.01–0.5°; then without the tag (answers 10× larger); time per answer size; pages touched
  (EXPLAIN BUFFERS); answers compared with brute force (numpy) on random points plus points on
  RA 0/360 and at the poles; the exact test without the index (snappl's way) on a few points.
* Query-ready after a save, server memory (PSS) and settings, header ingest of 500 files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _dbbench as bench
import _dbqueries as queries
import numpy as np

DATA = Path(__file__).parent / "_data" / "db_ingest"


class Load:
    """Totals of the bulk save over its segments."""

    def __init__(self) -> None:
        self.rows, self.wall, self.cpu, self.server = 0, 0.0, 0.0, 0.0

    def segment(self, client, chunks, provs, store) -> None:
        """Save one segment with ``snapscope.db.save_columns``; print its rate and CPU per row."""
        from snapscope.db import save_columns

        if not self.rows:
            print(f"\nbulk save through snapscope.db.save_columns ({bench.CHUNK // 1000}k-row COPY "
                  "transactions, 2 writers, indexes live), one call per segment:")
            print(f"  {'rows before':>12} {'rows':>10} {'wall s':>8} {'rows/s':>9} "
                  f"{'client us/row':>14} {'server us/row':>14} {'load avg':>9}")
        n = sum(c.n for c in chunks)
        cpu0, server0, t0 = time.process_time(), bench.server_cpu(client), time.perf_counter()
        written = save_columns(bench.survey_chunks(chunks, provs, store), dbclient=client, total=n)
        wall = time.perf_counter() - t0
        cpu, server1 = time.process_time() - cpu0, bench.server_cpu(client)
        server = server1 - server0 if server0 is not None and server1 is not None else float("nan")
        print(f"  {self.rows:>12,} {written:>10,} {wall:>8.1f} {written / wall:>9,.0f} "
              f"{cpu / written * 1e6:>14.1f} {server / written * 1e6:>14.1f} "
              f"{os.getloadavg()[0]:>9.1f}")
        self.rows += written
        self.wall += wall
        self.cpu += cpu
        self.server += server

    def run(self, client, plan, provs, store, segment: int) -> None:
        """Save ``plan`` in segments of at most ``segment`` rows (one tag's rows never mixed
        with the searched tag's)."""
        current: list = []
        for c in plan:
            if current and sum(x.n for x in current) + c.n > segment:
                self.segment(client, current, provs, store)
                current = []
            current.append(c)
        if current:
            self.segment(client, current, provs, store)

    def summary(self) -> None:
        per_row = (self.cpu + self.server) / self.rows
        print(f"  whole load: {self.rows:,} rows in {self.wall:.0f} s = {self.rows / self.wall:,.0f} "
              f"rows/s   target >= 30,000 rows/s sustained: ratio {self.rows / self.wall / 30000:.2f}")
        print(f"  CPU per row: client {self.cpu / self.rows * 1e6:.1f} us, server "
              f"{self.server / self.rows * 1e6:.1f} us; all {os.cpu_count()} cores busy with this "
              f"alone would give {(os.cpu_count() or 1) / per_row:,.0f} rows/s (wall-clock rates "
              "on a shared machine follow its load)")


def bench_bulk_images(client, n=20_000):
    from snapscope.db._synthetic import survey_images
    from snapscope.image import Image
    from snapscope.provenance import Provenance

    prov = Provenance("images", 1, 0)
    prov.save_to_db(tag="images", dbclient=client)
    t0 = time.perf_counter()
    images = survey_images(n, prov.id, seed=10**7, prefix="/bench/img")
    t1 = time.perf_counter()
    Image.bulk_save_to_db(images, dbclient=client)
    t2 = time.perf_counter()
    print(f"Image.bulk_save_to_db: {n} FITSImage objects in {t2 - t1:.2f} s = {n / (t2 - t1):,.0f} "
          f"rows/s (making the objects: {t1 - t0:.2f} s more, {(t1 - t0) / n * 1e6:.0f} us each)")


def sizes(client) -> None:
    rows = client.fetch(
        "SELECT (SELECT count(*) FROM l2image) AS n, pg_total_relation_size('l2image') AS total,"
        " pg_relation_size('l2image') AS heap, pg_table_size('l2image') - pg_relation_size('l2image')"
        " AS toast, (SELECT json_object_agg(indexrelid::regclass::text, pg_relation_size(indexrelid))"
        " FROM pg_index WHERE indrelid = 'l2image'::regclass) AS idx")[0]
    n = rows["n"]
    parts = ", ".join(f"{k} {v / n:.0f}" for k, v in sorted(rows["idx"].items()))
    print(f"table + indexes: {rows['total'] / 2**30:.2f} GiB for {n:,} rows = "
          f"{rows['total'] / n:.0f} bytes/row (heap {rows['heap'] / n:.0f}, toast "
          f"{rows['toast'] / n:.0f}, {parts})")


def search_suites(client, ra, dec, deep, radii, label: str, tagged: bool = True):
    point = queries.run(client, f"{label}", ra, dec, deep, tagged=tagged)
    cone = queries.run(client, f"{label}, cones", ra, dec, deep, radii=radii, tagged=tagged)
    return point, cone


def ingest_files(n):
    from astropy.io import fits
    from astropy.time import Time

    DATA.mkdir(parents=True, exist_ok=True)
    files = sorted(DATA.glob("Roman_TDS_simple_model_*.fits.gz"))
    if len(files) >= n:
        return files[:n]
    from snapscope.sim import make_exposure

    templates = [
        make_exposure(
            DATA / "templates",
            band=b,
            size=256,
            sca=1 + k,
            host=False,
            sn=False,
            cr_rate=0,
            gzip=True,
            seed=k,
            ra=7.55,
            dec=-44.8,
        )["path"]
        for k, b in enumerate(("Y106", "J129", "H158", "F184"))
    ]
    rng = np.random.default_rng(1)
    for i in range(n):
        tpl = templates[i % len(templates)]
        with fits.open(tpl) as hdul:
            band = hdul[1].header["FILTER"].strip()
            ra, dec = rng.uniform(0, 360), np.degrees(np.arcsin(rng.uniform(-0.99, 0.99)))
            for h in hdul[1:]:
                h.header["CRVAL1"], h.header["CRVAL2"] = ra, dec
                h.header["RA_TARG"], h.header["DEC_TARG"] = ra, dec
                h.header["MJD-OBS"] = 62000.0 + i
                h.header["DATE-OBS"] = Time(62000.0 + i, format="mjd").isot
            hdul.writeto(
                DATA / f"Roman_TDS_simple_model_{band}_{10000 + i}_{1 + i % 18}.fits.gz",
                overwrite=True,
            )
    return sorted(DATA.glob("Roman_TDS_simple_model_*.fits.gz"))[:n]


def bench_ingest(client, n):
    from snapscope.db._ingest import _read_row, ingest

    files = ingest_files(n)
    t0 = time.perf_counter()
    report = ingest(files, "bench", "ingest", dbclient=client, progress=False)
    wall = time.perf_counter() - t0
    print(
        f"\nheader ingest of {len(files)} OU2024 .fits.gz files (threads, Image API rows): "
        f"{len(report.added)} added in {wall:.2f} s = {len(files) / wall:,.0f} files/s   "
        f"target >= 200 files/s: ratio {len(files) / wall / 200:.2f}"
    )
    t0 = time.perf_counter()
    report2 = ingest(files, "bench", "ingest", dbclient=client, progress=False)
    wall2 = time.perf_counter() - t0
    print(
        f"  re-run (all already catalogued): {len(report2.added)} added, {len(report2.skipped)} skipped "
        f"in {wall2:.2f} s"
    )
    sample = files[: min(100, len(files))]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        t0 = time.perf_counter()
        list(pool.map(_read_row, sample, ["auto"] * len(sample)))
        dt = time.perf_counter() - t0
    print(f"  header rows only (image.db_row(), threads): {len(sample) / dt:6.0f} files/s")


def bench_query_ready(client, n_rows=20_000, n_queries=300):
    """Containment queries on a provenance saved a moment ago: its first queries, then the same
    after an explicit ANALYZE. The anchor, in the same run: the same save with the immediate
    ANALYZE switched off (statistics left to autovacuum, as before)."""
    from snapscope.db import _bulk, save_columns
    from snapscope.db._query import find_rows
    from snapscope.db._synthetic import survey_columns, survey_points
    from snapscope.provenance import Provenance

    ra, dec, _ = survey_points(n_queries, seed=7)
    print(f"\nquery-ready after a save: {n_rows:,} rows under a new provenance, then "
          f"{n_queries} containment queries on it, and searches of its rows by band and date")
    default_min = _bulk.ANALYZE_MIN_ROWS
    for label, analyze_min in (("save leaves statistics to autovacuum (before)", 10**12),
                               ("save runs ANALYZE (snapscope)", default_min)):
        prov = Provenance(f"fresh-{analyze_min}", 1, 0)
        prov.save_to_db(tag=f"fresh{analyze_min}", dbclient=client)
        cols = survey_columns(n_rows, prov.id, seed=4242 + analyze_min % 97,
                              prefix=f"/fresh/{analyze_min}")
        _bulk.ANALYZE_MIN_ROWS = analyze_min
        try:
            save_columns(cols, dbclient=client, progress=False)
        finally:
            _bulk.ANALYZE_MIN_ROWS = default_min
        for when in ("right after the save", "after ANALYZE"):
            if when == "after ANALYZE":
                with client.connection() as conn:
                    conn.execute("ANALYZE l2image")
            times, by_band = [], []
            for i in range(n_queries):
                t0 = time.perf_counter()
                find_rows(dbclient=client, ra=float(ra[i]), dec=float(dec[i]), provenance=prov.id)
                times.append(time.perf_counter() - t0)
            for day in range(30):  # one band, one day: ~30 rows found among the provenance's
                t0 = time.perf_counter()
                find_rows(dbclient=client, provenance=prov.id, band="Y106", mjd_min=62000 + day,
                          mjd_max=62001 + day)
                by_band.append(time.perf_counter() - t0)
            print(bench.line(f"  {label}: {when}", times))
            print(bench.line("    its rows of one band and day (30 searches)", by_band))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows in the table")
    ap.add_argument("--target-rows", type=int, default=1_000_000,
                    help="rows of the searched tag (the rest: other tags)")
    ap.add_argument("--tags", type=int, default=10, help="provenance tags (1 searched)")
    ap.add_argument("--segment", type=int, default=1_000_000, help="rows per save_columns call")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seq-queries", type=int, default=6)
    ap.add_argument("--brute-points", type=int, default=200)
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--dsn", default=None, help="an existing server (a new database is made)")
    ap.add_argument("--data", default=None,
                    help="directory of the embedded server (default: a temporary one)")
    ap.add_argument("--keep", action="store_true",
                    help="leave the embedded server running with its data (stop it yourself)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a server setting (ALTER SYSTEM), e.g. shared_buffers=1GB")
    args = ap.parse_args()
    from snapscope.db import migrate
    from snapscope.db._client import DBClient
    from snapscope.db._synthetic import SPECIAL_POINTS, survey_points

    t_start = time.perf_counter()
    dsn, tmp = bench.start_server(args.dsn, args.data, args.set)
    scratch = Path(tempfile.mkdtemp(prefix="snapscope-survey-"))
    try:
        with DBClient(dsn) as client, bench.ServerMemory(client) as memory:
            migrate(client)
            print(f"PostgreSQL {client.server_version()}; {os.cpu_count()} CPUs; "
                  f"load average {os.getloadavg()[0]:.1f}")
            print(f"server settings: {bench.settings(client)}")
            provs = bench.survey_provenances(client, args.tags)
            plan = bench.survey_plan(args.rows, args.target_rows, args.tags)
            target = sum(c.n for c in plan if c.tag == 0)
            t0 = time.perf_counter()
            store = bench.store_footprints(plan, scratch / "footprints.npy")
            print(f"survey: {args.rows:,} footprints made in {time.perf_counter() - t0:.0f} s "
                  f"(not timed below): {target:,} under tag {bench.TAG!r}, the rest under "
                  f"{args.tags - 1} other tags")
            ra, dec, deep = survey_points(args.queries, seed=99)
            radii = np.exp(np.random.default_rng(7).uniform(np.log(0.01), np.log(0.5), args.queries))
            load = Load()
            load.run(client, [c for c in plan if c.tag == 0], provs, store, args.segment)
            print(f"\nsearches with the tag while the table holds only its {target:,} rows:")
            small = search_suites(client, ra, dec, deep, radii, f"{target / 1e6:g}M table, tag")
            queries.report(small[0], 5, 30)
            queries.report(small[1], 10)
            queries.pages_report(client, f"{target / 1e6:g}M table, tag", ra, dec, deep)
            load.run(client, [c for c in plan if c.tag != 0], provs, store, args.segment)
            load.summary()
            bench_bulk_images(client)
            t0 = time.perf_counter()
            with client.connection() as conn:
                conn.execute("VACUUM ANALYZE l2image")
            print(f"VACUUM ANALYZE: {time.perf_counter() - t0:.0f} s")
            sizes(client)
            print(queries.index_levels(client))
            print(queries.lookup_pages(client))
            n_all = client.fetch("SELECT count(*) AS n FROM l2image")[0]["n"]
            label = f"{n_all / 1e6:.1f}M table"
            print(f"\nthe same searches with the tag, table of {n_all:,} rows "
                  f"({1 - target / n_all:.0%} under other tags):")
            big = search_suites(client, ra, dec, deep, radii, f"{label}, tag")
            queries.report(big[0], 5, 30)
            queries.report(big[1], 10)
            queries.pages_report(client, f"{label}, tag", ra, dec, deep)
            print("\nwithout the tag (every provenance; answers ~10x larger):")
            untagged = queries.run(client, f"{label}, all tags", ra, dec, deep, tagged=False)
            queries.report(untagged)
            queries.seq_compare(client, untagged, ra, dec, n=args.seq_queries)
            print("\ncontainment time per answer size (median, number of searches):")
            queries.answer_table([small[0], big[0], untagged])
            print("cone time per answer size:")
            queries.answer_table([small[1], big[1]])
            pra, pdec, _ = survey_points(args.brute_points, seed=5)
            points = [*zip(pra.tolist(), pdec.tolist(), strict=True), *SPECIAL_POINTS]
            print(queries.brute_check(client, store, target, points))
            bench_query_ready(client)
            bench_ingest(client, args.files)
        print(memory.report())
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        bench.stop_server(tmp, args.keep)
    print(f"benchmark wall time {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Image catalogue speed: bulk save, containment and cone searches, header ingest.

Run: ``python benchmarks/db.py [--rows 1000000] [--queries 1000] [--seq-queries 6]
[--files 500] [--dsn DSN] [--keep]`` (each sequential scan
takes seconds). Prints figures and ratios, asserts nothing. Targets
(``ARCHITECTURE.md``): bulk rows >= 20k/s; containment ``find_images(ra=, dec=)`` over 1 million
images median <= 5 ms, p99 <= 20 ms, exact; header ingest >= 200 files/s.

* A fresh embedded PostgreSQL in a temporary directory (default durability settings), or a new
  database ``snapscope_bench`` on ``--dsn``; removed at the end.
* 1 million synthetic footprints of Roman-SCA size (0.11-0.14 deg, random rotation): half spread
  over the whole sky (5 % on RA 0/360, 5 % near the poles), half in 10 deep fields of 1 deg
  radius (~250 images over each point, like the SN survey's stacks). Saved in 50k-row COPY
  transactions through the columnar path (``snapscope.db._bulk``); 20k more through
  ``Image.bulk_save_to_db`` (Image objects). Also printed: CPU per row of this process and of
  the local server's processes, and the rate they would allow with every core free (wall-clock
  rates on a shared machine follow its load).
* Queries: 1000 random points (half in deep fields), 1000 cones (radius 0.01-0.5 deg): the
  index-backed search, then the *same* exact test as a sequential scan over the table (what
  snappl's ``q3c_poly_query`` does: no index) for the first ``--seq-queries`` of them.
* Ingest: 500 OU2024-layout ``.fits.gz`` files of 256² made from ``snapscope.sim.make_exposure``
  templates (headers varied, cached in ``benchmarks/_data/``), through ``ingest()`` (threads,
  rows from ``image.db_row()``), and the header rows alone.
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

import numpy as np

DATA = Path(__file__).parent / "_data" / "db_ingest"


def pct(values, q):
    return float(np.percentile(np.asarray(values) * 1e3, q))


def line(label, values):
    ms = np.asarray(values) * 1e3
    return (
        f"{label:<44} median {np.median(ms):8.2f} ms   p95 {np.percentile(ms, 95):8.2f} ms"
        f"   p99 {np.percentile(ms, 99):8.2f} ms"
    )


def footprints(n, seed):
    from snapscope.db._synthetic import random_footprints, xyz_to_radec

    fp = random_footprints(n, size=(0.11, 0.14), seed=seed, ra0_fraction=0.05, pole_fraction=0.05)
    rng = np.random.default_rng(seed + 1)
    deep = rng.random(n) < 0.5
    fields = deep_fields()
    k = rng.integers(0, len(fields), deep.sum())
    # move the deep ones: rotate each footprint rigidly onto a random point within 1 deg of a field
    from snapscope.db._spatial import radec_to_xyz

    r = np.sqrt(rng.random(deep.sum())) * 1.0
    a = rng.uniform(0, 2 * np.pi, deep.sum())
    dra = r * np.cos(a) / np.cos(np.radians(fields[k, 1]))
    new_ra, new_dec = (fields[k, 0] + dra) % 360, np.clip(fields[k, 1] + r * np.sin(a), -89, 89)
    idx = np.nonzero(deep)[0]
    old = radec_to_xyz(fp["ra"][idx], fp["dec"][idx])
    new = radec_to_xyz(new_ra, new_dec)
    for name in ("00", "01", "11", "10"):
        v = radec_to_xyz(fp[f"ra_corner_{name}"][idx], fp[f"dec_corner_{name}"][idx])
        moved = _rotate(v, old, new)
        fp[f"ra_corner_{name}"][idx], fp[f"dec_corner_{name}"][idx] = xyz_to_radec(moved)
    fp["ra"][idx], fp["dec"][idx] = new_ra, new_dec
    return fp


def _rotate(v, a, b):
    """Rotate vectors v (N, 3) by the rotations taking unit vectors a to b (Rodrigues)."""
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=1)[:, None]
    c = np.einsum("ni,ni->n", a, b)[:, None]
    k = axis / np.maximum(s, 1e-300)
    return v * c + np.cross(k, v) * s + k * np.einsum("ni,ni->n", k, v)[:, None] * (1 - c)


def deep_fields():
    return np.array(
        [
            [7.55, -44.8],
            [53.1, -27.8],
            [150.1, 2.2],
            [0.2, 0.1],
            [359.9, -60.0],
            [270.0, 66.5],
            [10.0, 88.9],
            [189.2, 62.2],
            [214.9, 52.7],
            [35.7, -4.7],
        ]
    )


def query_points(n, seed):
    rng = np.random.default_rng(seed)
    half = n // 2
    fields = deep_fields()[rng.integers(0, 10, half)]
    r, a = np.sqrt(rng.random(half)) * 0.9, rng.uniform(0, 2 * np.pi, half)
    ra_d = (fields[:, 0] + r * np.cos(a) / np.cos(np.radians(fields[:, 1]))) % 360
    dec_d = fields[:, 1] + r * np.sin(a)
    ra_w = rng.uniform(0, 360, n - half)
    dec_w = np.degrees(np.arcsin(rng.uniform(-1, 1, n - half)))
    return np.concatenate([ra_d, ra_w]), np.concatenate([dec_d, dec_w]), np.arange(n) < half


def start_server(dsn):
    if dsn:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS snapscope_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE snapscope_bench")
        params = conninfo_to_dict(dsn)
        params["dbname"] = "snapscope_bench"
        return make_conninfo(**params), None
    tmp = Path(tempfile.mkdtemp(prefix="snapscope-bench-"))
    os.chmod(tmp, 0o755)
    os.environ["SNAPSCOPE_DATA"] = str(tmp)
    os.environ.pop("SNAPSCOPE_PG_FAST", None)
    from snapscope.db import _server

    return _server.start(migrate=False), tmp


def server_cpu(client):
    """CPU seconds used so far by the (local) server's processes, or None when unreadable."""
    try:
        datadir = client.fetch("SELECT current_setting('data_directory') AS d")[0]["d"]
        postmaster = int(Path(datadir, "postmaster.pid").read_text().split()[0])
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster or stat.parent.name == str(postmaster):
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total
    except Exception:  # a remote server, or no permission: CPU not reported
        return None


def bench_bulk(client, prov, rows, chunk=50_000):
    from snapscope.db import _bulk

    chunks = []
    for start in range(0, rows, chunk):  # synthetic data made first: not part of the timing
        n = min(chunk, rows - start)
        cols = footprints(n, seed=start)
        cols["provenance_id"] = [prov.id] * n
        cols["filepath"] = [f"/bench/{start + i:07d}.fits" for i in range(n)]
        cols["format"] = [2] * n
        cols["band"] = ["Y106", "J129", "H158"] * (n // 3) + ["Y106"] * (n % 3)
        cols["mjd"] = 62000 + np.arange(n) * 0.01
        cols["sca"] = (np.arange(n) % 18 + 1).tolist()
        cols["observation_id"] = [str(start // 18 + i // 18) for i in range(n)]
        chunks.append(cols)
    cpu0, server0 = time.process_time(), server_cpu(client)
    t0 = time.perf_counter()
    total = _bulk.save_columns(client, chunks)
    wall = time.perf_counter() - t0
    cpu, server1 = time.process_time() - cpu0, server_cpu(client)
    print(
        f"bulk save (COPY, {chunk // 1000}k-row transactions, next chunk prepared while the previous "
        f"is sent): {total} rows in {wall:.1f} s = {total / wall:,.0f} rows/s   "
        f"target >= 20,000 rows/s: ratio {total / wall / 20000:.2f}"
    )
    if server0 is not None and server1 is not None:
        per_row, server = (cpu + server1 - server0) / total, (server1 - server0) / total
        print(
            f"  CPU per row: client {cpu / total * 1e6:.1f} us, server {server * 1e6:.1f} us"
            f" (load average {os.getloadavg()[0]:.1f}); all {os.cpu_count()} cores busy with this alone"
            f" would give {(os.cpu_count() or 1) / per_row:,.0f} rows/s"
        )


def bench_bulk_images(client, prov, n=20_000):
    from snapscope.image import FITSImage, Image

    fp = footprints(n, seed=10**7)
    t0 = time.perf_counter()
    images = []
    for i in range(n):
        im = FITSImage(
            full_filepath=f"/bench/img/{i:06d}.fits",
            width=4088,
            height=4088,
            band="Y106",
            mjd=62000.0 + i,
            exptime=100.0,
            position_angle=0.0,
            sca=1,
            observation_id=str(i),
            **{k: float(v[i]) for k, v in fp.items()},
        )
        im.provenance_id = prov.id
        images.append(im)
    t1 = time.perf_counter()
    Image.bulk_save_to_db(images, dbclient=client)
    t2 = time.perf_counter()
    print(
        f"Image.bulk_save_to_db: {n} FITSImage objects in {t2 - t1:.2f} s = {n / (t2 - t1):,.0f} rows/s "
        f"(making the objects: {t1 - t0:.2f} s more)"
    )


def seq_sql(kind):
    corners = (
        "ra_corner_00, dec_corner_00, ra_corner_01, dec_corner_01, "
        "ra_corner_11, dec_corner_11, ra_corner_10, dec_corner_10"
    )
    if kind == "point":
        return f"SELECT id FROM l2image WHERE snapscope_in_quad(%s, %s, %s, {corners})"
    return f"SELECT id FROM l2image WHERE snapscope_cone_quad(%s, %s, %s, %s, %s, {corners})"


def bench_queries(client, n, n_seq):
    from snapscope.db._images import find_images
    from snapscope.db._query import find_rows
    from snapscope.db._spatial import radec_to_xyz

    ra, dec, deep = query_points(n, seed=99)
    for _ in range(20):  # warm the cache and the pool
        find_rows(dbclient=client, ra=float(ra[0]), dec=float(dec[0]))
    times, hits = [], []
    for i in range(n):
        t0 = time.perf_counter()
        rows = find_rows(dbclient=client, ra=float(ra[i]), dec=float(dec[i]))
        times.append(time.perf_counter() - t0)
        hits.append(len(rows))
    times, hits = np.array(times), np.array(hits)
    print(
        f"\ncontainment, {n} random points: {np.mean(hits[deep]):.0f} images/point in deep fields, "
        f"{np.mean(hits[~deep]):.2f} elsewhere"
    )
    print(line("  index: find_rows (all points)", times))
    print(line("  index: find_rows (deep-field points)", times[deep]))
    print(line("  index: find_rows (wide-sky points)", times[~deep]))
    t_img = []
    for i in range(min(n, 200)):
        t0 = time.perf_counter()
        find_images(dbclient=client, ra=float(ra[i]), dec=float(dec[i]))
        t_img.append(time.perf_counter() - t0)
    print(line(f"  index: find_images -> Image objects ({len(t_img)})", t_img))
    seq, agree = [], 0
    idx = np.r_[np.nonzero(deep)[0][: n_seq // 2], np.nonzero(~deep)[0][: n_seq - n_seq // 2]]
    for i in idx:
        xyz = [float(c) for c in radec_to_xyz(ra[i], dec[i])]
        t0 = time.perf_counter()
        got = client.fetch(seq_sql("point"), xyz)
        seq.append(time.perf_counter() - t0)
        agree += len(got) == hits[i]
    print(line(f"  sequential scan, same exact test ({len(seq)})", seq))
    print(
        f"  same answers: {agree}/{len(seq)};  median ratio seq/index "
        f"{np.median(seq) / np.median(times[idx]):,.0f}x;"
        f"  target median <= 5 ms: {np.median(times) * 1e3:.2f} ms, p99 <= 20 ms: {pct(times, 99):.2f} ms"
    )

    rng = np.random.default_rng(7)
    radii = np.exp(rng.uniform(np.log(0.01), np.log(0.5), n))
    times, hits = [], []
    for i in range(n):
        t0 = time.perf_counter()
        rows = find_rows(
            dbclient=client, ra=float(ra[i]), dec=float(dec[i]), radius=float(radii[i])
        )
        times.append(time.perf_counter() - t0)
        hits.append(len(rows))
    times, hits = np.array(times), np.array(hits)
    print(
        f"\ncone search, {n} cones of 0.01-0.5 deg: {np.mean(hits[deep]):.0f} images/cone in deep fields, "
        f"{np.mean(hits[~deep]):.1f} elsewhere"
    )
    print(line("  index: find_rows (all cones)", times))
    print(line("  index: find_rows (deep-field cones)", times[deep]))
    print(line("  index: find_rows (wide-sky cones)", times[~deep]))
    seq, agree = [], 0
    for i in idx:
        xyz = [float(c) for c in radec_to_xyz(ra[i], dec[i])]
        r = np.radians(radii[i])
        t0 = time.perf_counter()
        got = client.fetch(seq_sql("cone"), [*xyz, float(np.cos(r)), float(np.sin(r) ** 2)])
        seq.append(time.perf_counter() - t0)
        agree += len(got) == hits[i]
    print(line(f"  sequential scan, same exact test ({len(seq)})", seq))
    print(
        f"  same answers: {agree}/{len(seq)};  median ratio seq/index "
        f"{np.median(seq) / np.median(times[idx]):,.0f}x"
    )


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
    from snapscope.db import _bulk
    from snapscope.db._query import find_rows
    from snapscope.provenance import Provenance

    ra, dec, _ = query_points(n_queries, seed=7)
    print(f"\nquery-ready after a save: {n_rows:,} rows under a new provenance, then "
          f"{n_queries} containment queries on it")
    default_min = _bulk.ANALYZE_MIN_ROWS
    for label, analyze_min in (("save leaves statistics to autovacuum (before)", 10**12),
                               ("save runs ANALYZE (snapscope)", default_min)):
        prov = Provenance(f"fresh-{analyze_min}", 1, 0)
        prov.save_to_db(tag=f"fresh{analyze_min}", dbclient=client)
        cols = footprints(n_rows, seed=4242 + analyze_min % 97)
        cols["provenance_id"] = [prov.id] * n_rows
        cols["filepath"] = [f"/fresh/{analyze_min}/{i:06d}.fits" for i in range(n_rows)]
        cols["format"] = [2] * n_rows
        _bulk.ANALYZE_MIN_ROWS = analyze_min
        try:
            _bulk.save_columns(client, [cols])
        finally:
            _bulk.ANALYZE_MIN_ROWS = default_min
        for when in ("right after the save", "after ANALYZE"):
            if when == "after ANALYZE":
                with client.connection() as conn:
                    conn.execute("ANALYZE l2image")
            times = []
            for i in range(n_queries):
                t0 = time.perf_counter()
                find_rows(dbclient=client, ra=float(ra[i]), dec=float(dec[i]), provenance=prov.id)
                times.append(time.perf_counter() - t0)
            print(line(f"  {label}: {when}", times))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seq-queries", type=int, default=6)
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--dsn", default=None, help="an existing server (a new database is made)")
    ap.add_argument("--keep", action="store_true",
                    help="leave the embedded server running with its data (stop it yourself)")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
    from snapscope.db import migrate
    from snapscope.db._client import DBClient
    from snapscope.provenance import Provenance

    dsn, tmp = start_server(args.dsn)
    try:
        with DBClient(dsn) as client:
            migrate(client)
            print(f"PostgreSQL {client.server_version()}; {os.cpu_count()} CPUs")
            prov = Provenance("bench", 1, 0)
            prov.save_to_db(tag="bench", dbclient=client)
            bench_bulk(client, prov, args.rows)
            bench_bulk_images(client, prov)
            with client.connection() as conn:
                conn.execute("VACUUM ANALYZE l2image")
                size = conn.execute(
                    "SELECT pg_size_pretty(pg_total_relation_size('l2image')),"
                    " pg_size_pretty(pg_relation_size('l2image_cells_idx'))"
                ).fetchone()
            print(f"table + indexes: {size[0]} (spatial GIN index {size[1]})")
            bench_queries(client, args.queries, args.seq_queries)
            bench_query_ready(client)
            bench_ingest(client, args.files)
    finally:
        if tmp is not None and args.keep:
            print(f"kept: SNAPSCOPE_DATA={tmp} snapscope db stop  # then remove {tmp}")
        elif tmp is not None:
            from snapscope.db import _server

            _server.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

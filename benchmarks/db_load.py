"""A shared catalogue under load: concurrent clients with a hub's mix of calls.

Run: ``python benchmarks/db_load.py [--clients 16] [--seconds 60] [--rows 1000000]
[--data DIR | --dsn DSN] [--keep] [--think-ms 0]``. Prints throughput and latency per kind of
call and the row counts after the run; asserts nothing. Targets (issue 12): containment p99
<= 50 ms under this load; no errors; no duplicate or lost rows.

* The catalogue: the embedded server kept by ``benchmarks/db.py --data DIR --keep`` (reused
  when it holds ``--rows`` rows), a database on ``--dsn``, or a fresh embedded server loaded
  with the same survey (``--rows``, 90 % of them under other tags) by the same loader.
* ``--clients`` separate processes, each with its own ``snapscope.db.DBClient`` (its
  ``psycopg_pool`` of 2 connections, as every kernel of a hub has one), start together and run
  for ``--seconds``; each call is drawn at random: 40 % containment with the searched tag
  (points half in deep fields), 20 % cone with the tag (0.01–0.5°), 20 % ``get_image`` of a
  known id, 15 % tag look-ups (``list_provenance_tags`` / ``Provenance.get_provs_for_tag``), 5 %
  bulk saves of 1000 new rows (``snapscope.db.save_columns``: one transaction; making the
  columns is not in the save's latency). Searches return rows (``find_rows``, what
  ``Image.find_images`` runs). The clients share the server's two cores, so their own work is
  kept to what reaches the server (Image objects cost 100 us each on the client).
* After the run: rows counted (all, per saved batch, distinct ids and filepaths) against the
  saves the clients saw succeed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import threading
import time
import traceback
from pathlib import Path

import _dbbench as bench
import numpy as np

KINDS = ("containment", "cone", "get_image", "tag look-up", "bulk save 1000")
WEIGHTS = (0.40, 0.20, 0.20, 0.15, 0.05)
SAVE_ROWS = 1000
LOAD_TAG = "load"


def _prefix(run: str, client_no: int, k: int) -> str:
    """Directory of the rows of one bulk save: unique per run, client and save."""
    return f"/{LOAD_TAG}/{run}/c{client_no:02d}/{k:05d}/"


class Mix:
    """One client's calls: what a hub user's kernel sends, through snapscope's public paths."""

    def __init__(self, no: int, dsn: str, run: str) -> None:
        from snapscope.db._client import DBClient
        from snapscope.db._synthetic import survey_points
        from snapscope.provenance import Provenance

        self.no, self.run, self.saves = no, run, 0
        self.rng = np.random.default_rng(no)
        self.db = DBClient(dsn, max_size=2, timeout=30)
        self.ids = [r["id"] for r in self.db.fetch(
            "SELECT id FROM l2image TABLESAMPLE SYSTEM (0.1) LIMIT 2000")]
        self.load = Provenance.get_provs_for_tag(LOAD_TAG, bench.PROCESS, dbclient=self.db)
        self.ra, self.dec, _ = survey_points(20_000, seed=1000 + no)
        self.radii = np.exp(self.rng.uniform(np.log(0.01), np.log(0.5), len(self.ra)))

    def prepare(self, kind: str):
        """What the call needs that a user would have before it (not timed)."""
        if kind != KINDS[4]:
            return int(self.rng.integers(len(self.ra)))
        from snapscope.db._synthetic import survey_columns

        prefix = _prefix(self.run, self.no, self.saves)
        self.saves += 1
        return prefix, survey_columns(SAVE_ROWS, self.load.id, seed=10**8 + self.no * 10**5
                                      + self.saves, prefix=prefix.rstrip("/"))

    def call(self, kind: str, arg) -> str | None:
        """Make the call; return the saved batch's prefix for a bulk save."""
        from snapscope.db import list_provenance_tags, save_columns
        from snapscope.db._images import get_image
        from snapscope.db._query import find_rows
        from snapscope.provenance import Provenance

        tagged = {"provenance_tag": bench.TAG, "process": bench.PROCESS}
        if kind == KINDS[0]:
            find_rows(dbclient=self.db, ra=float(self.ra[arg]), dec=float(self.dec[arg]), **tagged)
        elif kind == KINDS[1]:
            find_rows(dbclient=self.db, ra=float(self.ra[arg]), dec=float(self.dec[arg]),
                      radius=float(self.radii[arg]), **tagged)
        elif kind == KINDS[2]:
            get_image(self.ids[arg % len(self.ids)], dbclient=self.db)
        elif kind == KINDS[3]:
            if arg % 2:
                list_provenance_tags(dbclient=self.db)
            else:
                Provenance.get_provs_for_tag(bench.TAG, bench.PROCESS, dbclient=self.db)
        else:
            prefix, cols = arg
            assert save_columns(cols, dbclient=self.db, progress=False) == SAVE_ROWS
            return prefix
        return None

    def phase(self, seconds: float, think: float) -> tuple[dict, dict, list]:
        """Calls drawn from the mix for ``seconds``: durations and errors per kind, saves."""
        times: dict[str, list[float]] = {k: [] for k in KINDS}
        errors: dict[str, list[str]] = {k: [] for k in KINDS}
        saved = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            kind = KINDS[self.rng.choice(len(KINDS), p=WEIGHTS)]
            arg = self.prepare(kind)
            t0 = time.perf_counter()
            try:
                prefix = self.call(kind, arg)
                times[kind].append(time.perf_counter() - t0)
                if prefix:
                    saved.append(prefix)
            except Exception as err:  # counted and reported, never hidden
                errors[kind].append(f"{type(err).__name__}: {str(err).splitlines()[0]}")
            if think:
                time.sleep(self.rng.exponential(think))
        return times, errors, saved


def client(no: int, dsn: str, run: str, seconds: float, thinks: list[float], barrier,
           results) -> None:
    """One client process: set up, then one phase per think time, all clients in step."""
    try:
        mix = Mix(no, dsn, run)
    except Exception:
        results.put((no, None, traceback.format_exc()))
        barrier.abort()
        return
    for think in thinks:
        barrier.wait()
        results.put((no, think, mix.phase(seconds, think)))
    mix.db.close()


class Clients:
    """``n`` client processes (spawned: each imports snapscope and opens its own pool)."""

    def __init__(self, dsn: str, n: int, seconds: float, thinks: list[float]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.n, self.seconds = n, seconds
        self.barrier, self.results = ctx.Barrier(n + 1), ctx.Queue()
        run = time.strftime("%Y%m%d%H%M%S")
        self.procs = [ctx.Process(target=client, args=(k, dsn, run, seconds, thinks,
                                                       self.barrier, self.results))
                      for k in range(n)]
        for p in self.procs:
            p.start()

    def phase(self) -> tuple[list, float]:
        """Start the next phase in every client at once; return their results and its length."""
        try:
            self.barrier.wait(timeout=600)
        except threading.BrokenBarrierError:  # a client could not start: show why, then stop
            no, _, text = self.results.get(timeout=60)
            for p in self.procs:
                p.terminate()
            raise SystemExit(f"client {no} failed to start:\n{text}") from None
        t0 = time.perf_counter()
        out = [self.results.get(timeout=self.seconds + 600)[2] for _ in self.procs]
        return out, time.perf_counter() - t0

    def join(self) -> None:
        for p in self.procs:
            p.join()


def counts(client) -> dict:
    """All rows, distinct ids and filepaths, and the rows of each saved batch (by prefix)."""
    out = client.fetch("SELECT count(*) AS rows, count(DISTINCT id) AS ids, "
                       "count(DISTINCT filepath) AS paths FROM l2image")[0]
    prefix = len(_prefix(time.strftime("%Y%m%d%H%M%S"), 0, 0))
    out["batches"] = {r["batch"]: r["n"] for r in client.fetch(
        "SELECT left(filepath, %s) AS batch, count(*) AS n FROM l2image WHERE filepath LIKE %s "
        "GROUP BY 1", (prefix, f"/{LOAD_TAG}/%"))}
    return out


def ensure_catalogue(db, rows: int, target_rows: int, tags: int) -> int:
    """Rows in the catalogue, after loading the benchmark's survey if it holds fewer than ``rows``."""
    from snapscope.db import migrate, save_columns

    migrate(db)
    have = db.fetch("SELECT count(*) AS n FROM l2image")[0]["n"]
    provs = bench.survey_provenances(db, tags)
    if have < rows:
        plan = bench.survey_plan(rows, target_rows, tags)
        print(f"loading the survey: {rows:,} rows ({have:,} there)")
        t0 = time.perf_counter()
        save_columns(bench.survey_chunks(plan, provs), dbclient=db, total=rows,
                     skip_existing=bool(have))
        print(f"  loaded in {time.perf_counter() - t0:.0f} s")
    return db.fetch("SELECT count(*) AS n FROM l2image")[0]["n"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows the catalogue must hold")
    ap.add_argument("--target-rows", type=int, default=1_000_000)
    ap.add_argument("--tags", type=int, default=10)
    ap.add_argument("--think-ms", type=float, nargs="+", default=[200.0, 0.0],
                    help="mean pause between a client's calls, one phase per value")
    ap.add_argument("--dsn", default=None, help="a database to use as it is")
    ap.add_argument("--data", default=None, help="directory of an embedded server (db.py --data)")
    ap.add_argument("--keep", action="store_true", help="leave the embedded server running")
    args = ap.parse_args()
    from snapscope.db._client import DBClient
    from snapscope.provenance import Provenance

    t_start = time.perf_counter()
    if args.dsn:
        dsn, tmp = args.dsn, None
    else:
        dsn, tmp = bench.start_server(data=args.data)
    try:
        with DBClient(dsn) as db:
            rows = ensure_catalogue(db, args.rows, args.target_rows, args.tags)
            print(f"PostgreSQL {db.server_version()}; {os.cpu_count()} CPUs; catalogue of "
                  f"{rows:,} rows; load average {os.getloadavg()[0]:.1f}")
            print(f"server settings: {bench.settings(db)}")
            try:
                Provenance.get_provs_for_tag(LOAD_TAG, bench.PROCESS, dbclient=db)
            except KeyError:
                Provenance(bench.PROCESS, 2, 0).save_to_db(tag=LOAD_TAG, dbclient=db)
            clients = Clients(dsn, args.clients, args.seconds, [t / 1e3 for t in args.think_ms])
            for think in args.think_ms:
                before, server0 = counts(db), bench.server_cpu(db)
                with bench.ServerMemory(db) as memory:
                    out, wall = clients.phase()
                server1 = bench.server_cpu(db)
                report(out, wall, args.clients, think)
                check(before, counts(db), out)
                if server0 is not None and server1 is not None:
                    print(f"server CPU during the run: {(server1 - server0) / wall:.2f} cores of "
                          f"{os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")
                print(memory.report())
            clients.join()
    finally:
        bench.stop_server(tmp, args.keep or bool(args.data))
    print(f"benchmark wall time {time.perf_counter() - t_start:.0f} s")
    return 0


def report(out, wall: float, clients: int, think: float) -> None:
    times = {k: np.concatenate([np.asarray(t[k]) for t, _, _ in out] or [[]]) for k in KINDS}
    errors = {k: [e for _, errs, _ in out for e in errs[k]] for k in KINDS}
    total = sum(len(v) for v in times.values())
    pace = f"each pausing {think:g} ms on average between calls" if think else "no pause"
    print(f"\n{clients} clients for {wall:.0f} s, {pace}: {total:,} calls = {total / wall:,.0f} "
          "calls/s")
    print(f"  {'kind':<16} {'calls':>8} {'calls/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7}")
    for k in KINDS:
        t = times[k] * 1e3
        q = np.percentile(t, [50, 95, 99]) if len(t) else [np.nan] * 3
        print(f"  {k:<16} {len(t):>8,} {len(t) / wall:>9,.1f} {q[0]:>8.2f} {q[1]:>8.2f} "
              f"{q[2]:>8.2f} {len(errors[k]):>7}")
        for e in sorted(set(errors[k]))[:3]:
            print(f"      {errors[k].count(e)} x {e}")
    if len(times[KINDS[0]]):
        print(f"  target containment p99 <= 50 ms under this load: "
              f"{np.percentile(times[KINDS[0]], 99) * 1e3:.1f} ms")


def check(before: dict, after: dict, out) -> None:
    """Rows after the run against the saves the clients saw succeed: every successful batch
    whole, nothing of a failed one, nothing else changed."""
    saved = [p for _, _, batches in out for p in batches]
    new = {b: n for b, n in after["batches"].items() if b not in before["batches"]}
    whole = sum(new.get(p) == SAVE_ROWS for p in saved)
    strays = sorted(set(new) - set(saved))
    expected = before["rows"] + len(saved) * SAVE_ROWS
    print(f"rows: {before['rows']:,} before, {after['rows']:,} after ({expected:,} expected from "
          f"{len(saved)} successful bulk saves of {SAVE_ROWS}); batches whole {whole}/{len(saved)}, "
          f"rows of failed saves {sum(new[b] for b in strays):,}; duplicate ids "
          f"{after['rows'] - after['ids']}, duplicate filepaths {after['rows'] - after['paths']}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())

"""Shared pieces of the catalogue benchmarks (``db.py``, ``db_load.py``).

The server (an embedded PostgreSQL in a directory of its own, or a database on ``--dsn``), its
CPU and memory as seen from ``/proc``, the synthetic survey and how it is laid out over
provenance tags, and the one-line figures both scripts print.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "src"))

#: the tag searched by the benchmarks; the other provenances are OTHER_TAG + number
TAG, PROCESS, OTHER_TAG = "bench", "bench", "other"
CHUNK = 50_000
#: footprint columns of the survey (stored beforehand, so that making them is not timed)
FOOTPRINT = ("ra", "dec", *(f"{a}_corner_{c}" for c in ("00", "01", "11", "10") for a in ("ra", "dec")))
#: server settings the figures depend on (printed with them)
SETTINGS = ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size",
            "max_wal_size", "checkpoint_timeout", "wal_compression", "max_connections",
            "autovacuum_work_mem", "fsync", "synchronous_commit")


def line(label: str, seconds) -> str:
    """``label  median … p95 … p99 …`` of durations given in seconds, printed in ms."""
    ms = np.asarray(seconds) * 1e3
    if not len(ms):
        return f"{label:<46} (none)"
    return (f"{label:<46} median {np.median(ms):8.2f} ms   p95 {np.percentile(ms, 95):8.2f} ms"
            f"   p99 {np.percentile(ms, 99):8.2f} ms")


def with_dbname(dsn: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(dsn)
    params["dbname"] = dbname
    return make_conninfo(**params)


def start_server(dsn: str | None = None, data: str | None = None,
                 settings: list[str] = ()) -> tuple[str, Path | None]:
    """Return ``(dsn, directory)``: the embedded server or a fresh database on ``dsn``.

    ``data`` keeps the embedded server's directory (a second run reuses its catalogue; ``None``
    makes a temporary one). ``settings`` (``name=value``) are set with ``ALTER SYSTEM`` and the
    server restarted once. The default durability settings are kept (no fsync=off).
    """
    if dsn:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS snapscope_bench WITH (FORCE)")
            conn.execute("CREATE DATABASE snapscope_bench")
        return with_dbname(dsn, "snapscope_bench"), None
    tmp = Path(data) if data else Path(tempfile.mkdtemp(prefix="snapscope-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, 0o755)
    os.environ["SNAPSCOPE_DATA"] = str(tmp)
    os.environ.pop("SNAPSCOPE_PG_FAST", None)
    from snapscope.db import _server

    dsn = _server.start(migrate=False)
    if settings:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            for item in settings:
                name, _, value = item.partition("=")
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        _server.stop()
        dsn = _server.start(migrate=False)
    return dsn, tmp


def stop_server(tmp: Path | None, keep: bool) -> None:
    """Stop the embedded server and remove its directory, or say how to (``keep``)."""
    if tmp is None:
        return
    if keep:
        print(f"kept: SNAPSCOPE_DATA={tmp} snapscope db stop  # then remove {tmp}")
        return
    from snapscope.db import _server

    _server.stop()
    shutil.rmtree(tmp, ignore_errors=True)


def settings(client) -> str:
    rows = client.fetch("SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)",
                        (list(SETTINGS),))
    got = {r["name"]: _pretty(r["setting"], r["unit"]) for r in rows}
    return ", ".join(f"{k}={got[k]}" for k in SETTINGS if k in got)


def _pretty(value: str, unit: str | None) -> str:
    if unit in ("8kB", "kB", "MB") and value.lstrip("-").isdigit() and int(value) > 0:
        kb = int(value) * {"8kB": 8, "kB": 1, "MB": 1024}[unit]
        return f"{kb // 1024}MB" if kb >= 1024 else f"{kb}kB"
    return value + (unit or "") if unit in ("s", "ms", "min") else value


def server_pids(client) -> list[int]:
    """Process ids of the (local) server: the postmaster and its children ([] when remote)."""
    try:
        datadir = client.fetch("SELECT current_setting('data_directory') AS d")[0]["d"]
        postmaster = int(Path(datadir, "postmaster.pid").read_text().split()[0])
    except Exception:  # a remote server, or no permission
        return []
    pids = [postmaster]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def server_cpu(client) -> float | None:
    """CPU seconds used so far by the (local) server's processes, or None when unreadable."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    pids = server_pids(client)
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / tick
    return total if pids else None


def _pss_mb(pid: int) -> float:
    try:
        for text in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if text.startswith("Pss:"):
                return int(text.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class ServerMemory:
    """Peak memory of the (local) server, sampled every ``every`` seconds in a thread.

    Proportional set size (PSS): shared memory (shared_buffers) is counted once over all the
    server's processes, not once per process as RSS would.
    """

    def __init__(self, client, every: float = 1.0) -> None:
        self.client, self.every = client, every
        self.peak_total = self.peak_process = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        pids: list[int] = []
        while not self._stop.is_set():
            try:
                pids = server_pids(self.client) or pids
            except Exception:  # the server restarting, a closed pool: keep sampling
                pass
            sizes = [_pss_mb(p) for p in pids]
            if sizes:
                self.peak_total = max(self.peak_total, sum(sizes))
                self.peak_process = max(self.peak_process, max(sizes))
            self._stop.wait(self.every)

    def __enter__(self) -> ServerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> str:
        if not self.peak_total:
            return "server memory: not readable (a remote server?)"
        return (f"server memory (PSS, shared memory counted once): peak {self.peak_total:,.0f} MB "
                f"over all its processes, largest process {self.peak_process:,.0f} MB")


# -- the synthetic survey over provenance tags --------------------------------------------------

@dataclass(frozen=True)
class Chunk:
    """One transaction's worth of survey rows: tag number, seed, first row number, size."""

    tag: int
    seed: int
    first: int
    n: int
    offset: int  # row in the stored footprints


def survey_plan(rows: int, target_rows: int, tags: int, chunk: int = CHUNK) -> list[Chunk]:
    """The rows in load order: the searched tag's first, then the others' round-robin.

    The searched tag (number 0) gets ``min(rows, target_rows)`` rows with the seeds of the 1 M
    benchmark (seed = first row), the other tags share the rest, all on the same sky.
    """
    out, offset = [], 0
    target = min(rows, target_rows)
    for first in range(0, target, chunk):
        n = min(chunk, target - first)
        out.append(Chunk(0, first, first, n, offset))
        offset += n
    others = rows - target
    k, firsts = 0, [0] * tags
    while others > 0 and tags > 1:
        tag = 1 + k % (tags - 1)
        n = min(chunk, others)
        out.append(Chunk(tag, 10**9 + offset, firsts[tag], n, offset))
        firsts[tag] += n
        offset += n
        others -= n
        k += 1
    return out


def store_footprints(plan: list[Chunk], path: Path) -> np.memmap:
    """Make every chunk's footprints into one memory-mapped array (rows, 10), columns FOOTPRINT."""
    from snapscope.db._synthetic import survey_footprints

    total = sum(c.n for c in plan)
    store = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(total, len(FOOTPRINT)))
    for c in plan:
        fp = survey_footprints(c.n, c.seed)
        store[c.offset:c.offset + c.n] = np.stack([fp[k] for k in FOOTPRINT], axis=1)
    store.flush()
    return store


def prefix(tag: int) -> str:
    return f"/{TAG}" if tag == 0 else f"/{OTHER_TAG}{tag}"


def survey_chunks(plan: list[Chunk], provenances: list, store: np.ndarray | None = None
                  ) -> Iterator[dict]:
    """Columns of each chunk of ``plan`` (footprints from ``store`` when given)."""
    from snapscope.db._synthetic import survey_columns

    for c in plan:
        fp = None
        if store is not None:
            part = np.asarray(store[c.offset:c.offset + c.n])
            fp = {k: part[:, j] for j, k in enumerate(FOOTPRINT)}
        yield survey_columns(c.n, provenances[c.tag].id, c.seed, first=c.first,
                             prefix=prefix(c.tag), footprints=fp)


def survey_provenances(client, tags: int) -> list:
    """The searched provenance (tag ``TAG``) and ``tags - 1`` others, saved if new."""
    from snapscope.provenance import Provenance

    out = []
    for k in range(tags):
        tag, process = (TAG, PROCESS) if k == 0 else (f"{OTHER_TAG}{k}", PROCESS)
        try:
            prov = Provenance.get_provs_for_tag(tag, process, dbclient=client)
        except KeyError:
            prov = Provenance(process, 1, k)
            prov.save_to_db(tag=tag, dbclient=client)
        out.append(prov)
    return out


def wait_until(condition, timeout: float, what: str, every: float = 0.05):
    """Poll ``condition()`` until it returns a true value; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout:g} s")
        time.sleep(every)

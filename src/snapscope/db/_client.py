"""The database client: one psycopg connection pool per DSN.

Decisions (for notebooks on a JupyterHub sharing one PostgreSQL, and for Binder):

* **Pool, sized for many idle kernels.** ``min_size=0`` and ``max_idle=300`` s: a kernel that is
  not searching holds no server connection, so a hub with a hundred users does not exhaust
  ``max_connections``; ``max_size=4`` lets batch work (ingest threads) run in parallel.
* **Reconnect.** Every connection is checked when it leaves the pool (one round trip, ~0.1 ms on
  a local server), so a server restart between two calls is invisible. A call that loses its
  connection while it runs raises :class:`~snapscope.exceptions.DatabaseInterruptedError`
  (the next call reconnects); a read is retried once on a fresh connection first, and a bulk
  save resolves itself (:mod:`snapscope.db._save`). When the server cannot be
  reached within ``timeout`` seconds the call raises
  :class:`~snapscope.exceptions.DatabaseUnavailableError` naming the server (never the password)
  and what to do next; a server that refuses connections because a connection limit is reached
  (``max_connections``, a role's or database's ``CONNECTION LIMIT``) is named as such.
* **Planner settings per session.** A spatial query reads a handful of rows through the GIN
  index, but PostgreSQL cannot estimate ``cells && keys`` well and, over a million rows, picks
  a *parallel* bitmap scan whose worker start-up (10-50 ms) dwarfs the 0.5 ms index scan; so
  ``parallel_setup_cost`` is raised (big sequential scans still go parallel), and
  ``plan_cache_mode = force_custom_plan`` keeps prepared statements from switching to a
  generic plan that cannot see the keys. ``jit = off``: a search of many candidates (a 0.5°
  cone over a deep field) is estimated above ``jit_above_cost`` and compiled first, 175 ms of
  JIT for a query that runs in 100 ms (measured on 0.4 M rows); catalogue searches are short
  and never repay it.
* **Statement timeout.** ``DBClient(statement_timeout=s)`` (default: ``SNAPSCOPE_STATEMENT_TIMEOUT``
  seconds, else the server's setting) sets the session's ``statement_timeout``, so a pathological
  query on a shared server stops with a :class:`~snapscope.exceptions.DatabaseError` that names
  the limit and where it is set, instead of holding a connection for minutes.
* **Autocommit connections, explicit transactions.** Reads never leave a session "idle in
  transaction"; every write runs inside ``with client.transaction() as conn:``, so it is all or
  nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from snapscope.exceptions import DatabaseError, DatabaseInterruptedError, DatabaseUnavailableError

__all__ = ["DBClient", "redact_dsn"]


def redact_dsn(dsn: str) -> str:
    """Return ``dsn`` with any password replaced by ``***``."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(dsn)
    except Exception:  # not parseable: show nothing that could be secret
        return "<unparseable DSN>"
    if "password" in params:
        params["password"] = "***"
    return make_conninfo(**params)


def _configure(conn: Any, statement_timeout: float | None = None) -> None:
    """Session settings for catalogue queries (see the module docstring)."""
    conn.execute("SET parallel_setup_cost = 100000")
    conn.execute("SET plan_cache_mode = force_custom_plan")
    conn.execute("SET jit = off")
    if statement_timeout is not None:
        conn.execute(f"SET statement_timeout = {round(statement_timeout * 1000)}")


def _statement_timeout(value: float | None) -> float | None:
    """The statement timeout in seconds: ``value``, else ``SNAPSCOPE_STATEMENT_TIMEOUT``, else None.

    Raises
    ------
    ValueError
        When it is not a positive number of seconds (naming where it came from).
    """
    import os

    source = "statement_timeout"
    if value is None:
        text = os.environ.get("SNAPSCOPE_STATEMENT_TIMEOUT")
        if not text:
            return None
        source = "SNAPSCOPE_STATEMENT_TIMEOUT"
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{source} must be a number of seconds, not {text!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{source} must be a positive number of seconds, not {value!r}")
    return float(value)


def _retryable(err: BaseException) -> bool:
    """Return True for a lost connection (worth one retry), False for a server that timed out."""
    return isinstance(err, DatabaseInterruptedError)


def _connection_lost(err: Any) -> bool:
    """Return True when a psycopg.OperationalError ended the connection, not just the statement.

    libpq's own errors (no SQLSTATE: "server closed the connection unexpectedly"), class 08
    (connection exception) and class 57 (operator intervention: a shutdown or a terminated
    backend); not a deadlock, a lock timeout or a full disk, after which the session goes on.
    """
    state = getattr(err, "sqlstate", None)
    return state is None or state[:2] in ("08", "57")


class DBClient:
    """A pooled connection to the snapscope catalogue; pass it as any ``dbclient=`` argument.

    Parameters
    ----------
    dsn : str
        libpq connection string or URI.
    max_size : int
        Most connections this client opens at once.
    timeout : float
        Seconds to wait for a connection before raising DatabaseUnavailableError.
    statement_timeout : float, optional
        Seconds a statement may run before the server cancels it (default:
        ``SNAPSCOPE_STATEMENT_TIMEOUT``, else the server's setting).
    """

    def __init__(self, dsn: str, *, max_size: int = 4, timeout: float = 10.0,
                 statement_timeout: float | None = None) -> None:
        from functools import partial

        from psycopg_pool import ConnectionPool

        self.dsn = dsn
        self.timeout = timeout
        self.statement_timeout = _statement_timeout(statement_timeout)
        self._pool = ConnectionPool(
            dsn,
            min_size=0,
            max_size=max_size,
            kwargs={"autocommit": True},
            check=ConnectionPool.check_connection,
            configure=partial(_configure, statement_timeout=self.statement_timeout),
            timeout=timeout,
            max_idle=300.0,
            reconnect_timeout=timeout,
            name="snapscope",
            open=True,
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<DBClient {redact_dsn(self.dsn)}>"

    def __enter__(self) -> DBClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pool.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._pool.closed

    def _unavailable(self, err: BaseException) -> DatabaseUnavailableError:
        """The error for a server the pool could not get a connection from, saying why."""
        import psycopg

        try:  # the pool keeps its connect errors to itself: ask the server once more
            psycopg.connect(self.dsn, connect_timeout=max(1, int(self.timeout))).close()
        except psycopg.Error as refused:
            # libpq gives a refused connection's reason as text only ("FATAL:  too many ...")
            text = str(refused).rpartition("FATAL:")[2].strip()
            if text.startswith(("too many connections", "sorry, too many clients")):
                return DatabaseUnavailableError(
                    f"the snapscope database at {redact_dsn(self.dsn)} refuses new connections: "
                    f"{text} (a connection limit — the server's "
                    "max_connections, or the role's or database's CONNECTION LIMIT — is "
                    "reached). Close idle clients (client.close()), lower connect(max_size=…), "
                    "or ask the server's administrator to raise the limit."
                )
        return DatabaseUnavailableError(
            f"cannot reach the snapscope database at {redact_dsn(self.dsn)} ({err}). "
            "Is the server running? Start the embedded one with `snapscope db start`, "
            "or set SNAPSCOPE_DSN to your hub's server."
        )

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """Yield a pooled psycopg connection (autocommit); errors become snapscope errors."""
        import psycopg
        from psycopg_pool import PoolClosed, PoolTimeout

        conn = None
        try:
            with self._pool.connection() as conn:
                yield conn
        except (PoolTimeout, PoolClosed) as err:
            raise self._unavailable(err) from err
        except psycopg.errors.UndefinedTable as err:
            raise DatabaseError(
                f"{err.diag.message_primary} in {redact_dsn(self.dsn)}: the snapscope schema is "
                "missing or old; run `snapscope db migrate`"
            ) from err
        except psycopg.errors.InsufficientPrivilege as err:
            raise DatabaseError(f"permission denied: {err.diag.message_primary}") from err
        except psycopg.errors.QueryCanceled as err:
            if self.statement_timeout is not None and "statement timeout" in str(err):
                raise DatabaseError(
                    f"query cancelled after the statement timeout of {self.statement_timeout:g} s "
                    "(DBClient(statement_timeout=...) or SNAPSCOPE_STATEMENT_TIMEOUT sets it)"
                ) from err
            raise DatabaseError(f"query cancelled: {err}") from err
        except psycopg.OperationalError as err:
            if conn is None:
                raise self._unavailable(err) from err
            if not _connection_lost(err):
                raise DatabaseError(f"the database refused the call: {err}") from err
            raise DatabaseInterruptedError(
                f"lost the connection to the snapscope database at {redact_dsn(self.dsn)} "
                f"during a call ({str(err).strip().splitlines()[0]}); the next call reconnects. "
                "A transaction it interrupted was rolled back by the server (nothing of it "
                "was saved), unless the connection went just as it committed (then all of it was)."
            ) from err

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """Yield a connection inside one transaction (committed at exit, rolled back on error)."""
        with self.connection() as conn, conn.transaction():
            yield conn

    def fetch(self, query: Any, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict]:
        """Run a read-only query and return its rows as dicts (retried once on a lost connection).

        Parameters
        ----------
        query : str or psycopg.sql.Composable
            The SQL, with ``%s`` / ``%(name)s`` placeholders.
        params : sequence or dict, optional
            Values of the placeholders.
        """
        from psycopg.rows import dict_row

        for attempt in (0, 1):
            try:
                with self.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
                    cur.execute(query, params)
                    return cur.fetchall()
            except DatabaseUnavailableError as err:
                if attempt or not _retryable(err):
                    raise
        raise AssertionError("unreachable")

    def execute(self, query: Any, params: Sequence[Any] | dict[str, Any] | None = None) -> int:
        """Run one statement in its own transaction; return the number of rows it touched."""
        with self.transaction() as conn:
            return conn.execute(query, params).rowcount

    def server_version(self) -> str:
        """Return the server's version string (e.g. ``"15.18"``)."""
        return self.fetch("SHOW server_version")[0]["server_version"]

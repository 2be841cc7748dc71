"""Database test fixtures: a real PostgreSQL for the session, a fresh database per test.

The session starts its own server with snapscope's embedded launcher (``snapscope.db._server``,
system binaries, as the ``postgres`` user when run as root) in a temporary directory, unless
``SNAPSCOPE_TEST_DSN`` names an existing server (a role allowed to CREATE DATABASE). Each test
gets a database cloned from a migrated template (``dbclient`` fixture; ``SNAPSCOPE_DSN`` points
at it too), dropped afterwards. No server possible: skip locally, **error** under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

TEMPLATE = "snapscope_test_template"
_counter = itertools.count()


def _fail_or_skip(msg: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but no PostgreSQL for the tests: {msg}", pytrace=False)
    pytest.skip(f"no PostgreSQL server available: {msg}")


@contextlib.contextmanager
def embedded_server(prefix: str, *, migrate: bool = True):
    """snapscope's embedded PostgreSQL (``snapscope db start``) in a fresh data directory.

    Yields its DSN; afterwards the server is stopped, ``SNAPSCOPE_DATA`` and
    ``SNAPSCOPE_PG_FAST`` are restored and the directory is removed. No server possible: skip
    locally, fail under ``CI=true``.
    """
    from snapscope.db import _server

    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(tmp, 0o755)  # the server user (postgres) must reach its data directory
    saved = {k: os.environ.get(k) for k in ("SNAPSCOPE_DATA", "SNAPSCOPE_PG_FAST")}
    os.environ.update(SNAPSCOPE_DATA=str(tmp), SNAPSCOPE_PG_FAST="1")
    try:
        try:
            dsn = _server.start(migrate=migrate)
        except Exception as err:  # no binaries, no permission...
            _fail_or_skip(str(err))
        yield dsn
    finally:
        try:
            _server.stop()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            shutil.rmtree(tmp, ignore_errors=True)


def _with_db(dsn: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(dsn)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def pg_admin_dsn():
    """DSN of a superuser on the session's server (database ``snapscope``)."""
    external = os.environ.get("SNAPSCOPE_TEST_DSN")
    if external:
        yield external
        return
    with embedded_server("snapscope-dbtest-", migrate=False) as dsn:
        yield dsn


@pytest.fixture(scope="session")
def pg_template(pg_admin_dsn):
    """Name of a migrated template database."""
    import psycopg
    from psycopg import sql

    from snapscope.db import migrate
    from snapscope.db._client import DBClient

    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    with DBClient(_with_db(pg_admin_dsn, TEMPLATE), max_size=1) as client:
        migrate(client)
    yield TEMPLATE
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE))
        )


@contextlib.contextmanager
def fresh_database(admin_dsn: str, template: str):
    """A new database cloned from the migrated ``template``: yields its DSN, drops it after."""
    import psycopg
    from psycopg import sql

    name = f"snapscope_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        fast = conn.info.server_version >= 150000  # FILE_COPY: faster for a tiny template
        conn.execute(
            sql.SQL(
                "CREATE DATABASE {} TEMPLATE {}" + (" STRATEGY FILE_COPY" if fast else "")
            ).format(sql.Identifier(name), sql.Identifier(template))
        )
    dsn = _with_db(admin_dsn, name)
    try:
        yield dsn
    finally:
        from snapscope.db import get_client

        get_client(dsn).close()  # the registered client of this database (a closed one is replaced)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def db_dsn(pg_admin_dsn, pg_template, monkeypatch):
    """DSN of a fresh, migrated, empty database for this test (also set as SNAPSCOPE_DSN)."""
    with fresh_database(pg_admin_dsn, pg_template) as dsn:
        monkeypatch.setenv("SNAPSCOPE_DSN", dsn)
        yield dsn


@pytest.fixture
def dbclient(db_dsn):
    """A DBClient on this test's fresh database."""
    from snapscope.db._client import DBClient

    client = DBClient(db_dsn, timeout=5)
    yield client
    client.close()


@pytest.fixture
def provenance(dbclient):
    """A saved provenance tagged ``('test', 'synthetic')``."""
    from snapscope.provenance import Provenance

    prov = Provenance("synthetic", 1, 0, params={"image_class": "fits"})
    prov.save_to_db(tag="test", dbclient=dbclient)
    return prov

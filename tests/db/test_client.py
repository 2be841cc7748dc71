"""Client reliability: reconnect after a restart, clear errors when down, migrations, roles."""

from __future__ import annotations

import os
import time

import pytest

from snapscope.exceptions import DatabaseError, DatabaseUnavailableError

pytestmark = pytest.mark.db


def _own_server():
    if os.environ.get("SNAPSCOPE_TEST_DSN"):
        pytest.skip("restart tests need the session's own server (SNAPSCOPE_TEST_DSN is set)")
    from snapscope.db import _server

    return _server


def test_restart_under_a_live_client(dbclient):
    server = _own_server()
    assert dbclient.fetch("SELECT 1 AS one") == [{"one": 1}]
    server.stop()
    try:
        with pytest.raises(DatabaseUnavailableError) as info:
            dbclient.fetch("SELECT 1 AS one")
        message = str(info.value)
        assert "snapscope db start" in message and "SNAPSCOPE_DSN" in message
        assert "127.0.0.1" in message
        assert server.status()["dsn"].split(":")[2].split("@")[0] not in message  # no password
        assert isinstance(info.value, ConnectionError)
    finally:
        server.start(migrate=False)
    t0 = time.monotonic()
    while True:  # the pool reconnects in the background; the next calls succeed
        try:
            assert dbclient.fetch("SELECT 2 AS two") == [{"two": 2}]
            break
        except DatabaseUnavailableError:
            assert time.monotonic() - t0 < 10
    assert dbclient.fetch("SELECT 3 AS three") == [{"three": 3}]


def test_connection_killed_mid_session_is_retried(dbclient, pg_admin_dsn):
    import psycopg

    with dbclient.connection() as conn:
        pid = conn.info.backend_pid
    with psycopg.connect(pg_admin_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert dbclient.fetch("SELECT 4 AS four") == [{"four": 4}]


def test_unreachable_server_fails_fast_and_clearly():
    from snapscope.db._client import DBClient

    with DBClient("postgresql://nobody:secret@127.0.0.1:1/none", timeout=1) as client:
        t0 = time.monotonic()
        with pytest.raises(DatabaseUnavailableError, match="cannot reach") as info:
            client.fetch("SELECT 1")
        assert time.monotonic() - t0 < 8
        assert "secret" not in str(info.value)


def test_migrate_is_idempotent_and_recorded(dbclient):
    from snapscope.db import migrate
    from snapscope.db._migrate import available_migrations

    assert migrate(dbclient) == []
    rows = dbclient.fetch("SELECT version, name FROM snapscope_schema_version ORDER BY version")
    assert [(r["version"], r["name"]) for r in rows] == [
        (v, n) for v, n, _ in available_migrations()
    ]
    assert [r["version"] for r in rows][:2] == [1, 2]


def test_missing_schema_says_migrate(pg_admin_dsn):
    import psycopg

    from snapscope.db._client import DBClient
    from snapscope.db._query import find_rows

    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS snapscope_empty WITH (FORCE)")
        conn.execute("CREATE DATABASE snapscope_empty")
    try:
        dsn = pg_admin_dsn.rsplit("/", 1)[0] + "/snapscope_empty"
        with DBClient(dsn) as client, pytest.raises(DatabaseError, match="snapscope db migrate"):
            find_rows(dbclient=client, band="Y106")
    finally:
        with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS snapscope_empty WITH (FORCE)")


def test_grant_readonly_role(dbclient, db_dsn, provenance):
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from snapscope.db._client import DBClient
    from snapscope.db._migrate import grant_readonly
    from snapscope.db._query import find_rows
    from snapscope.provenance import Provenance

    role = "reader'; DROP TABLE l2image; --"
    try:
        assert grant_readonly(role, password="pw'\"x", dbclient=dbclient) is True
        assert grant_readonly(role, dbclient=dbclient) is False
        params = conninfo_to_dict(db_dsn)
        params.update(user=role, password="pw'\"x")
        with DBClient(make_conninfo(**params)) as reader:
            assert find_rows(dbclient=reader, band="Y106") == []
            assert Provenance.get_provs_for_tag("test", "synthetic", dbclient=reader) == provenance
            with pytest.raises((DatabaseError, psycopg.Error)):
                Provenance("sneaky", 1, 0).save_to_db(dbclient=reader)
        assert dbclient.fetch("SELECT count(*) AS n FROM provenance")[0]["n"] == 1
    finally:
        from psycopg import sql

        with dbclient.connection() as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_statement_timeout_stops_a_pathological_query_clearly(db_dsn, monkeypatch):
    from snapscope.db import connect

    with connect(db_dsn, statement_timeout=0.2) as client:
        with pytest.raises(DatabaseError, match=r"statement timeout of 0\.2 s .*SNAPSCOPE_STATEMENT"):
            client.fetch("SELECT pg_sleep(5)")
        assert client.fetch("SELECT 1 AS one") == [{"one": 1}]  # the connection is still good
    monkeypatch.setenv("SNAPSCOPE_STATEMENT_TIMEOUT", "0.3")
    with connect(db_dsn) as client:
        assert client.fetch("SHOW statement_timeout") == [{"statement_timeout": "300ms"}]
    monkeypatch.setenv("SNAPSCOPE_STATEMENT_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="SNAPSCOPE_STATEMENT_TIMEOUT must be a number"):
        connect(db_dsn)
    monkeypatch.delenv("SNAPSCOPE_STATEMENT_TIMEOUT")
    with pytest.raises(ValueError, match="statement_timeout must be a positive number"):
        connect(db_dsn, statement_timeout=0)


def test_too_many_connections_names_the_limit(dbclient, db_dsn):
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from snapscope.db._client import DBClient

    role = "snapscope_one_connection"
    with dbclient.connection() as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'pw' CONNECTION LIMIT 1").format(
            sql.Identifier(role)))
    params = conninfo_to_dict(db_dsn)
    params.update(user=role, password="pw")
    dsn = make_conninfo(**params)
    try:
        with psycopg.connect(dsn), DBClient(dsn, timeout=1) as client:  # the one allowed
            t0 = time.monotonic()
            with pytest.raises(DatabaseUnavailableError, match="refuses new connections: too many "
                               r"connections for role .*CONNECTION LIMIT") as info:
                client.fetch("SELECT 1")
            assert time.monotonic() - t0 < 8 and "pw" not in str(info.value)
    finally:
        with dbclient.connection() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_sessions_are_set_up_for_short_searches(dbclient):
    """No JIT (a big cone was compiled for 175 ms before running for 30), no parallel workers
    for index scans, custom plans for prepared searches."""
    settings = {r["name"]: r["setting"] for r in dbclient.fetch(
        "SELECT name, setting FROM pg_settings WHERE name IN "
        "('jit', 'parallel_setup_cost', 'plan_cache_mode')")}
    assert settings == {"jit": "off", "parallel_setup_cost": "100000",
                        "plan_cache_mode": "force_custom_plan"}

"""Numbered SQL migrations (``migrations/NNNN_name.sql``), applied in order, once each.

The applied versions are recorded in ``snapscope_schema_version``. Each migration runs in its
own transaction together with its version row, so a failing migration leaves the schema at the
previous version. A session advisory lock serialises concurrent ``migrate`` calls (two kernels
starting at once), and re-running is a no-op.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

__all__ = ["available_migrations", "applied_versions", "migrate", "grant_readonly"]

_NAME = re.compile(r"^(\d{4})_([A-Za-z0-9_]+)\.sql$")
_LOCK_KEY = 0x5EA5C0DE  # pg_advisory_lock key of snapscope migrations

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS snapscope_schema_version (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def available_migrations() -> list[tuple[int, str, str]]:
    """Return ``(version, name, sql)`` of the packaged migrations, in order."""
    found = []
    for entry in resources.files("snapscope.db").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers: {versions}")
    return found


def applied_versions(conn: Any) -> set[int]:
    """Return the migration versions recorded in the database (empty when none)."""
    row = conn.execute("SELECT to_regclass('snapscope_schema_version') IS NOT NULL").fetchone()
    if not row[0]:
        return set()
    return {r[0] for r in conn.execute("SELECT version FROM snapscope_schema_version")}


def migrate(dbclient: Any = None) -> list[str]:
    """Apply every migration not yet applied; return the names of those applied.

    Parameters
    ----------
    dbclient : DBClient or str, optional
        Where to apply them (default: :func:`snapscope.db.connect`).
    """
    from snapscope.db import get_client

    client = get_client(dbclient)
    done: list[str] = []
    with client.connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(_VERSION_TABLE)
            have = applied_versions(conn)
            for version, name, text in available_migrations():
                if version in have:
                    continue
                with conn.transaction():
                    conn.execute(text)
                    conn.execute(
                        "INSERT INTO snapscope_schema_version (version, name) VALUES (%s, %s)",
                        (version, name),
                    )
                done.append(f"{version:04d}_{name}")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return done


def grant_readonly(role: str, password: str | None = None, dbclient: Any = None) -> bool:
    """Give ``role`` read-only access to the catalogue (creating it as a LOGIN role if missing).

    For a JupyterHub: users get ``SNAPSCOPE_DSN`` with this role, so notebooks can search but
    never change the shared catalogue. The role also defaults to read-only transactions, and
    tables added by later migrations are covered (default privileges).

    Parameters
    ----------
    role : str
        Role name (any string: it is quoted as an identifier).
    password : str, optional
        Set (or change) its password.
    dbclient : DBClient or str, optional
        A connection with the right to create roles and grant (the owner / a superuser).

    Returns
    -------
    bool
        True if the role was created.
    """
    from psycopg import sql

    from snapscope.db import get_client

    ident = sql.Identifier(role)
    with get_client(dbclient).transaction() as conn:
        created = not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if created:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
        if password is not None:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)))
        dbname = conn.execute("SELECT current_database()").fetchone()[0]
        for stmt in (
            "GRANT CONNECT ON DATABASE {db} TO {r}",
            "GRANT USAGE ON SCHEMA public TO {r}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {r}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {r}",
            "ALTER ROLE {r} SET default_transaction_read_only = on",
        ):
            conn.execute(sql.SQL(stmt).format(db=sql.Identifier(dbname), r=ident))
    return created

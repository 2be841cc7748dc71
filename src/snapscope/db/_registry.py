"""Where the catalogue is, and the clients that reach it.

``default_dsn``, ``connect`` and the per-process registry behind every ``dbclient=`` argument
(``get_client``).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from snapscope.db._client import DBClient

__all__ = ["default_dsn", "connect", "get_client"]

_clients: dict[str, DBClient] = {}
_lock = threading.Lock()


def default_dsn(start: bool = True) -> str | None:
    """Return the DSN used when none is given: ``SNAPSCOPE_DSN``, else the embedded server's.

    Parameters
    ----------
    start : bool
        Start the embedded server (and migrate its schema) if it is not running. With False,
        return None instead of starting it (e.g. for a menu that need not start a server).
    """
    dsn = os.environ.get("SNAPSCOPE_DSN")
    if dsn:
        return dsn
    from snapscope.db import _server

    if start:
        return _server.start()
    state = _server.status()
    return state["dsn"] if state["running"] else None


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

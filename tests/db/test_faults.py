"""A server restarted in the middle of a bulk save: the save is whole or absent, clients go on.

The save is held at a known point inside its transaction (all rows copied, the provenance check
waiting for a row lock another session holds), then the session's server is restarted. Too many
connections and the statement timeout are tested in ``test_client.py``.
"""

from __future__ import annotations

import os
import threading

import psycopg
import pytest
from waiting import wait_for

from snapscope.db import save_columns
from snapscope.db._client import DBClient
from snapscope.db._query import find_rows
from snapscope.db._synthetic import survey_columns, survey_images
from snapscope.exceptions import DatabaseInterruptedError
from snapscope.image import Image

pytestmark = pytest.mark.db
N = 1000


def _own_server():
    if os.environ.get("SNAPSCOPE_TEST_DSN"):
        pytest.skip("restart tests need the session's own server (SNAPSCOPE_TEST_DSN is set)")
    from snapscope.db import _server

    return _server


class HeldSave:
    """Run ``save()`` in a thread, held inside its transaction until the server goes away.

    An open transaction locks the provenance row FOR UPDATE; the save's COPY writes every row,
    then its provenance check (a statement trigger taking FOR KEY SHARE) waits for that lock.
    """

    def __init__(self, admin_dsn: str, db_dsn: str, provenance_id, save) -> None:
        self.db_dsn, self.result, self.error = db_dsn, None, None
        dbname = psycopg.conninfo.conninfo_to_dict(db_dsn)["dbname"]
        self.locker = psycopg.connect(admin_dsn.rsplit("/", 1)[0] + "/" + dbname)
        self.locker.execute("SELECT 1 FROM provenance WHERE id = %s FOR UPDATE", (provenance_id,))
        self.thread = threading.Thread(target=self._run, args=(save,), daemon=True)
        self.thread.start()
        wait_for(self._waiting, timeout=30, what="the save to wait inside its transaction")

    def _run(self, save) -> None:
        try:
            self.result = save()
        except Exception as err:  # the test looks at it
            self.error = err

    def _waiting(self) -> bool:
        if not self.thread.is_alive():
            raise AssertionError(f"the save ended before it was held: {self.result!r} {self.error!r}")
        self.locker.execute("SELECT pg_stat_clear_snapshot()")  # see now, not at BEGIN
        rows = self.locker.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'COPY%%' AND pid <> pg_backend_pid()").fetchone()
        return rows[0] == 1

    def finish(self, timeout: float = 60) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the interrupted save never returned"
        try:
            self.locker.close()  # its server is gone: the session is dead
        except psycopg.Error:
            pass


def _count(client, prefix) -> int:
    rows = client.fetch("SELECT count(*) AS n, count(DISTINCT id) AS ids FROM l2image "
                        "WHERE filepath LIKE %s", (prefix + "/%",))
    assert rows[0]["n"] == rows[0]["ids"]
    return rows[0]["n"]


def test_a_save_interrupted_by_a_restart_is_saved_once(dbclient, db_dsn, pg_admin_dsn, provenance,
                                                      monkeypatch):
    """The server restarts while ``Image.bulk_save_to_db`` is inside its transaction: the save
    reconnects, finds its rows absent, writes them once; another client just goes on."""
    from snapscope.db import _save

    server = _own_server()
    attempts = []
    commit = _save._commit
    monkeypatch.setattr(_save, "_commit", lambda *a: attempts.append(1) or commit(*a))
    reader = DBClient(db_dsn, timeout=10)
    assert find_rows(dbclient=reader, band="Y106") == []
    images = survey_images(N, provenance.id, seed=3, prefix="/restart")
    saver = DBClient(db_dsn, timeout=30)
    try:
        held = HeldSave(pg_admin_dsn, db_dsn, provenance.id,
                        lambda: Image.bulk_save_to_db(images, dbclient=saver))
        server.stop()
        server.start(migrate=False)
        held.finish()
        assert held.error is None, held.error
        assert held.result == N and len(attempts) == 2  # interrupted, then written again
        assert _count(dbclient, "/restart") == N
        assert all(im.id is not None for im in images)
        assert len(find_rows(dbclient=reader, band="Y106", provenance=provenance)) == N
    finally:
        saver.close()
        reader.close()


def test_a_save_whose_server_stays_down_is_absent_and_says_so(dbclient, db_dsn, pg_admin_dsn,
                                                             provenance):
    """The server goes down inside a chunk's transaction and does not come back within the
    client's timeout: a clear error, nothing of the chunk saved, the next call reconnects and
    re-running the save with skip_existing completes it."""
    server = _own_server()
    cols = survey_columns(N, provenance.id, seed=4, prefix="/down")
    saver = DBClient(db_dsn, timeout=1)
    try:
        held = HeldSave(pg_admin_dsn, db_dsn, provenance.id,
                        lambda: save_columns(cols, dbclient=saver, progress=False))
        server.stop()
        try:
            held.finish()
        finally:
            server.start(migrate=False)
        assert isinstance(held.error, DatabaseInterruptedError), repr(held.error)
        message = str(held.error)
        assert "interrupted" in message and "either all saved or none" in message
        assert "skip_existing=True" in message and "within 1 s" in message
        assert _count(dbclient, "/down") == 0
        wait_for(lambda: _answers(saver), timeout=30, what="the client to reconnect")
        assert save_columns(cols, dbclient=saver, skip_existing=True, progress=False) == N
        assert _count(dbclient, "/down") == N
    finally:
        saver.close()


def _answers(client) -> bool:
    from snapscope.exceptions import DatabaseUnavailableError

    try:
        return client.fetch("SELECT 1 AS one") == [{"one": 1}]
    except DatabaseUnavailableError:
        return False

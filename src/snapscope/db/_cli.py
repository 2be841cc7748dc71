"""``snapscope db start | stop | status | url | migrate | ingest | grant-readonly``.

``start``/``stop``/``status`` drive the embedded server (:mod:`snapscope.db._server`);
``url`` prints the DSN snapscope uses on its last line (``SNAPSCOPE_DSN`` when set, else the
embedded server's, started if needed), so ``psql "$(snapscope db url | tail -1)"`` works;
``migrate``, ``ingest`` and ``grant-readonly`` work on that DSN or on ``--dsn``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["add_parser"]


def add_parser(subparsers: Any) -> None:
    """Register ``snapscope db ...`` on the ``snapscope`` command's sub-parsers."""
    db = subparsers.add_parser(
        "db", help="the image catalogue (PostgreSQL)", description=__doc__.splitlines()[0]
    )
    sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    sub.add_parser("start", help="start the embedded server (no-op if running)").set_defaults(
        func=_start
    )
    sub.add_parser("stop", help="stop the embedded server").set_defaults(func=_stop)
    sub.add_parser("status", help="show the embedded server's state").set_defaults(func=_status)
    sub.add_parser("url", help="print the DSN (last line)").set_defaults(func=_url)
    p = sub.add_parser("migrate", help="apply pending schema migrations")
    p.add_argument("--dsn", help="database (default: SNAPSCOPE_DSN or the embedded server)")
    p.set_defaults(func=_migrate)
    p = sub.add_parser("ingest", help="catalogue image files (headers only)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    p.add_argument("--provenance-tag", required=True, help="provenance tag to file them under")
    p.add_argument("--process", required=True, help="process name of that provenance")
    p.add_argument("--image-class", default="auto", choices=("auto", "ou2024", "fits", "fitsstd"))
    p.add_argument("--major", type=int, default=0, help="version of a new provenance (0)")
    p.add_argument("--minor", type=int, default=1, help="minor version of a new provenance (1)")
    p.add_argument("--workers", type=int, default=None, help="header-reading threads")
    p.add_argument("--batch-size", type=int, default=500, help="files per transaction")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-v", "--verbose", action="store_true", help="list every skipped file")
    p.add_argument("--dsn", help="database (default: SNAPSCOPE_DSN or the embedded server)")
    p.set_defaults(func=_ingest)
    p = sub.add_parser("grant-readonly", help="give a role read-only access (for hubs)")
    p.add_argument("role")
    p.add_argument(
        "--password-env",
        metavar="VAR",
        help="set the role's password from this environment variable",
    )
    p.add_argument("--dsn", help="database (default: SNAPSCOPE_DSN or the embedded server)")
    p.set_defaults(func=_grant)


def _start(args: argparse.Namespace) -> int:
    from snapscope.db import _server
    from snapscope.db._client import redact_dsn

    dsn = _server.start()
    print(f"snapscope database running: {redact_dsn(dsn)} (data in {_server.status()['pgdata']})")
    return 0


def _stop(args: argparse.Namespace) -> int:
    from snapscope.db import _server

    print("stopped" if _server.stop() else "not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    from snapscope.db import _server
    from snapscope.db._client import redact_dsn

    st = _server.status()
    print(f"running:   {'yes' if st['running'] else 'no'}")
    print(f"data:      {st['pgdata']}{'' if st['initialised'] else ' (not created yet)'}")
    print(f"binaries:  {st['bindir'] or '(chosen at first start)'}")
    if st["dsn"]:
        print(f"dsn:       {redact_dsn(st['dsn'])}   (full: snapscope db url)")
    if os.environ.get("SNAPSCOPE_DSN"):
        print(
            "note: SNAPSCOPE_DSN is set, so snapscope uses "
            f"{redact_dsn(os.environ['SNAPSCOPE_DSN'])}"
        )
    return 0 if st["running"] else 3


def _url(args: argparse.Namespace) -> int:
    from snapscope.db import default_dsn

    print(default_dsn())
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from snapscope.db import migrate

    done = migrate(args.dsn)
    print("applied: " + ", ".join(done) if done else "schema up to date")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from snapscope.db._ingest import ingest

    report = ingest(
        args.paths,
        args.provenance_tag,
        args.process,
        image_class=args.image_class,
        major=args.major,
        minor=args.minor,
        dbclient=args.dsn,
        workers=args.workers,
        batch_size=args.batch_size,
        progress=not args.no_progress,
    )
    if args.verbose:
        for path, why in sorted(report.skipped.items()):
            print(f"skipped {path}: {why}")
    print(report.summary())
    return 0


def _grant(args: argparse.Namespace) -> int:
    from snapscope.db._migrate import grant_readonly

    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            print(f"snapscope db grant-readonly: {args.password_env} is not set", file=sys.stderr)
            return 2
    created = grant_readonly(args.role, password=password, dbclient=args.dsn)
    print(f"{'created' if created else 'updated'} read-only role {args.role!r}")
    return 0

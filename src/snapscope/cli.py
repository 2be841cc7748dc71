"""The ``snapscope`` command line.

Each sub-command lives with the code it drives and registers itself here:
``snapscope simulate`` (:mod:`snapscope.sim._cli`), ``snapscope db`` (:mod:`snapscope.db._cli`),
``snapscope demo`` (:mod:`snapscope._demo`).
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

# (sub-command module, attribute that adds its parser); imported only when listed/run.
_SUBCOMMANDS = (
    "snapscope.sim._cli",
    "snapscope.db._cli",
    "snapscope._demo",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available sub-command registered."""
    parser = argparse.ArgumentParser(prog="snapscope", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(name)
        except ImportError as err:  # a sub-command whose module is not built yet
            if err.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # every command-line error is shown as one clear line
        from snapscope.exceptions import SnapscopeError

        if isinstance(err, SnapscopeError | OSError | ValueError):
            print(f"snapscope {args.command}: error: {err}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())

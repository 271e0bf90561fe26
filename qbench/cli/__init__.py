"""The ``qbench`` command line: run, list, show, compare, reproduce, report.

The only package that prints or exits: everything below it returns data or
raises. ``--plugin FILE.py|MODULE`` (``run``, ``run --resume``, ``list``,
``reproduce``, ``report``) loads your own solvers and problems
(:mod:`qbench.plugins`); a plugin that does not load, a broken installed
entry point, or a recorded plugin file that changed (``reproduce``,
``run --resume``, without ``--allow-changed-plugins``) is bad input.

Exit codes: 0 success (for ``run``: every case ran and was recorded, whatever
its status); 1 a case not ok (``run --strict``), a lost Dask scheduler (run),
a regression (compare) or a mismatch (reproduce); 2 bad input, with one line
on stderr and nothing written; 130 interrupted (finished cases kept).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..executors import ExecutorError, ExecutorSetupError
from .specs import UsageError, parse_seeds, parse_spec, parse_value

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _build_parser() -> argparse.ArgumentParser:
    from . import listing, run, runs

    parser = argparse.ArgumentParser(
        prog="qbench",
        description="PINNs and classical eigensolvers on the 1D Schrödinger equation, side by side.",
        epilog="Your own solvers and problems: --plugin FILE.py|MODULE on run, list, reproduce and report, "
        "a suite file's plugins key, or installed entry points (groups qbench.solvers, qbench.problems); "
        "see docs/plugins.md. "
        "Exit codes: 0 ok (run: every case ran and was recorded, whatever its status); 1 a case "
        "not ok (run --strict), a lost scheduler, a regression or a mismatch; 2 bad input (a plugin that "
        "does not load or changed included); 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"qbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (run, listing, runs):
        module.add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``qbench``; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    # Recorded in provenance exactly as given, also when called from Python.
    args.command_line = ["qbench", *(sys.argv[1:] if argv is None else argv)]
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_OK
    try:
        return args.handler(args)
    except (UsageError, ValueError, ExecutorSetupError) as exc:
        print(f"qbench: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except ExecutorError as exc:
        print(f"qbench: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("qbench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (a TOML parser's or a library's may span several)."""
    return " ".join(str(exc).split())


__all__ = ["UsageError", "main", "parse_seeds", "parse_spec", "parse_value"]

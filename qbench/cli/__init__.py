"""The ``qbench`` command line: run, list, show, compare, reproduce, report.

The only package that prints or exits: everything below it returns data or
raises. ``--plugin FILE.py|MODULE`` (``run``, ``run --resume``, ``list``,
``reproduce``, ``report``) loads your own solvers and problems
(:mod:`qbench.plugins`); a plugin that does not load, a broken installed
entry point, or a recorded plugin file that changed (``reproduce``,
``run --resume``, without ``--allow-changed-plugins``) is bad input.

Exit codes (:mod:`qbench.cli.exits`): 0 success (for ``run``: every case ran
and was recorded, whatever its status); 1 a case not ok (``run --strict``), a
lost Dask scheduler (run), a regression (compare), a mismatch (reproduce) or
an internal error; 2 bad input, with one line on stderr and nothing written;
74 a file that could not be written (finished cases kept); 128 + the signal's
number when SIGINT, SIGTERM or SIGHUP stopped it (130, 143, 129; finished
cases kept). No traceback is printed unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from collections.abc import Sequence

from .. import __version__, interruption
from .exits import (
    EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_IO,
    EXIT_OK,
    EXIT_USAGE,
    described,
)
from .specs import UsageError, parse_seeds, parse_spec, parse_value


def _build_parser() -> argparse.ArgumentParser:
    from . import listing, run, runs

    parser = argparse.ArgumentParser(
        prog="qbench",
        description="PINNs and classical eigensolvers on the 1D Schrödinger equation, side by side.",
        epilog="Your own solvers and problems: --plugin FILE.py|MODULE on run, list, reproduce and report, "
        "a suite file's plugins key, or installed entry points (groups qbench.solvers, qbench.problems); "
        "see docs/plugins.md. " + EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"qbench {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (run, listing, runs):
        module.add_parsers(commands)
    for command in commands.choices.values():  # also after the command: qbench run --debug
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser


DEBUG_HELP = "show the Python traceback of an error (default: one line on stderr)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``qbench``; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    # Recorded in provenance exactly as given, also when called from Python.
    args.command_line = ["qbench", *(sys.argv[1:] if argv is None else argv)]
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_OK
    debug = bool(getattr(args, "debug", False))
    try:
        with interruption.handling(), _one_line_warnings(debug):
            return args.handler(args)
    except KeyboardInterrupt as exc:
        print(f"qbench: interrupted ({interruption.signal_name(exc)})", file=sys.stderr)
        return interruption.exit_code(exc)
    except Exception as exc:
        if debug:
            raise
        message, code = described(exc)
        print(f"qbench: {message}", file=sys.stderr)
        return code


@contextlib.contextmanager
def _one_line_warnings(debug: bool):
    """Warnings as ``qbench: warning: ...`` lines (with --debug, Python's usual form with the source)."""
    if debug:
        yield
        return
    previous = warnings.formatwarning
    warnings.formatwarning = lambda message, category, *rest, **kw: f"qbench: warning: {message}\n"
    try:
        yield
    finally:
        warnings.formatwarning = previous


__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_IO",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "main",
    "parse_seeds",
    "parse_spec",
    "parse_value",
]

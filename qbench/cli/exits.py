"""The exit codes of every ``qbench`` command (docs/running.md) and the one-line message of each error."""

from __future__ import annotations

import sys

from .specs import UsageError

#: Success; for ``run``: every case ran and was recorded, whatever its status.
EXIT_OK = 0
#: A case not ok (``run --strict``), a lost Dask scheduler, a regression (``compare``), a moved
#: number (``reproduce``), or an internal error.
EXIT_FAILED = 1
#: Bad input: one line on stderr, nothing written.
EXIT_USAGE = 2
#: A file could not be written (a full disk, a read-only folder) after work began, or the report
#: of a complete run was not written: sysexits' EX_IOERR. Every finished case is kept.
EXIT_IO = 74
#: Ended by SIGINT (Ctrl-C); SIGTERM and SIGHUP give 128 + their number, 143 and 129, as a shell does.
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = (
    "Exit codes: 0 ok (run: every case ran and was recorded, whatever its status); 1 a case not ok "
    "(run --strict), a lost scheduler, a regression, a mismatch or an internal error; 2 bad input (a "
    "plugin that does not load or changed included), nothing written; 74 a file could not be written "
    "(a full disk, a read-only folder; finished cases kept), or the report of a complete run; 128 + "
    "the signal's number when stopped by SIGINT, SIGTERM or SIGHUP (130, 143, 129; finished cases kept)."
)


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (a TOML parser's or a library's may span several)."""
    return " ".join(str(exc).split())


def _errors(module: str, *names: str) -> tuple[type[BaseException], ...]:
    """Exception classes of ``module`` if it is imported, else none.

    An exception of a module never imported cannot have been raised; looking the classes
    up this way spares ``qbench list`` and ``--help`` importing executors (and pandas).
    """
    loaded = sys.modules.get(module)
    return tuple(getattr(loaded, name) for name in names) if loaded is not None else ()


def described(exc: Exception) -> tuple[str, int]:
    """One line for an error that reached the command line, and its exit code."""
    setup_error = _errors("qbench.executors.base", "ExecutorSetupError")
    if isinstance(exc, (UsageError, ValueError, *setup_error)):
        return f"error: {one_line(exc)}", EXIT_USAGE
    if isinstance(exc, _errors("qbench.executors.base", "ExecutorError")):
        return one_line(exc), EXIT_FAILED
    if isinstance(exc, OSError):
        return os_error(exc), EXIT_IO
    return (
        f"internal error: {type(exc).__name__}: {one_line(exc)} (run again with --debug for the traceback)",
        EXIT_FAILED,
    )


def os_error(exc: OSError) -> str:
    """One line for a failed read or write: the file and the reason."""
    if isinstance(exc, _errors("qbench.store", "StoreWriteError")) or not exc.filename:
        return one_line(exc)
    return f"cannot access {exc.filename}: {exc.strerror or one_line(exc)}"

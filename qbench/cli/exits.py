"""The exit codes of every ``qbench`` command (documented in docs/running.md)."""

from __future__ import annotations

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

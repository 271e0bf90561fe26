"""``qbench`` with a fault hook, for tests/test_faults.py.

Usage: ``python fault_launcher.py HOOK[,HOOK...] -- QBENCH_ARGS...`` (``-`` for no hook). Hooks:

``pause-tables=DIR``
    Before the run's tables are written: create ``DIR/tables``, then wait until ``DIR/go``
    exists (at most 60 s). A test sends its signal in between, while the tables are due.
``pause-report=DIR``
    The same before the report is built (``DIR/report``).
``enospc-after=N``
    From the (N+1)-th file the store writes on, every write fails with ENOSPC: a full disk
    where no small tmpfs can be mounted.
"""

from __future__ import annotations

import errno
import sys
import time
from pathlib import Path


def _pause(marker: Path) -> None:
    marker.touch()
    go = marker.parent / "go"
    end = time.monotonic() + 60
    while not go.exists() and time.monotonic() < end:
        time.sleep(0.05)


def _install(hook: str) -> None:
    name, _, value = hook.partition("=")
    if name == "pause-tables":
        from qbench import store

        original = store.RunDirectory.write_tables

        def write_tables(self):
            _pause(Path(value) / "tables")
            return original(self)

        store.RunDirectory.write_tables = write_tables
    elif name == "pause-report":
        from qbench import report

        original_build = report.build

        def build(*args, **kwargs):
            _pause(Path(value) / "report")
            return original_build(*args, **kwargs)

        report.build = build
    elif name == "enospc-after":
        import os as real_os

        from qbench import store

        allowed = [int(value)]

        class FullDisk:
            """``os`` as the store sees it, on a disk that fills after ``allowed`` writes."""

            def __getattr__(self, attribute):
                return getattr(real_os, attribute)

            @staticmethod
            def fsync(fd):
                if allowed[0] <= 0:
                    raise OSError(errno.ENOSPC, real_os.strerror(errno.ENOSPC))
                allowed[0] -= 1
                return real_os.fsync(fd)

        store.os = FullDisk()
    else:
        raise SystemExit(f"fault_launcher: unknown hook {hook!r}")


def main(argv: list[str]) -> int:
    hooks, separator, args = argv[0], argv[1], argv[2:]
    assert separator == "--", "usage: fault_launcher.py HOOKS -- QBENCH_ARGS"
    for hook in hooks.split(",") if hooks != "-" else []:
        _install(hook)
    from qbench.cli import main as qbench

    return qbench(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

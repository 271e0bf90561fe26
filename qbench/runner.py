"""Start, resume and finish runs: cases in, one persisted record per finished case out.

The runner joins the pieces: it writes the run's provenance, hands the
pending cases to an executor, persists every record the moment it arrives,
and rebuilds the tables at the end, also when interrupted. It prints nothing;
callbacks let the command line show progress.
"""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import plugins as _plugins
from .cases import Case
from .executors import Executor
from .harness import utc_now
from .interruption import deferred, signal_name
from .numerics import NUMERICS_VERSION
from .provenance import environment, git_state
from .store import (
    DEFAULT_ROOT,
    RunData,
    RunDirectory,
    StoreError,
    StoreWriteError,
    assemble,
    read_provenance,
)


def new_run_id(suite_name: str) -> str:
    """``quick-20261127-093000-1f2e``: suite, UTC start time, and a random suffix against collisions."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in suite_name) or "run"
    return f"{safe}-{stamp}-{secrets.token_hex(2)}"


def create(
    cases: Sequence[Case],
    *,
    suite: dict[str, Any],
    out: Path | None = None,
    command_line: Sequence[str] | None = None,
    settings: dict[str, Any] | None = None,
    plugins: Sequence[_plugins.Plugin] | None = None,
) -> RunDirectory:
    """Create a run directory with its provenance; nothing runs yet.

    Parameters
    ----------
    cases
        The cases, in the order the results table lists them.
    suite
        ``{"name", "source", "description"}`` of the suite the cases came from.
    out
        The run directory; default ``results/runs/<run_id>``.
    command_line
        Recorded verbatim; default ``sys.argv``.
    settings
        Anything else worth recording (device choice, overrides).
    plugins
        The plugins the cases need (:class:`qbench.plugins.Plugin`), recorded in
        ``provenance["plugins"]``; default every plugin loaded in this process.
    """
    if not cases:
        raise StoreError("no cases to run")
    run_id = new_run_id(suite.get("name", "run"))
    path = Path(out) if out is not None else DEFAULT_ROOT / run_id
    RunDirectory.check_new(path)
    seeds = sorted({c.seed for c in cases if c.seed is not None})
    provenance = {
        "run_id": run_id,
        "status": "created",
        "suite": suite,
        "command_line": list(sys.argv if command_line is None else command_line),
        "start_time": utc_now(),
        "end_time": None,
        "seeds": seeds,
        "settings": settings or {},
        "plugins": [p.to_dict() for p in (_plugins.loaded() if plugins is None else plugins)],
        "environment": environment(),
        "cases": [c.to_dict() for c in cases],
    }
    return RunDirectory.create(path, provenance)


def execute(
    run: RunDirectory,
    executor: Executor,
    *,
    on_start: Callable[[int, int], None] | None = None,
    on_case: Callable[[dict[str, Any]], None] | None = None,
    on_step: Callable[[int, int], None] | None = None,
    command_line: Sequence[str] | None = None,
) -> RunData:
    """Run every case of ``run`` that has no record yet, persisting each as it finishes.

    ``on_start(pending, total)`` is called once, ``on_case(record)`` after each
    case is on disk, ``on_step`` with progress inside a case. A resume is logged
    under ``provenance["resumed"]`` with the executor's plugins; a case record
    that does not read back whole is set aside first and its case runs again.

    However it ends, the tables are rebuilt from every record on disk and then
    the provenance says how: ``complete``; ``interrupted`` (Ctrl-C or a stop
    signal, :mod:`qbench.interruption`), with ``provenance["interruption"]``
    naming the signal and the cases that were in flight, which stay unfinished;
    or ``failed`` when a file could not be written, with ``provenance["failure"]``
    where the disk still takes it. A signal that arrives while these last writes
    happen is raised after them.

    Raises
    ------
    StoreError
        Another process is writing the run.
    StoreWriteError
        A record, a table or the provenance could not be written (a full disk, a
        read-only folder); every record already on disk is kept.
    KeyboardInterrupt
        :class:`qbench.interruption.Interrupted` for SIGTERM and SIGHUP.
    """
    with run.writer_lock():
        run.provenance = read_provenance(run.path)  # as the last writer left it
        set_aside = run.quarantine_corrupt_records()
        finished = run.finished_ids()
        pending = [case for case in run.cases if case.case_id not in finished]
        if run.provenance.get("status") != "created":  # a resume: keep the first start, log this one
            entry = {
                "time": utc_now(),
                "command_line": list(sys.argv if command_line is None else command_line),
                "pending_cases": len(pending),
                "plugins": [p.to_dict() for p in executor.plugins],  # the code that finishes it
                # The cases this resume computes come from this code, not the first start's.
                "code": {"git": git_state(), "numerics_version": NUMERICS_VERSION},
            }
            for key in ("interruption", "failure"):  # how the previous attempt ended
                if key in run.provenance:
                    entry[f"after_{key}"] = run.provenance.pop(key)
            if set_aside:
                entry["corrupt_records_set_aside"] = set_aside
            run.provenance.setdefault("resumed", []).append(entry)
        run.provenance["status"] = "running"
        executor.start()  # no-op if the caller started it; a cluster connects, so describe() lists workers
        run.provenance["executor"] = executor.describe()
        run.save_provenance()
        if on_start:
            on_start(len(pending), len(run.cases))
        status, ending = "interrupted", {}
        records = executor.run(pending, on_step=on_step)
        try:
            for record in records:
                run.write_case(record)
                if on_case:
                    on_case(record)
            status = "complete"
        except KeyboardInterrupt as exc:
            ending = {"interruption": {"signal": signal_name(exc), "time": utc_now()}}
            raise
        except StoreWriteError as exc:
            status, ending = "failed", {"failure": {"error": str(exc), "time": utc_now()}}
            raise
        finally:
            with deferred():
                if "interruption" in ending:
                    ending["interruption"]["cases_in_flight"] = sorted(executor.in_flight)
                records.close()  # stops the cases still in flight, without waiting for them
                data, write_error = _finish(run, status, ending)
        if write_error is not None:
            raise write_error
        return data


def _finish(run: RunDirectory, status: str, ending: dict[str, Any]) -> tuple[RunData, StoreWriteError | None]:
    """Rebuild the tables, then record how the run ended; the first write that failed, if any.

    The tables come first: a process killed between the two writes leaves the
    status ``running``, and :func:`qbench.store.load` then reads the records.
    """
    error = None
    try:
        data = run.write_tables()
    except StoreWriteError as exc:
        error = exc
        data = assemble(run.path, run.provenance)
        if status == "complete":
            status, ending = "failed", {"failure": {"error": str(exc), "time": utc_now()}}
    run.provenance["status"] = status
    run.provenance["end_time"] = utc_now()
    run.provenance.update(ending)
    try:
        run.save_provenance()
    except StoreWriteError as exc:
        error = error or exc
    return data, error

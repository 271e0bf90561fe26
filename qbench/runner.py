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
from .provenance import environment
from .store import DEFAULT_ROOT, RunData, RunDirectory, StoreError, read_provenance


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
    under ``provenance["resumed"]`` with the executor's plugins. On any exit (also
    Ctrl-C) the provenance says ``complete`` or ``interrupted`` and the tables
    hold every finished case. Raises :class:`~qbench.store.StoreError` if
    another process is writing the run.
    """
    with run.writer_lock():
        run.provenance = read_provenance(run.path)  # as the last writer left it
        finished = run.finished_ids()
        pending = [case for case in run.cases if case.case_id not in finished]
        if run.provenance.get("status") != "created":  # a resume: keep the first start, log this one
            run.provenance.setdefault("resumed", []).append(
                {
                    "time": utc_now(),
                    "command_line": list(sys.argv if command_line is None else command_line),
                    "pending_cases": len(pending),
                    "plugins": [p.to_dict() for p in executor.plugins],  # the code that finishes it
                }
            )
        run.provenance["status"] = "running"
        executor.start()  # no-op if the caller started it; a cluster connects, so describe() lists workers
        run.provenance["executor"] = executor.describe()
        run.save_provenance()
        if on_start:
            on_start(len(pending), len(run.cases))
        status = "interrupted"
        try:
            for record in executor.run(pending, on_step=on_step):
                run.write_case(record)
                if on_case:
                    on_case(record)
            status = "complete"
        finally:
            run.provenance["status"] = status
            run.provenance["end_time"] = utc_now()
            run.save_provenance()
            data = run.write_tables()
        return data

"""The persisted record of one case: its graded rows with what was measured around the solves.

The columns are the results table's (docs/results.md, :data:`qbench.store.SCHEMA`). Each state
row carries its own ``status`` and ``message`` (the solver's verdict on that state,
:meth:`Solution.statuses`) beside the case's ``case_status`` and ``case_message``; the case is
``ok`` only if every state is.
"""

from __future__ import annotations

import math
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import solvers
from ..cases import Case, canonical_json
from ..solvers import Status
from .certify import UNCERTIFIED_COLUMNS
from .grading import ungraded_rows
from .timing import Timing, utc_now

#: The timing of a case that never solved.
UNTIMED = Timing(math.nan, math.nan, math.nan, 0, 0.0)


@dataclass
class Measured:
    """What the harness measured around the solves of one case (NaN where unknown)."""

    timing: Timing = UNTIMED
    peak_cpu_mb: float = math.nan  # absolute peak RSS of the process during the case
    cpu_at_start_mb: float = math.nan  # RSS when the case started
    peak_gpu_mb: float = math.nan

    @property
    def cpu_increase_mb(self) -> float:
        """What the case itself added to the process's resident set at its peak (NaN where unknown)."""
        return self.peak_cpu_mb - self.cpu_at_start_mb


def case_status(status: Status, message: str, states: list[tuple[Status, str]]) -> tuple[Status, str]:
    """The case's verdict: the solver's own, but never ``ok`` while a state is not.

    A solver that says ``ok`` for the case but not for some state gets the first such state's
    status, and a message that names the states that are not ok.
    """
    status = Status(status)
    bad = [(k, Status(s), m) for k, (s, m) in enumerate(states) if Status(s) != Status.OK]
    if status != Status.OK or not bad:
        return status, message
    return bad[0][1], "; ".join(f"state {k}: {s.value}" + (f" ({m})" if m else "") for k, s, m in bad)


def case_record(
    case: Case,
    status: Status,
    message: str,
    graded: list[dict[str, Any]] | None,
    info: dict[str, Any],
    measured: Measured,
    started_at: str,
    started: float,
    states: list[tuple[Status, str]] | None = None,
) -> dict[str, Any]:
    """Assemble the persisted record; ``graded=None`` gives NaN energies beside the exact ones.

    Parameters
    ----------
    case
        The case.
    status, message
        The solver's verdict on the case (or the harness's: an exception, a timeout).
    graded
        The graded rows (:func:`qbench.harness.grading.grade`), or ``None`` for a case that gave
        no solution.
    info
        The solver's ``info``; its ``history`` becomes the record's ``history``.
    measured
        Timing and memory.
    started_at, started
        The case's start: UTC ISO time and ``time.perf_counter()``.
    states
        Each state's ``(status, message)``; ``None`` (an exception, a timeout, a case that never
        ran) gives every state the case's status and message.

    Returns
    -------
    dict
        ``case_id``, ``case`` (``Case.to_dict()``), ``rows`` (one per state, the columns of the
        results table), ``history`` (training history rows, possibly empty),
        ``started_at``/``finished_at`` (UTC ISO), ``host`` and ``pid``.
    """
    problem = case.build()[0]  # shared and cached per process (Case.build): no new reference
    if graded is None:
        graded = [
            {**row, **UNCERTIFIED_COLUMNS, "tolerance": case.tolerance}
            for row in ungraded_rows(problem, case.n_states)
        ]
    history = info.pop("history", [])
    certify_s = float(info.pop("certify_s", math.nan))
    timing = measured.timing
    if states is None or len(states) != len(graded):
        states = [(Status(status), message)] * len(graded)
    status, message = case_status(status, message, states)
    common = {
        "case_id": case.case_id,
        "problem": case.problem,
        "problem_params": canonical_json(case.problem_params),
        "dim": problem.dim,
        "solver": case.solver,
        "family": solvers.family(case.solver, unregistered="unknown"),
        "solver_options": canonical_json(case.solver_options),
        "seed": case.seed,
        "device": str(info.get("device", "cpu")),
        "n_states": case.n_states,
    }
    measurements = {
        "wall_time_s": timing.median_s,
        "wall_time_min_s": timing.min_s,
        "wall_time_max_s": timing.max_s,
        "repeats": timing.repeats,
        "cpu_mem_increase_mb": measured.cpu_increase_mb,
        "peak_rss_mb": measured.peak_cpu_mb,
        "cpu_mem_at_start_mb": measured.cpu_at_start_mb,
        "peak_gpu_mem_mb": measured.peak_gpu_mb,
        "iterations": _count(info.get("iterations", math.nan)),
        "case_status": Status(status).value,
        "case_message": message,
        "case_time_s": time.perf_counter() - started,
        "solve_time_total_s": timing.total_s,
        "certify_s": certify_s,
        "solver_info": canonical_json(_plain(info)),
    }
    return {
        "case_id": case.case_id,
        "case": case.to_dict(),
        "rows": [
            {**common, **row, **measurements, "status": Status(s).value, "message": m}
            for row, (s, m) in zip(graded, states)
        ],
        "history": [{"case_id": case.case_id, **_plain(row)} for row in history],
        "started_at": started_at,
        "finished_at": utc_now(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def unfinished_record(case: Case, status: Status, message: str) -> dict[str, Any]:
    """The record of a case that produced nothing (its worker died, say): NaN energies, the reason."""
    return case_record(case, status, message, None, {}, Measured(), utc_now(), time.perf_counter())


def _count(value: Any) -> float:
    """The solver's ``iterations`` as a number; NaN for anything else (a list of counts, say, which
    ``solver_info`` keeps), so that no solver's info can stop its case from being recorded."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _plain(value: Any) -> Any:
    """numpy scalars and arrays to Python numbers and lists, so a record is plain JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)

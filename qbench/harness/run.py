"""Run one case: build it, solve it (timed, within its timeout), measure memory, grade every state."""

from __future__ import annotations

import time
from typing import Any

from threadpoolctl import threadpool_limits

from ..cases import Case
from ..memory import CpuPeak, GpuPeak
from ..metrics import sorted_by_energy
from ..solvers import Solution, Status
from .certify import certified_rows
from .grading import graded
from .records import Measured, case_record
from .sampling import sample_wavefunctions
from .timeout import CaseTimeout, deadline, timeout_message, torch_state_kept
from .timing import MAX_REPEATS, TIMING_BUDGET_S, time_solve, utc_now

#: BLAS threads per case, whichever executor runs it.
BLAS_THREADS = 1


def run_case(
    case: Case, timing_budget_s: float = TIMING_BUDGET_S, max_repeats: int = MAX_REPEATS
) -> dict[str, Any]:
    """Build, solve, time, measure and grade one case.

    Never raises for a solver's sake: an exception, a timeout or a solver's own verdict all become
    the ``status`` and ``message`` of the case's rows; an exception or a timeout gives every state
    the case's status.

    Parameters
    ----------
    case
        The case.
    timing_budget_s, max_repeats
        How fast solves are repeated (:func:`qbench.harness.timing.time_solve`).

    Returns
    -------
    dict
        The case record that the store persists (:func:`qbench.harness.records.case_record`)
        with ``wavefunctions``: each state and the exact one sampled for plots
        (:func:`qbench.harness.sampling.sample_wavefunctions`).
    """
    # One BLAS thread per case: the same rounding in this process, a worker pool or a Dask worker
    # (Dask's nanny sets OMP_NUM_THREADS=1), and no oversubscription when cases run side by side.
    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        return _run_case(case, timing_budget_s, max_repeats)


def _run_case(case: Case, timing_budget_s: float, max_repeats: int) -> dict[str, Any]:
    started_at, started = utc_now(), time.perf_counter()
    problem, solver = case.build()
    try:  # one-time imports (a neural solver's torch runtime): outside the time and memory measured
        solver.prepare()
        unprepared: Exception | None = None
    except Exception as exc:
        unprepared = exc
    cpu, gpu = CpuPeak(), GpuPeak()
    measured = Measured(cpu_at_start_mb=cpu.start())
    gpu.start()
    solution: Solution | None = None
    states: list[tuple[Status, str]] | None = None
    try:
        if unprepared is not None:
            raise unprepared
        with torch_state_kept(), deadline(case.timeout_s):
            solution, measured.timing = time_solve(
                solver, problem, case.n_states, timing_budget_s, max_repeats
            )
        # The states are graded and recorded in ascending energy, each with its own status.
        solution = sorted_by_energy(solution, problem)
        status, message = solution.status, solution.message
        states = solution.statuses()
    except CaseTimeout as exc:
        status, message = Status.TIMEOUT, str(exc) or timeout_message(case.timeout_s)
    except Exception as exc:
        status, message = Status.FAILED, f"{type(exc).__name__}: {exc}"
    measured.peak_cpu_mb = cpu.peak_mb()
    info = dict(solution.info) if solution is not None else {}
    measured.peak_gpu_mb = gpu.peak_mb(used_cuda=str(info.get("device", "cpu")).startswith("cuda"))
    rows, samples = None, []
    if solution is not None:
        try:
            rows, grades = graded(solution, problem)
            samples = sample_wavefunctions(solution, problem, grades=grades)
        except Exception as exc:
            status, message = Status.FAILED, f"grading failed: {type(exc).__name__}: {exc}"
            states = None
        if rows is not None and states is not None:
            # Outside the solve's time: what qbench spends checking a state is not the method's cost.
            rows, states, info["certify_s"] = certified_rows(rows, states, solution, problem, case.tolerance)
    record = case_record(case, status, message, rows, info, measured, started_at, started, states)
    record["wavefunctions"] = [{"case_id": case.case_id, **row} for row in samples]
    return record

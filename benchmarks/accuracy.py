"""asv: accuracy and cost as regression history, graded by the harness.

Every solver (quick-suite options, ground state, seed 0) on every canonical
problem is run once through ``qbench.harness.run_case`` in the module's
``setup_cache`` (shared by every track here); the ``track_`` benchmarks
return what the harness recorded. asv treats every track as
lower-is-better, which holds for errors, times, memory and failures.
"""

from __future__ import annotations

from .common import PROBLEMS, SOLVERS, graded_row

METRICS = ["rel_error", "l2_error"]
CASES = [PROBLEMS, SOLVERS]
CASE_NAMES = ["problem", "solver"]


def setup_cache():
    return {(problem, solver): graded_row(problem, solver) for problem in PROBLEMS for solver in SOLVERS}


def _track(unit: str, params=CASES, param_names=CASE_NAMES):
    """asv attributes of a track over the cases; the timeout covers ``setup_cache``'s trainings."""

    def decorate(func):
        func.params, func.param_names, func.unit, func.timeout = params, param_names, unit, 600
        return func

    return decorate


@_track("relative", params=[*CASES, METRICS], param_names=[*CASE_NAMES, "metric"])
def track_error(rows, problem, solver, metric):
    """Relative energy error or wavefunction L2 error of the ground state."""
    return rows[(problem, solver)][metric]


@_track("seconds")
def track_wall_time(rows, problem, solver):
    """Wall time of one solve (for a PINN, one training), as the harness measured it."""
    return rows[(problem, solver)]["wall_time_s"]


@_track("MiB")
def track_peak_cpu_memory(rows, problem, solver):
    """Peak resident memory of the solving process during the case, as the harness measured it."""
    return rows[(problem, solver)]["peak_cpu_mem_mb"]


@_track("cases not ok")
def track_not_ok(rows, problem, solver):
    """1 when the case's status is not ``ok`` (failed, diverged, timeout), else 0."""
    return float(rows[(problem, solver)]["status"] != "ok")

"""asv: accuracy and cost as regression history, graded by the harness.

Every solver (quick-suite options, ground state, seed 0) on every canonical
problem is run once through ``qbench.harness.run_case`` in the module's
``setup_cache`` (shared by every track here); the ``track_`` benchmarks
return what the harness recorded. asv treats every track as
lower-is-better, which holds for errors, times and memory.
"""

from __future__ import annotations

from .common import PROBLEMS, SOLVERS, graded_row

METRICS = ["rel_error", "l2_error"]
CASES = [PROBLEMS, SOLVERS]
CASE_NAMES = ["problem", "solver"]


def setup_cache():
    return {(problem, solver): graded_row(problem, solver) for problem in PROBLEMS for solver in SOLVERS}


def track_error(rows, problem, solver, metric):
    """Relative energy error or wavefunction L2 error of the ground state."""
    return rows[(problem, solver)][metric]


track_error.params = [*CASES, METRICS]
track_error.param_names = [*CASE_NAMES, "metric"]
track_error.unit = "relative"
track_error.timeout = 600  # setup_cache trains every PINN configuration on every problem


def track_wall_time(rows, problem, solver):
    """Wall time of one solve (for a PINN, one training), as the harness measured it."""
    return rows[(problem, solver)]["wall_time_s"]


track_wall_time.params = CASES
track_wall_time.param_names = CASE_NAMES
track_wall_time.unit = "seconds"
track_wall_time.timeout = 600


def track_peak_cpu_memory(rows, problem, solver):
    """Peak resident memory of the solving process during the case, as the harness measured it."""
    return rows[(problem, solver)]["peak_cpu_mem_mb"]


track_peak_cpu_memory.params = CASES
track_peak_cpu_memory.param_names = CASE_NAMES
track_peak_cpu_memory.unit = "MiB"
track_peak_cpu_memory.timeout = 600


def track_not_ok(rows, problem, solver):
    """1 when the case's status is not ``ok`` (failed, diverged, timeout), else 0."""
    return float(rows[(problem, solver)]["status"] != "ok")


track_not_ok.params = CASES
track_not_ok.param_names = CASE_NAMES
track_not_ok.unit = "cases not ok"
track_not_ok.timeout = 600

"""Run one case (problem x solver x n_states), time it, and grade it against the exact reference.

The harness owns timing and grading so that every solver is measured the same
way; solvers never grade themselves.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .metrics import abs_energy_error, rel_energy_error, wavefunction_l2_error
from .problems import Problem
from .solvers import Solution, Solver


@dataclass(frozen=True)
class Timing:
    """Wall time of repeated solves: median, min and max over ``repeats``."""

    median_s: float
    min_s: float
    max_s: float
    repeats: int


def time_solve(
    solver: Solver, problem: Problem, n_states: int, budget_s: float = 0.2, max_repeats: int = 25
) -> tuple[Solution, Timing]:
    """Solve, repeating sub-second solves to report a stable median.

    The first solve always counts; further ones run while the total stays under
    ``budget_s`` (auto-ranging, as ``timeit`` does), up to ``max_repeats``.
    """
    times = []
    solution = None
    while True:
        start = time.perf_counter()
        solution = solver.solve(problem, n_states)
        times.append(time.perf_counter() - start)
        if len(times) >= max_repeats or sum(times) + times[-1] > budget_s:
            break
    return solution, Timing(statistics.median(times), min(times), max(times), len(times))


def grade(solution: Solution, problem: Problem) -> list[dict[str, Any]]:
    """One row per state: energy, exact energy, absolute, relative and L2 errors."""
    reference = problem.reference(solution.n_states)
    energy_errors = abs_energy_error(solution.energies, reference.energies)
    relative_errors = rel_energy_error(solution.energies, reference.energies)
    l2_errors = wavefunction_l2_error(solution, problem, reference)
    return [
        {
            "state": state,
            "energy": float(solution.energies[state]),
            "energy_ref": float(reference.energies[state]),
            "abs_error": float(energy_errors[state]),
            "rel_error": float(relative_errors[state]),
            "l2_error": float(l2_errors[state]),
        }
        for state in range(solution.n_states)
    ]


def run_case(problem: Problem, solver: Solver, n_states: int) -> list[dict[str, Any]]:
    """Solve, time and grade one case; one row per state.

    A solver that raises is recorded with status ``failed`` and its message,
    so one bad case never stops a suite.
    """
    base = {"problem": problem.name, "solver": solver.name, "n_states": n_states}
    try:
        solution, timing = time_solve(solver, problem, n_states)
    except Exception as exc:
        return [
            {
                **base,
                "state": s,
                "energy": np.nan,
                "status": "failed",
                "message": f"{type(exc).__name__}: {exc}",
            }
            for s in range(n_states)
        ]
    timing_columns = {
        "wall_time_s": timing.median_s,
        "wall_time_min_s": timing.min_s,
        "wall_time_max_s": timing.max_s,
        "repeats": timing.repeats,
    }
    return [
        {
            **base,
            **row,
            **timing_columns,
            "status": solution.status.value,
            "message": solution.message,
        }
        for row in grade(solution, problem)
    ]

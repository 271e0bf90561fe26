"""Wall time of a case's solves, and the clock that stamps its record."""

from __future__ import annotations

import datetime as _dt
import statistics
import time
from dataclasses import dataclass

from ..problems import Problem
from ..solvers import Solution, Solver

#: Solves faster than this are repeated (after a warm-up) until their total reaches it.
TIMING_BUDGET_S = 0.2
#: The most timed solves of one case.
MAX_REPEATS = 25


@dataclass(frozen=True)
class Timing:
    """Wall time of repeated solves: median, min and max over ``repeats``.

    ``total_s`` is all the time spent in ``solve()``, the warm-up included.
    """

    median_s: float
    min_s: float
    max_s: float
    repeats: int
    total_s: float


def utc_now() -> str:
    """The current time, ISO 8601 in UTC with microseconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def time_solve(
    solver: Solver,
    problem: Problem,
    n_states: int,
    budget_s: float = TIMING_BUDGET_S,
    max_repeats: int = MAX_REPEATS,
) -> tuple[Solution, Timing]:
    """Solve, repeating sub-second solves to report a stable median.

    When a solve is faster than ``budget_s``, that first solve counts as a
    warm-up and is not reported (lazy imports, caches and page faults of a
    fresh process would otherwise inflate the first case of a run); timed solves run while the total
    stays under ``budget_s`` (auto-ranging, as ``timeit`` does), up to
    ``max_repeats``. A slower solve is timed once, as is every solve with
    ``budget_s=0``.

    Parameters
    ----------
    solver, problem, n_states
        What to solve: ``solver.solve(problem, n_states)``.
    budget_s
        The total time below which solves are repeated.
    max_repeats
        The most timed solves.

    Returns
    -------
    tuple of Solution and Timing
        The last solve's solution and the timing of the reported solves.
    """
    start = time.perf_counter()
    solution = solver.solve(problem, n_states)
    first = time.perf_counter() - start
    if not 0 < first < budget_s:
        return solution, Timing(first, first, first, 1, first)
    times = []  # the first solve was the warm-up
    while True:
        start = time.perf_counter()
        solution = solver.solve(problem, n_states)
        times.append(time.perf_counter() - start)
        if len(times) >= max_repeats or sum(times) + times[-1] > budget_s:
            break
    timing = Timing(statistics.median(times), min(times), max(times), len(times), first + sum(times))
    return solution, timing

"""Timing of a case's solves: fast solves repeated after a warm-up, slow ones timed once."""

from __future__ import annotations

import time

import numpy as np

from qbench import solvers
from qbench.harness.timing import time_solve
from qbench.problems import get as get_problem
from qbench.solvers import Solution, Solver


def test_time_solve_repeats_fast_solves_and_solves_once_with_zero_budget():
    solver, problem = solvers.get("fd", n_points=100), get_problem("infinite_well")
    _, timing = time_solve(solver, problem, 1, budget_s=0.05)
    assert timing.repeats > 1 and timing.min_s <= timing.median_s <= timing.max_s
    _, once = time_solve(solver, problem, 1, budget_s=0.0)
    assert once.repeats == 1


def test_the_first_of_repeated_solves_is_a_warm_up_and_not_reported():
    class SlowFirst(Solver):
        name = "test-slow-first"
        takes_points = True
        calls = 0

        def _solve(self, problem, n_states):
            type(self).calls += 1
            time.sleep(0.05 if type(self).calls == 1 else 0.001)
            return Solution(np.zeros(n_states), lambda points: np.zeros((n_states, len(points))))

    _, timing = time_solve(SlowFirst(), get_problem("infinite_well"), 1, budget_s=0.1)
    assert timing.max_s < 0.04 and timing.repeats >= 2
    assert timing.total_s >= 0.05 + timing.repeats * 0.001

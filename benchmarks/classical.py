"""asv: speed and peak memory of the classical solvers (fd over N, shooting)."""

from __future__ import annotations

import qbench

from .common import PROBLEMS


class FiniteDifference:
    """``fd`` on the finite well, states 0-2, at three resolutions."""

    params = [[100, 1000, 10000]]
    param_names = ["n_points"]

    def setup(self, n_points):
        self.problem = qbench.problems.get("finite_well")
        self.solver = qbench.solvers.get("fd", n_points=n_points)

    def time_solve(self, n_points):
        self.solver.solve(self.problem, 3)

    def peakmem_solve(self, n_points):
        self.solver.solve(self.problem, 3)


class Shooting:
    """``shooting`` at its default tolerance, states 0-2, on each canonical problem."""

    params = [PROBLEMS]
    param_names = ["problem"]

    def setup(self, problem):
        self.problem = qbench.problems.get(problem)
        self.solver = qbench.solvers.get("shooting")

    def time_solve(self, problem):
        self.solver.solve(self.problem, 3)

    def peakmem_solve(self, problem):
        self.solver.solve(self.problem, 3)

"""asv: speed and peak memory of the classical solvers (fd and spectral over N, shooting, pyslise)."""

from __future__ import annotations

import qbench

from .common import PROBLEMS, absent_unless_supported


class FiniteDifference:
    """``fd`` on the finite well, states 0-2, at three resolutions."""

    params = [[100, 1000, 10000]]
    param_names = ["n_points"]

    def setup(self, n_points):
        with absent_unless_supported():
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
        with absent_unless_supported():
            self.problem = qbench.problems.get(problem)
            self.solver = qbench.solvers.get("shooting")

    def time_solve(self, problem):
        self.solver.solve(self.problem, 3)

    def peakmem_solve(self, problem):
        self.solver.solve(self.problem, 3)


class Spectral:
    """``spectral`` on the finite well, states 0-2, at three resolutions."""

    params = [[50, 100, 200, 400]]
    param_names = ["n_points"]

    def setup(self, n_points):
        with absent_unless_supported():  # spectral is younger than the asv history
            self.problem = qbench.problems.get("finite_well")
            self.solver = qbench.solvers.get("spectral", n_points=n_points)

    def time_solve(self, n_points):
        self.solver.solve(self.problem, 3)

    def peakmem_solve(self, n_points):
        self.solver.solve(self.problem, 3)


class Pyslise:
    """``pyslise`` (optional ``gold`` extra; skipped where it is not installed) on each canonical problem."""

    params = [PROBLEMS]
    param_names = ["problem"]

    def setup(self, problem):
        with absent_unless_supported():  # also where the extra is not installed
            self.solver = qbench.solvers.get("pyslise")
            self.problem = qbench.problems.get(problem)

    def time_solve(self, problem):
        self.solver.solve(self.problem, 3)

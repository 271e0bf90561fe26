"""asv: speed and peak memory in 2D and 3D (the scaling study's solvers, ground state + first group).

The problem is the separable finite well, ``separable:parts=["finite_well"] * d``, whose ground
state is single and whose first excited level is d-fold degenerate; n_states = 1 + d takes both.
Grids are sized so that one solve takes about a second on a laptop core; the full ladder of
resolutions is the ``dimensions`` suite (``qbench run --suite dimensions-long``).
"""

from __future__ import annotations

import qbench

from .common import absent_unless_supported

DIMS = [2, 3]
#: Points per axis per solver and dimension: ``fd`` about 10^4 unknowns in 2D, 3 * 10^4 in 3D.
POINTS = {"fd": {2: 100, 3: 32}, "spectral": {2: 33, 3: 27}}


def _problem(dim: int):
    return qbench.problems.get("separable", parts=["finite_well"] * dim)


class GridSolversND:
    """``fd`` (eigensolver auto) and ``spectral`` (tensor Chebyshev) on the separable finite well."""

    params = [list(POINTS), DIMS]
    param_names = ["solver", "dim"]

    def setup(self, solver, dim):
        with absent_unless_supported():  # d > 1 is younger than the asv history
            self.problem = _problem(dim)
            self.solver = qbench.solvers.get(solver, n_points=POINTS[solver][dim])

    def time_solve(self, solver, dim):
        self.solver.solve(self.problem, 1 + dim)

    def peakmem_solve(self, solver, dim):
        self.solver.solve(self.problem, 1 + dim)


class PinnND:
    """A short training of the residual ``pinn`` on the ground state in d = 2, 3 (fixed budget)."""

    params = [DIMS]
    param_names = ["dim"]
    timeout = 300

    def setup(self, dim):
        with absent_unless_supported():
            self.problem = _problem(dim)
            self.solver = qbench.solvers.get(
                "pinn", warm_steps=50, warm_lbfgs_iterations=20, lbfgs_iterations=20, seed=0
            )

    def time_training(self, dim):
        self.solver.solve(self.problem, 1)

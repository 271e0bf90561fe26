"""asv: speed and peak memory of training the family ``pinn`` (networks trained on the residual).

The family ``neural-variational`` (nn-galerkin) has its own module, ``neural_variational.py``.
"""

from __future__ import annotations

import qbench

from .common import absent_unless_supported

#: 100 optimizer steps of each solver, Adam only: the residual ``pinn`` splits them between its
#: Rayleigh warm-up and its residual phase, with no L-BFGS (its defaults train for minutes).
SHORT = {
    "pinn": {"warm_steps": 50, "warm_lbfgs_iterations": 0, "adam_steps": 50, "lbfgs_iterations": 0},
    "deepxde": {"adam_steps": 100, "lbfgs_steps": 0},
}


def short_options(solver: str) -> dict:
    """The options of ``solver``'s short training (:data:`SHORT`, else 100 Adam steps)."""
    return SHORT.get(solver, {"adam_steps": 100})


class ShortTraining:
    """A whole ``solve()`` with 100 Adam steps (``SHORT``), ground state, seed 0, on the finite well,
    for every registered solver of the family."""

    params = [["pinn", "pinn-fixed", "pinn-trainable", "deepxde"]]
    param_names = ["solver"]
    timeout = 120

    def setup(self, solver):
        with absent_unless_supported():  # also an optional extra (deepxde) not installed here
            self.problem = qbench.problems.get("finite_well")
            self.solver = qbench.solvers.get(solver, seed=0, **short_options(solver))
        # qbench imports torch and a neural solver's runtime only when it first runs; prepare()
        # (where it exists) does that here, outside the time, as `import qbench` used to.
        prepare = getattr(self.solver, "prepare", None)
        if prepare is not None:
            prepare()

    def time_training(self, solver):
        self.solver.solve(self.problem, 1)

    def peakmem_training(self, solver):
        self.solver.solve(self.problem, 1)

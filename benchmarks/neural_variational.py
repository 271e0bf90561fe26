"""asv: speed and peak memory of training the family ``neural-variational`` (nn-galerkin).

One optimizer step of the Galerkin loss, and a short training of each solver of the family.
"""

from __future__ import annotations

import numpy as np
import torch

import qbench

from .common import PROBLEMS, absent_unless_supported


class OptimizerStep:
    """One Adam step of ``nn-galerkin``'s Galerkin loss (default width, 512 Gauss points, 3 states)."""

    params = [PROBLEMS]
    param_names = ["problem"]

    def setup(self, problem):
        with absent_unless_supported():  # the solver's own modules, imported as they were at the commit
            torch.manual_seed(0)
            torch.set_num_threads(1)  # as the solver trains (option threads=1)
            defaults = qbench.solvers.get("nn-galerkin")
            built = qbench.problems.get(problem)
            size = (defaults.width, defaults.depth, defaults.activation)
            try:  # since the one-code-path redesign: qbench.solvers.neural, points (n, d)
                from qbench.solvers.neural import functionals, rules, trial

                self.network = trial.make_network(built, *size, kink_features=True).double()
                x, w, _ = rules.training_rule(built, "gauss", defaults.n_points, True, 0, None)
                self.ritz_sum = functionals.ritz_sum
            except ImportError:  # before it: qbench.solvers.pinn, 1D positions (n,)
                from qbench.solvers.pinn import objectives
                from qbench.solvers.pinn.network import TrialFunction

                self.network = TrialFunction(built.domain, built.breakpoints, *size).double()
                x, w = objectives.rule(built, "gauss", defaults.n_points, True, np.random.default_rng(0))
                self.ritz_sum = objectives.ritz_sum
        self.tensors = [torch.as_tensor(a, dtype=torch.float64) for a in (x, w, built.potential(x))]
        self.optimizer = torch.optim.Adam(self.network.parameters(), lr=defaults.learning_rate)

    def time_adam_step(self, problem):
        self.optimizer.zero_grad(set_to_none=True)
        loss, _ = self.ritz_sum(self.network, *self.tensors, 3)
        loss.backward()
        self.optimizer.step()


class ShortTraining:
    """A whole ``solve()`` with 100 Adam steps, ground state, seed 0, on the finite well, for every
    registered solver of the family."""

    params = [["nn-galerkin"]]
    param_names = ["solver"]
    timeout = 120

    def setup(self, solver):
        with absent_unless_supported():
            self.problem = qbench.problems.get("finite_well")
            self.solver = qbench.solvers.get(solver, adam_steps=100, seed=0)

    def time_training(self, solver):
        self.solver.solve(self.problem, 1)

    def peakmem_training(self, solver):
        self.solver.solve(self.problem, 1)

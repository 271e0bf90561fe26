"""``vmc``: variational Monte Carlo with a neural wavefunction, as the field runs it."""

from __future__ import annotations

from typing import Any

from ..._validation import check_choice, check_int, check_positive, check_positive_int
from ...problems import Problem
from ...problems.base import MAX_SAMPLED_DIM
from ..base import Option, Solution
from .base import DEVICE, DTYPE, THREADS, TIME_LIMIT, NeuralSolver, check_time_limit, network_options


def _seed(name: str, value: Any) -> int:
    return check_int(name, value, minimum=0)


class VariationalMonteCarlo(NeuralSolver):
    """Variational Monte Carlo: a positive network wavefunction trained on samples of |psi|^2.

    log psi = N(u) + sum_i [log(1 - t_i^2) - 8 t_i^2], t the coordinate scaled to (-1, 1) by the
    box: psi vanishes on every wall, and the Gaussian envelope's width is set by the box alone
    (it falls to exp(-8) at the walls), never by V or by the answer. Metropolis sampling of
    |psi|^2 on ``walkers`` seeded chains; the local energy E_L = (H psi) / psi with the
    network's Laplacian carried forward through its layers; the covariance gradient
    2 E[(E_L - <E_L>) d log psi], taken by Adam. The reported energy is the mean local energy
    over ``eval_samples`` fresh samples; ``info`` holds its standard error (batch means) and the
    local energy's variance, which is zero at an eigenstate (its square root bounds the distance
    to an eigenvalue, by Weinstein). Details: :mod:`qbench.solvers.neural.vmc_training`.

    Ground state only: psi is positive, so it has no node. The energy is a statistical estimate;
    its standard error is in ``info["energy_standard_error"]``.
    """

    name = "vmc"
    family = "neural-variational"
    runtime = "vmc_training"
    dimensions = tuple(range(1, MAX_SAMPLED_DIM + 1))
    #: psi is positive: it has no node, so it is the ground state or nothing.
    max_states = 1
    options = {
        **network_options(32),
        "walkers": Option(1024, check_positive_int, "Metropolis chains (samples per update), >= 1"),
        "steps": Option(5000, check_positive_int, "parameter updates, >= 1"),
        "sweeps_per_step": Option(4, check_positive_int, "Metropolis moves per walker between updates, >= 1"),
        "optimizer": Option(
            "sr", lambda k, v: check_choice(k, v, ("sr", "adam")), "sr (stochastic reconfiguration) or adam"
        ),
        "budget_s": Option(
            0.0,
            check_time_limit,
            "stop updating after this many seconds and estimate: a budget, not a failure (0 = none)",
        ),
        "learning_rate": Option(0.05, check_positive, "initial step of sr (or Adam's learning rate), > 0"),
        "sr_shift": Option(1e-3, check_positive, "diagonal shift of sr's covariance matrix, > 0"),
        "decay_steps": Option(
            200.0, check_positive, "the learning rate is divided by 1 + step / decay_steps, > 0"
        ),
        "eval_samples": Option(2**19, check_positive_int, "samples of the final energy estimate, >= 1"),
        "norm_samples": Option(2**16, check_positive_int, "samples of psi's normalization, >= 1"),
        "log_every": Option(50, check_positive_int, "updates between history rows, >= 1"),
        "seed": Option(0, _seed, "seed of the network and of every chain, >= 0"),
        "time_limit_s": TIME_LIMIT,
        "device": DEVICE,
        "dtype": DTYPE,
        "threads": THREADS,
    }

    def _solve_with_threads(self, problem: Problem, n_states: int) -> Solution:
        from .vmc_training import train_solver

        return train_solver(self, problem, n_states)

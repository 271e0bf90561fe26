"""The training of ``pinn`` (:class:`~.pinn.ResidualPinn`) in any dimension.

Per state: a network whose output has the states trained before it projected out
(:class:`LowerStates`), a warm start on the Rayleigh quotient (Adam, then L-BFGS), then the
scale-free residual (Adam, then L-BFGS). The end of the solve (rotation, checks, info) is
:func:`.states.finish`.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ... import progress
from ...problems import Problem
from ..base import Solution, Status
from . import functionals, trial
from .base import NeuralSolver, torch_setup
from .rules import ground_state_floor, potential, training_rule
from .states import FineRule, StateSet, finish
from .training import TrainingRecord, train
from .trial import TrialFunction, Values


class LowerStates:
    """The trained lower states on the training rule, orthonormal in its weights.

    ``values[i]`` is the i-th derivative of each lower state (normalized so that
    sum(w psi_j^2) = 1), detached: psi ``(n_lower, n)``, grad ``(n_lower, n, d)``,
    Laplacian ``(n_lower, n)``.
    """

    def __init__(self, values: list[torch.Tensor]):
        self.values = values

    def project(self, phi: Values, w: torch.Tensor) -> tuple[Values, torch.Tensor]:
        """phi minus its components along the lower states (same coefficients for every derivative).

        Returns the projected derivatives and the coefficients c_j = <phi, psi_j>.
        """
        if self.values[0].shape[0] == 0:
            return phi, phi[0].new_zeros(0)
        c = self.values[0] @ (w * phi[0])
        # Flattened so that one product serves every shape (a gradient's (L, n, d) included).
        return [f - (c @ p.reshape(len(p), -1)).reshape(f.shape) for f, p in zip(phi, self.values)], c


def solve(solver: NeuralSolver, problem: Problem, n_states: int) -> Solution:
    """Train one network per state of ``problem`` and return the lowest ``n_states`` states."""
    device, dtype = torch_setup(solver.device, solver.seed, solver.dtype)
    start = time.perf_counter()
    as_tensor = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    points, weights, kind = training_rule(
        problem, "gauss", solver.n_points, True, solver.seed, np.random.default_rng(solver.seed)
    )
    x, w, v = as_tensor(points), as_tensor(weights), as_tensor(potential(problem, points))
    networks: list[TrialFunction] = []
    # psi_k = sum_i mix[k][i] * network_i: state k is its network minus its projections.
    mix: list[list[float]] = []
    lower = [x.new_zeros((0, len(x))), x.new_zeros((0, len(x), problem.dim)), x.new_zeros((0, len(x)))]
    records: list[TrainingRecord] = []
    per_state = solver.warm_steps + solver.warm_lbfgs_iterations + solver.adam_steps + solver.lbfgs_iterations
    # Both phases' energy is psi's Rayleigh quotient on the training rule, which no true one goes below.
    floor, floor_from = ground_state_floor(problem)
    for k in range(n_states):
        network = trial.network_for(solver, problem, device, dtype)
        record = _train_state(
            solver, network, LowerStates(lower), x, w, v, k, n_states, per_state, start, floor
        )
        records.append(record)
        networks.append(network)
        with torch.no_grad():
            projected, c = LowerStates(lower).project(network.derivatives(x, 2), w)
            norm = torch.sqrt((w * projected[0] ** 2).sum())
        # psi_k = (phi_k - sum_j c_j psi_j) / norm, each psi_j itself a mix of networks.
        row = [0.0] * (k + 1)
        row[k] = 1.0
        for j, cj in enumerate(c.tolist()):
            for i, coefficient in enumerate(mix[j]):
                row[i] -= cj * coefficient
        mix.append([r / float(norm) for r in row])
        lower = [torch.cat([previous, (f / norm)[None]]) for previous, f in zip(lower, projected)]
    coefficients = torch.zeros((n_states, n_states), dtype=torch.float64)
    for k, row in enumerate(mix):
        coefficients[: len(row), k] = torch.tensor(row, dtype=torch.float64)
    states = StateSet(
        [(network.as_functions, 1) for network in networks], coefficients.to(device=device, dtype=dtype)
    )
    fine = FineRule.of(problem, device, dtype)
    return finish(
        solver, problem, states, records, networks, fine, start,
        {
            "collocation": kind,
            "n_training_points": len(points),
            "energy_lower_bound": floor,
            "energy_lower_bound_from": f"min V ({floor_from}) + the empty box's ground level",
            "warm_start": bool(solver.warm_steps + solver.warm_lbfgs_iterations),
        },
        collapse_floor=0.0, rotate=solver.subspace_rotation, node_check=solver.node_check, residual=True,
    )  # fmt: skip


def _train_state(
    solver: NeuralSolver,
    network: TrialFunction,
    lower: LowerStates,
    x: torch.Tensor,
    w: torch.Tensor,
    v: torch.Tensor,
    k: int,
    n_states: int,
    per_state: int,
    start: float,
    energy_floor: float,
) -> TrainingRecord:
    """Warm start on the Rayleigh quotient, then the residual: Adam, then L-BFGS, each phase.

    The functionals are looked up in :mod:`.functionals` at call time (tests replace them).
    """
    total = per_state * n_states

    def on_step(offset):
        return lambda steps: progress.report(min(k * per_state + offset + steps, total), total)

    def remaining() -> float:
        if not solver.time_limit_s:
            return 0.0
        # A tiny positive floor: train() treats 0 as "no limit".
        return max(solver.time_limit_s - (time.perf_counter() - start), 1e-9)

    def rayleigh_objective():
        psi, grad = lower.project(network.derivatives(x, 1), w)[0]
        energy = functionals.rayleigh_quotient(psi, grad, v, w)
        return energy, energy.detach()

    def residual_objective():
        loss, energy = functionals.relative_residual(*lower.project(network.derivatives(x, 2), w)[0], v, w)
        return loss, energy.detach()

    parameters = list(network.parameters())
    history: list[dict] = []
    steps = 0
    record = TrainingRecord()
    phases = [
        (
            "rayleigh",
            rayleigh_objective,
            solver.warm_steps,
            solver.learning_rate,
            solver.warm_lbfgs_iterations,
        ),
        (
            "residual",
            residual_objective,
            solver.adam_steps,
            solver.residual_learning_rate,
            solver.lbfgs_iterations,
        ),
    ]
    for label, objective, adam_steps, learning_rate, lbfgs_iterations in phases:
        if adam_steps + lbfgs_iterations == 0:
            continue
        record = train(
            parameters,
            objective,
            adam_steps=adam_steps,
            learning_rate=learning_rate,
            lbfgs_iterations=lbfgs_iterations,
            log_every=solver.log_every,
            time_limit_s=remaining(),
            on_step=on_step(steps),
            energy_floor=energy_floor,
        )
        offset_time = history[-1]["time_s"] if history else 0.0
        for row in record.history:
            row["step"] += steps
            row["time_s"] += offset_time
            row["state"] = k
            row["phase"] = f"{label}-{row['phase']}"
        history.extend(record.history)
        steps += record.steps
        if record.status is not Status.OK:
            break
    record.history, record.steps = history, steps
    return record

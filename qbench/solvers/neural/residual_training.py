"""The training of ``pinn`` (:class:`~.pinn.ResidualPinn`) in any dimension.

Per state: a network whose output has the states trained before it projected out
(:class:`LowerStates`), a warm start on the Rayleigh quotient (Adam, then L-BFGS), then the
scale-free residual (Adam, then L-BFGS). The end of the solve (rotation, checks, info) is
:func:`.states.finish`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ... import progress
from ...problems import Problem
from ...problems.base import MAX_DIM
from ..base import Solution, Status
from . import functionals, trial
from .base import NeuralSolver, resolve_sampling, torch_setup
from .rules import AdaptiveRule, ground_state_floor, next_training_rule, rule_info, rule_tensors
from .states import FineRule, StateSet, finish
from .training import FLOOR_WINDOW, TrainingRecord, train
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


class TrainingPoints:
    """The training rule ``x``, ``w``, ``v`` and the lower states on it (``lower``).

    With ``sampling="adaptive"`` (the default ``"auto"`` in d >= 2), draws of an
    :class:`~.rules.AdaptiveRule` that follows the network in training and the lower states;
    with ``"gauss"``, one fixed rule up to ``MAX_DIM`` (:func:`~.rules.training_rule`, Gauss
    panels or Sobol points) and draws of the problem's sampled rule above it
    (:func:`~.rules.sampled_training_rule`). Drawn rules (``resamples``) give ``n_points`` per
    draw, a fresh draw before every Adam step but the first and before every L-BFGS chunk, so
    that no fixed set of points can be fitted; on each draw the lower states are evaluated
    afresh from their networks and made orthonormal in its weights.
    """

    def __init__(self, solver: NeuralSolver, problem: Problem, device: torch.device, dtype: torch.dtype):
        self.solver, self.problem, self.device, self.dtype = solver, problem, device, dtype
        sampling = resolve_sampling(solver.sampling, problem.dim)
        self.adaptive = AdaptiveRule(problem) if sampling == "adaptive" else None
        self.resamples = self.adaptive is not None or problem.dim > MAX_DIM
        self.draw = 0
        #: The trained networks and psi_k = sum_i mix[k][i] * network_i (set by :func:`solve`).
        self.networks: list[TrialFunction] = []
        self.mix: list[list[float]] = []
        #: The network being trained (set by :func:`solve`): the adaptive rule follows it and the
        #: trained states.
        self.current: TrialFunction | None = None
        self._sampling = "adaptive" if self.adaptive is not None else "gauss"
        self._build()
        self.lower = self._no_lower_states()

    def _no_lower_states(self) -> LowerStates:
        x = self.x
        return LowerStates(
            [x.new_zeros((0, len(x))), x.new_zeros((0, len(x), self.problem.dim)), x.new_zeros((0, len(x)))]
        )

    def _build(self) -> None:
        points, weights, self.kind = next_training_rule(
            self.problem, self._sampling, self.adaptive, self.solver.n_points, True, self.solver.seed,
            np.random.default_rng(self.solver.seed), 0, self.draw,
        )  # fmt: skip
        self.x, self.w, self.v = rule_tensors(self.problem, points, weights, self.device, self.dtype)

    def info(self) -> dict[str, Any]:
        """What ``info`` says of the training points (:func:`~.rules.rule_info`)."""
        return rule_info(self.problem, self.kind, len(self.w), self.draw + 1, self.adaptive)

    def maybe_resample(self, step: int) -> None:
        """A new draw before Adam step ``step`` (not step 0, which keeps the current one)."""
        if step:
            self.resample()

    @torch.no_grad()
    def resample(self) -> None:
        """The next draw of points, and the lower states on it, orthonormal in its weights; an
        adaptive rule is first refitted to the network in training and the lower states."""
        if self.adaptive is not None:
            followed = [self.lower.values[0]]
            if self.current is not None:
                followed.append(self.current(self.x)[None])
            self.adaptive.refit(self.x, self.w, torch.cat(followed))
        self.draw += 1
        self._build()
        if not self.mix:
            self.lower = self._no_lower_states()
            return
        parts = [network.derivatives(self.x, 2) for network in self.networks]
        mix = torch.zeros((len(self.mix), len(parts)), dtype=self.dtype, device=self.device)
        for k, row in enumerate(self.mix):
            mix[k, : len(row)] = torch.as_tensor(row, dtype=self.dtype, device=self.device)
        values = []
        for order in range(3):
            stacked = torch.stack([part[order] for part in parts])  # (networks, n[, d])
            combined = mix @ stacked.reshape(len(parts), -1)
            values.append(combined.reshape((len(self.mix), *stacked.shape[1:])))
        # Orthonormal in this draw's weights: psi <- L^-1 psi with L L^T the Gram matrix.
        gram = (values[0] * self.w) @ values[0].T
        factor = torch.linalg.cholesky(0.5 * (gram + gram.T))
        self.lower = LowerStates(
            [
                torch.linalg.solve_triangular(factor, f.reshape(len(f), -1), upper=False).reshape(f.shape)
                for f in values
            ]
        )

    def add_state(self, network: TrialFunction) -> None:
        """Append the state just trained: its network minus its projections on the lower states,
        normalized, on the current points."""
        x, w, lower = self.x, self.w, self.lower
        k = len(self.networks)
        with torch.no_grad():
            projected, c = lower.project(network.derivatives(x, 2), w)
            norm = torch.sqrt((w * projected[0] ** 2).sum())
        # psi_k = (phi_k - sum_j c_j psi_j) / norm, each psi_j itself a mix of networks.
        row = [0.0] * (k + 1)
        row[k] = 1.0
        for j, cj in enumerate(c.tolist()):
            for i, coefficient in enumerate(self.mix[j]):
                row[i] -= cj * coefficient
        self.mix.append([r / float(norm) for r in row])
        self.networks.append(network)
        self.lower = LowerStates(
            [torch.cat([previous, (f / norm)[None]]) for previous, f in zip(lower.values, projected)]
        )


def solve(solver: NeuralSolver, problem: Problem, n_states: int) -> Solution:
    """Train one network per state of ``problem`` and return the lowest ``n_states`` states."""
    device, dtype = torch_setup(solver.device, solver.seed, solver.dtype)
    start = time.perf_counter()
    points = TrainingPoints(solver, problem, device, dtype)
    records: list[TrainingRecord] = []
    per_state = solver.warm_steps + solver.warm_lbfgs_iterations + solver.adam_steps + solver.lbfgs_iterations
    # Both phases' energy is psi's Rayleigh quotient on the training rule, which no true one goes below.
    floor, floor_from = ground_state_floor(problem)
    for k in range(n_states):
        network = trial.network_for(solver, problem, device, dtype)
        points.current = network
        record = _train_state(solver, network, points, k, n_states, per_state, start, floor)
        records.append(record)
        points.add_state(network)
    networks, mix = points.networks, points.mix
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
            **points.info(),
            "energy_lower_bound": floor,
            "energy_lower_bound_from": f"min V ({floor_from}) + the empty box's ground level",
            "warm_start": bool(solver.warm_steps + solver.warm_lbfgs_iterations),
        },
        collapse_floor=0.0, rotate=solver.subspace_rotation, node_check=solver.node_check, residual=True,
    )  # fmt: skip


def _train_state(
    solver: NeuralSolver,
    network: TrialFunction,
    points: TrainingPoints,
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
        x, w, v = points.x, points.w, points.v
        psi, grad = points.lower.project(network.derivatives(x, 1), w)[0]
        energy = functionals.rayleigh_quotient(psi, grad, v, w)
        return energy, energy.detach()

    def residual_objective():
        x, w, v = points.x, points.w, points.v
        projected = points.lower.project(network.derivatives(x, 2), w)[0]
        loss, energy = functionals.relative_residual(*projected, v, w)
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
            learning_rate_decay=solver.learning_rate_decay,
            lbfgs_iterations=lbfgs_iterations,
            log_every=solver.log_every,
            time_limit_s=remaining(),
            on_step=on_step(steps),
            energy_floor=energy_floor,
            before_step=points.maybe_resample if points.resamples else None,
            before_chunk=points.resample if points.resamples else None,
            floor_window=FLOOR_WINDOW if points.resamples else 1,
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

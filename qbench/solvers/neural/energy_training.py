"""The training of ``PINN`` and its presets (``nn-galerkin``, ``pinn-fixed``, ``pinn-trainable``), any d.

* ``galerkin``: one network; its last hidden layer times the wall factor is a basis, trained
  on the sum of the lowest Ritz values (the output layer is the exact Ritz-Galerkin solution).
* ``ritz``, ``fixed``, ``trainable``: one network per state, state k deflated against the
  states trained before it (:func:`.functionals.energy_objective`).

What the solver reports is set by :func:`reports_as_trained`; the end of the solve (checks,
rotation, info) is :func:`.states.finish`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ... import progress
from ...problems import Problem
from ..base import Solution, Status
from . import functionals, trial
from .base import COLLAPSE_NORM, NeuralSolver, torch_setup
from .rules import TrainingSet, box_level, ground_state_floor
from .states import FineRule, StateSet, finish, ritz_galerkin
from .training import FLOOR_WINDOW, TrainingRecord, train
from .trial import TrialFunction, uses_manual_gradient


def reports_as_trained(problem: Problem) -> bool:
    """Whether the states are reported as trained (1D) or as the Ritz vectors of their span (d > 1).

    In 1D every level is simple and Sturm's count names each state, so each state is
    returned as trained, in training order, with its Rayleigh quotient on the fine rule
    (``pinn-fixed``: the E it held; a trained E is ``Solution.trained_energies``). In d > 1 a
    level can be degenerate and then no basis of it is preferred: the states are rotated
    into the Ritz vectors of their span on the fine rule and the energies are those Ritz
    values (for ``galerkin``, of the whole trained basis).
    """
    return problem.dim == 1


def solve(solver: NeuralSolver, problem: Problem, n_states: int) -> Solution:
    """Train the networks of ``solver`` (a :class:`~.energy_modes.PINN`) on ``problem``; the lowest
    ``n_states`` states."""
    device, dtype = torch_setup(solver.device, solver.seed, solver.dtype)
    start = time.perf_counter()
    rng = np.random.default_rng(solver.seed)
    fine = FineRule.of(problem, device, dtype)
    setting = {
        "problem": problem,
        "device": device,
        "dtype": dtype,
        "rng": rng,
        "v_min": float(np.min(fine.potential)),
        "v_max": float(np.max(fine.potential)),
        "as_trained": reports_as_trained(problem),
        "n_states": n_states,
    }
    floor, floor_from = ground_state_floor(problem, fine.potential)
    # Only a variational energy (a Rayleigh quotient or Ritz value on the training rule) is bounded
    # below by E0; a residual mode's E is a parameter, whose being low is no sign of exploitation.
    setting["energy_floor"] = None if solver.trains_residual() else floor
    info: dict[str, Any] = {
        "reads_exact_answer": solver.reads_exact_answer(),
        "energy_lower_bound": floor,
        "energy_lower_bound_from": f"min V ({floor_from}) + the empty box's ground level",
    }
    if solver.energy == "galerkin":
        trained = _train_galerkin(solver, setting, fine, info)
    else:
        trained = _train_deflated(solver, setting, info)
    states, records, networks, energies, matrices = trained
    residual = solver.trains_residual()
    held = solver.energy == "fixed" and setting["as_trained"]
    return finish(
        solver, problem, states, records, networks, fine, start, info,
        collapse_floor=COLLAPSE_NORM if residual else 0.0,
        rotate=not setting["as_trained"] and solver.energy != "galerkin",
        node_check=residual,
        energies=energies if held else None,
        trained_energies=energies if solver.energy == "trainable" else None,
        matrices=matrices,
    )  # fmt: skip


def _train(
    solver: NeuralSolver,
    parameters: list,
    objective: Callable,
    training_set: TrainingSet,
    index: int = 0,
    count: int = 1,
    adam_objective: Callable | None = None,
    energy_floor: float | None = None,
) -> TrainingRecord:
    """Train; progress is reported as optimizer steps over all ``count`` trainings of the solve."""
    adam_steps = solver.adam_steps if "adam" in solver.optimizer else 0
    lbfgs_iterations = solver.lbfgs_iterations if "lbfgs" in solver.optimizer else 0
    per_training = adam_steps + lbfgs_iterations
    total = per_training * count
    return train(
        parameters,
        objective,
        adam_steps=adam_steps,
        learning_rate=solver.learning_rate,
        learning_rate_decay=solver.learning_rate_decay,
        lbfgs_iterations=lbfgs_iterations,
        log_every=solver.log_every,
        time_limit_s=solver.time_limit_s,
        before_step=training_set.maybe_resample if training_set.resamples else None,
        before_chunk=training_set.resample if training_set.resamples_lbfgs else None,
        on_step=lambda steps: progress.report(min(index * per_training + steps, total), total),
        adam_objective=adam_objective,
        energy_floor=energy_floor,
        floor_window=FLOOR_WINDOW if training_set.resamples else 1,
    )


def _train_galerkin(solver: NeuralSolver, setting: dict, fine: FineRule, info: dict):
    """One network; its hidden layer is the basis, the output layer the exact Ritz vectors."""
    problem, device, dtype, n_states = (setting[key] for key in ("problem", "device", "dtype", "n_states"))
    network = trial.network_for(solver, problem, device, dtype)
    training_set = TrainingSet(problem, solver, setting["rng"], device, dtype)

    def lowest_ritz_vectors() -> torch.Tensor:
        # The states being trained: the lowest Ritz vectors of the basis on the current points.
        x, w, v, _ = training_set.tensors()
        with torch.no_grad():
            stiffness, mass = functionals.galerkin_matrices(network, x, w, v)
            coefficients = functionals.ritz_coefficients(stiffness, mass, n_states)
            basis = network.galerkin_basis(x, 0)[0]
            return (basis @ coefficients.to(device=device, dtype=dtype)).T

    training_set.density = lowest_ritz_vectors
    # The output layer is solved exactly on each draw, so the lowest Ritz value on a draw is fitted
    # to it (biased low, by more the fewer the points). On drawn points the energy this objective
    # reports (the one the guard tests) is instead the Rayleigh quotient, on the current draw, of
    # the lowest Ritz vector found on an earlier draw: a fixed trial function on fresh points.
    # (The first draw has no earlier one: there the in-sample value stands.)
    held: dict[str, Any] = {"draw": None, "latest": None, "earlier": None}

    def objective():
        x, w, v, _ = training_set.tensors()
        if not training_set.resamples:
            return functionals.ritz_sum(network, x, w, v, n_states)
        if held["draw"] != training_set.draw:
            held["draw"], held["earlier"] = training_set.draw, held["latest"]
        stiffness, mass = functionals.galerkin_matrices(network, x, w, v)
        coefficients = functionals.ritz_coefficients(stiffness, mass, n_states)
        values = functionals.ritz_values(stiffness, mass, coefficients)
        held["latest"] = coefficients
        if held["earlier"] is None:
            return values.sum(), values[0].detach()
        return values.sum(), functionals.ritz_values(stiffness, mass, held["earlier"][:, :1])[0].detach()

    record = _train(
        solver, list(network.parameters()), objective, training_set, energy_floor=setting["energy_floor"]
    )
    for row in record.history:
        row["state"] = "all"
    info.update(training_set.info())
    size = network.output.in_features + 1
    if setting["as_trained"]:
        # The output layer as trained: the Ritz vectors of the basis on the training rule.
        x, w, v, _ = training_set.tensors()
        stiffness, mass = functionals.galerkin_matrices(network, x, w, v)
        coefficients = functionals.ritz_coefficients(stiffness, mass, n_states)
        energies = functionals.ritz_values(stiffness, mass, coefficients).detach().cpu().numpy()
        # What training minimized (Ritz values on the training rule); the solver reports the Rayleigh
        # quotients of these states on the fine rule instead, as every neural solver does.
        info["training_rule_energy"] = [float(e) for e in energies]
        states = StateSet([(network.galerkin_basis, size)], coefficients.to(device=device, dtype=dtype))
        return states, [record], [network], energies, None
    # The trained basis, solved once more on the fine rule: its lowest Ritz vectors are the states.
    basis = StateSet([(network.galerkin_basis, size)], torch.eye(size, dtype=dtype))
    measured = fine.integrals(basis)
    stiffness, mass = measured.stiffness, measured.mass
    if np.all(np.isfinite(stiffness)) and np.all(np.isfinite(mass)):
        _, vectors, kept = ritz_galerkin(stiffness, mass, float(torch.finfo(dtype).eps))
    else:
        vectors, kept = np.zeros((size, 0)), 0
    if kept < n_states and record.status is Status.OK:
        record.status = Status.FAILED
        record.message = f"the trained basis has {kept} independent directions, fewer than {n_states} states"
    columns = np.zeros((size, n_states))
    columns[:, : min(kept, n_states)] = vectors[:, :n_states]
    matrices = (columns.T @ stiffness @ columns, columns.T @ mass @ columns)
    return basis.rotated(columns), [record], [network], None, matrices


def _start_energy(
    solver: NeuralSolver, k: int, v_min: float, level: float, exact: np.ndarray | None
) -> float:
    """E's start for state k: the box rule, a given number, or the exact E_k times (1 + offset)."""
    if solver.initial_energy == "box":
        return v_min + level
    offset = solver.exact_start_offset()
    if offset is not None:
        return float(exact[k]) * (1.0 + offset)
    return float(solver.initial_energy)


def _train_deflated(solver: NeuralSolver, setting: dict, info: dict):
    """One network per state; state k is penalized for overlapping states 0 .. k-1."""
    problem, device, dtype, n_states = (setting[key] for key in ("problem", "device", "dtype", "n_states"))
    fixed = problem.reference(n_states).energies if solver.energy == "fixed" else None
    exact = problem.reference(n_states).energies if solver.reads_exact_start() else None
    networks: list[TrialFunction] = []
    energies, records, starts, held = [], [], [], []
    for k in range(n_states):
        network = trial.network_for(solver, problem, device, dtype)
        level = box_level(problem.box, k)
        overlap_weight = solver.overlap_weight
        if overlap_weight is None and solver.energy == "fixed":
            overlap_weight = 0.0  # E held at E_k already selects state k; no deflation needed
        elif overlap_weight is None:
            # 2 (E_upper - min V), E_upper = max V + the empty box's level with margin >= E_k (comparison).
            upper = setting["v_max"] + 1.05 * level + 1.0
            overlap_weight = 2.0 * (upper - setting["v_min"])
            if solver.energy != "ritz":
                overlap_weight = overlap_weight**2
        energy_param = None
        if solver.energy == "trainable":
            start_energy = _start_energy(solver, k, setting["v_min"], level, exact)
            starts.append(start_energy)
            energy_param = torch.nn.Parameter(torch.tensor(start_energy, dtype=dtype, device=device))
        training_set = TrainingSet(problem, solver, setting["rng"], device, dtype, networks, stream=k)
        # The adaptive rule follows this state and the ones trained before it.
        training_set.density = lambda ts=training_set, net=network: torch.stack(
            [*ts.previous, net(ts.x).detach()]
        )
        if solver.trains_residual() and solver.normalize_init:
            functionals.normalize_output(network, training_set.x, training_set.w)
        fixed_energy = None if fixed is None else float(fixed[k])
        objective = functionals.energy_objective(
            solver, network, training_set, energy_param, fixed_energy, overlap_weight
        )
        fast = None
        if solver.trains_residual() and uses_manual_gradient(network):
            fast = functionals.energy_objective(
                solver, network, training_set, energy_param, fixed_energy, overlap_weight, by_hand=True
            )
        parameters = [{"params": list(network.parameters())}]
        if energy_param is not None:
            parameters.append({"params": [energy_param], "lr": solver.energy_learning_rate})
        record = _train(
            solver,
            parameters,
            objective,
            training_set,
            index=k,
            count=n_states,
            adam_objective=fast,
            energy_floor=setting["energy_floor"],
        )
        for row in record.history:
            row["state"] = k
        if fixed_energy is not None:
            energies.append(fixed_energy)
            held.append(fixed_energy)
        elif energy_param is not None:
            energies.append(float(energy_param.detach()))
            held.append(energies[-1])
        else:
            energies.append(float(objective()[1]))
        networks.append(network)
        records.append(record)
    info.update(training_set.info())
    if starts:
        info.update(initial_energy=starts, energy_learning_rate=solver.energy_learning_rate)
    if held:
        info["energy_parameter"] = held
    states = StateSet([(network.as_functions, 1) for network in networks], torch.eye(n_states, dtype=dtype))
    return states, records, networks, energies, None

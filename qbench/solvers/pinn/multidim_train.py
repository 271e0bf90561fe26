"""Training of the neural solvers on d = 2..4 dimensional problems (the 1D paths are untouched).

``PINN`` and its presets (``nn-galerkin``, ``pinn-fixed``, ``pinn-trainable``) call
:func:`solve_pinn`, the residual PINN ``pinn`` calls :func:`solve_residual`, when
``problem.dim > 1``. The methods are the 1D ones with d inputs (see
:mod:`.multidim`); what differs in d dimensions:

* **Points.** ``n_points`` is the total number of training points (tensor Gauss for
  d <= 2, scrambled Sobol for d >= 3, the problem's own rule for a curved interface:
  :func:`.multidim.training_rule`).
* **Energies and states** come from the fine rule ``problem.quadrature_rule()`` (the
  grading rule, or a coarser one of the problem's own beyond :data:`FINE_POINTS_MAX` nodes;
  it integrates the states, it does not know the answer): each state's
  Rayleigh quotient, and for ``n_states > 1`` a Rayleigh-Ritz rotation among the trained
  states, so a degenerate group comes out as an orthonormal basis of its level (any such
  basis is correct), and close levels are un-mixed. In every mode the returned energies are
  these Ritz values, ascending (``nn-galerkin``: the Ritz values of the whole trained basis
  on the fine rule); the E a residual PINN held or trained is ``info["energy_parameter"]``.
  The rotation needs every state ``ok`` (finite, not collapsed, not a combination of the
  others); otherwise the states are returned as trained, sorted by energy, each with its status.
* **No Sturm check.** State k of a d-dimensional problem need not have k nodal domains
  (nor any fixed count: a degenerate group's basis is arbitrary), so the node-count check
  of the 1D residual PINNs is skipped; the collapse and NaN checks stay (per state).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from ...problems import Problem
from ..base import Solution, Status
from . import multidim, objectives
from .multidim import EvaluatorND, FineRule, StateSet
from .residual import LowerStates
from .runtime import COLLAPSE_NORM, torch_setup, training_info
from .solver import RESIDUAL_MODES, TrainingSet, _normalize_output, exact_offset

#: The most nodes of the fine rule (see :func:`fine_rule`).
FINE_POINTS_MAX = 2**20
NODE_CHECK_SKIPPED = "skipped: d > 1 (state k need not have k nodal domains)"


class TrainingSetND(TrainingSet):
    """:class:`~.solver.TrainingSet` in d dimensions: tensor Gauss or scrambled Sobol points
    (:func:`multidim.training_rule`, which also names the kind in ``self.kind``)."""

    @property
    def measure(self) -> float:
        """The box's volume."""
        return float(np.prod([hi - lo for lo, hi in self.problem.box]))

    def _rule(self) -> tuple[np.ndarray, np.ndarray]:
        solver = self.solver
        points, weights, self.kind = multidim.training_rule(
            self.problem, solver.sampling, solver.n_points, solver.breakpoint_panels, solver.seed, self.rng
        )
        return points, weights


def fine_rule(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The rule of the energies and the rotation: the grading rule ``problem.quadrature_rule()``
    where it has at most :data:`FINE_POINTS_MAX` nodes, else the problem's own rule of about
    that many (4D: 32^4 instead of 48^4 nodes, which would cost more than training)."""
    points, weights = problem.quadrature_rule()
    if len(weights) > FINE_POINTS_MAX:
        points, weights = problem.quadrature_rule(FINE_POINTS_MAX)
    return points, weights


def _setup(solver, problem: Problem):
    device, dtype = torch_setup(solver.device, solver.seed, solver.dtype)
    points, weights = fine_rule(problem)
    potential = problem.potential(points)
    return device, dtype, FineRule(points, weights, potential, device, dtype), potential


def _network(solver, problem: Problem, device, dtype) -> multidim.TrialFunctionND:
    network = multidim.make_network(
        problem, solver.width, solver.depth, solver.activation, solver.kink_features
    )
    return network.to(device=device, dtype=dtype)


# -- PINN presets -----------------------------------------------------------------------------
def solve_pinn(solver, problem: Problem, n_states: int) -> Solution:
    """``PINN`` (``nn-galerkin``, ``pinn-fixed``, ``pinn-trainable``) on a d >= 2 problem."""
    start = time.perf_counter()
    device, dtype, fine, fine_v = _setup(solver, problem)
    rng = np.random.default_rng(solver.seed)
    context = dict(problem=problem, device=device, dtype=dtype, rng=rng)
    context.update(v_min=float(np.min(fine_v)), v_max=float(np.max(fine_v)), energy_info={})
    matrices = None  # the states' (K, M) on the fine rule, where training has them already
    if solver.energy == "galerkin":
        states, records, networks, kind, n_train, matrices = _train_galerkin(solver, n_states, context, fine)
    else:
        states, records, networks, kind, n_train = _train_deflated(solver, n_states, context)
    info = {
        "collocation": kind,
        "n_training_points": n_train,
        **context["energy_info"],
        "reads_exact_answer": solver.reads_exact_answer(),
    }
    return finish(
        solver, states, records, networks, fine, device, start, info,
        collapse_floor=COLLAPSE_NORM if solver.energy in RESIDUAL_MODES else 0.0,
        rotate=solver.energy != "galerkin", matrices=matrices,
    )  # fmt: skip


def _train_galerkin(solver, n_states, context, fine):
    """One network; its last hidden layer times the wall factor is the basis (see ``PINN``)."""
    problem, device, dtype = context["problem"], context["device"], context["dtype"]
    network = _network(solver, problem, device, dtype)
    training_set = TrainingSetND(problem, solver, context["rng"], device, dtype)

    def objective():
        x, w, v, _ = training_set.tensors()
        stiffness, mass = multidim.galerkin_matrices(network, x, w, v)
        values = objectives.ritz_values(
            stiffness, mass, objectives.ritz_coefficients(stiffness, mass, n_states)
        )
        return values.sum(), values[0].detach()

    record = solver._train(list(network.parameters()), objective, training_set)
    for row in record.history:
        row["state"] = "all"
    # The trained basis, solved once more on the fine rule: its lowest Ritz vectors are the states.
    basis = StateSet([network.galerkin_basis], torch.eye(network.output.in_features + 1, dtype=dtype))
    stiffness, mass = fine.matrices(basis)
    eps = float(torch.finfo(dtype).eps)
    if np.all(np.isfinite(stiffness)) and np.all(np.isfinite(mass)):
        _, vectors, kept = multidim.ritz_galerkin(stiffness, mass, eps)
    else:
        vectors, kept = np.zeros((len(mass), 0)), 0
    if kept < n_states and record.status is Status.OK:
        record.status = Status.FAILED
        record.message = f"the trained basis has {kept} independent directions, fewer than {n_states} states"
    columns = np.zeros((len(mass), n_states))
    columns[:, : min(kept, n_states)] = vectors[:, :n_states]
    states = basis.rotated(columns)
    matrices = (columns.T @ stiffness @ columns, columns.T @ mass @ columns)
    return states, [record], [network], training_set.kind, len(training_set.w), matrices


def _train_deflated(solver, n_states, context):
    """One network per state; residual modes as in 1D, state k deflated against states < k."""
    problem, device, dtype = context["problem"], context["device"], context["dtype"]
    fixed = problem.reference(n_states).energies if solver.energy == "fixed" else None
    exact = problem.reference(n_states).energies if solver._reads_exact_start() else None
    networks, records, starts, held = [], [], [], []
    training_set = None
    for k in range(n_states):
        network = _network(solver, problem, device, dtype)
        level = multidim.box_level(problem.box, k)
        overlap_weight = solver.overlap_weight
        if overlap_weight is None and solver.energy == "fixed":
            overlap_weight = 0.0  # the 1D rule: E = E_k selects the level (not a state of a degenerate group)
        elif overlap_weight is None:
            # 2 (E_upper - min V), E_upper = max V + the box's level with margin >= E_k (comparison).
            overlap_weight = 2.0 * (context["v_max"] + 1.05 * level + 1.0 - context["v_min"])
            if solver.energy != "ritz":
                overlap_weight = overlap_weight**2
        energy_param = None
        if solver.energy == "trainable":
            if solver.initial_energy == "box":
                start_energy = context["v_min"] + level
            else:
                offset = exact_offset(solver.initial_energy)
                start_energy = (
                    float(solver.initial_energy) if offset is None else float(exact[k]) * (1 + offset)
                )
            starts.append(start_energy)
            energy_param = torch.nn.Parameter(torch.tensor(start_energy, dtype=dtype, device=device))
        training_set = TrainingSetND(problem, solver, context["rng"], device, dtype, networks)
        if solver.energy in RESIDUAL_MODES and solver.normalize_init:
            _normalize_output(network, training_set)
        fixed_energy = None if fixed is None else float(fixed[k])
        objective = objectives.energy_objective(
            solver,
            network,
            training_set,
            energy_param,
            fixed_energy,
            overlap_weight,
            multidim.rayleigh_quotient,
        )
        parameters = [{"params": list(network.parameters())}]
        if energy_param is not None:
            parameters.append({"params": [energy_param], "lr": solver.energy_learning_rate})
        record = solver._train(parameters, objective, training_set, index=k, count=n_states)
        for row in record.history:
            row["state"] = k
        if fixed_energy is not None:
            held.append(fixed_energy)
        elif energy_param is not None:
            held.append(float(energy_param.detach()))
        networks.append(network)
        records.append(record)
    if starts:
        context["energy_info"].update(initial_energy=starts, energy_learning_rate=solver.energy_learning_rate)
    if held:
        context["energy_info"]["energy_parameter"] = held
    states = StateSet([net.as_functions for net in networks], torch.eye(n_states, dtype=dtype))
    return states, records, networks, training_set.kind, len(training_set.w)


# -- the residual PINN ------------------------------------------------------------------------
def solve_residual(solver, problem: Problem, n_states: int) -> Solution:
    """``pinn`` (``ResidualPinn``) on a d >= 2 problem: per state a warm start on the Rayleigh
    quotient, then L-BFGS on the scale-free residual, lower states projected out exactly."""
    start = time.perf_counter()
    device, dtype, fine, _ = _setup(solver, problem)
    rng = np.random.default_rng(solver.seed)
    points, weights, kind = multidim.training_rule(problem, "gauss", solver.n_points, True, solver.seed, rng)
    as_tensor = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    x, w, v = as_tensor(points), as_tensor(weights), as_tensor(problem.potential(points))
    networks, records = [], []
    mix = np.zeros((n_states, n_states))  # state k = sum_i mix[i, k] * network_i
    lower = [x.new_zeros((0, len(x))), x.new_zeros((0, len(x), problem.dim)), x.new_zeros((0, len(x)))]
    per_state = solver.warm_steps + solver.warm_lbfgs_iterations + solver.adam_steps + solver.lbfgs_iterations
    for k in range(n_states):
        network = _network(solver, problem, device, dtype)
        record = solver._train_state(
            network, LowerStates(lower), x, w, v, k, n_states, per_state, start,
            rayleigh=multidim.rayleigh_quotient, relative_residual=multidim.relative_residual,
        )  # fmt: skip
        records.append(record)
        networks.append(network)
        with torch.no_grad():
            projected, c = LowerStates(lower).project(network.derivatives(x, 2), w)
            norm = float(torch.sqrt((w * projected[0] ** 2).sum()))
        # psi_k = (phi_k - sum_j c_j psi_j) / norm, each psi_j itself a mix of networks.
        mix[k, k] = 1.0
        mix[:, k] -= mix[:, :k] @ c.double().cpu().numpy()
        mix[:, k] /= norm
        lower = [torch.cat([old, (f / norm)[None]]) for old, f in zip(lower, projected)]
    states = StateSet([net.as_functions for net in networks], torch.as_tensor(mix, dtype=dtype))
    info = {"collocation": kind, "n_training_points": len(points)}
    return finish(
        solver, states, records, networks, fine, device, start, info,
        collapse_floor=0.0, rotate=solver.subspace_rotation, residual=True,
    )  # fmt: skip


# -- after training ---------------------------------------------------------------------------
def finish(
    solver,
    states: StateSet,
    records: list,
    networks: list,
    fine: FineRule,
    device,
    start: float,
    extra: dict[str, Any],
    collapse_floor: float,
    rotate: bool,
    residual: bool = False,
    matrices: tuple[np.ndarray, np.ndarray] | None = None,
) -> Solution:
    """Energies, per-state statuses, rotation and info on the fine rule.

    ``matrices`` are the states' stiffness and mass on the fine rule, if known already.
    """
    n_states = states.n_states
    eps = float(torch.finfo(fine.dtype).eps)
    stiffness, mass = fine.matrices(states) if matrices is None else matrices
    norms = np.diag(mass).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        trained = np.diag(stiffness) / norms
    statuses, messages = [], []
    for k in range(n_states):
        record = records[min(k, len(records) - 1)]
        status, message = record.status, record.message
        if status is Status.OK and collapse_floor and np.isfinite(norms[k]) and not norms[k] > collapse_floor:
            status, message = Status.FAILED, f"collapsed to psi = 0 (integral of psi^2 = {norms[k]:.3g})"
        elif status is Status.OK and not (np.isfinite(trained[k]) and norms[k] > 0):
            status, message = Status.DIVERGED, f"energy {trained[k]} or norm {norms[k]} is not finite, > 0"
        statuses.append(status)
        messages.append(message)
    finite = np.all(np.isfinite(mass)) and np.all(np.isfinite(stiffness)) and np.all(norms > 0)
    if finite and n_states > 1:
        for k in multidim.dependent_states(mass, eps):
            if statuses[k] is Status.OK:
                statuses[k] = Status.FAILED
                messages[k] = (
                    "is (nearly) a combination of the states trained before it: a degenerate group "
                    "trained without deflation (pinn-fixed: give overlap_weight > 0)"
                )
    rotated = False
    if rotate and n_states > 1 and all(s is Status.OK for s in statuses):
        values, vectors, kept = multidim.ritz_galerkin(stiffness, mass, eps)
        if kept == n_states:
            states, energies, norms, rotated = states.rotated(vectors), values, np.ones(n_states), True
    if not rotated:
        order = np.argsort(np.where(np.isfinite(trained), trained, np.inf), kind="stable")
        permutation = np.eye(n_states)[:, order]
        states, energies, norms = states.rotated(permutation), trained[order], norms[order]
        statuses, messages = [statuses[k] for k in order], [messages[k] for k in order]
    bad = [k for k, s in enumerate(statuses) if s is not Status.OK]
    info = training_info(records, networks, device, solver.dtype, solver.seed, start)
    info.update(extra)
    info.update(
        dimension=len(fine.x[0]),
        fine_points=len(fine),
        rayleigh_energy=[float(e) for e in energies],
        trained_energy=[float(e) for e in trained],  # training order, before the rotation
        norm_integral=[float(n) for n in norms],
        subspace_rotation=rotated,
        node_check=NODE_CHECK_SKIPPED,
    )
    if residual:
        info["relative_residual"] = fine.residuals(states, energies)
    evaluator = EvaluatorND(states, [math.sqrt(n) if n > 0 else math.nan for n in norms], device, fine.dtype)
    return Solution(
        np.asarray(energies, dtype=float),
        evaluator,
        info,
        statuses[bad[0]] if bad else Status.OK,
        "; ".join(f"state {k}: {messages[k]}" for k in bad),
        statuses,
        messages,
    )

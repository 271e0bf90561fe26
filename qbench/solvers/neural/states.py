"""Trained states after training: combinations of networks, fine-rule integrals, rotation, checks.

A solver hands :func:`finish` its trained states (a :class:`StateSet`) and training records;
it integrates them on the fine rule (:func:`.rules.fine_rule`), checks each state without
reading any reference (collapse, NaN, linear dependence, Sturm's node count in 1D), rotates
them into the Ritz vectors of their span where asked, and returns the ``Solution``, whose
wavefunctions an :class:`Evaluator` gives at points ``(n, d)``.

Every integral over the fine rule runs in chunks of :data:`CHUNK` points, so the
grading-size rules of 3D and 4D problems fit in memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import torch

from ...problems import Problem
from ..base import Solution, Status
from .base import NeuralSolver, torch_threads, training_info
from .rules import fine_rule, potential
from .training import TrainingRecord
from .trial import TrialFunction, Values

#: Points per chunk when evaluating on a fine rule (bounds memory: the gradients are (n, d, width)).
CHUNK = 8192
#: A trained state whose part outside the span of the states before it is below this fraction
#: of its norm squared, times the machine epsilon of the dtype, is taken as linearly dependent.
DEPENDENCE_EPS_FACTOR = 1e4
# Node counting skips values of |psi| below this fraction of max |psi|, so it counts the lobes
# that make a state what it is, not sign noise in an exponentially small tail: seen on step_well
# (2 tail "nodes" at an energy error of 1e-7, floor 1e-3) and on the paper PINN's finite-well
# ground state (tail wiggles of 1% of max |psi| at an energy error of 2e-3). A genuine lower or
# higher state of the problems here has lobes far above 3%.
NODE_FLOOR = 3e-2
NODE_CHECK_SKIPPED = "skipped: d > 1 (state k need not have k nodal domains)"

#: ``g(x, order) -> [values (n, m), grads (n, d, m), laplacians (n, m)]`` and its m.
Generator = tuple[Callable[[torch.Tensor, int], Values], int]


def count_nodes(psi: np.ndarray, floor: float = NODE_FLOOR) -> int:
    """Sign changes of ``psi`` (values at increasing interior points), ignoring values below
    ``floor * max|psi|``, where the sign is approximation noise rather than a node.

    A lobe whose largest value is below the floor is not seen either; the lowest
    states of the problems here have none that small.
    """
    psi = np.asarray(psi, dtype=float)
    scale = np.max(np.abs(psi)) if psi.size else 0.0
    if not scale > 0:
        return 0
    signs = np.sign(psi[np.abs(psi) > floor * scale])
    return int(np.count_nonzero(signs[1:] != signs[:-1]))


def collapse_message(norm: float) -> str:
    """Why a state whose integral of psi^2 is ``norm`` failed: it collapsed to psi = 0."""
    return f"collapsed to psi = 0 (integral of psi^2 = {norm:.3g})"


def sturm_message(nodes: int, k: int) -> str:
    """Why state ``k`` with ``nodes`` sign changes failed Sturm's count (state k has k)."""
    return f"has {nodes} sign changes where state {k} has {k} (Sturm): it is not state {k}"


def case_verdict(statuses: list[Status], messages: list[str]) -> tuple[Status, str]:
    """A solve's status (its first not-ok state's) and message (``state k: why`` per such state)."""
    bad = [k for k, s in enumerate(statuses) if s is not Status.OK]
    return (statuses[bad[0]] if bad else Status.OK), "; ".join(f"state {k}: {messages[k]}" for k in bad)


class StateSet:
    """States psi_k = sum_j F_j C_jk: F_j the functions that the generators give, C a matrix.

    Each generator gives m functions (a network: m = 1; a Galerkin basis: m = width + 1);
    ``coefficients`` has shape ``(sum of m, n_states)``. State k sums, generator by
    generator in order, ``F_g @ C_g[:, k]`` over the generators whose block of column k is
    not zero, so a diverged network (NaN) spoils only the states it is part of.
    """

    def __init__(self, generators: Sequence[Generator], coefficients: torch.Tensor):
        self.generators, self.coefficients = list(generators), coefficients
        edges = np.cumsum([0] + [m for _, m in self.generators])
        self._blocks = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
        matrix = coefficients.detach().cpu().numpy()
        # The identity (the states are the functions themselves): joined, not summed.
        self._identity = matrix.shape[0] == matrix.shape[1] and np.array_equal(matrix, np.eye(len(matrix)))
        nonzero = matrix != 0.0
        self._terms = [
            [g for g, block in enumerate(self._blocks) if nonzero[block, k].any()]
            for k in range(self.n_states)
        ]

    @property
    def n_states(self) -> int:
        return self.coefficients.shape[1]

    def derivatives(self, x: torch.Tensor, order: int) -> Values:
        """psi ``(n, s)``, grad ``(n, d, s)``, Laplacian ``(n, s)`` of the s states at ``x``."""
        parts = [generate(x, order) for generate, _ in self.generators]
        if self._identity:
            return [torch.cat([p[i] for p in parts], dim=-1) for i in range(order + 1)]
        c = self.coefficients.to(device=x.device, dtype=x.dtype)
        out = []
        for i in range(order + 1):
            columns = []
            for k, terms in enumerate(self._terms):
                total = None
                for g in terms:
                    term = parts[g][i] @ c[self._blocks[g], k]
                    total = term if total is None else total + term
                columns.append(torch.zeros_like(parts[0][i][..., 0]) if total is None else total)
            out.append(torch.stack(columns, dim=-1))
        return out

    def rotated(self, matrix: np.ndarray) -> StateSet:
        """The states ``psi @ matrix`` (new state k = sum_j matrix[j, k] * old state j)."""
        m = torch.as_tensor(matrix, dtype=self.coefficients.dtype, device=self.coefficients.device)
        return StateSet(self.generators, self.coefficients @ m)


@dataclass
class Integrals:
    """What :meth:`FineRule.integrals` measures of a set of states.

    ``stiffness`` and ``mass`` (float64, symmetrized) are K_jk = integral(grad psi_j . grad
    psi_k + V psi_j psi_k) and M_jk = integral(psi_j psi_k); ``norms`` and ``rayleigh`` are
    each state's integral of psi^2 and Rayleigh quotient, summed state by state (so a state's
    value does not depend on which other states were integrated with it); ``values`` the
    states on the rule's nodes ``(n, s)`` where asked.
    """

    stiffness: np.ndarray
    mass: np.ndarray
    norms: np.ndarray
    rayleigh: np.ndarray
    values: np.ndarray | None


class FineRule:
    """A fine quadrature rule as tensors, with the chunked integrals every solver needs after training."""

    def __init__(self, points: np.ndarray, weights: np.ndarray, potential: np.ndarray, device, dtype):
        as_tensor = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
        self.x, self.w, self.v = as_tensor(points), as_tensor(weights), as_tensor(potential)
        self.potential = potential
        self.dtype, self.device = dtype, device

    @classmethod
    def of(cls, problem: Problem, device: torch.device, dtype: torch.dtype) -> FineRule:
        """The problem's fine rule (:func:`.rules.fine_rule`) with V on it."""
        points, weights = fine_rule(problem)
        return cls(points, weights, potential(problem, points), device, dtype)

    def __len__(self) -> int:
        return len(self.w)

    def _chunks(self):
        for start in range(0, len(self.w), CHUNK):
            end = start + CHUNK
            yield self.x[start:end], self.w[start:end], self.v[start:end]

    @torch.no_grad()
    def integrals(self, states: StateSet, values: bool = False) -> Integrals:
        """Gram matrices, norms and Rayleigh quotients of ``states`` (and their values, if asked)."""
        s = states.n_states
        stiffness, mass = np.zeros((s, s)), np.zeros((s, s))
        norms, energies = np.zeros(s), np.zeros(s)
        rows = []
        for x, w, v in self._chunks():
            psi, grad = states.derivatives(x, 1)
            weighted = psi * w[:, None]
            mass += (weighted.T @ psi).double().cpu().numpy()
            flat = grad.reshape(-1, s)
            k = (grad * w[:, None, None]).reshape(-1, s).T @ flat + (weighted * v[:, None]).T @ psi
            stiffness += k.double().cpu().numpy()
            for j in range(s):
                p, g = psi[:, j].contiguous(), grad[:, :, j].contiguous()
                norms[j] += float((w * p**2).sum())
                energies[j] += float((w * ((g**2).sum(1) + v * p**2)).sum())
            if values:
                rows.append(psi.double().cpu().numpy())
        with np.errstate(divide="ignore", invalid="ignore"):
            rayleigh = energies / norms
        return Integrals(
            0.5 * (stiffness + stiffness.T),
            0.5 * (mass + mass.T),
            norms,
            rayleigh,
            np.concatenate(rows) if values else None,
        )

    @torch.no_grad()
    def residuals(self, states: StateSet, energies: Sequence[float]) -> list[float]:
        """|r| / |psi| per state, r = -Laplacian psi + (V - E) psi (E the state's energy)."""
        e = torch.as_tensor(np.asarray(energies, dtype=float), dtype=self.dtype, device=self.device)
        top = torch.zeros(states.n_states, dtype=torch.float64)
        bottom = torch.zeros(states.n_states, dtype=torch.float64)
        for x, w, v in self._chunks():
            psi, _, lap = states.derivatives(x, 2)
            r = -lap + (v[:, None] - e) * psi
            top += (w[:, None] * r * r).sum(0).double().cpu()
            bottom += (w[:, None] * psi * psi).sum(0).double().cpu()
        return [
            math.sqrt(a / b) if b > 0 and a >= 0 else math.nan for a, b in zip(top.tolist(), bottom.tolist())
        ]


def ritz_galerkin(stiffness: np.ndarray, mass: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Ritz values and M-orthonormal vectors of (K, M), ascending, in the well-conditioned part of M.

    Directions of M with eigenvalue below ``DEPENDENCE_EPS_FACTOR * eps`` times the largest are
    dropped (there K and M are rounding noise, which would give spurious eigenvalues); the
    third value is how many directions were kept. Vectors have one column per kept direction.
    """
    scales, vectors = np.linalg.eigh(mass)
    keep = scales > scales.max() * DEPENDENCE_EPS_FACTOR * eps
    whiten = vectors[:, keep] / np.sqrt(scales[keep])
    reduced = whiten.T @ stiffness @ whiten
    values, ritz = scipy.linalg.eigh(0.5 * (reduced + reduced.T))
    return values, whiten @ ritz, int(keep.sum())


def dependent_states(mass: np.ndarray, eps: float) -> list[int]:
    """States (in training order) whose part outside the span of the earlier ones is negligible.

    Gram-Schmidt on the normalized Gram matrix: state j is dependent when the squared norm
    of its part orthogonal to states 0 .. j-1 (the independent ones) is below
    ``DEPENDENCE_EPS_FACTOR * eps``. A fixed-energy PINN trains the states of a degenerate
    group with one E and no deflation, so two of them may land on the same function.
    """
    diag = np.sqrt(np.clip(np.diag(mass), 1e-300, None))
    gram = mass / np.outer(diag, diag)
    independent: list[int] = []
    dependent: list[int] = []
    for j in range(len(gram)):
        if independent:
            sub = gram[np.ix_(independent, independent)]
            cross = gram[independent, j]
            remainder = 1.0 - cross @ np.linalg.solve(sub, cross)
        else:
            remainder = 1.0
        (independent if remainder > DEPENDENCE_EPS_FACTOR * eps else dependent).append(j)
    return dependent


class Evaluator:
    """Normalized states as a numpy callable ``points (n, d) -> (n_states, n)``, evaluated in chunks.

    :meth:`laplacian` gives the Laplacian of exactly these functions (the same states, the same
    normalization constants), carried forward through the layers (:mod:`.trial`): the exact
    derivative of the network as computed, not (E - V) psi.
    """

    #: What ``Solution.derivatives_by`` says of :meth:`laplacian`.
    DERIVATIVES_BY = "forward-mode autodiff"

    def __init__(self, states: StateSet, norms: Sequence[float], device, dtype, dim: int, threads: int = 1):
        self.states, self.device, self.dtype, self.dim = states, device, dtype, dim
        # Evaluated on the solver's thread count, as it trained: the same rounding, and no
        # oversubscription when the harness grades and certifies cases side by side.
        self.threads = threads
        # Divided in the network's dtype, as psi itself is computed.
        self.norms = torch.as_tensor(np.asarray(norms, dtype=float), dtype=dtype, device=device)

    @torch.no_grad()
    def _derivative(self, points: np.ndarray, index: int) -> np.ndarray:
        """Derivative ``index`` (0: psi, 2: Laplacian) of each normalized state, ``(n_states, n)``."""
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        rows = []
        with torch_threads(self.threads):
            for start in range(0, len(points), CHUNK):
                x = torch.as_tensor(points[start : start + CHUNK], dtype=self.dtype, device=self.device)
                rows.append((self.states.derivatives(x, index)[index] / self.norms).double().cpu().numpy())
        values = np.concatenate(rows, axis=0) if rows else np.zeros((0, self.states.n_states))
        return values.T

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self._derivative(points, 0)

    def laplacian(self, points: np.ndarray) -> np.ndarray:
        """The Laplacian of each normalized state at ``points`` ``(n, d)``: ``(n_states, n)``, float64."""
        return self._derivative(points, 2)


def finish(
    solver: NeuralSolver,
    problem: Problem,
    states: StateSet,
    records: Sequence[TrainingRecord],
    networks: Sequence[TrialFunction],
    fine: FineRule,
    start: float,
    extra: dict[str, Any],
    *,
    collapse_floor: float,
    rotate: bool,
    node_check: bool,
    energies: Sequence[float] | None = None,
    trained_energies: Sequence[float] | None = None,
    matrices: tuple[np.ndarray, np.ndarray] | None = None,
    residual: bool = False,
) -> Solution:
    """Energies, per-state statuses, rotation and info on the fine rule: the end of every solve.

    Parameters
    ----------
    states, records, networks
        The trained states, one training record per state (or one for all), the networks.
    fine, start, extra
        The fine rule, the solve's start (``time.perf_counter()``) and solver-specific info.
    collapse_floor
        A state whose integral of psi^2 is at most this has collapsed to psi = 0 (``failed``).
    rotate
        For several states that are all usable (finite, not collapsed, independent): replace
        them by the Ritz vectors of their span on the fine rule, ascending (a degenerate level
        comes out as an orthonormal basis of it; close levels are un-mixed); the energies are
        then the Ritz values.
    node_check
        In 1D, a state k whose sign changes do not number k (Sturm) is ``failed``; it reads no
        reference. In d > 1 there is no such count (``info["node_check"]`` says so).
    energies
        The energies to report for the unrotated states instead of their Rayleigh quotients on
        the fine rule: only ``pinn-fixed`` in 1D, whose E is held at the exact value (there is
        no trained E to report, and the held one is what the reference paper reports).
    trained_energies
        The trained E of each state, in training order, for a method that trains E as a
        parameter: ``Solution.trained_energies``, while ``Solution.energies`` stays the Rayleigh
        quotient (Ritz value) on the fine rule, the estimator every neural solver reports. When
        the states are sorted by energy (d > 1, not rotated) the trained values follow them;
        when they are rotated into Ritz vectors, state k keeps the E of the network trained as
        state k (the Ritz vectors are combinations, and k-th pairs with k-th).
    matrices
        The states' stiffness and mass on the fine rule, where the solver has them already
        (then norms and energies are read off their diagonals).
    residual
        Record each state's relative residual |r| / |psi| on the fine rule.

    In 1D states that are not rotated keep their training order (state k is the one trained
    as state k, which the node check names); in d > 1 they are sorted by energy.
    """
    n_states = states.n_states
    one_d = problem.dim == 1
    eps = float(torch.finfo(fine.dtype).eps)
    if matrices is None:
        measured = fine.integrals(states, values=one_d)
        stiffness, mass, norms, trained = measured.stiffness, measured.mass, measured.norms, measured.rayleigh
        values = measured.values
    else:
        stiffness, mass = matrices
        norms = np.diag(mass).copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            trained = np.diag(stiffness) / norms
        values = None
    statuses, messages = [], []
    for k in range(n_states):
        record = records[min(k, len(records) - 1)]
        status, message = record.status, record.message
        if status is Status.OK and np.isfinite(norms[k]) and not norms[k] > collapse_floor:
            status, message = Status.FAILED, collapse_message(norms[k])
        elif status is Status.OK and not (np.isfinite(trained[k]) and norms[k] > 0):
            status, message = Status.DIVERGED, f"energy {trained[k]} or norm {norms[k]} is not finite, > 0"
        statuses.append(status)
        messages.append(message)
    finite = np.all(np.isfinite(mass)) and np.all(np.isfinite(stiffness)) and np.all(norms > 0)
    if finite and n_states > 1:
        for k in dependent_states(mass, eps):
            if statuses[k] is Status.OK:
                statuses[k] = Status.FAILED
                messages[k] = (
                    "is (nearly) a combination of the states trained before it: a degenerate group "
                    "trained without deflation (pinn-fixed: give overlap_weight > 0)"
                )
    usable = all(s in (Status.OK, Status.TIMEOUT) for s in statuses)
    rotated = False
    if rotate and n_states > 1 and finite and usable:
        ritz_values, vectors, kept = ritz_galerkin(stiffness, mass, eps)
        if kept == n_states:
            states, reported, norms, rotated = states.rotated(vectors), ritz_values, np.ones(n_states), True
            values = None if values is None else values @ vectors
    trained_out = None if trained_energies is None else np.asarray(trained_energies, dtype=float)
    if not rotated:
        reported = trained if energies is None else np.asarray(energies, dtype=float)
        if not one_d:
            order = np.argsort(np.where(np.isfinite(trained), trained, np.inf), kind="stable")
            states, reported, norms = (
                states.rotated(np.eye(n_states)[:, order]),
                reported[order],
                norms[order],
            )
            trained_out = None if trained_out is None else trained_out[order]
            statuses, messages = [statuses[k] for k in order], [messages[k] for k in order]
    info = training_info(records, networks, fine.device, solver.dtype, solver.seed, start)
    info.update(extra)
    info.update(
        dimension=problem.dim,
        fine_points=len(fine),
        rayleigh_energy=[float(e) for e in (ritz_values if rotated else trained)],
        trained_energy=[float(e) for e in trained],  # training order, before the rotation
        norm_integral=[float(n) for n in norms],
        subspace_rotation=rotated,
    )
    if one_d and values is not None:
        nodes = [count_nodes(values[:, k]) for k in range(n_states)]
        info["node_count"] = nodes
        for k in range(n_states):
            if node_check and statuses[k] is Status.OK and nodes[k] != k:
                statuses[k] = Status.FAILED
                messages[k] = sturm_message(nodes[k], k)
    else:
        info["node_check"] = NODE_CHECK_SKIPPED
    if residual:
        info["relative_residual"] = fine.residuals(states, reported)
    status, message = case_verdict(statuses, messages)
    evaluator = Evaluator(
        states,
        [math.sqrt(n) if n > 0 else math.nan for n in norms],
        fine.device,
        fine.dtype,
        problem.dim,
        solver.threads,
    )
    return Solution(
        np.asarray(reported, dtype=float),
        evaluator,
        info,
        status,
        message,
        statuses,
        messages,
        laplacian=evaluator.laplacian,
        derivatives_by=Evaluator.DERIVATIVES_BY,
        trained_energies=trained_out,
    )

"""Grading a solution against the exact reference (docs/results.md).

Solvers never grade themselves; the harness calls these. Every integral uses the
problem's own rule (:meth:`Problem.quadrature_rule`): tensor Gauss-Legendre panels
ending at the axis breakpoints (4096 nodes in 1D), or a rule that follows a curved
interface.

In d >= 2 dimensions levels are often degenerate, and any orthonormal basis of a
degenerate level is a correct answer. So a state is graded against its *level*
(its degenerate group, :meth:`Problem.degenerate_groups`), not against one
exact function: ``l2_error`` is the distance to the nearest normalized exact
function of the level, and ``subspace_sine`` the largest principal angle
between the computed and the exact span of the level. For a level of one state
(every level in 1D) ``l2_error`` is the sign-aligned L2 distance it always was.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .problems import Problem, Reference
from .solvers.base import Solution


def abs_energy_error(energies: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``|E - E_ref|`` elementwise."""
    return np.abs(np.asarray(energies, dtype=float) - np.asarray(reference, dtype=float))


def rel_energy_error(energies: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``|E - E_ref| / |E_ref|`` elementwise."""
    reference = np.asarray(reference, dtype=float)
    return abs_energy_error(energies, reference) / np.abs(reference)


def l2_error(values: np.ndarray, reference_values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sign-aligned L2 distance between normalized states sampled at quadrature nodes.

    Parameters
    ----------
    values, reference_values
        Shape ``(n_states, n_nodes)``: the two sets of states at the nodes.
    weights
        Quadrature weights, shape ``(n_nodes,)``.

    Returns
    -------
    numpy.ndarray
        ``min over s in {+1, -1} of ||s psi - psi_ref||`` per state, after
        normalizing both on the same rule.
    """
    values = np.atleast_2d(values)
    reference_values = np.atleast_2d(reference_values)

    def normalized(f):
        return f / np.sqrt((f**2) @ weights)[:, None]

    psi, psi_ref = normalized(values), normalized(reference_values)
    plus = np.sqrt(((psi - psi_ref) ** 2) @ weights)
    minus = np.sqrt(((psi + psi_ref) ** 2) @ weights)
    return np.minimum(plus, minus)


def state_groups(problem: Problem, n_states: int) -> list[tuple[int, ...]]:
    """The degenerate groups the grading uses: the problem's (:meth:`Problem.degenerate_groups`;
    one state per group in 1D, where a Dirichlet spectrum has no degeneracy)."""
    return [tuple(g) for g in problem.degenerate_groups(n_states)]


def energy_order(solution: Solution, problem: Problem) -> np.ndarray:
    """The order in which the solution's states are graded: ascending energy, NaN last.

    The sort is stable, so an ascending solution keeps its order. A solution whose state k is
    not the k-th lowest (a neural state that fell to a lower level) is graded as what it is.
    """
    energies = np.asarray(solution.energies, dtype=float)
    return np.argsort(energies, kind="stable")  # numpy sorts NaN last


def sorted_by_energy(solution: Solution, problem: Problem) -> Solution:
    """``solution`` with its states in :func:`energy_order`, each carrying its status and message.

    Returns ``solution`` itself when the order does not change.
    """
    order = energy_order(solution, problem)
    if np.array_equal(order, np.arange(solution.n_states)):
        return solution
    statuses = solution.statuses()

    def evaluate(x: np.ndarray) -> np.ndarray:
        return solution.wavefunctions(x)[order]

    def laplacian(x: np.ndarray) -> np.ndarray:
        return solution.laplacians(x)[order]

    def reordered(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else np.asarray(values, dtype=float)[order]

    return Solution(
        np.asarray(solution.energies, dtype=float)[order],
        evaluate,
        info=solution.info,
        status=solution.status,
        message=solution.message,
        state_status=[statuses[k][0] for k in order],
        state_messages=[statuses[k][1] for k in order],
        laplacian=None if solution.laplacian is None else laplacian,
        derivatives_by=solution.derivatives_by,
        trained_energies=reordered(solution.trained_energies),
        error_estimates=reordered(solution.error_estimates),
        estimated_by=solution.estimated_by,
    )


@dataclass(frozen=True)
class ExactLevels:
    """The exact states on a quadrature rule, grouped by level, with what orthonormalizes each level.

    Attributes
    ----------
    nodes, weights
        The rule (nodes ``(n, d)``, weights ``(n,)``).
    values
        The exact states at the nodes, ``(n_states, n)``.
    groups
        The degenerate groups (:func:`state_groups`).
    factors
        Per group, the triangular ``R`` (``(m, m)``) of ``values[group].T * sqrt(weights) = Q R``:
        ``Q``, which has orthonormal columns spanning the level, is rebuilt from it when needed
        (it is as large as the level's values, and a 4D rule has millions of nodes).
    """

    nodes: np.ndarray
    weights: np.ndarray
    values: np.ndarray
    groups: tuple[tuple[int, ...], ...]
    factors: tuple[np.ndarray, ...]

    @classmethod
    def build(
        cls, nodes: np.ndarray, weights: np.ndarray, values: np.ndarray, groups: list[tuple[int, ...]]
    ) -> ExactLevels:
        root = np.sqrt(weights)
        # The exact states of a level are orthonormal analytically; R makes them so on this rule.
        factors = tuple(np.linalg.qr((values[list(group)] * root).T, mode="r") for group in groups)
        return cls(nodes, weights, values, tuple(tuple(g) for g in groups), factors)

    def basis(self, g: int) -> np.ndarray:
        """``Q`` of group ``g``: ``(n, m)`` orthonormal columns, the level's exact states times sqrt(w)."""
        scaled = self.values[list(self.groups[g])] * np.sqrt(self.weights)
        return np.linalg.solve(self.factors[g].T, scaled).T

    def group_of(self) -> np.ndarray:
        """Index of each state's group."""
        index = np.empty(len(self.values), dtype=int)
        for g, group in enumerate(self.groups):
            index[list(group)] = g
        return index

    @property
    def nbytes(self) -> int:
        return self.nodes.nbytes + self.weights.nbytes + self.values.nbytes


@dataclass(frozen=True)
class WavefunctionGrades:
    """What grading found for the wavefunctions of a solution, state by state (in graded order).

    Attributes
    ----------
    l2_error
        Distance from each normalized state to the nearest normalized exact function of its level.
    subspace_sine
        Sine of the largest principal angle between the computed and the exact span of the state's
        level (the same for every state of a group); 1.0 when the computed states of a group are
        linearly dependent.
    group
        Index of each state's degenerate group.
    nearest
        Per state, the coefficients ``beta`` (one per state of its group, in group order) of the
        nearest normalized exact function of its level, ``sum_j beta_j psi_ref[group[j]]``;
        NaN where the state has no wavefunction.
    """

    l2_error: np.ndarray
    subspace_sine: np.ndarray
    group: np.ndarray
    nearest: tuple[np.ndarray, ...]


def grade_wavefunctions(
    solution: Solution, problem: Problem, reference: Reference | None = None, n_points: int | None = None
) -> WavefunctionGrades:
    """Grade every state's wavefunction against its exact level on ``problem.quadrature_rule``.

    The states are first put in ascending order of energy (:func:`sorted_by_energy`), so the
    results are in that order.

    Parameters
    ----------
    solution
        The computed states.
    problem
        The problem; its rule (``n_points`` nodes, default the grading rule's) and its groups.
    reference
        The exact states to grade against; default the problem's own, whose values on the rule
        are computed once per problem and reused.
    n_points
        Approximate number of nodes of the rule (default: the grading rule's).

    Returns
    -------
    WavefunctionGrades
    """
    solution = sorted_by_energy(solution, problem)
    if reference is None:
        exact = _exact_levels(problem, solution.n_states, n_points)
    else:
        nodes, weights = problem.quadrature_rule(n_points)
        groups = state_groups(problem, solution.n_states)
        exact = ExactLevels.build(nodes, weights, reference.wavefunctions(nodes), groups)
    return _grade(solution.wavefunctions(exact.nodes), exact)


def wavefunction_l2_error(
    solution: Solution, problem: Problem, reference: Reference | None = None, n_points: int | None = None
) -> np.ndarray:
    """L2 error of each state of ``solution``: the ``l2_error`` of :func:`grade_wavefunctions`.

    For a state alone in its level (every state in 1D) this is the sign-aligned L2 distance
    (:func:`l2_error`) on the problem's rule.
    """
    return grade_wavefunctions(solution, problem, reference, n_points).l2_error


def subspace_sines(
    solution: Solution, problem: Problem, reference: Reference | None = None, n_points: int | None = None
) -> np.ndarray:
    """Each state's ``subspace_sine`` (see :func:`grade_wavefunctions`)."""
    return grade_wavefunctions(solution, problem, reference, n_points).subspace_sine


def _grade(values: np.ndarray, exact: ExactLevels) -> WavefunctionGrades:
    n_states = len(exact.values)
    values = np.asarray(values, dtype=float).reshape(n_states, -1)
    weights, root = exact.weights, np.sqrt(exact.weights)
    l2 = np.full(n_states, np.nan)
    sine = np.full(n_states, np.nan)
    nearest: list[np.ndarray] = [np.full(1, np.nan)] * n_states
    single = [group[0] for group in exact.groups if len(group) == 1]
    if single:
        # A level of one state: the sign-aligned distance (l2_error), in one call.
        l2[single] = l2_error(values[single], exact.values[single], weights)
    for g, group in enumerate(exact.groups):
        index = list(group)
        q, r = exact.basis(g), exact.factors[g]
        scaled = values[index] * root  # rows: each state times sqrt(w), so plain dot products integrate
        norms = np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = scaled / norms[:, None]
        usable = np.isfinite(unit).all(axis=1)
        coefficients = unit @ q  # each state's components on the level's orthonormal exact basis
        for j, state in enumerate(index):
            if not usable[j]:
                continue
            size = np.linalg.norm(coefficients[j])
            if size == 0.0:  # orthogonal to the level: every function of it is sqrt(2) away
                nearest[state] = np.full(len(index), np.nan)
                l2[state] = l2[state] if len(index) == 1 else np.sqrt(2.0)
                continue
            direction = coefficients[j] / size
            # Q direction = (values[group].T * root) R^-1 direction: coefficients on the raw exact states.
            nearest[state] = np.linalg.solve(r, direction)
            if len(index) > 1:  # the distance to the nearest normalized function of the level
                l2[state] = float(np.linalg.norm(unit[j] - q @ direction))
        if usable.all():
            sine[index] = _largest_sine(unit.T, q)
    return WavefunctionGrades(l2, sine, exact.group_of(), tuple(nearest))


def _largest_sine(computed: np.ndarray, exact_basis: np.ndarray) -> float:
    """Sine of the largest principal angle between span(computed columns) and span(exact_basis).

    ``computed`` has normalized columns (weighted by sqrt(w)); ``exact_basis`` orthonormal ones.
    Linearly dependent computed columns (two states that are one function) span less than the
    level: 1.0. The sine is the 2-norm of the part of the computed orthonormal basis outside the
    exact span, which stays accurate for tiny angles (1 - cos^2 would not).
    """
    u, s, _ = np.linalg.svd(computed, full_matrices=False)
    # numpy's matrix_rank tolerance: below it a singular value is rounding, not a direction.
    if s[-1] <= s[0] * max(computed.shape) * np.finfo(float).eps:
        return 1.0
    outside = u - exact_basis @ (exact_basis.T @ u)
    return float(min(np.linalg.norm(outside, 2), 1.0))


#: The exact states kept on their rules between gradings, by problem (most recently used last).
_EXACT_CACHE: OrderedDict[tuple[Problem, int, int | None], ExactLevels] = OrderedDict()
#: What that cache may hold: a 4D rule with ten states is about 300 MB, a 1D one about 0.4 MB.
EXACT_CACHE_BYTES = 512 * 2**20


def _exact_levels(problem: Problem, n_states: int, n_points: int | None) -> ExactLevels:
    """The problem's exact levels on its rule, computed once per problem while they fit the cache."""
    # Problems are immutable and hash by their parameters, so the key is the physics.
    key = (problem, n_states, n_points)
    exact = _EXACT_CACHE.get(key)
    if exact is not None:
        _EXACT_CACHE.move_to_end(key)
        return exact
    nodes, weights = problem.quadrature_rule(n_points)
    values = problem.reference(n_states).wavefunctions(nodes)
    exact = ExactLevels.build(nodes, weights, values, state_groups(problem, n_states))
    for array in (exact.nodes, exact.weights, exact.values, *exact.factors):
        array.setflags(write=False)
    _EXACT_CACHE[key] = exact
    while len(_EXACT_CACHE) > 1 and sum(e.nbytes for e in _EXACT_CACHE.values()) > EXACT_CACHE_BYTES:
        _EXACT_CACHE.popitem(last=False)
    return exact


#: How far off the box centre (a fraction of each side) the report's sampling line runs.
LINE_OFFSET = 0.0625


def sample_line(problem: Problem, n_points: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Where the report samples wavefunctions: a line parallel to axis 0, from wall to wall.

    The line runs through the point whose coordinate 0 is the box centre's and whose other
    coordinates sit ``LINE_OFFSET`` of each side's width off the box centre (the centre lines are
    nodal lines of every state odd in another axis of a symmetric box). In 1D there is no other
    coordinate: the line is the whole domain.

    Returns
    -------
    x : numpy.ndarray
        ``n_points`` uniform coordinates along axis 0, from wall to wall.
    points : numpy.ndarray
        The points to evaluate at, ``(n_points, d)``: ``point`` with coordinate 0 replaced by ``x``.
    line : dict
        ``{"axis": 0, "point": point}``, the line ``point + t e_0`` (``point`` a list of d floats).
    """
    (lo, hi), *others = problem.box
    x = np.linspace(lo, hi, n_points)
    point = [float(0.5 * (lo + hi))] + [float(0.5 * (a + b) + LINE_OFFSET * (b - a)) for a, b in others]
    points = np.tile(np.asarray(point), (n_points, 1))
    points[:, 0] = x
    return x, points, {"axis": 0, "point": point}

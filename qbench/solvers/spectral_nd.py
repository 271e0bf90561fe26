"""Tensor-product Chebyshev collocation in d >= 2 dimensions: the ``spectral`` solver's d-dim path.

Each axis is cut at its breakpoints into pieces, and each piece gets Chebyshev
Lobatto points, as in 1D (:mod:`qbench.solvers.spectral`). The grid is the
tensor product of the axes' points. The equation is imposed at the interior
tensor points; the values on the walls and on the interfaces come from the 1D
conditions imposed line by line (psi = 0 on a wall, psi and its normal
derivative continuous across an interface). Those condition rows give an
axis's end values as a fixed linear map of its interior values, independent
of V and E, so with ``L_i`` the 1D matrix of ``-d^2/dx_i^2`` with the ends
eliminated, the discrete operator on the interior points is the Kronecker sum

    H = L_1 (+) L_2 (+) ... (+) L_d + diag(V at the interior tensor points).

H is not symmetric (collocation is not Galerkin). When V is not separable
and H has at most :data:`DENSE_MAX_UNKNOWNS` unknowns, its lowest eigenpairs
come from a dense ``scipy.linalg.eig``. Otherwise from a block shift-invert
Krylov method below the spectrum (shift sigma <= min V), with Rayleigh-Ritz on H and true residuals.
Each solve with ``H - sigma I`` is a GMRES preconditioned by the exact
inverse of ``L_1 (+) ... (+) L_d + diag(c + v_1(x_1) + ... + v_d(x_d)) - sigma``
(fast diagonalization: each ``L_i + diag(v_i)`` diagonalized once, then two
passes of small dense matrices along each axis), ``c + sum v_i`` the
separable part of V on the grid. The block starts as that separable
operator's lowest eigenvectors, which are H's own when V is separable: then
no solve at all is needed, and only the non-separable remainder of V (a
circular well) costs iterations. Two alternatives were rejected. A sparse LU
of H (for ARPACK's shift-invert) fills in to dense: every point is coupled to
every point on its lines, a graph without small separators. And ARPACK's
single start vector spans one direction per exactly degenerate eigenspace
(the square's and the cube's symmetric levels), in exact arithmetic and
nearly so in floating point: started from the preconditioned all-ones vector
it returned the cube's triple levels short of members in testing; a block
holds them all.

The energies are Rayleigh-Ritz values of the span of the collocation
eigenvectors, each extended to the whole grid and read as a tensor-product
polynomial on each cell: ``(int |grad psi|^2 + V psi^2)`` against
``int psi^2``. That trial space is continuous and vanishes on the walls, so
the Ritz values are upper bounds and their error is quadratic in the
eigenvectors' error (the collocation eigenvalues, kept in ``info``, are not
variational and converge at the eigenvectors' rate). The gradient and mass
integrals use tensor Gauss-Legendre rules per cell that are exact for the
polynomials; ``V psi^2`` uses the same rule with extra points where the
potential's jumps are axis-aligned, and the problem's own quadrature rule
(which follows the curve) where they are not. The Ritz step also returns an
orthonormal basis of every degenerate group.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse.linalg
from numpy.polynomial import chebyshev

from ..problems import Problem
from ..quadrature import gauss_legendre_rule, panel_edges
from .base import Solution, Status
from .grid import apportion
from .spectral import _EXTRA_GAUSS_POINTS, _IMAG_TOLERANCE, MIN_DEGREE, _collocation, chebyshev_lobatto

#: Interior unknowns (prod over axes) above which the solve is refused: the block Krylov space
#: keeps 4 * (n_states + 4) vectors of this length and GMRES 80 more, and the tensor grid with the
#: walls and interfaces is larger still (a 4D problem's is 1.8 times H's size at 31 points per axis).
MAX_UNKNOWNS = 500_000
#: Interior unknowns up to which a non-separable H is built and solved densely (``scipy.linalg.eig``,
#: O(N^3): about 1 s at N = 1200 on one core, 10 s at 2000); above, the preconditioned block Krylov
#: method, which on the circular well is faster from about here. A separable V always takes the
#: Krylov path, which then costs no solve at all.
DENSE_MAX_UNKNOWNS = 1200
#: V is separable on the grid when its non-separable remainder is below this, relative to max |V|.
_SEPARABLE_RTOL = 1e-12
#: Relative residual of each GMRES solve with H - sigma I.
GMRES_RTOL = 1e-12
#: GMRES Krylov space size before a restart: the non-separable remainder of V leaves about as many
#: outlying eigenvalues of the preconditioned operator as there are levels below its size.
GMRES_RESTART = 80
GMRES_MAX_RESTARTS = 20
#: Block vectors beyond n_states: the wanted states are never the last in the block.
_BLOCK_EXTRA = 4
#: Shift-invert block solves per restart (the Krylov space is the block and its first images).
_KRYLOV_STEPS = 3
_MAX_RESTARTS = 50
#: Restarts without halving the worst residual after which the iteration stops.
_STAGNATION_RESTARTS = 4
#: Converged when ||H x - theta x|| <= RESIDUAL_TOL * max(|theta|, 1) * ||x|| for every wanted state.
RESIDUAL_TOL = 1e-10
#: Above this final residual the iterative eigenpairs are not trusted (status failed); below it
#: and above RESIDUAL_TOL ``info`` carries a warning (the Ritz energies' error is its square).
_FAIL_RESIDUAL = 1e-6
#: A new direction smaller than this (relative) after orthogonalization is a duplicate and dropped.
_RANK_RTOL = 1e-14
#: A Ritz basis direction whose Gram eigenvalue is below this (relative) is a duplicate and dropped.
_GRAM_RTOL = 1e-12
#: Points per chunk times values per point in the evaluations on many points (bounds their memory).
_CHUNK_ELEMENTS = 2_000_000


class _ZeroPotential:
    """Stands in for a problem in :func:`qbench.solvers.spectral._collocation` to get ``L_i`` alone."""

    @staticmethod
    def potential(x: np.ndarray) -> np.ndarray:
        return np.zeros_like(x)


@dataclass(frozen=True)
class AxisDiscretization:
    """One axis: its pieces, Lobatto points, the operator ``L`` and the map to all nodal values.

    Attributes
    ----------
    edges : numpy.ndarray
        Walls and breakpoints of this axis.
    degrees : numpy.ndarray
        Polynomial degree of each piece (its Lobatto points minus one).
    nodes : numpy.ndarray
        All Lobatto points of all pieces in order; an interface appears twice (once per side).
    pieces : list of slice
        Each piece's slice of ``nodes``.
    interior : numpy.ndarray
        Indices of the interior points (the unknowns) in ``nodes``.
    operator : numpy.ndarray
        ``L``: ``-d^2/dx^2`` on the interior points with the end values eliminated.
    extension : numpy.ndarray
        ``(len(nodes), len(interior))``: interior values to all nodal values (walls: 0; interfaces:
        continuity of the value and the derivative).
    """

    edges: np.ndarray
    degrees: np.ndarray
    nodes: np.ndarray
    pieces: list[slice]
    interior: np.ndarray
    operator: np.ndarray
    extension: np.ndarray

    @property
    def n_interior(self) -> int:
        return len(self.interior)


def axis_discretization(
    interval: tuple[float, float], breakpoints: tuple[float, ...], n_points: int
) -> AxisDiscretization:
    """The 1D discretization of one axis with ``n_points`` Lobatto points over its pieces."""
    edges = panel_edges(interval, breakpoints)
    degrees = apportion(n_points, np.diff(edges), minimum=MIN_DEGREE + 1) - 1
    operator, interior, boundary_map, pieces = _collocation(_ZeroPotential(), edges, degrees)
    nodes = np.concatenate(
        [
            a + 0.5 * (b - a) * (chebyshev_lobatto(int(degree))[0] + 1.0)
            for a, b, degree in zip(edges[:-1], edges[1:], degrees)
        ]
    )
    extension = np.zeros((len(nodes), len(interior)))
    extension[interior, np.arange(len(interior))] = 1.0
    ends = np.setdiff1d(np.arange(len(nodes)), interior)
    extension[ends] = boundary_map
    return AxisDiscretization(edges, degrees, nodes, pieces, interior, operator, extension)


def unknowns(problem: Problem, n_points: int) -> int:
    """The number of interior tensor points (the size of H) for ``n_points`` per axis."""
    return int(np.prod([n_points - 2 * (len(cuts) + 1) for cuts in _axis_cuts(problem)]))


def max_points_per_axis(problem: Problem) -> int:
    """The largest ``n_points`` per axis whose H has at most :data:`MAX_UNKNOWNS` unknowns."""
    n = (MIN_DEGREE + 1) * max(len(cuts) + 1 for cuts in _axis_cuts(problem))
    while unknowns(problem, n + 1) <= MAX_UNKNOWNS:
        n += 1
    return n


def _axis_cuts(problem: Problem) -> list[tuple[float, ...]]:
    """Per axis, the breakpoints strictly inside the box (those are the piece ends)."""
    return [
        tuple(b for b in cuts if lo < b < hi) for (lo, hi), cuts in zip(problem.box, problem.axis_breakpoints)
    ]


def check_problem(problem: Problem, n_states: int, n_points: int) -> None:
    """Raise a one-line ``ValueError`` naming ``n_points`` if the grid is too coarse or too large."""
    pieces = max(len(cuts) + 1 for cuts in _axis_cuts(problem))
    needed = (MIN_DEGREE + 1) * pieces
    if n_points < needed:
        raise ValueError(
            f"n_points must be >= {needed} per axis for a problem with {pieces} piece(s) on an axis, "
            f"got {n_points}"
        )
    size = unknowns(problem, n_points)
    if size > MAX_UNKNOWNS:
        raise ValueError(
            f"n_points must be <= {max_points_per_axis(problem)} per axis for {problem.name!r} in "
            f"{problem.dim}D ({size} unknowns > {MAX_UNKNOWNS}), got {n_points}"
        )
    if size < (n_states + _BLOCK_EXTRA) * (_KRYLOV_STEPS + 1):
        raise ValueError(
            f"n_points={n_points} per axis gives {size} unknowns, too few for {n_states} state(s); "
            "increase n_points"
        )


def solve(problem: Problem, n_states: int, n_points: int, eigensolver: str = "auto") -> Solution:
    """The ``n_states`` lowest states of a d-dimensional ``problem``, ``n_points`` Lobatto points per axis.

    Parameters
    ----------
    problem
        A problem with ``dim >= 2`` (a :class:`qbench.problems.box.BoxProblem`).
    n_states
        Number of lowest states.
    n_points
        Lobatto points per axis, shared out among the axis's pieces by width.
    eigensolver
        ``"auto"`` (iterative when V is separable on the grid or H has more than
        :data:`DENSE_MAX_UNKNOWNS` unknowns, else dense), ``"dense"`` or ``"iterative"``.

    Returns
    -------
    Solution
        Rayleigh-Ritz energies, states evaluable at ``(n, d)`` points, ``info`` with the
        collocation eigenvalues and the eigensolver's counters.
    """
    if eigensolver not in ("auto", "dense", "iterative"):
        raise ValueError(f"eigensolver must be 'auto', 'dense' or 'iterative', got {eigensolver!r}")
    axes = [
        axis_discretization(interval, cuts, n_points)
        for interval, cuts in zip(problem.box, _axis_cuts(problem))
    ]
    shape = tuple(axis.n_interior for axis in axes)
    size = int(np.prod(shape))
    interior_points = _tensor_points([axis.nodes[axis.interior] for axis in axes])
    potential = np.asarray(problem.potential(interior_points), dtype=float).reshape(shape)
    preconditioner = _FastDiagonalization(axes, potential)
    # A separable V makes the preconditioner's lowest eigenvectors H's own: the iterative path then
    # needs no solve and beats a dense eig at every size.
    remainder = float(np.max(np.abs(potential - preconditioner.separable)))
    separable = remainder <= _SEPARABLE_RTOL * max(1.0, float(np.max(np.abs(potential))))
    if eigensolver == "auto":
        eigensolver = "iterative" if separable or size > DENSE_MAX_UNKNOWNS else "dense"
    if eigensolver == "dense":
        eigenvalues, eigenvectors, counters = _dense_eigenpairs(axes, potential, n_states)
    else:
        eigenvalues, eigenvectors, counters = _iterative_eigenpairs(axes, potential, n_states, preconditioner)
    collocation_energies = eigenvalues.real
    imaginary = np.abs(eigenvalues.imag) / np.maximum(np.abs(collocation_energies), 1.0)

    basis = _real_basis(eigenvectors)
    nodal = _extend(axes, basis.reshape(*shape, -1))
    cells = _Cells(axes, nodal)
    energies, coefficients = cells.rayleigh_ritz(problem, n_states)
    states = _TensorChebyshev(problem.box, axes, cells.transform(coefficients))
    info = {
        "dimension": problem.dim,
        "points_per_axis": n_points,
        "degrees": [axis.degrees.tolist() for axis in axes],
        "matrix_size": size,
        "separable_potential": separable,
        **counters,
        "energies_from": "Rayleigh-Ritz on the collocation eigenvectors"
        + (
            " (V psi^2 by the problem's quadrature rule)"
            if problem.curved_interfaces
            else " (tensor Gauss-Legendre per cell)"
        ),
        "ritz_basis_size": int(basis.shape[1]),
        "collocation_energies": collocation_energies.tolist(),
        "max_rel_imag": float(imaginary.max()),
    }
    status, message = Status.OK, ""
    if imaginary.max() > _IMAG_TOLERANCE:
        worst = int(np.argmax(imaginary))
        status = Status.FAILED
        message = (
            f"state {worst}: eigenvalue has relative imaginary part {imaginary[worst]:.1e}; increase n_points"
        )
    elif counters.get("max_rel_residual", 0.0) > _FAIL_RESIDUAL:
        status = Status.FAILED
        message = f"iterative eigensolver stopped at relative residual {counters['max_rel_residual']:.1e}"
    return Solution(energies, states, info, status, message)


# -- eigensolvers -------------------------------------------------------------------------------------


def _apply(matrix: np.ndarray, tensor: np.ndarray, axis: int) -> np.ndarray:
    """``matrix`` applied along ``axis`` of ``tensor`` (the Kronecker factor of that axis)."""
    return np.moveaxis(np.tensordot(matrix, tensor, axes=([1], [axis])), 0, axis)


def _kronecker_sum(axes: list[AxisDiscretization]) -> np.ndarray:
    """Dense ``L_1 (+) ... (+) L_d``, the last axis varying fastest (C order)."""
    sizes = [axis.n_interior for axis in axes]
    total = np.zeros((int(np.prod(sizes)),) * 2)
    for i, axis in enumerate(axes):
        before, after = int(np.prod(sizes[:i])), int(np.prod(sizes[i + 1 :]))
        total += np.kron(np.kron(np.eye(before), axis.operator), np.eye(after))
    return total


def _select(eigenvalues: np.ndarray, eigenvectors: np.ndarray, n_states: int):
    """The ``n_states`` eigenpairs of lowest real part, ascending."""
    order = np.argsort(eigenvalues.real, kind="stable")[:n_states]
    return eigenvalues[order], eigenvectors[:, order]


def _dense_eigenpairs(axes, potential, n_states):
    matrix = _kronecker_sum(axes)
    matrix[np.diag_indices_from(matrix)] += potential.ravel()
    eigenvalues, eigenvectors = scipy.linalg.eig(matrix, check_finite=False)
    eigenvalues, eigenvectors = _select(eigenvalues, eigenvectors, n_states)
    return eigenvalues, eigenvectors, {"eigensolver": "dense: scipy.linalg.eig of the Kronecker-sum matrix"}


class _FastDiagonalization:
    """Exact inverse of ``L_1 (+) ... (+) L_d + diag(c + sum_i v_i(x_i)) - sigma`` by per-axis eigenbases.

    ``c + sum_i v_i`` is the separable part of V on the grid (the mean, plus each axis's mean
    deviation), exact when V is separable. Each ``L_i + diag(v_i)`` has a real spectrum and
    well-conditioned eigenvectors in practice; complex arithmetic is used if not.
    """

    def __init__(self, axes: list[AxisDiscretization], potential: np.ndarray):
        d = potential.ndim
        self.shape = potential.shape
        mean = float(potential.mean())
        self.separable = np.full(self.shape, mean)
        self.bases, self.inverses, levels = [], [], []
        for i, axis in enumerate(axes):
            others = tuple(j for j in range(d) if j != i)
            deviation = potential.mean(axis=others) - mean
            self.separable = self.separable + deviation.reshape([-1 if j == i else 1 for j in range(d)])
            values, vectors = scipy.linalg.eig(axis.operator + np.diag(deviation))
            if np.all(values.imag == 0.0):
                values, vectors = values.real, vectors.real
            self.bases.append(vectors)
            self.inverses.append(np.linalg.inv(vectors))
            levels.append(values)
        self.levels = functools.reduce(np.add.outer, levels) + mean
        self.kinetic_ground = float(sum(np.min(np.linalg.eigvals(axis.operator).real) for axis in axes))
        self.denominators = None

    def lowest_eigenvectors(self, count: int) -> np.ndarray:
        """``(N, count)``: the eigenvectors of the ``count`` lowest levels, products of axis eigenvectors."""
        flat = np.argsort(self.levels.real, axis=None, kind="stable")[:count]
        columns = []
        for index in zip(*np.unravel_index(flat, self.shape)):
            factors = [basis[:, j] for basis, j in zip(self.bases, index)]
            columns.append(functools.reduce(np.multiply.outer, factors).ravel())
        return np.stack(columns, axis=1)

    def set_shift(self, sigma: float) -> None:
        self.denominators = self.levels - sigma

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        tensor = rhs.reshape(self.shape)
        for i, inverse in enumerate(self.inverses):
            tensor = _apply(inverse, tensor, i)
        tensor = tensor / self.denominators
        for i, basis in enumerate(self.bases):
            tensor = _apply(basis, tensor, i)
        return np.real(tensor).ravel() if np.isrealobj(rhs) else tensor.ravel()


def _iterative_eigenpairs(axes, potential, n_states, fd: _FastDiagonalization):
    """Block shift-invert Krylov with thick restarts, Rayleigh-Ritz on H, residuals checked on H.

    The block starts as the lowest eigenvectors of the preconditioner's separable operator (exact
    eigenvectors of H when V is separable, so then no solve is needed at all). Each restart adds
    ``_KRYLOV_STEPS`` blocks ``(H - sigma I)^-1 X``, ... and keeps the best ``block`` Ritz vectors. A
    block, unlike ARPACK's single start vector, holds every member of a degenerate level (a Krylov
    space of one vector sees one direction per exactly degenerate eigenspace).
    """
    shape, size = potential.shape, potential.size
    # Below the spectrum: H's eigenvalues exceed min V (the kinetic part is positive), and the
    # preconditioner's denominators stay >= its kinetic ground energy even where the separable
    # approximation of V dips below min V.
    sigma = min(float(potential.min()), float(fd.levels.real.min()) - fd.kinetic_ground)
    fd.set_shift(sigma)
    block = min(n_states + _BLOCK_EXTRA, size // (_KRYLOV_STEPS + 1))

    def apply_h(vectors: np.ndarray) -> np.ndarray:
        tensor = vectors.reshape(*shape, -1)
        out = potential[..., None] * tensor
        for i, axis in enumerate(axes):
            out = out + _apply(axis.operator, tensor, i)
        return out.reshape(size, -1)

    shifted = scipy.sparse.linalg.LinearOperator(
        (size, size), matvec=lambda v: apply_h(v.reshape(-1, 1)).ravel() - sigma * v.ravel(), dtype=float
    )
    preconditioner = scipy.sparse.linalg.LinearOperator((size, size), matvec=fd.solve, dtype=float)
    counts = {"solves": 0, "gmres_iterations": 0, "worst_residual": 0.0}

    def count(_residual: float) -> None:
        counts["gmres_iterations"] += 1

    def solve_shifted(vectors: np.ndarray) -> np.ndarray:
        out = np.empty_like(vectors)
        for j in range(vectors.shape[1]):
            rhs = vectors[:, j]
            counts["solves"] += 1
            out[:, j], _ = scipy.sparse.linalg.gmres(
                shifted,
                rhs,
                x0=fd.solve(rhs),
                rtol=GMRES_RTOL,
                atol=0.0,
                restart=min(GMRES_RESTART, size),
                maxiter=GMRES_MAX_RESTARTS,
                M=preconditioner,
                callback=count,
                callback_type="pr_norm",
            )
            residual = np.linalg.norm(shifted @ out[:, j] - rhs) / np.linalg.norm(rhs)
            counts["worst_residual"] = max(counts["worst_residual"], float(residual))
        return out

    basis = _orthonormalize(_real_basis(fd.lowest_eigenvectors(block)))
    restarts, best, best_at = 0, np.inf, 0
    while True:
        h_basis = apply_h(basis)
        values, vectors = scipy.linalg.eig(basis.T @ h_basis)
        chosen = np.argsort(values.real, kind="stable")[:block]
        values, vectors = values[chosen], vectors[:, chosen]
        ritz = basis @ vectors
        residuals = np.linalg.norm(h_basis @ vectors - ritz * values, axis=0) / (
            np.linalg.norm(ritz, axis=0) * np.maximum(np.abs(values), 1.0)
        )
        worst = float(residuals[:n_states].max())
        if worst < 0.5 * best:
            best, best_at = worst, restarts
        # Stop when converged, or when rounding (eps * ||H||) keeps the residual from falling further.
        if worst <= RESIDUAL_TOL or restarts == _MAX_RESTARTS or restarts - best_at >= _STAGNATION_RESTARTS:
            break
        restarts += 1
        blocks = [_orthonormalize(_real_basis(ritz))]
        for _ in range(_KRYLOV_STEPS):
            new = _orthonormalize(solve_shifted(blocks[-1]), np.hstack(blocks))
            if new.shape[1] == 0:  # the space is invariant: nothing new to add
                break
            blocks.append(new)
        basis = np.hstack(blocks)
    counters = {
        "eigensolver": (
            "iterative: block shift-invert Krylov below min V with Rayleigh-Ritz on H; solves by GMRES "
            "preconditioned by fast diagonalization of the Kronecker sum plus the separable part of V"
        ),
        "sigma": sigma,
        "block_size": block,
        "restarts": restarts,
        "shift_invert_solves": counts["solves"],
        "gmres_iterations": counts["gmres_iterations"],
        "worst_gmres_residual": counts["worst_residual"],
        "max_rel_residual": worst,
    }
    if worst > RESIDUAL_TOL:
        counters["warning"] = f"not converged after {restarts} restarts: relative residual {worst:.1e}"
    return values[:n_states], ritz[:, :n_states], counters


def _orthonormalize(vectors: np.ndarray, against: np.ndarray | None = None) -> np.ndarray:
    """Orthonormal columns spanning ``vectors`` (minus their part in ``against``), duplicates dropped."""
    if vectors.shape[1] == 0:
        return vectors
    scale = np.linalg.norm(vectors, axis=0).max()
    if against is not None:
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            vectors = vectors - against @ (against.T @ vectors)
    q, r, _ = scipy.linalg.qr(vectors, mode="economic", pivoting=True)
    rank = int(np.sum(np.abs(np.diag(r)) > _RANK_RTOL * scale))
    return q[:, :rank]


def _real_basis(vectors: np.ndarray) -> np.ndarray:
    """Real vectors spanning the (complex) eigenvectors' span.

    A real eigenvalue's eigenvector is real up to a phase; a complex pair (a degenerate level split
    by rounding into ``E +- i eps``) spans the real and imaginary parts of either member, which
    are two different real states, so both are kept. Duplicates are removed later by the Ritz step.
    """
    peak = np.argmax(np.abs(vectors), axis=0)
    phase = vectors[peak, np.arange(vectors.shape[1])]
    rotated = vectors * (np.abs(phase) / phase)
    parts = [rotated.real]
    imaginary = np.linalg.norm(rotated.imag, axis=0) > 1e-8 * np.linalg.norm(rotated.real, axis=0)
    if imaginary.any():
        parts.append(rotated.imag[:, imaginary])
    return np.concatenate(parts, axis=1)


def _extend(axes: list[AxisDiscretization], interior: np.ndarray) -> np.ndarray:
    """Interior values (trailing state axis) to values at all tensor nodes, walls and interfaces."""
    for i, axis in enumerate(axes):
        interior = _apply(axis.extension, interior, i)
    return interior


def _tensor_points(coordinates: list[np.ndarray]) -> np.ndarray:
    """The ``(n, d)`` tensor grid of per-axis coordinates, last axis fastest."""
    grids = np.meshgrid(*coordinates, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=-1)


# -- states: polynomials on cells ------------------------------------------------------------------------


class _Cells:
    """The nodal values of a set of states cut into cells (products of axis pieces), and their integrals."""

    def __init__(self, axes: list[AxisDiscretization], nodal: np.ndarray):
        self.axes = axes
        self.nodal = nodal
        self.cells = list(itertools.product(*[range(len(axis.pieces)) for axis in axes]))

    def _cell_values(self, cell: tuple[int, ...]) -> np.ndarray:
        return self.nodal[tuple(axis.pieces[j] for axis, j in zip(self.axes, cell))]

    def _axis_rule(self, axis: AxisDiscretization, piece: int, extra: int):
        """Gauss nodes and weights on one piece, and the value and derivative matrices from its nodes."""
        a, b = axis.edges[piece], axis.edges[piece + 1]
        degree = int(axis.degrees[piece])
        nodes, weights = gauss_legendre_rule([a, b], 1, order=degree + 1 + extra)
        return nodes, weights, *_interpolation_matrices(degree, a, b, nodes)

    def rayleigh_ritz(self, problem: Problem, n_states: int) -> tuple[np.ndarray, np.ndarray]:
        """Ritz values and coefficient vectors (columns, orthonormal in L2) of the lowest ``n_states``."""
        n_basis = self.nodal.shape[-1]
        stiffness = np.zeros((n_basis, n_basis))
        mass = np.zeros((n_basis, n_basis))
        d = len(self.axes)
        for cell in self.cells:
            values = self._cell_values(cell)
            # Degree + 1 Gauss points per axis integrate psi^2 and |grad psi|^2 exactly.
            rules = [self._axis_rule(axis, j, 0) for axis, j in zip(self.axes, cell)]
            weights = functools.reduce(np.multiply.outer, [rule[1] for rule in rules]).reshape(-1, 1)
            for k in range(-1, d):  # k = -1: the values; k >= 0: the derivative along axis k
                field = values
                for i, (_, _, value_matrix, derivative_matrix) in enumerate(rules):
                    field = _apply(derivative_matrix if i == k else value_matrix, field, i)
                flat = field.reshape(-1, n_basis)
                product = flat.T @ (flat * weights)
                if k < 0:
                    mass += product
                else:
                    stiffness += product
            if not problem.curved_interfaces:
                stiffness += self._potential_term(problem, cell, values)
        if problem.curved_interfaces:
            # V jumps on a curve inside the cells: the problem's rule follows it. At least n^d nodes
            # (n points per axis): on the circular well at n = 200 the default 128^2 nodes move the
            # energies by 3e-7 (relative), n^d and (2 n)^d nodes agree to 1e-10.
            points, weights = problem.quadrature_rule()
            wanted = int(np.prod([len(axis.nodes) for axis in self.axes]))
            if len(weights) < wanted:
                points, weights = problem.quadrature_rule(wanted)
            psi = _TensorChebyshev(problem.box, self.axes, self.transform(np.eye(n_basis))).evaluate(points)
            stiffness += (psi * (weights * problem.potential(points))) @ psi.T
        stiffness = 0.5 * (stiffness + stiffness.T)
        mass = 0.5 * (mass + mass.T)
        # Drop duplicate directions (a real eigenvector's negligible imaginary part, a conjugate pair's
        # second member), then solve the Ritz problem in the orthonormalized basis.
        gram, directions = np.linalg.eigh(mass)
        keep = gram > _GRAM_RTOL * gram.max()
        whiten = directions[:, keep] / np.sqrt(gram[keep])
        ritz_values, ritz_vectors = np.linalg.eigh(whiten.T @ stiffness @ whiten)
        if len(ritz_values) < n_states:
            raise RuntimeError(f"the collocation eigenvectors span only {len(ritz_values)} states")
        return ritz_values[:n_states], whiten @ ritz_vectors[:, :n_states]

    def _potential_term(self, problem: Problem, cell: tuple[int, ...], values: np.ndarray) -> np.ndarray:
        """``int V psi_i psi_j`` over one cell, V smooth there: the 1D solver's extra Gauss points per axis.

        The rule has ``prod(degree + 17)`` nodes (3.7 million for one 4D cell of degree 27), so it is
        taken in slabs of the first axis's nodes, each holding about ``_CHUNK_ELEMENTS`` values.
        """
        n_basis = values.shape[-1]
        rules = [self._axis_rule(axis, j, _EXTRA_GAUSS_POINTS) for axis, j in zip(self.axes, cell)]
        rest = int(np.prod([len(rule[0]) for rule in rules[1:]]))
        step = max(1, _CHUNK_ELEMENTS // (rest * n_basis))
        term = np.zeros((n_basis, n_basis))
        for start in range(0, len(rules[0][0]), step):
            slab = slice(start, start + step)
            psi = _apply(rules[0][2][slab], values, 0)
            for i, (_, _, value_matrix, _) in enumerate(rules[1:], start=1):
                psi = _apply(value_matrix, psi, i)
            nodes = [rules[0][0][slab], *[rule[0] for rule in rules[1:]]]
            weights = functools.reduce(
                np.multiply.outer, [rules[0][1][slab], *[rule[1] for rule in rules[1:]]]
            )
            v = np.asarray(problem.potential(_tensor_points(nodes)), dtype=float)
            flat = psi.reshape(-1, n_basis)
            term += flat.T @ (flat * (weights.ravel() * v)[:, None])
        return term

    def transform(self, coefficients: np.ndarray) -> list[np.ndarray]:
        """Per cell, the Chebyshev coefficient tensor of each combination ``nodal @ coefficients``."""
        out = []
        for cell in self.cells:
            tensor = self._cell_values(cell) @ coefficients
            for i, (axis, j) in enumerate(zip(self.axes, cell)):
                tensor = _apply(chebyshev_lobatto(int(axis.degrees[j]))[3], tensor, i)
            out.append(tensor)
        return out


@functools.lru_cache(maxsize=256)
def _derivative_coefficients(degree: int) -> np.ndarray:
    """Chebyshev coefficients of the derivative (on [-1, 1]) of each basis polynomial T_0..T_degree."""
    return chebyshev.chebder(np.eye(degree + 1), 1, axis=0)


def _interpolation_matrices(degree: int, a: float, b: float, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and derivatives at ``x`` of the interpolant of values at [a, b]'s Lobatto points."""
    t = (2.0 * x - (a + b)) / (b - a)
    to_coefficients = chebyshev_lobatto(degree)[3]
    values = chebyshev.chebvander(t, degree) @ to_coefficients
    derivatives = (chebyshev.chebvander(t, degree - 1) @ _derivative_coefficients(degree)) @ to_coefficients
    return values, derivatives * (2.0 / (b - a))


class _TensorChebyshev:
    """Callable ``points (n, d) -> (n_states, n)``: per cell, a tensor-product Chebyshev series.

    Zero outside the box. The coefficients come from the Ritz step, so the states are orthonormal
    under the exact (tensor Gauss) L2 inner product.
    """

    def __init__(self, box, axes: list[AxisDiscretization], coefficients: list[np.ndarray]):
        self.box = np.asarray(box, dtype=float)
        self.edges = [axis.edges for axis in axes]
        self.cells = list(itertools.product(*[range(len(axis.pieces)) for axis in axes]))
        self.coefficients = coefficients
        self.n_states = coefficients[0].shape[-1]

    def evaluate(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, len(self.edges))
        out = np.zeros((self.n_states, len(points)))
        inside = np.all((points >= self.box[:, 0]) & (points <= self.box[:, 1]), axis=1)
        piece = np.stack(
            [
                np.clip(np.searchsorted(edges, points[:, i], side="right") - 1, 0, len(edges) - 2)
                for i, edges in enumerate(self.edges)
            ],
            axis=1,
        )
        for cell, coefficients in zip(self.cells, self.coefficients):
            rows = np.flatnonzero(inside & np.all(piece == np.array(cell), axis=1))
            if len(rows) == 0:
                continue
            # A tensor grid of points (the grading rule) shares coordinates: contract axis by axis on
            # the distinct coordinates, about N * n_states * (distinct per axis) operations instead of
            # N * n_states per point.
            distinct = [np.unique(points[rows, i], return_inverse=True) for i in range(len(cell))]
            if np.prod([float(len(u)) for u, _ in distinct]) <= 4.0 * len(rows):
                tensor = coefficients
                for i, (j, (coordinates, _)) in enumerate(zip(cell, distinct)):
                    tensor = _apply(self._basis(i, j, coordinates, coefficients.shape[i] - 1), tensor, i)
                out[:, rows] = tensor[tuple(inverse.ravel() for _, inverse in distinct)].T
                continue
            per_point = coefficients.size // coefficients.shape[0]
            step = max(1, _CHUNK_ELEMENTS // per_point)
            for start in range(0, len(rows), step):
                chunk = rows[start : start + step]
                out[:, chunk] = self._cell_values(cell, coefficients, points[chunk]).T
        return out

    def _cell_values(self, cell, coefficients: np.ndarray, points: np.ndarray) -> np.ndarray:
        """``(m, n_states)`` values of one cell's series at ``m`` points inside it."""
        bases = [self._basis(i, j, points[:, i], coefficients.shape[i] - 1) for i, j in enumerate(cell)]
        # Contract the first axis by a matrix product, then each further axis point by point.
        tensor = bases[0] @ coefficients.reshape(coefficients.shape[0], -1)
        tensor = tensor.reshape(len(points), *coefficients.shape[1:])
        for basis in bases[1:]:
            tensor = np.einsum("mj...,mj->m...", tensor, basis)
        return tensor

    def _basis(self, axis: int, piece: int, x: np.ndarray, degree: int) -> np.ndarray:
        """``(len(x), degree + 1)``: T_0..T_degree at ``x`` mapped from the piece to [-1, 1]."""
        a, b = self.edges[axis][piece], self.edges[axis][piece + 1]
        return chebyshev.chebvander((2.0 * x - (a + b)) / (b - a), degree)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self.evaluate(points)

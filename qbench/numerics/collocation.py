"""Tensor-product Chebyshev collocation of ``-Laplacian psi + V psi = E psi`` in a box, any d.

Each axis is cut at its breakpoints into pieces, and each piece gets Chebyshev Lobatto points
(:mod:`qbench.numerics.chebyshev`). The grid is the tensor product of the axes' points; d = 1
is one axis. The equation is imposed at the interior tensor points; the values on the walls
and on the interfaces come from each axis's conditions imposed line by line (psi = 0 on a
wall, psi and its normal derivative continuous across an interface). Those give an axis's
end values as a fixed linear map of its interior values, so with ``L_i`` the matrix of
``-d^2/dx_i^2`` with the ends eliminated, the discrete operator on the interior points is

    H = L_1 (+) L_2 (+) ... (+) L_d + diag(V at the interior tensor points).

H is not symmetric (collocation is not Galerkin). Its lowest eigenpairs come by one of three
paths (``eigensolver="auto"`` picks):

* ``separable``: V is separable on the grid (always in 1D). H's eigenvectors are then products
  of axis eigenvectors (:class:`~qbench.numerics.fast_diagonalization.FastDiagonalization`):
  one dense ``scipy.linalg.eig`` per axis, each eigenvector used refined by one step of inverse
  iteration. The dense eigensolver leaves rounding of size eps * ||L|| / gap in every component,
  high-frequency ones included, and the Galerkin step below differentiates the states; inverse
  iteration brings that noise down to about eps.
* ``dense``: V is not separable and H has at most :data:`DENSE_MAX_UNKNOWNS` unknowns: a dense
  ``scipy.linalg.eig`` of H.
* ``iterative``: otherwise, block shift-invert Krylov below the spectrum
  (:mod:`qbench.numerics.block_krylov`), each solve with ``H - sigma I`` a GMRES preconditioned by
  the exact inverse of H's separable part (fast diagonalization), the block started at that
  part's lowest eigenvectors, so only the non-separable remainder of V (a circular well) costs
  iterations. Two alternatives were rejected. A sparse LU of H (for ARPACK's shift-invert)
  fills in to dense: every point is coupled to every point on its lines, a graph without small
  separators. And ARPACK's single start vector spans one direction per exactly degenerate
  eigenspace (the square's and the cube's symmetric levels): started from the preconditioned
  all-ones vector it returned the cube's triple levels short of members in testing; a block
  holds them all.

The energies are Rayleigh-Ritz values of the span of the collocation eigenvectors, each
extended to the whole grid and read as a tensor-product polynomial on each cell:
``(int |grad psi|^2 + V psi^2)`` against ``int psi^2`` (:mod:`qbench.numerics.cell_polynomials`).
That trial space is continuous and vanishes on the walls, so the Ritz values are upper bounds
and their error is quadratic in the eigenvectors' error (the collocation eigenvalues, kept in
``info``, are not variational and carry rounding that grows like the norm of L). The gradient
and mass integrals use tensor Gauss-Legendre rules per cell that are exact for the polynomials;
``V psi^2`` uses the same rule with extra points where the potential's jumps are axis-aligned,
and a rule that follows the curve where they are not. The Ritz step also returns an orthonormal
basis of every degenerate group. Inside a cell the states are analytic, so the error falls
faster than any power of the points per piece, jumps or not, until rounding takes over; a jump
on a curve cuts through the cells, and the convergence there is algebraic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from .block_krylov import BLOCK_EXTRA, KRYLOV_STEPS, block_size, lowest_eigenpairs
from .cell_polynomials import CellPolynomials, TensorChebyshev
from .chebyshev import MIN_DEGREE, AxisCollocation, axis_collocation, count_pieces
from .fast_diagonalization import FastDiagonalization
from .signs import rising_signs
from .subspace import rayleigh_ritz, real_basis
from .tensor import apply_along, kronecker_sum, tensor_points

#: Most Lobatto points per axis: each axis's dense eigensolve is O(n^3), and 4000 points take
#: minutes and 0.5 GB.
MAX_POINTS = 4000
#: Interior unknowns (prod over axes) above which the solve is refused: the block Krylov space
#: keeps 4 * (n_states + 4) vectors of this length and GMRES 80 more, and the tensor grid with the
#: walls and interfaces is larger still (a 4D problem's is 1.8 times H's size at 31 points per axis).
MAX_UNKNOWNS = 500_000
#: Interior unknowns up to which a non-separable H is built and solved densely (``scipy.linalg.eig``,
#: O(N^3): about 1 s at N = 1200 on one core, 10 s at 2000); above, the preconditioned block Krylov
#: method, which on the circular well is faster from about here.
DENSE_MAX_UNKNOWNS = 1200
#: The eigensolver choices of :func:`solve`.
EIGENSOLVERS = ("auto", "separable", "dense", "iterative")
#: V is separable on the grid when its non-separable remainder is below this, relative to max |V|.
SEPARABLE_RTOL = 1e-12
#: A requested eigenvalue whose imaginary part exceeds this (relative) is not a converged real level.
IMAG_TOLERANCE = 1e-8
#: Above this final residual the iterative eigenpairs are not trusted (failed); below it and above
#: ``block_krylov.RESIDUAL_TOL`` ``info`` carries a warning (the Ritz energies' error is its square).
FAIL_RESIDUAL = 1e-6

Potential = Callable[[np.ndarray], np.ndarray]
Box = Sequence[tuple[float, float]]
Breakpoints = Sequence[Sequence[float]]


@dataclass(frozen=True)
class CollocationResult:
    """The lowest states of a collocation solve.

    Attributes
    ----------
    energies : numpy.ndarray
        Rayleigh-Ritz energies, ascending, shape ``(n_states,)``.
    states : TensorChebyshev
        ``points (n, d) -> (n_states, n)``, orthonormal in L2, zero outside the box, each
        signed by :func:`~qbench.numerics.signs.rising_signs` on its nodal values.
    info : dict
        The discretization, the collocation eigenvalues, the eigensolver's path and counters.
    failure : str
        Why the answer is not to be trusted ("" when it is): a requested collocation eigenvalue
        that is not real, or an iterative eigensolver that stopped short.
    """

    energies: np.ndarray
    states: TensorChebyshev
    info: dict[str, Any]
    failure: str = ""


def _axis_pieces(box: Box, axis_breakpoints: Breakpoints) -> list[int]:
    return [count_pieces(tuple(interval), cuts) for interval, cuts in zip(box, axis_breakpoints)]


def unknowns(box: Box, axis_breakpoints: Breakpoints, n_points: int) -> int:
    """The number of interior tensor points (the size of H) for ``n_points`` per axis."""
    return int(np.prod([n_points - 2 * pieces for pieces in _axis_pieces(box, axis_breakpoints)]))


def max_points_per_axis(box: Box, axis_breakpoints: Breakpoints) -> int:
    """The largest ``n_points`` per axis whose H has at most :data:`MAX_UNKNOWNS` unknowns (and
    at most :data:`MAX_POINTS`)."""
    n = (MIN_DEGREE + 1) * max(_axis_pieces(box, axis_breakpoints))
    while n < MAX_POINTS and unknowns(box, axis_breakpoints, n + 1) <= MAX_UNKNOWNS:
        n += 1
    return n


def _enough_unknowns(size: int, n_states: int) -> bool:
    """Two unknowns per state at least (the upper half of a collocation spectrum is not resolved),
    and, where a non-separable H takes the Krylov path, room for its block and Krylov space."""
    if size < 2 * n_states:
        return False
    return size <= DENSE_MAX_UNKNOWNS or size >= (n_states + BLOCK_EXTRA) * (KRYLOV_STEPS + 1)


def minimum_points(box: Box, axis_breakpoints: Breakpoints, n_states: int) -> int:
    """The fewest Lobatto points per axis that resolve every piece and ``n_states`` states."""
    n = (MIN_DEGREE + 1) * max(_axis_pieces(box, axis_breakpoints))
    while not _enough_unknowns(unknowns(box, axis_breakpoints, n), n_states):
        n += 1
    return n


def check_points(box: Box, axis_breakpoints: Breakpoints, n_states: int, n_points: int, name: str) -> None:
    """Raise a one-line ``ValueError`` naming ``n_points`` if the grid is too coarse or too large.

    ``name`` is the problem's, for the message.
    """
    needed = minimum_points(box, axis_breakpoints, n_states)
    if n_points < needed:
        pieces = max(_axis_pieces(box, axis_breakpoints))
        raise ValueError(
            f"n_points must be >= {needed} per axis for {n_states} state(s) on a problem with "
            f"{pieces} piece(s) on an axis, got {n_points}"
        )
    size = unknowns(box, axis_breakpoints, n_points)
    if size > MAX_UNKNOWNS:
        raise ValueError(
            f"n_points must be <= {max_points_per_axis(box, axis_breakpoints)} per axis for {name!r} in "
            f"{len(box)}D ({size} unknowns > {MAX_UNKNOWNS}), got {n_points}"
        )
    if not _enough_unknowns(size, n_states):
        raise ValueError(
            f"n_points={n_points} per axis gives {size} unknowns, too few for {n_states} state(s); "
            "increase n_points"
        )


def _extend(axes: list[AxisCollocation], interior: np.ndarray) -> np.ndarray:
    """Interior values (trailing state axis) to values at all tensor nodes, walls and interfaces."""
    for i, axis in enumerate(axes):
        interior = apply_along(axis.extension, interior, i)
    return interior


def _select(eigenvalues: np.ndarray, eigenvectors: np.ndarray, n_states: int):
    """The ``n_states`` eigenpairs of lowest real part, ascending."""
    order = np.argsort(eigenvalues.real, kind="stable")[:n_states]
    return eigenvalues[order], eigenvectors[:, order]


def _dense_eigenpairs(axes: list[AxisCollocation], potential: np.ndarray, n_states: int):
    matrix = kronecker_sum([axis.operator for axis in axes])
    matrix[np.diag_indices_from(matrix)] += potential.ravel()
    eigenvalues, eigenvectors = scipy.linalg.eig(matrix, check_finite=False)
    eigenvalues, eigenvectors = _select(eigenvalues, eigenvectors, n_states)
    return eigenvalues, eigenvectors, {"eigensolver": "dense: scipy.linalg.eig of the Kronecker-sum matrix"}


def _iterative_eigenpairs(
    axes: list[AxisCollocation], potential: np.ndarray, n_states: int, fast: FastDiagonalization
):
    shape, size = potential.shape, potential.size
    # Below the spectrum: H's eigenvalues exceed min V (the kinetic part is positive), and the
    # preconditioner's denominators stay >= its kinetic ground energy even where the separable
    # approximation of V dips below min V.
    sigma = min(float(potential.min()), float(fast.levels.real.min()) - fast.kinetic_ground)
    fast.set_shift(sigma)

    def apply_h(vectors: np.ndarray) -> np.ndarray:
        tensor = vectors.reshape(*shape, -1)
        out = potential[..., None] * tensor
        for i, axis in enumerate(axes):
            out = out + apply_along(axis.operator, tensor, i)
        return out.reshape(size, -1)

    start = fast.lowest_eigenvectors(block_size(n_states, size))
    values, vectors, counters = lowest_eigenpairs(apply_h, start, sigma, fast.solve, n_states)
    path = (
        "iterative: block shift-invert Krylov below min V with Rayleigh-Ritz on H; solves by GMRES "
        "preconditioned by fast diagonalization of the Kronecker sum plus the separable part of V"
    )
    return values, vectors, {"eigensolver": path, **counters}


def solve(
    potential: Potential,
    box: Box,
    axis_breakpoints: Breakpoints,
    n_points: int,
    n_states: int,
    curved_rule: Callable[[int | None], tuple[np.ndarray, np.ndarray]] | None = None,
    eigensolver: str = "auto",
) -> CollocationResult:
    """The ``n_states`` lowest states in ``box``, ``n_points`` Lobatto points per axis.

    Parameters
    ----------
    potential
        V at points of shape ``(n, d)``, returning ``(n,)``.
    box
        The walls per axis, ``((lo, hi), ...)``; d is its length.
    axis_breakpoints
        Per axis, the coordinates where V jumps (each axis is cut into pieces there).
    n_points
        Lobatto points per axis, shared out among the axis's pieces by width.
    n_states
        Number of lowest states.
    curved_rule
        For a V that jumps on a curve no axis follows: ``n_points -> (nodes (n, d), weights)``,
        a quadrature rule that follows it, used for ``int V psi^2``. ``None`` otherwise.
    eigensolver
        One of :data:`EIGENSOLVERS`; ``"auto"`` takes ``separable`` when V is separable on the grid,
        else ``dense`` up to :data:`DENSE_MAX_UNKNOWNS` unknowns, else ``iterative``.

    Returns
    -------
    CollocationResult
    """
    if eigensolver not in EIGENSOLVERS:
        raise ValueError(
            f"eigensolver must be one of {', '.join(map(repr, EIGENSOLVERS))}, got {eigensolver!r}"
        )
    axes = [
        axis_collocation(tuple(interval), cuts, n_points) for interval, cuts in zip(box, axis_breakpoints)
    ]
    shape = tuple(axis.n_interior for axis in axes)
    size = int(np.prod(shape))
    interior_points = tensor_points([axis.nodes[axis.interior] for axis in axes])
    values = np.asarray(potential(interior_points), dtype=float).reshape(shape)
    fast = FastDiagonalization([axis.operator for axis in axes], values)
    remainder = float(np.max(np.abs(values - fast.separable)))
    separable = remainder <= SEPARABLE_RTOL * max(1.0, float(np.max(np.abs(values))))
    if eigensolver == "auto":
        eigensolver = "separable" if separable else "dense" if size <= DENSE_MAX_UNKNOWNS else "iterative"
    if eigensolver == "separable":
        if not separable:
            raise ValueError(f"eigensolver='separable' needs a separable V; its remainder is {remainder:.1e}")
        eigenvalues, eigenvectors = fast.lowest_eigenpairs(n_states)
        counters: dict[str, Any] = {
            "eigensolver": "separable: products of axis eigenvectors (scipy.linalg.eig, inverse iteration)"
        }
    elif eigensolver == "dense":
        eigenvalues, eigenvectors, counters = _dense_eigenpairs(axes, values, n_states)
    else:
        eigenvalues, eigenvectors, counters = _iterative_eigenpairs(axes, values, n_states, fast)
    collocation_energies = eigenvalues.real
    imaginary = np.abs(eigenvalues.imag) / np.maximum(np.abs(collocation_energies), 1.0)

    basis = real_basis(eigenvectors)
    cells = CellPolynomials(axes, _extend(axes, basis.reshape(*shape, -1)))
    stiffness, mass = cells.galerkin_matrices(potential, box, curved_rule)
    energies, coefficients = rayleigh_ritz(stiffness, mass, n_states)
    # One sign convention for every d: positive where the state first rises above rounding, its
    # nodes taken in C order (left to right in 1D, as the references are signed).
    nodal = cells.nodal.reshape(-1, cells.nodal.shape[-1]) @ coefficients
    coefficients = coefficients * rising_signs(nodal.T)
    states = TensorChebyshev(box, axes, cells.transform(coefficients))
    info = {
        "dimension": len(box),
        "points_per_axis": n_points,
        "degrees": [axis.degrees.tolist() for axis in axes],
        "matrix_size": size,
        "separable_potential": separable,
        **counters,
        "energies_from": "Rayleigh-Ritz on the collocation eigenvectors"
        + (
            " (V psi^2 by the problem's quadrature rule)"
            if curved_rule
            else " (tensor Gauss-Legendre per cell)"
        ),
        "ritz_basis_size": int(basis.shape[1]),
        "collocation_energies": collocation_energies.tolist(),
        "max_rel_imag": float(imaginary.max()),
    }
    failure = ""
    if imaginary.max() > IMAG_TOLERANCE:
        worst = int(np.argmax(imaginary))
        failure = (
            f"state {worst}: eigenvalue has relative imaginary part {imaginary[worst]:.1e}; increase n_points"
        )
    elif counters.get("max_rel_residual", 0.0) > FAIL_RESIDUAL:
        failure = f"iterative eigensolver stopped at relative residual {counters['max_rel_residual']:.1e}"
    return CollocationResult(energies, states, info, failure)

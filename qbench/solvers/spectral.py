"""Chebyshev collocation, one Chebyshev domain per piece of the potential."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.linalg
from numpy.polynomial import chebyshev

from .._validation import check_int
from ..problems import Problem
from ..problems.reference import rising_signs
from ..quadrature import gauss_legendre_rule, panel_edges
from .base import Option, Solution, Solver, Status
from .grid import apportion

MIN_DEGREE = 8  # per piece: below this a narrow piece is not resolved at all
MAX_POINTS = 4000  # a dense eigensolve is O(n^3): 4000 points take minutes and 0.5 GB
# Beyond the exact-for-polynomials count, so V psi^2 with a smooth V is integrated to rounding too.
_EXTRA_GAUSS_POINTS = 16
# A requested eigenvalue whose imaginary part exceeds this (relative) is not a converged real level.
_IMAG_TOLERANCE = 1e-8


@lru_cache(maxsize=64)
def chebyshev_lobatto(degree: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lobatto points on [-1, 1] (ascending), first and second derivative matrices, and the
    matrix taking values at the points to Chebyshev coefficients."""
    points = chebyshev.chebpts2(degree + 1)
    vander = chebyshev.chebvander(points, degree)
    to_coefficients = np.linalg.inv(vander)
    identity = np.eye(degree + 1)
    first = chebyshev.chebvander(points, degree - 1) @ chebyshev.chebder(identity, 1, axis=0)
    second = chebyshev.chebvander(points, degree - 2) @ chebyshev.chebder(identity, 2, axis=0)
    results = (points, first @ to_coefficients, second @ to_coefficients, to_coefficients)
    for array in results:
        array.setflags(write=False)
    return results


class Spectral(Solver):
    """Chebyshev collocation with one domain per constant piece (one domain if V is smooth).

    The box is cut at the potential's breakpoints; piece j gets a Chebyshev
    polynomial of degree N_j, collocated at its N_j + 1 Lobatto points (the
    ``n_points`` shared out by width, at least 9 per piece). The equation
    ``-psi'' + V psi = E psi`` is imposed at the interior points of each piece;
    the end points carry the conditions instead: psi = 0 at the walls and
    continuity of psi and psi' at each interface. That is the generalized
    eigenproblem ``A psi = E B psi``, B the identity on the equation rows and
    zero on the condition rows. It is solved by eliminating the end values
    (the condition rows give them in terms of the interior values), which
    leaves a standard eigenproblem on the interior points with the same
    finite eigenvalues (``scipy.linalg.eig``), rather than handing the
    singular pencil to a QZ solver.

    Each eigenvector gets one step of inverse iteration, and the energy
    reported is the Rayleigh quotient of the resulting piecewise polynomial
    (exact Gauss-Legendre integrals). The collocation eigenvalue itself
    carries rounding that grows like N^4, the Rayleigh quotient only the
    square of the eigenfunction's error; both are in ``info``. Inside a
    piece the solution is analytic, so the error falls faster than any power
    of N_j, jumps or not, until rounding takes over (a few hundred points per
    piece).

    In d = 2 to 4 dimensions (a :class:`qbench.problems.box.BoxProblem`) the
    grid is the tensor product of one such discretization per axis, the
    conditions imposed line by line, so the matrix is the Kronecker sum of
    the axes' 1D operators plus V on the interior points; the energies are
    Rayleigh-Ritz values of the collocation eigenvectors
    (:mod:`qbench.solvers.spectral_nd`). A jump of V on a curve (the
    circular well) cuts through the cells, and the convergence there is
    algebraic, not exponential.

    Options
    -------
    n_points : int, default 200
        Total collocation points, >= 9 per piece and <= 4000. In d >= 2
        dimensions: points per axis (>= 9 per piece of the axis), with at
        most ``spectral_nd.MAX_UNKNOWNS`` interior tensor points in all.
    """

    takes_points = False  # its 1D wavefunctions take flat positions (being unified for every d)

    name = "spectral"
    dimensions = (1, 2, 3, 4)
    options = {
        "n_points": Option(
            200,
            lambda k, v: check_int(k, v, minimum=MIN_DEGREE + 1, maximum=MAX_POINTS),
            f"total Chebyshev points over all pieces, in [{MIN_DEGREE + 1}, {MAX_POINTS}]",
        ),
    }

    def check_problem(self, problem: Problem, n_states: int) -> None:
        if problem.dim > 1:
            from . import spectral_nd  # imports this module

            spectral_nd.check_problem(problem, n_states, self.n_points)
            return
        n_pieces = len(problem.breakpoints) + 1
        needed = max((MIN_DEGREE + 1) * n_pieces, 2 * n_states + 2 * n_pieces)
        if self.n_points < needed:
            raise ValueError(
                f"n_points must be >= {needed} for {n_states} state(s) on a problem with "
                f"{n_pieces} piece(s), got {self.n_points}"
            )

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        if problem.dim > 1:
            from . import spectral_nd  # imports this module

            return spectral_nd.solve(problem, n_states, self.n_points)
        edges = panel_edges(problem.domain, problem.breakpoints)
        degrees = apportion(self.n_points, np.diff(edges), minimum=MIN_DEGREE + 1) - 1
        matrix, interior, boundary_map, pieces = _collocation(problem, edges, degrees)
        eigenvalues, eigenvectors = scipy.linalg.eig(matrix)
        order = np.argsort(eigenvalues.real)[:n_states]
        collocation_energies = eigenvalues[order].real
        imaginary = np.abs(eigenvalues[order].imag) / np.maximum(np.abs(collocation_energies), 1.0)
        interior_vectors = _inverse_iteration(
            matrix, collocation_energies, _real_vectors(eigenvectors[:, order])
        )
        vectors = np.zeros((len(interior) + boundary_map.shape[0], n_states))
        vectors[interior] = interior_vectors
        vectors[_complement(interior, len(vectors))] = boundary_map @ interior_vectors
        states = _PiecewiseChebyshev(problem.domain, edges, degrees, pieces, vectors, n_states)
        energies = states.rayleigh_quotients(problem)
        info = {
            "domains": len(degrees),
            "degrees": degrees.tolist(),
            "matrix_size": matrix.shape[0],
            "eigensolver": "scipy.linalg.eig, one inverse iteration, Rayleigh quotient",
            "collocation_energies": collocation_energies.tolist(),
            "max_rel_imag": float(imaginary.max()),
        }
        status, message = Status.OK, ""
        if imaginary.max() > _IMAG_TOLERANCE:
            worst = int(np.argmax(imaginary))
            status, message = (
                Status.FAILED,
                (
                    f"state {worst}: eigenvalue has relative imaginary part {imaginary[worst]:.1e}; "
                    "increase n_points"
                ),
            )
        return Solution(energies, states, info, status, message)


def _inverse_iteration(matrix: np.ndarray, energies: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """One step of inverse iteration per state, shifted to its eigenvalue.

    The dense eigensolver leaves rounding of size eps * ||A|| / gap in every
    component of an eigenvector, high-frequency ones included, and a
    derivative amplifies those. One solve with A - E I damps every other
    component by |E - E_other|, so the high-frequency noise drops to about eps.
    """
    identity = np.eye(matrix.shape[0])
    refined = np.empty_like(vectors)
    for k, energy in enumerate(energies):
        shift = energy + 1e-13 * max(abs(energy), 1.0)  # exactly singular only by accident; nudge
        # Nearly singular on purpose: lu_factor does not refuse that, and the solve is still backward stable.
        factors = scipy.linalg.lu_factor(matrix - shift * identity, check_finite=False)
        step = scipy.linalg.lu_solve(factors, vectors[:, k], check_finite=False)
        refined[:, k] = step / np.linalg.norm(step)
    return refined


def _complement(indices: np.ndarray, size: int) -> np.ndarray:
    mask = np.ones(size, dtype=bool)
    mask[indices] = False
    return np.flatnonzero(mask)


def _collocation(problem: Problem, edges: np.ndarray, degrees: np.ndarray):
    """The eigenproblem on the interior points with the end conditions eliminated.

    Returns the matrix, the indices of interior unknowns, the map from interior
    values to the domain-end values, and each domain's slice of all unknowns.
    """
    size = int(np.sum(degrees + 1))
    operator = np.zeros((size, size))
    conditions = []
    pieces, first_derivatives, start = [], [], 0
    for a, b, degree in zip(edges[:-1], edges[1:], degrees):
        points, first, second, _ = chebyshev_lobatto(int(degree))
        half = 0.5 * (b - a)
        x = a + half * (points + 1.0)
        rows = slice(start + 1, start + degree)
        operator[rows, start : start + degree + 1] = -second[1:-1] / half**2
        operator[rows, rows] += np.diag(problem.potential(x[1:-1]))
        pieces.append(slice(start, start + degree + 1))
        first_derivatives.append(first / half)
        start += degree + 1
    row = np.zeros(size)
    row[0] = 1.0
    conditions.append(row)
    row = np.zeros(size)
    row[-1] = 1.0
    conditions.append(row)
    for j in range(len(pieces) - 1):
        left, right = pieces[j], pieces[j + 1]
        row = np.zeros(size)
        row[left.stop - 1], row[right.start] = 1.0, -1.0
        conditions.append(row)
        row = np.zeros(size)
        row[left] += first_derivatives[j][-1]
        row[right] -= first_derivatives[j + 1][0]
        conditions.append(row)
    conditions = np.array(conditions)
    ends = np.array(sorted({p.start for p in pieces} | {p.stop - 1 for p in pieces}))
    interior = _complement(ends, size)
    boundary_map = -np.linalg.solve(conditions[:, ends], conditions[:, interior])
    matrix = operator[np.ix_(interior, interior)] + operator[np.ix_(interior, ends)] @ boundary_map
    return matrix, interior, boundary_map, pieces


def _real_vectors(vectors: np.ndarray) -> np.ndarray:
    """Eigenvectors of real eigenvalues, rotated to be real (eig returns an arbitrary complex phase)."""
    peak = np.argmax(np.abs(vectors), axis=0)
    phase = vectors[peak, np.arange(vectors.shape[1])]
    return (vectors * (np.abs(phase) / phase)).real


class _PiecewiseChebyshev:
    """Callable ``x -> (n_states, len(x))``: each piece's collocation polynomial, normalized."""

    def __init__(self, domain, edges, degrees, pieces, vectors, n_states):
        self.domain, self.edges = domain, edges
        self.coefficients = []
        for degree, piece in zip(degrees, pieces):
            to_coefficients = chebyshev_lobatto(int(degree))[3]
            self.coefficients.append(to_coefficients @ vectors[piece])
        # Gauss-Legendre with degree + 1 points per piece integrates the squared polynomial exactly.
        norms_squared = np.zeros(n_states)
        for a, b, degree, c in zip(edges[:-1], edges[1:], degrees, self.coefficients):
            nodes, weights = gauss_legendre_rule([a, b], 1, order=int(degree) + 1)
            norms_squared += (self._piece_values(c, a, b, nodes) ** 2) @ weights
        self.scale = rising_signs(vectors.T) / np.sqrt(norms_squared)
        self.n_states = n_states

    def rayleigh_quotients(self, problem: Problem) -> np.ndarray:
        """(int psi'^2 + V psi^2) / int psi^2 of each state, by Gauss-Legendre per domain.

        Its error is quadratic in the error of psi, so it is far more accurate
        than the collocation eigenvalue, whose rounding grows like the norm of
        the second-derivative matrix. psi'^2 and, on constant pieces, V psi^2
        are polynomials that the rule integrates exactly.
        """
        numerator = np.zeros(self.n_states)
        denominator = np.zeros(self.n_states)
        for a, b, c in zip(self.edges[:-1], self.edges[1:], self.coefficients):
            nodes, weights = gauss_legendre_rule([a, b], 1, order=len(c) + _EXTRA_GAUSS_POINTS)
            psi = self._piece_values(c, a, b, nodes)
            dpsi = self._piece_values(chebyshev.chebder(c) * (2.0 / (b - a)), a, b, nodes)
            numerator += (dpsi**2 + problem.potential(nodes) * psi**2) @ weights
            denominator += (psi**2) @ weights
        return numerator / denominator

    @staticmethod
    def _piece_values(coefficients, a, b, x):
        t = (2.0 * x - (a + b)) / (b - a)
        return chebyshev.chebval(t, coefficients)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, dtype=float))
        out = np.zeros((self.n_states, len(x)))
        piece = np.clip(np.searchsorted(self.edges, x, side="right") - 1, 0, len(self.coefficients) - 1)
        inside = (x >= self.domain[0]) & (x <= self.domain[1])
        for j, c in enumerate(self.coefficients):
            mask = inside & (piece == j)
            if mask.any():
                out[:, mask] = self._piece_values(c, self.edges[j], self.edges[j + 1], x[mask])
        return self.scale[:, None] * out

"""Chebyshev collocation with one domain per piece of the potential, in d = 1 to 4."""

from __future__ import annotations

from .._validation import check_int
from ..numerics import collocation
from ..numerics.chebyshev import MIN_DEGREE
from ..problems import Problem
from .base import Option, Solution, Solver, Status

#: ``Solution.derivatives_by``: the states' Laplacian is the polynomials' own.
DERIVATIVES_BY = "Chebyshev polynomial"


class Spectral(Solver):
    """Tensor-product Chebyshev collocation, each axis cut into pieces at its breakpoints.

    Along each axis of the box, piece j gets a Chebyshev polynomial of degree N_j, collocated
    at its N_j + 1 Lobatto points (the ``n_points`` of the axis shared out by width, at least
    9 per piece); the grid is the product of the axes' points, d = 1 being one axis. The
    equation is imposed at the interior points; the ends of each piece carry the conditions
    instead (psi = 0 at the walls, psi and its normal derivative continuous at interfaces),
    imposed line by line. Eliminating the end values leaves the Kronecker sum of the axes'
    1D operators plus V on the interior points; its lowest eigenpairs come from products of
    axis eigenvectors when V is separable on the grid (always in 1D), else from a dense or a
    preconditioned block Krylov eigensolver. The energies are Rayleigh-Ritz values of the
    collocation eigenvectors read as piecewise polynomials (exact Gauss-Legendre integrals):
    their error is quadratic in the eigenvectors' error, where the collocation eigenvalue
    (kept in ``info``) carries rounding that grows like N^4. The details are in
    :mod:`qbench.numerics.collocation`.

    Inside a piece the solution is analytic, so the error falls faster than any power of the
    points per piece, jumps or not, until rounding takes over (a few hundred points per
    piece). A jump of V on a curve (the circular well) cuts through the cells, and the
    convergence there is algebraic, not exponential. A state is ``failed`` when its
    collocation eigenvalue is not real (an unresolved state) or the iterative eigensolver
    stopped short.

    Options
    -------
    n_points : int, default 200
        Lobatto points per axis, >= 9 per piece of the axis and <= 4000, with at most
        ``collocation.MAX_UNKNOWNS`` interior tensor points in all.
    """

    name = "spectral"
    dimensions = (1, 2, 3, 4)
    options = {
        "n_points": Option(
            200,
            lambda k, v: check_int(k, v, minimum=MIN_DEGREE + 1, maximum=collocation.MAX_POINTS),
            f"Chebyshev points per axis over all its pieces, in [{MIN_DEGREE + 1}, {collocation.MAX_POINTS}]",
        ),
    }

    def check_problem(self, problem: Problem, n_states: int) -> None:
        collocation.check_points(problem.box, problem.axis_breakpoints, n_states, self.n_points, problem.name)

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        result = collocation.solve(
            problem.potential,
            problem.box,
            problem.axis_breakpoints,
            self.n_points,
            n_states,
            curved_rule=problem.quadrature_rule if problem.curved_interfaces else None,
        )
        status = Status.FAILED if result.failure else Status.OK
        return Solution(
            result.energies,
            result.states,
            result.info,
            status,
            result.failure,
            laplacian=result.states.laplacian,
            derivatives_by=DERIVATIVES_BY,
        )

"""Finite differences with a sparse Hamiltonian and ARPACK shift-invert."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigsh

from .._validation import check_choice, check_int
from ..problems import Problem
from .base import Option, Solution, Solver, Status
from .grid import PiecewiseGrid, grid_with_intervals
from .nodal import NodalStates

MIN_POINTS_PER_STATE = 4


def hamiltonian(problem: Problem, grid: PiecewiseGrid) -> tuple[sp.csc_matrix, np.ndarray, float]:
    """Symmetrized second-order Hamiltonian on ``grid``'s interior nodes.

    Node i owns the dual cell [x_i - h_-/2, x_i + h_+/2] and V is averaged
    over it (midpoint rule on each half): a vertex-centred finite-volume
    scheme, i.e. K psi = E W psi with K symmetric tridiagonal and W the cell
    widths. With nodes on the breakpoints it is second order with an error
    that expands in even powers of h, wherever the jumps are.

    Returns
    -------
    matrix
        ``W^-1/2 K W^-1/2`` (CSC), whose eigenvalues are the energies.
    scale
        ``W^-1/2``: eigenvectors of ``matrix`` times this are nodal psi values.
    v_min
        The smallest cell-averaged V, a lower bound of the spectrum.
    """
    x = grid.nodes
    h = np.diff(x)
    h_minus, h_plus = h[:-1], h[1:]
    xi = x[1:-1]
    v_dual = (h_minus * problem.potential(xi - h_minus / 4) + h_plus * problem.potential(xi + h_plus / 4)) / (
        h_minus + h_plus
    )
    widths = 0.5 * (h_minus + h_plus)
    scale = 1.0 / np.sqrt(widths)
    diagonal = (1.0 / h_minus + 1.0 / h_plus) / widths + v_dual
    off_diagonal = -scale[:-1] * scale[1:] / h[1:-1]
    matrix = sp.diags([off_diagonal, diagonal, off_diagonal], [-1, 0, 1], format="csc")
    return matrix, scale, float(v_dual.min())


class FiniteDifference(Solver):
    """Finite differences on a grid with nodes on the breakpoints.

    Each piece between breakpoints gets a uniform spacing (intervals shared out
    by width). Order 2 is the three-point finite-volume scheme of
    ``hamiltonian``, solved by ``scipy.sparse.linalg.eigsh`` in shift-invert
    mode about min(V). Order 4 is its Richardson extrapolation: the same scheme
    on the grid and on its bisection (h and h/2, matrices of ``n_points`` and
    ``2 n_points + 1``), combined as ``(4 E_h/2 - E_h) / 3`` for energies and
    nodal values alike. It is fourth order because the second-order error
    expands in h^2, which placing the jumps on nodes guarantees.

    Options
    -------
    n_points : int, default 1000
        Interior grid points (the matrix size), >= 5 and >= 4 per state.
    order : {2, 4}, default 2
        Order of convergence of the energies.
    """

    name = "fd"
    options = {
        "n_points": Option(
            1000,
            lambda k, v: check_int(k, v, minimum=5),
            "interior grid points (matrix size), >= 5",
        ),
        "order": Option(
            2, lambda k, v: check_choice(k, v, (2, 4)), "2, or 4 by Richardson extrapolation h, h/2"
        ),
    }

    def check_problem(self, problem: Problem, n_states: int) -> None:
        n_pieces = len(problem.breakpoints) + 1
        needed = max(MIN_POINTS_PER_STATE * n_states, 2 * n_pieces + 1)
        if self.n_points < needed:
            raise ValueError(
                f"n_points must be >= {needed} for {n_states} state(s) on a problem with "
                f"{n_pieces} piece(s), got {self.n_points}"
            )

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        grid = grid_with_intervals(problem, self.n_points + 1)
        info: dict = {"order": self.order, "eigensolver": "eigsh shift-invert"}
        try:
            energies, nodal = self._second_order(problem, grid, n_states, info)
            if self.order == 4:
                fine_energies, fine_nodal = self._second_order(problem, grid.bisected(), n_states, info)
                energies = (4.0 * fine_energies - energies) / 3.0
                nodal = (4.0 * fine_nodal[:, ::2] - nodal) / 3.0
        except (ArpackError, ArpackNoConvergence) as exc:
            return Solution(
                np.full(n_states, np.nan),
                lambda x: np.full((n_states, len(x)), np.nan),
                info,
                Status.FAILED,
                f"ARPACK: {exc}",
            )
        return Solution(energies, NodalStates(problem, grid, energies, nodal), info)

    @staticmethod
    def _second_order(problem: Problem, grid: PiecewiseGrid, n_states: int, info: dict):
        """Energies and nodal psi (walls included), unit discrete norm, psi'(x0) > 0."""
        matrix, scale, v_min = hamiltonian(problem, grid)
        start = np.random.default_rng(0).standard_normal(matrix.shape[0])  # deterministic ARPACK start
        energies, vectors = eigsh(matrix, k=n_states, sigma=v_min, which="LM", v0=start)
        order = np.argsort(energies)
        nodal = np.zeros((n_states, len(grid.nodes)))
        nodal[:, 1:-1] = (vectors[:, order] * scale[:, None]).T
        nodal *= np.where(nodal[:, 1] < 0, -1.0, 1.0)[:, None]
        info.setdefault("matrix_size", []).append(matrix.shape[0])
        info.setdefault("nnz", []).append(int(matrix.nnz))
        return energies[order], nodal

"""Finite differences in 1 to 4 dimensions: a sparse Hamiltonian and ARPACK shift-invert or AMG-LOBPCG."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence

from .._validation import check_choice, check_int
from ..problems import Problem
from ..quadrature import panel_edges
from .base import Option, Solution, Solver, Status
from .eigen import EIGENSOLVERS, Eigenpairs, choose, lowest_eigsh, lowest_lobpcg
from .grid import PiecewiseGrid, grid_with_intervals
from .nodal import NodalStates
from .nodal_nd import NodalStatesND
from .tensor_grid import TensorGrid, hamiltonian_nd, kinetic_1d, tensor_grid

MIN_POINTS_PER_STATE = 4
#: The most unknowns of one matrix (the bisected grid's for order 4). A 3D grid costs about
#: 0.4 kB an unknown (7 diagonals, the AMG hierarchy, LOBPCG's blocks), so 2^25 is ~13 GB.
MAX_UNKNOWNS = 2**25


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
    kinetic, off_diagonal, scale = kinetic_1d(grid)
    matrix = sp.diags([off_diagonal, kinetic + v_dual, off_diagonal], [-1, 0, 1], format="csc")
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

    In d = 2, 3, 4 dimensions every axis of the box gets such a grid (nodes on
    that axis's breakpoints) and the Hamiltonian is the Kronecker sum of the
    1D symmetrized kinetic matrices plus V averaged over each node's dual cell
    (``qbench.solvers.tensor_grid``): on a separable V its energies are exactly
    sums of 1D ones. A jump of V on a curve (``curved_interfaces``) cannot lie
    on grid nodes; the cell average then cuts across it and the energies lose
    their clean h^2 expansion (``benchmarks/bench_fd_3d.py`` measures the
    order), so order 4 is refused there. In d dimensions order 4 extrapolates
    the energies; the states are those of the bisected grid (with a
    multilinear interpolant, ``nodal_nd``, an extrapolation of nodal values
    would buy nothing).

    Options
    -------
    n_points : int, default 1000
        Interior grid points per axis (the matrix size in 1D), >= 5 and >= 4
        per state (per ``n_states ** (1/d)`` in d dimensions); at most
        ``MAX_UNKNOWNS`` unknowns in all.
    order : {2, 4}, default 2
        Order of convergence of the energies.
    eigensolver : {"auto", "eigsh", "lobpcg"}, default "auto"
        ``eigsh``: ARPACK shift-invert about min V (a sparse LU factor).
        ``lobpcg``: LOBPCG preconditioned by a smoothed-aggregation AMG
        V-cycle (``qbench.solvers.eigen``). ``auto``: eigsh in 1D and up to
        ``eigen.AUTO_EIGSH_MAX[d]`` unknowns, lobpcg above.
    """

    takes_points = False  # its 1D wavefunctions take flat positions (being unified for every d)

    name = "fd"
    dimensions = (1, 2, 3, 4)
    options = {
        "n_points": Option(
            1000,
            lambda k, v: check_int(k, v, minimum=5),
            "interior grid points per axis (the matrix size in 1D), >= 5",
        ),
        "order": Option(
            2, lambda k, v: check_choice(k, v, (2, 4)), "2, or 4 by Richardson extrapolation h, h/2"
        ),
        "eigensolver": Option(
            "auto",
            lambda k, v: check_choice(k, v, EIGENSOLVERS),
            "auto (eigsh on small matrices, lobpcg above), eigsh (shift-invert), lobpcg (AMG-preconditioned)",
        ),
    }

    def check_problem(self, problem: Problem, n_states: int) -> None:
        if problem.dim > 1:
            self._check_box(problem, n_states)
            return
        n_pieces = len(problem.breakpoints) + 1
        needed = max(MIN_POINTS_PER_STATE * n_states, 2 * n_pieces + 1)
        if self.n_points < needed:
            raise ValueError(
                f"n_points must be >= {needed} for {n_states} state(s) on a problem with "
                f"{n_pieces} piece(s), got {self.n_points}"
            )

    def _check_box(self, problem: Problem, n_states: int) -> None:
        """``check_problem`` in d >= 2 dimensions: points per axis, memory, order 4."""
        d = problem.dim
        if self.order == 4 and problem.curved_interfaces:
            raise ValueError(
                f"order=4 needs every jump of V on grid nodes, and {problem.name!r} has curved "
                "interfaces (no clean h^2 expansion to extrapolate); use order=2"
            )
        per_state = MIN_POINTS_PER_STATE * math.ceil(n_states ** (1.0 / d) - 1e-9)
        for axis, (interval, cuts) in enumerate(zip(problem.box, problem.axis_breakpoints)):
            n_pieces = len(panel_edges(interval, cuts)) - 1
            needed = max(per_state, 2 * n_pieces + 1)
            if self.n_points < needed:
                raise ValueError(
                    f"n_points must be >= {needed} for {n_states} state(s) on a {d}D problem with "
                    f"{n_pieces} piece(s) along axis {axis}, got {self.n_points}"
                )
        # The largest matrix: the bisected grid's (2 n + 1 per axis) for order 4.
        largest = (lambda n: (2 * n + 1) ** d) if self.order == 4 else (lambda n: n**d)
        if largest(self.n_points) > MAX_UNKNOWNS:
            allowed = int(MAX_UNKNOWNS ** (1.0 / d)) + 1
            while largest(allowed) > MAX_UNKNOWNS:
                allowed -= 1
            raise ValueError(
                f"n_points must be <= {allowed} in {d}D with order={self.order} "
                f"(at most {MAX_UNKNOWNS} = 2**25 unknowns), got {self.n_points}"
            )

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        if problem.dim > 1:
            return self._solve_box(problem, n_states)
        grid = grid_with_intervals(problem, self.n_points + 1)
        size = self.n_points if self.order == 2 else 2 * self.n_points + 1
        info: dict = {"order": self.order, "eigensolver": choose(self.eigensolver, 1, size)}
        try:
            energies, nodal = self._second_order(problem, grid, n_states, info)
            if self.order == 4:
                fine_energies, fine_nodal = self._second_order(problem, grid.bisected(), n_states, info)
                energies = (4.0 * fine_energies - energies) / 3.0
                nodal = (4.0 * fine_nodal[:, ::2] - nodal) / 3.0
        except (ArpackError, ArpackNoConvergence, np.linalg.LinAlgError, _NotConverged) as exc:
            return _failed(n_states, info, exc)
        return Solution(energies, NodalStates(problem, grid, energies, nodal), info)

    @staticmethod
    def _second_order(problem: Problem, grid: PiecewiseGrid, n_states: int, info: dict):
        """Energies and nodal psi (walls included), unit discrete norm, psi'(x0) > 0."""
        matrix, scale, v_min = hamiltonian(problem, grid)
        pairs = _eigenpairs(matrix, n_states, v_min, info)
        nodal = np.zeros((n_states, len(grid.nodes)))
        nodal[:, 1:-1] = (pairs.vectors * scale[:, None]).T
        nodal *= np.where(nodal[:, 1] < 0, -1.0, 1.0)[:, None]
        return pairs.energies, nodal

    def _solve_box(self, problem: Problem, n_states: int) -> Solution:
        """d >= 2: the Kronecker-sum Hamiltonian on a tensor grid; order 4 extrapolates the energies."""
        grid = tensor_grid(problem, self.n_points + 1)
        largest = grid.bisected() if self.order == 4 else grid
        info: dict = {
            "order": self.order,
            "eigensolver": choose(self.eigensolver, problem.dim, largest.n_unknowns),
        }
        try:
            energies, nodal = self._second_order_box(problem, grid, n_states, info)
            if self.order == 4:
                grid = largest
                fine_energies, nodal = self._second_order_box(problem, grid, n_states, info)
                energies = (4.0 * fine_energies - energies) / 3.0
        except (ArpackError, ArpackNoConvergence, np.linalg.LinAlgError, _NotConverged) as exc:
            return _failed(n_states, info, exc)
        return Solution(energies, NodalStatesND(grid, nodal), info)

    @staticmethod
    def _second_order_box(problem: Problem, grid: TensorGrid, n_states: int, info: dict):
        """Energies and nodal psi on the whole node grid (zero on the walls), largest |psi| positive."""
        matrix, scale, v_min = hamiltonian_nd(problem, grid)
        pairs = _eigenpairs(matrix, n_states, v_min, info)
        del matrix  # the nodal arrays below are as large; do not hold both at 128^3
        nodal = np.zeros((n_states, *grid.node_shape))
        interior = (slice(None),) + (slice(1, -1),) * grid.dim
        nodal[interior] = (pairs.vectors * scale[:, None]).T.reshape((n_states, *grid.shape))
        flat = nodal.reshape(n_states, -1)
        peaks = flat[np.arange(n_states), np.argmax(np.abs(flat), axis=1)]
        nodal *= np.where(peaks < 0, -1.0, 1.0).reshape((-1,) + (1,) * grid.dim)
        return pairs.energies, nodal


class _NotConverged(RuntimeError):
    """LOBPCG stopped with a residual above its tolerance."""


def _eigenpairs(matrix: sp.spmatrix, n_states: int, v_min: float, info: dict) -> Eigenpairs:
    """The lowest ``n_states`` eigenpairs by ``info["eigensolver"]``; sizes and iterations go in ``info``."""
    info.setdefault("matrix_size", []).append(matrix.shape[0])
    info.setdefault("nnz", []).append(int(matrix.nnz))
    if info["eigensolver"] == "eigsh":
        pairs = lowest_eigsh(matrix, n_states, v_min)
    else:
        # v_min is below the spectrum (the kinetic part is positive definite), so H - v_min is SPD.
        pairs = lowest_lobpcg(matrix, n_states, v_min)
        info.setdefault("residual_norms", []).append(pairs.residual_norms)
    info.setdefault("iterations", []).append(pairs.iterations)
    if not pairs.converged:
        raise _NotConverged(pairs.message)
    return pairs


def _failed(n_states: int, info: dict, exc: Exception) -> Solution:
    """A FAILED solution with NaN energies and states, saying which eigensolver failed and why."""
    source = "ARPACK" if isinstance(exc, (ArpackError, ArpackNoConvergence)) else info["eigensolver"]
    return Solution(
        np.full(n_states, np.nan),
        lambda x: np.full((n_states, len(x)), np.nan),
        info,
        Status.FAILED,
        f"{source}: {exc}",
    )

"""Finite differences in 1 to 4 dimensions: a sparse Hamiltonian and ARPACK shift-invert or AMG-LOBPCG."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence

from .._validation import check_choice, check_int
from ..numerics.eigensolvers import EIGENSOLVERS, Eigenpairs, choose, lowest_eigsh, lowest_lobpcg
from ..numerics.finite_volume import hamiltonian
from ..numerics.grids import TensorGrid, tensor_grid
from ..numerics.quadrature import panel_edges
from ..numerics.signs import rising_signs
from ..problems import Problem
from .base import Option, Solution, Solver, Status
from .nodal import DERIVATIVES_BY, SplineStates

MIN_POINTS_PER_STATE = 4
#: The most unknowns of one matrix (the bisected grid's for order 4). A 3D grid costs about
#: 0.4 kB an unknown (7 diagonals, the AMG hierarchy, LOBPCG's blocks), so 2^25 is ~13 GB.
MAX_UNKNOWNS = 2**25


class FiniteDifference(Solver):
    """Finite differences on a tensor grid with nodes on the breakpoints, in d = 1 to 4.

    Every axis of the box gets its own grid: each piece between that axis's breakpoints a
    uniform spacing (intervals shared out by width). Order 2 is the vertex-centred
    finite-volume scheme of :func:`qbench.numerics.finite_volume.hamiltonian`: the Kronecker
    sum of the axes' symmetrized three-point kinetic matrices (one tridiagonal matrix in 1D)
    plus V averaged over each node's dual cell, so on a separable V its energies are exactly
    sums of 1D ones. Order 4 is its Richardson extrapolation: the same scheme on the grid and
    on its bisection (h and h/2), energies combined as ``(4 E_h/2 - E_h) / 3``. It is fourth
    order because the second-order error expands in h^2, which placing the jumps on nodes
    guarantees. A jump of V on a curve or a tilted plane (``curved_interfaces``) cannot lie on
    grid nodes; the cell average then cuts across it and the energies lose their clean h^2
    expansion (``benchmarks/bench_fd_3d.py`` measures the order), so order 4 is refused there.

    The states are tensor-product cubic splines through the nodal values, C^1 across the
    breakpoints (:mod:`qbench.solvers.nodal`), in every d; they supply their exact Laplacian
    for qbench's residual certificate. Order 4 extrapolates the nodal values too in 1D, where
    every level is simple; in d > 1 it keeps the bisected grid's states, because within a
    degenerate level (the square's first excited pair) the two grids' eigenvectors need not be
    the same combination, and mixing them would give neither.

    Options
    -------
    n_points : int, default 1000
        Interior grid points per axis, >= 5 and >= 4 per state (per ``n_states ** (1/d)`` in d
        dimensions); at most ``MAX_UNKNOWNS`` unknowns in all.
    order : {2, 4}, default 2
        Order of convergence of the energies.
    eigensolver : {"auto", "eigsh", "lobpcg"}, default "auto"
        ``eigsh``: ARPACK shift-invert about min V (a sparse LU factor).
        ``lobpcg``: LOBPCG preconditioned by a smoothed-aggregation AMG
        V-cycle (``qbench.numerics.eigensolvers``). ``auto``: eigsh in 1D and up to
        ``eigensolvers.AUTO_EIGSH_MAX[d]`` unknowns, lobpcg above.
    """

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
        d = problem.dim
        if self.order == 4 and problem.curved_interfaces:
            raise ValueError(
                f"order=4 needs every jump of V on grid nodes, and {problem.name!r} has curved "
                "interfaces (no clean h^2 expansion to extrapolate); use order=2"
            )
        # About n_states ** (1/d) states per axis; the small epsilon keeps exact powers exact.
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
        grid = tensor_grid(problem.box, problem.axis_breakpoints, self.n_points + 1)
        largest = grid.bisected() if self.order == 4 else grid
        info: dict = {
            "order": self.order,
            "eigensolver": choose(self.eigensolver, problem.dim, largest.n_unknowns),
        }
        try:
            energies, nodal = _second_order(problem, grid, n_states, info)
            if self.order == 4:
                fine_energies, fine_nodal = _second_order(problem, largest, n_states, info)
                energies = (4.0 * fine_energies - energies) / 3.0
                if grid.dim == 1:  # simple levels: the two grids' vectors are the same states
                    coarse_nodes = (slice(None),) + (slice(None, None, 2),) * grid.dim
                    nodal = (4.0 * fine_nodal[coarse_nodes] - nodal) / 3.0
                else:
                    grid, nodal = largest, fine_nodal
        except (ArpackError, ArpackNoConvergence, np.linalg.LinAlgError, _NotConverged) as exc:
            return _failed(n_states, info, exc)
        states = SplineStates(grid, nodal, problem.potential)
        return Solution(energies, states, info, laplacian=states.laplacian, derivatives_by=DERIVATIVES_BY)


def _second_order(
    problem: Problem, grid: TensorGrid, n_states: int, info: dict
) -> tuple[np.ndarray, np.ndarray]:
    """Energies and nodal psi on the whole node grid (zero on the walls), signed by ``rising_signs``."""
    matrix, scale, v_min = hamiltonian(problem.potential, grid)
    pairs = _eigenpairs(matrix, n_states, v_min, info)
    del matrix  # the nodal arrays below are as large; do not hold both at 128^3
    nodal = np.zeros((n_states, *grid.node_shape))
    interior = (slice(None),) + (slice(1, -1),) * grid.dim
    nodal[interior] = (pairs.vectors * scale[:, None]).T.reshape((n_states, *grid.shape))
    # Order 4 combines two grids' nodal values: both must carry the same sign.
    nodal *= rising_signs(nodal.reshape(n_states, -1)).reshape((-1,) + (1,) * grid.dim)
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
        lambda points: np.full((n_states, len(points)), np.nan),
        info,
        Status.FAILED,
        f"{source}: {exc}",
    )

"""The lowest eigenpairs of a sparse symmetric Hamiltonian: ARPACK shift-invert or AMG-preconditioned LOBPCG.

``eigsh`` factorizes ``H - sigma`` (SuperLU) and runs ARPACK on its inverse: robust
and fast while the factor stays small, which it does in 1D and for moderate 2D/3D
grids, but the fill-in of a 3D grid grows like N^(4/3) in memory and N^2 in time.
``lobpcg`` needs only products with H and a preconditioner, here one
smoothed-aggregation AMG V-cycle (pyamg) of the SPD matrix ``H - shift``: its
cost grows about linearly with N. ``auto`` picks between them by size, from the
crossover measured on a 2-core CPU (see ``AUTO_EIGSH_MAX``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh, lobpcg, splu

#: The eigensolver choices of the ``fd`` solver's ``eigensolver`` option.
EIGENSOLVERS = ("auto", "eigsh", "lobpcg")

#: ``auto`` uses eigsh up to this many unknowns per dimension, LOBPCG above. Measured with
#: ``benchmarks/bench_fd_3d.py --crossover`` (separable finite wells, 1 and 1 + d states, 2 shared cores):
#: in 2D LOBPCG is ahead for a ground state from ~160k unknowns but 2-3x behind for 3 states still at
#: 360k (eigsh's factor is reused by every state); in 3D eigsh is even at 14k and 15-30x behind at 33k;
#: in 4D it is behind from 4k on (12^4: 22 s against 0.8 s; 14^4: 500 s against 2.7 s). 1D is always
#: eigsh (a tridiagonal factor has no fill-in).
AUTO_EIGSH_MAX = {1: None, 2: 400_000, 3: 20_000, 4: 4_000}

#: Block vectors beyond the requested states when there are several: a block that ends inside a
#: degenerate group, or just below a close level, converges slowly in its last vectors; the extras
#: absorb that. A lone ground state needs none: it is simple (a positive function), and every
#: block vector costs one AMG V-cycle an iteration (at 64^3 a block of 4 took ~5x the time of 1).
LOBPCG_EXTRA = 3
#: Residual tolerance ``||H x - E x|| <= LOBPCG_RTOL * max(1, |shift|)`` of each returned state (unit x).
#: The energy's algebraic error is about residual^2 / gap, ~1e-12 relative here, and the state's about
#: residual / gap, ~1e-6: both far below the discretization error of any grid that fits in memory
#: (at 128^3, ~1e-4), while a tighter 1e-8 cost a third more iterations.
LOBPCG_RTOL = 1e-6
#: Iteration cap (over all restarts); an AMG-preconditioned run needs a few tens.
LOBPCG_MAXITER = 300
#: Restarts from the returned block when lobpcg stopped on its own residual test but the check here
#: fails (lobpcg measures the block's residuals at its last iterate, which need not be the returned
#: Rayleigh-Ritz vectors): each restart asks lobpcg for a 10x tighter tolerance.
LOBPCG_RESTARTS = 2
#: pyamg smoothed aggregation, set up cheaply: prolongation smoothing weighted by a local bound instead
#: of an Arnoldi estimate of the spectral radius, no candidate improvement, and one forward Gauss-Seidel
#: sweep before and one backward after (a symmetric V-cycle, as a preconditioner of LOBPCG must be).
#: At 64^3 the setup took 1.2 s against 5.4 s with pyamg's defaults, and LOBPCG 17 iterations against
#: 14 in the same 4.0 s (``bench_fd_3d.py --amg 64``); at 128^3 the setup dominates the solve.
AMG_OPTIONS = {
    "smooth": ("jacobi", {"weighting": "local"}),
    "improve_candidates": None,
    "presmoother": ("gauss_seidel", {"sweep": "forward"}),
    "postsmoother": ("gauss_seidel", {"sweep": "backward"}),
}


def choose(eigensolver: str, dim: int, size: int) -> str:
    """The eigensolver ``auto`` resolves to for a ``size``-unknown matrix in ``dim`` dimensions."""
    if eigensolver != "auto":
        return eigensolver
    limit = AUTO_EIGSH_MAX.get(dim)
    return "eigsh" if limit is None or size <= limit else "lobpcg"


@dataclass
class Eigenpairs:
    """The lowest eigenpairs found, ascending, and what it took.

    ``vectors`` has shape ``(n, n_states)`` with unit Euclidean columns. ``converged`` is
    False (with ``message`` saying why) when a residual is above the tolerance.
    """

    energies: np.ndarray
    vectors: np.ndarray
    iterations: int
    converged: bool = True
    message: str = ""
    residual_norms: list[float] = field(default_factory=list)


def lowest_eigsh(matrix: sp.spmatrix, n_states: int, sigma: float) -> Eigenpairs:
    """ARPACK in shift-invert mode about ``sigma`` (just below the spectrum), seeded start.

    ``H - sigma I`` is factorized here exactly as ``eigsh`` would do itself (the same
    SuperLU call on the same CSC matrix), only so that the solves can be counted:
    ``iterations`` is the number of shift-invert solves ARPACK asked for.
    """
    n = matrix.shape[0]
    lu = splu(sp.csc_matrix(matrix - sigma * sp.eye(n)))
    count = [0]

    def solve(x: np.ndarray) -> np.ndarray:
        count[0] += 1
        return lu.solve(np.asarray(x, dtype=float))

    start = np.random.default_rng(0).standard_normal(n)  # deterministic ARPACK start
    opinv = LinearOperator((n, n), matvec=solve, dtype=float)
    energies, vectors = eigsh(matrix, k=n_states, sigma=sigma, which="LM", v0=start, OPinv=opinv)
    order = np.argsort(energies)
    return Eigenpairs(energies[order], vectors[:, order], count[0])


def lowest_lobpcg(matrix: sp.spmatrix, n_states: int, shift: float) -> Eigenpairs:
    """LOBPCG on ``H - shift`` preconditioned by one smoothed-aggregation AMG V-cycle of it.

    ``shift`` must lie below the spectrum (the smallest cell-averaged V does: the
    kinetic part is positive definite), so ``H - shift`` is SPD and AMG applies.
    The block has ``n_states + LOBPCG_EXTRA`` vectors (one for a lone ground state) from a seeded
    random start;
    the lowest ``n_states`` are returned, and each must have a residual
    ``||H x - E x|| <= LOBPCG_RTOL * max(1, |shift|)``, checked here, not trusted from lobpcg.
    """
    import pyamg  # imported here: only LOBPCG needs it, and its import takes a while

    n = matrix.shape[0]
    block = 1 if n_states == 1 else min(n_states + LOBPCG_EXTRA, n)
    shifted = sp.csr_matrix(matrix - shift * sp.eye(n, format="csr"))
    preconditioner = pyamg.smoothed_aggregation_solver(shifted, **AMG_OPTIONS).aspreconditioner(cycle="V")
    block_vectors = np.random.default_rng(0).standard_normal((n, block))
    # An absolute residual test (lobpcg's own kind), scaled by the spectrum's lower end.
    tol = LOBPCG_RTOL * max(1.0, abs(shift))
    iterations, restarts = 0, 0
    while True:
        with warnings.catch_warnings():
            # lobpcg warns when it stops short of tol (e.g. on an extra vector): judged below instead.
            warnings.simplefilter("ignore", UserWarning)
            values, block_vectors, history = lobpcg(
                shifted,
                block_vectors,
                M=preconditioner,
                tol=tol / 10**restarts,
                maxiter=LOBPCG_MAXITER - iterations,
                largest=False,
                retResidualNormsHistory=True,
            )
        iterations += max(len(history) - 3, 0)  # the history has 3 rows more than updates
        order = np.argsort(values)[:n_states]
        vectors = block_vectors[:, order] / np.linalg.norm(block_vectors[:, order], axis=0)
        rayleigh = np.einsum("ij,ij->j", vectors, shifted @ vectors)
        residuals = np.linalg.norm(shifted @ vectors - vectors * rayleigh, axis=0)
        bad = np.flatnonzero(~(residuals <= tol))  # NaN residuals count as failures
        if not bad.size or restarts == LOBPCG_RESTARTS or iterations >= LOBPCG_MAXITER:
            break
        restarts += 1
    energies = rayleigh + shift
    message = ""
    if bad.size:
        worst = int(bad[np.argmax(np.nan_to_num(residuals[bad], nan=np.inf))])
        message = (
            f"LOBPCG did not converge in {iterations} iterations (maxiter {LOBPCG_MAXITER}, {restarts} "
            f"restarts): state {worst} has residual {residuals[worst]:.3g} > tol {tol:.3g}"
        )
    order = np.argsort(energies)
    return Eigenpairs(
        energies[order],
        vectors[:, order],
        iterations,
        converged=not bad.size,
        message=message,
        residual_norms=residuals[order].tolist(),
    )

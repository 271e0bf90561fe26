"""The lowest eigenpairs of a non-symmetric operator by block shift-invert Krylov with thick restarts.

Built for a collocation matrix H that is too large to factor and whose sparse LU fills in (every
point of a tensor collocation grid is coupled to every point on its lines): each solve with
``H - sigma I`` is a GMRES preconditioned by a good approximate inverse (for the tensor
collocation, the exact inverse of its separable part). Rayleigh-Ritz is done on H itself and
the residuals are checked on H, so the preconditioner affects the speed, never the answer. A
block, unlike ARPACK's single start vector, holds every member of a degenerate level (a Krylov
space of one vector sees one direction per exactly degenerate eigenspace).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from .subspace import orthonormalize, real_basis

#: Relative residual of each GMRES solve with H - sigma I.
GMRES_RTOL = 1e-12
#: GMRES Krylov space size before a restart: the non-separable remainder of V leaves about as many
#: outlying eigenvalues of the preconditioned operator as there are levels below its size.
GMRES_RESTART = 80
GMRES_MAX_RESTARTS = 20
#: Block vectors beyond n_states: the wanted states are never the last in the block.
BLOCK_EXTRA = 4
#: Shift-invert block solves per restart (the Krylov space is the block and its first images).
KRYLOV_STEPS = 3
_MAX_RESTARTS = 50
#: Restarts without halving the worst residual after which the iteration stops.
_STAGNATION_RESTARTS = 4
#: Converged when ||H x - theta x|| <= RESIDUAL_TOL * max(|theta|, 1) * ||x|| for every wanted state.
RESIDUAL_TOL = 1e-10


def block_size(n_states: int, size: int) -> int:
    """Vectors in the block for ``n_states`` wanted states of a ``size``-unknown operator."""
    return min(n_states + BLOCK_EXTRA, size // (KRYLOV_STEPS + 1))


def lowest_eigenpairs(
    apply_h: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    sigma: float,
    preconditioner: Callable[[np.ndarray], np.ndarray],
    n_states: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The ``n_states`` eigenpairs of H of lowest real part, by block shift-invert about ``sigma``.

    Parameters
    ----------
    apply_h
        ``(N, k) -> (N, k)``: H applied to columns.
    start
        ``(N, block)``: the starting block (complex columns allowed; their real span is used).
        Its width is the block size kept at every restart.
    sigma
        A shift below the spectrum's real parts, where ``H - sigma I`` is safely invertible.
    preconditioner
        ``(N,) -> (N,)``: an approximation of ``(H - sigma I)^-1``, also each solve's first guess.
    n_states
        Wanted eigenpairs, at most the block width.

    Returns
    -------
    values : numpy.ndarray
        Ritz values (possibly complex), ascending by real part.
    vectors : numpy.ndarray
        ``(N, n_states)`` Ritz vectors.
    counters : dict
        What it took: restarts, solves, GMRES iterations, the worst relative residual, and a
        ``warning`` when that residual is above :data:`RESIDUAL_TOL`.
    """
    size, block = start.shape
    shifted = scipy.sparse.linalg.LinearOperator(
        (size, size), matvec=lambda v: apply_h(v.reshape(-1, 1)).ravel() - sigma * v.ravel(), dtype=float
    )
    inverse = scipy.sparse.linalg.LinearOperator((size, size), matvec=preconditioner, dtype=float)
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
                x0=preconditioner(rhs),
                rtol=GMRES_RTOL,
                atol=0.0,
                restart=min(GMRES_RESTART, size),
                maxiter=GMRES_MAX_RESTARTS,
                M=inverse,
                callback=count,
                callback_type="pr_norm",
            )
            residual = np.linalg.norm(shifted @ out[:, j] - rhs) / np.linalg.norm(rhs)
            counts["worst_residual"] = max(counts["worst_residual"], float(residual))
        return out

    basis = orthonormalize(real_basis(start))
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
        blocks = [orthonormalize(real_basis(ritz))]
        for _ in range(KRYLOV_STEPS):
            new = orthonormalize(solve_shifted(blocks[-1]), np.hstack(blocks))
            if new.shape[1] == 0:  # the space is invariant: nothing new to add
                break
            blocks.append(new)
        basis = np.hstack(blocks)
    counters: dict[str, Any] = {
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

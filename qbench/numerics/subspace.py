"""Bases of subspaces: orthonormal and real bases, inverse-iteration refinement, Rayleigh-Ritz.

The collocation eigensolvers return eigenvectors of a non-symmetric matrix: complex up to a
phase, noisy at rounding level, and not orthogonal in any inner product of the states. These
helpers turn such a set into a clean real basis and extract the best states it spans.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

#: A new direction smaller than this (relative) after orthogonalization is a duplicate and dropped.
RANK_RTOL = 1e-14
#: A Ritz basis direction whose Gram eigenvalue is below this (relative) is a duplicate and dropped.
GRAM_RTOL = 1e-12


def orthonormalize(vectors: np.ndarray, against: np.ndarray | None = None) -> np.ndarray:
    """Orthonormal columns spanning ``vectors`` (minus their part in ``against``), duplicates dropped."""
    if vectors.shape[1] == 0:
        return vectors
    scale = np.linalg.norm(vectors, axis=0).max()
    if against is not None:
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            vectors = vectors - against @ (against.T @ vectors)
    q, r, _ = scipy.linalg.qr(vectors, mode="economic", pivoting=True)
    rank = int(np.sum(np.abs(np.diag(r)) > RANK_RTOL * scale))
    return q[:, :rank]


def _rotated(vectors: np.ndarray) -> np.ndarray:
    """Each column times the phase that makes its largest entry real and positive."""
    peak = np.argmax(np.abs(vectors), axis=0)
    phase = vectors[peak, np.arange(vectors.shape[1])]
    return vectors * (np.abs(phase) / phase)


def real_vectors(vectors: np.ndarray) -> np.ndarray:
    """Eigenvectors of real eigenvalues, rotated to be real (``eig`` returns an arbitrary complex phase)."""
    return _rotated(vectors).real


def real_basis(vectors: np.ndarray) -> np.ndarray:
    """Real vectors spanning the (complex) eigenvectors' span.

    A real eigenvalue's eigenvector is real up to a phase; a complex pair (a degenerate level split
    by rounding into ``E +- i eps``) spans the real and imaginary parts of either member, which
    are two different real states, so both are kept. Duplicates are removed later by the Ritz step.
    """
    rotated = _rotated(vectors)
    parts = [rotated.real]
    imaginary = np.linalg.norm(rotated.imag, axis=0) > 1e-8 * np.linalg.norm(rotated.real, axis=0)
    if imaginary.any():
        parts.append(rotated.imag[:, imaginary])
    return np.concatenate(parts, axis=1)


def inverse_iteration(matrix: np.ndarray, eigenvalues: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """One step of inverse iteration per column, shifted to its eigenvalue; unit columns.

    A dense eigensolver leaves rounding of size eps * ||A|| / gap in every component of an
    eigenvector, high-frequency ones included, and a derivative amplifies those. One solve
    with A - E I damps every other component by |E - E_other|, so that noise drops to about eps.
    """
    identity = np.eye(matrix.shape[0])
    refined = np.empty_like(vectors)
    for k, energy in enumerate(eigenvalues):
        shift = energy + 1e-13 * max(abs(energy), 1.0)  # exactly singular only by accident; nudge
        # Nearly singular on purpose: lu_factor does not refuse that, and the solve is still backward stable.
        factors = scipy.linalg.lu_factor(matrix - shift * identity, check_finite=False)
        step = scipy.linalg.lu_solve(factors, vectors[:, k], check_finite=False)
        refined[:, k] = step / np.linalg.norm(step)
    return refined


def rayleigh_ritz(stiffness: np.ndarray, mass: np.ndarray, n_states: int) -> tuple[np.ndarray, np.ndarray]:
    """The lowest ``n_states`` Ritz pairs of ``stiffness x = E mass x`` on a possibly redundant basis.

    Directions of the basis that the Gram (``mass``) matrix shows to be duplicates (a real
    eigenvector's negligible imaginary part, a conjugate pair's second member) are dropped,
    then the Ritz problem is solved in the orthonormalized basis.

    Returns
    -------
    values : numpy.ndarray
        The Ritz values, ascending, shape ``(n_states,)``.
    vectors : numpy.ndarray
        ``(len(mass), n_states)``: coefficient columns, orthonormal in the ``mass`` inner product.

    Raises
    ------
    RuntimeError
        If the basis spans fewer than ``n_states`` directions.
    """
    stiffness = 0.5 * (stiffness + stiffness.T)
    mass = 0.5 * (mass + mass.T)
    gram, directions = np.linalg.eigh(mass)
    keep = gram > GRAM_RTOL * gram.max()
    whiten = directions[:, keep] / np.sqrt(gram[keep])
    values, vectors = np.linalg.eigh(whiten.T @ stiffness @ whiten)
    if len(values) < n_states:
        raise RuntimeError(f"the collocation eigenvectors span only {len(values)} states")
    return values[:n_states], whiten @ vectors[:, :n_states]

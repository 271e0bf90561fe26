"""Rotations and matrices for the problems that turn a separable one: drawing, checking, reading."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import MAX_SAMPLED_DIM

#: A rotation is orthogonal when ``|Q^T Q - I|`` is at most this everywhere.
ORTHOGONALITY_TOL = 1e-10


def check_orthogonal(q: np.ndarray) -> np.ndarray:
    """``q`` itself, or a one-line ``ValueError`` naming ``rotation`` if ``|Q^T Q - I|`` exceeds
    :data:`ORTHOGONALITY_TOL` anywhere."""
    deviation = float(np.max(np.abs(q.T @ q - np.eye(len(q)))))
    if not deviation <= ORTHOGONALITY_TOL:
        raise ValueError(
            f"rotation must be orthogonal (|Q^T Q - I| <= {ORTHOGONALITY_TOL:.0e}); "
            f"it is off by {deviation:.2g}"
        )
    return q


def haar_rotation(dim: int, seed: int) -> np.ndarray:
    """A Haar-random orthogonal ``dim x dim`` matrix: the QR factor of a Gaussian matrix, signs fixed."""
    gaussian = np.random.default_rng(seed).standard_normal((dim, dim))
    q, r = np.linalg.qr(gaussian)
    return q * np.sign(np.diag(r))[None, :]


def identity(x: np.ndarray) -> np.ndarray:
    return x


def square_matrix(name: str, value: Any, dim: int | None) -> np.ndarray:
    """``value`` as a finite square float matrix (of side ``dim`` when given), or ``ValueError``."""
    try:
        a = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a square matrix of numbers, got {value!r}") from None
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a square matrix of finite numbers, got shape {a.shape}")
    if not 1 <= a.shape[0] <= MAX_SAMPLED_DIM:
        raise ValueError(f"{name} must be 1x1 to {MAX_SAMPLED_DIM}x{MAX_SAMPLED_DIM}, got {a.shape}")
    if dim is not None and a.shape[0] != dim:
        raise ValueError(f"{name} must be {dim}x{dim}, got {a.shape[0]}x{a.shape[0]}")
    return a

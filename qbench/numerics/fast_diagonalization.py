"""Kronecker sums plus a separable potential, diagonalized axis by axis.

``H_s = L_1 (+) ... (+) L_d + diag(c + v_1(x_1) + ... + v_d(x_d))`` has the eigenvectors
``u_1 x ... x u_d`` with ``u_i`` an eigenvector of ``L_i + diag(v_i)``, and the eigenvalues
``c + lambda_1 + ... + lambda_d``. So one small dense eigendecomposition per axis gives all of
H_s's eigenpairs and its exact inverse (two passes of small dense matrices along each axis).
For any V on the grid, ``c + sum v_i`` is its separable part (the mean plus each axis's mean
deviation), exact when V is separable, which it always is in 1D.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import scipy.linalg

from .subspace import inverse_iteration, real_vectors
from .tensor import apply_along


class FastDiagonalization:
    """Per-axis eigenbases of ``L_i + diag(v_i)``, for the separable part of ``potential``.

    Parameters
    ----------
    operators
        ``L_i`` per axis, square, of the sizes of ``potential``'s axes.
    potential
        V on the tensor grid, one array axis per space axis.

    Attributes
    ----------
    separable : numpy.ndarray
        ``c + sum_i v_i(x_i)`` on the grid; equal to ``potential`` up to rounding when V is separable.
    levels : numpy.ndarray
        The eigenvalues of ``H_s``, one per grid point (complex if an axis's are).

    Each ``L_i + diag(v_i)`` has a real spectrum and well-conditioned eigenvectors in practice;
    complex arithmetic is used if not.
    """

    def __init__(self, operators: Sequence[np.ndarray], potential: np.ndarray):
        d = potential.ndim
        self.shape = potential.shape
        self.operators = list(operators)
        mean = float(potential.mean())
        self.separable = np.full(self.shape, mean)
        self.matrices, self.values, self.bases = [], [], []
        for i, operator in enumerate(self.operators):
            others = tuple(j for j in range(d) if j != i)
            deviation = potential.mean(axis=others) - mean
            self.separable = self.separable + deviation.reshape([-1 if j == i else 1 for j in range(d)])
            matrix = operator + np.diag(deviation)
            values, vectors = scipy.linalg.eig(matrix)
            if np.all(values.imag == 0.0):
                values, vectors = values.real, vectors.real
            self.matrices.append(matrix)
            self.values.append(values)
            self.bases.append(vectors)
        self.levels = functools.reduce(np.add.outer, self.values) + mean
        self.denominators: np.ndarray | None = None

    @functools.cached_property
    def inverses(self) -> list[np.ndarray]:
        """The inverse of each axis's eigenvector matrix (only :meth:`solve` needs them)."""
        return [np.linalg.inv(basis) for basis in self.bases]

    @functools.cached_property
    def kinetic_ground(self) -> float:
        """The lowest eigenvalue of ``L_1 (+) ... (+) L_d``: the sum of the axes' lowest."""
        return float(sum(np.min(np.linalg.eigvals(operator).real) for operator in self.operators))

    def _lowest(self, count: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Flat and per-axis indices of the ``count`` lowest levels (by real part, ties in C order)."""
        flat = np.argsort(self.levels.real, axis=None, kind="stable")[:count]
        return flat, np.unravel_index(flat, self.shape)

    def lowest_eigenvectors(self, count: int) -> np.ndarray:
        """``(N, count)``: the eigenvectors of the ``count`` lowest levels, products of axis eigenvectors."""
        _, index = self._lowest(count)
        columns = []
        for point in zip(*index):
            factors = [basis[:, j] for basis, j in zip(self.bases, point)]
            columns.append(functools.reduce(np.multiply.outer, factors).ravel())
        return np.stack(columns, axis=1)

    def lowest_eigenpairs(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``count`` lowest levels and their eigenvectors, real and refined, as ``(N, count)`` columns.

        Each axis eigenvector that a level uses is rotated to be real and refined by one step of
        inverse iteration on its axis matrix (:func:`qbench.numerics.subspace.inverse_iteration`),
        so the products are eigenvectors of ``H_s`` to rounding, high-frequency noise included.
        """
        flat, index = self._lowest(count)
        refined = []
        for i, needed in enumerate(index):
            columns = np.unique(needed)
            vectors = inverse_iteration(
                self.matrices[i], self.values[i][columns].real, real_vectors(self.bases[i][:, columns])
            )
            refined.append(dict(zip(columns.tolist(), vectors.T)))
        products = [
            functools.reduce(np.multiply.outer, [refined[i][j] for i, j in enumerate(point)]).ravel()
            for point in zip(*(needed.tolist() for needed in index))
        ]
        return self.levels.ravel()[flat], np.stack(products, axis=1)

    def set_shift(self, sigma: float) -> None:
        """Make :meth:`solve` apply ``(H_s - sigma I)^-1``."""
        self.denominators = self.levels - sigma

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``(H_s - sigma I)^-1 rhs`` for a flat ``rhs`` (after :meth:`set_shift`)."""
        tensor = rhs.reshape(self.shape)
        for i, inverse in enumerate(self.inverses):
            tensor = apply_along(inverse, tensor, i)
        tensor = tensor / self.denominators
        for i, basis in enumerate(self.bases):
            tensor = apply_along(basis, tensor, i)
        return np.real(tensor).ravel() if np.isrealobj(rhs) else tensor.ravel()

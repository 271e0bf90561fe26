"""numerics.fast_diagonalization: a Kronecker sum plus a separable V, diagonalized axis by axis."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from qbench.numerics.chebyshev import axis_collocation
from qbench.numerics.fast_diagonalization import FastDiagonalization
from qbench.numerics.tensor import kronecker_sum, tensor_points


def setup(dim: int, coupling: float):
    """Axes of different lengths and sizes, V = sum_i (i + 1) x_i^2 + coupling * prod_i x_i."""
    axes = [axis_collocation((-2.0, 2.0 + 0.5 * i), (), 9 + 2 * i) for i in range(dim)]
    nodes = [axis.nodes[axis.interior] for axis in axes]
    points = tensor_points(nodes)
    v = points**2 @ np.arange(1.0, dim + 1) + coupling * np.prod(points, axis=1)
    operators = [axis.operator for axis in axes]
    return operators, nodes, v.reshape([len(x) for x in nodes]), kronecker_sum(operators) + np.diag(v)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_a_separable_potential_gives_the_eigenpairs_of_the_kronecker_sum(dim):
    operators, nodes, potential, dense = setup(dim, coupling=0.0)
    fast = FastDiagonalization(operators, potential)
    np.testing.assert_allclose(fast.separable, potential, atol=1e-12)
    levels, vectors = fast.lowest_eigenpairs(5)
    # Independently: the lowest sums of each axis's own eigenvalues with its own part of V.
    axis_levels = [
        np.linalg.eigvals(operator + np.diag((i + 1) * x**2)).real
        for i, (operator, x) in enumerate(zip(operators, nodes))
    ]
    exact = np.sort(functools.reduce(np.add.outer, axis_levels), axis=None)[:5]
    np.testing.assert_allclose(levels.real, exact, rtol=1e-10)
    residual = dense @ vectors - vectors * levels.real
    assert np.max(np.linalg.norm(residual, axis=0) / np.abs(levels)) < 1e-11
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=0), 1.0, rtol=1e-12)


@pytest.mark.parametrize("dim", [1, 2])
def test_solve_inverts_the_separable_operator_exactly(dim):
    operators, _, potential, dense = setup(dim, coupling=0.7)
    fast = FastDiagonalization(operators, potential)
    separable = kronecker_sum(operators) + np.diag(fast.separable.ravel())
    fast.set_shift(-1.5)
    rhs = np.random.default_rng(dim).standard_normal(len(dense))
    solution = fast.solve(rhs)
    np.testing.assert_allclose((separable + 1.5 * np.eye(len(dense))) @ solution, rhs, atol=1e-9)
    assert np.isrealobj(solution)
    # In 1D every V is separable; in 2D the coupling x y is the remainder the preconditioner misses.
    assert (np.max(np.abs(potential - fast.separable)) > 0.1) == (dim > 1)


def test_the_lowest_product_vectors_are_ordered_by_level():
    operators, _, potential, dense = setup(2, coupling=0.0)
    fast = FastDiagonalization(operators, potential)
    start = fast.lowest_eigenvectors(4)
    assert start.shape == (potential.size, 4)
    rayleigh = np.einsum("ij,ij->j", start.conj(), dense @ start) / np.einsum("ij,ij->j", start.conj(), start)
    np.testing.assert_allclose(rayleigh.real, np.sort(fast.levels.real, axis=None)[:4], rtol=1e-8)

"""numerics.finite_volume: the vertex-centred scheme on a tensor grid, checked against closed forms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import qbench.numerics.finite_volume as finite_volume
from qbench.numerics.finite_volume import dual_cell_potential, hamiltonian
from qbench.numerics.grids import tensor_grid


def free(points):
    return np.zeros(len(points))


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_the_free_box_has_the_three_point_laplacians_eigenvalues(dim):
    """On a uniform grid without V the eigenvalues are sums of (4 / h^2) sin^2(k pi h / 2 L), k = 1..n."""
    n, length = 9, 2.0
    grid = tensor_grid(((0.0, length),) * dim, ((),) * dim, n + 1)
    matrix, _, v_min = hamiltonian(free, grid)
    h = length / (n + 1)
    axis = 4.0 / h**2 * np.sin(np.arange(1, n + 1) * np.pi * h / (2 * length)) ** 2
    expected = np.sort([sum(c) for c in itertools.product(axis, repeat=dim)])
    np.testing.assert_allclose(np.linalg.eigvalsh(matrix.toarray()), expected, rtol=1e-12)
    assert v_min == 0.0
    assert abs(matrix - matrix.T).max() == 0.0
    assert matrix.nnz == (2 * dim + 1) * n**dim - 2 * dim * n ** (dim - 1)  # 2 d + 1 diagonals


def test_the_scheme_is_second_order_on_a_nonuniform_grid_with_a_jump():
    """Step potential, nodes on the jump, unequal spacings on the two sides: error ratio 4 per halving."""

    def step(points):
        return np.where(points[:, 0] < 0.3137, 0.0, 37.0)

    grids = [tensor_grid(((0.0, 1.0),), ((0.3137,),), 50)]
    for _ in range(3):
        grids.append(grids[-1].bisected())  # h / 2 on each piece: an exact halving sequence
    energies = [np.linalg.eigvalsh(hamiltonian(step, grid)[0].toarray())[0] for grid in grids]
    ratios = [(a - b) / (b - c) for a, b, c in zip(energies, energies[1:], energies[2:])]
    np.testing.assert_allclose(ratios, 4.0, rtol=0.02)


def test_dual_cell_averages_are_exact_for_a_linear_potential_and_add_up_for_a_separable_one():
    grid = tensor_grid(((0.0, 1.0), (-1.0, 2.0)), ((0.5,), ()), 10)  # uniform: symmetric dual cells
    x, y = (axis.nodes[1:-1] for axis in grid.axes)
    np.testing.assert_allclose(
        dual_cell_potential(lambda p: p[:, 0], grid), np.outer(x, np.ones_like(y)), rtol=1e-14
    )
    # V = f(x) + g(y): the cell average is the sum of the two axes' cell averages.
    both = dual_cell_potential(lambda p: p[:, 0] ** 3 + np.cos(p[:, 1]), grid)
    only_x = dual_cell_potential(lambda p: p[:, 0] ** 3, grid)
    only_y = dual_cell_potential(lambda p: np.cos(p[:, 1]), grid)
    np.testing.assert_allclose(both, only_x + only_y, rtol=1e-14, atol=1e-14)


def test_averaging_in_slabs_changes_nothing(monkeypatch):
    grid = tensor_grid(((0.0, 1.0),) * 3, ((0.5,),) * 3, 9)

    def potential(points):
        return np.exp(points[:, 0] * points[:, 1]) + points[:, 2] ** 2

    whole = dual_cell_potential(potential, grid)
    monkeypatch.setattr(finite_volume, "POTENTIAL_CHUNK", 7)  # slabs of one row
    np.testing.assert_array_equal(dual_cell_potential(potential, grid), whole)


def test_scaled_eigenvectors_are_nodal_values_of_the_generalized_problem():
    """``scale * v`` solves ``K psi = E W psi``: the nodal values of the smooth state, to O(h^2)."""
    n = 199
    grid = tensor_grid(((0.0, np.pi),), ((),), n + 1)
    matrix, scale, _ = hamiltonian(free, grid)
    _, vectors = np.linalg.eigh(matrix.toarray())
    psi = scale * vectors[:, 0]
    psi *= np.sign(psi[0])
    x = grid.axes[0].nodes[1:-1]
    exact = np.sin(x) * np.sqrt(2 / np.pi)
    h = np.pi / (n + 1)
    np.testing.assert_allclose(psi, exact, atol=h**2)

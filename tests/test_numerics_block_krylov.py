"""numerics.block_krylov: block shift-invert Krylov, the lowest eigenpairs of a non-symmetric operator."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from qbench.numerics.block_krylov import block_size, lowest_eigenpairs
from qbench.numerics.chebyshev import axis_collocation
from qbench.numerics.fast_diagonalization import FastDiagonalization
from qbench.numerics.tensor import kronecker_sum, tensor_points


def test_it_matches_a_dense_eig_on_a_coupled_collocation_operator():
    """V = x^2 + y^2 + 0.6 x y (not separable) on a 2D Chebyshev grid: the preconditioner is approximate."""
    axes = [axis_collocation((-5.0, 5.0), (), 24)] * 2
    points = tensor_points([axis.nodes[axis.interior] for axis in axes])
    v = points[:, 0] ** 2 + points[:, 1] ** 2 + 0.6 * points[:, 0] * points[:, 1]
    potential = v.reshape(22, 22)
    dense = kronecker_sum([axis.operator for axis in axes]) + np.diag(v)
    fast = FastDiagonalization([axis.operator for axis in axes], potential)
    sigma = float(v.min()) - 1.0
    fast.set_shift(sigma)
    n_states = 4
    start = fast.lowest_eigenvectors(block_size(n_states, v.size))
    values, vectors, counters = lowest_eigenpairs(lambda x: dense @ x, start, sigma, fast.solve, n_states)
    exact = np.sort(scipy.linalg.eigvals(dense).real)[:n_states]
    np.testing.assert_allclose(values.real, exact, rtol=1e-10)
    assert counters["shift_invert_solves"] > 0 and counters["max_rel_residual"] <= 1e-10
    assert "warning" not in counters
    residual = dense @ vectors - vectors * values
    assert np.max(np.linalg.norm(residual, axis=0) / np.linalg.norm(vectors, axis=0)) < 1e-8


def test_the_block_leaves_room_for_the_krylov_space():
    assert block_size(3, 10_000) == 7  # n_states + 4 extra
    assert block_size(3, 20) == 5  # capped so that 4 blocks fit in the space

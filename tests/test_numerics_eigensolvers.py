"""numerics.eigensolvers: ARPACK shift-invert and AMG-LOBPCG, lowest eigenpairs of a sparse Hamiltonian."""

from __future__ import annotations

import numpy as np
import pytest

from qbench.numerics.eigensolvers import AUTO_EIGSH_MAX, choose, lowest_eigsh, lowest_lobpcg
from qbench.numerics.finite_volume import hamiltonian
from qbench.numerics.grids import tensor_grid


def well(points):
    return np.where(np.all(np.abs(points) < 1.0, axis=1), -10.0, 0.0)


@pytest.fixture(scope="module")
def square():
    """A 2D well on a 30 x 30 grid and its dense spectrum."""
    matrix, _, v_min = hamiltonian(well, tensor_grid(((-3.0, 3.0),) * 2, ((-1.0, 1.0),) * 2, 31))
    return matrix, v_min, np.linalg.eigh(matrix.toarray())


@pytest.mark.parametrize("method", [lowest_eigsh, lowest_lobpcg])
def test_the_lowest_eigenpairs_match_a_dense_solve(square, method):
    matrix, v_min, (values, vectors) = square
    n_states = 5  # ends on a degenerate pair's boundary of the square: states 1 and 2 share a level
    pairs = method(matrix, n_states, v_min)
    assert pairs.converged and pairs.iterations > 0
    np.testing.assert_allclose(pairs.energies, values[:n_states], rtol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(pairs.vectors, axis=0), 1.0, rtol=1e-12)
    # Each computed level's vectors span the dense solve's eigenspace of that level.
    overlap = vectors[:, :n_states].T @ pairs.vectors
    np.testing.assert_allclose(np.linalg.svd(overlap, compute_uv=False), 1.0, atol=1e-6)


def test_lobpcg_checks_its_residuals_itself(square):
    matrix, v_min, _ = square
    pairs = lowest_lobpcg(matrix, 3, v_min)
    residuals = np.linalg.norm(matrix @ pairs.vectors - pairs.vectors * pairs.energies, axis=0)
    np.testing.assert_allclose(pairs.residual_norms, residuals, rtol=1e-6, atol=1e-12)


def test_auto_chooses_eigsh_in_1d_and_on_small_grids():
    assert AUTO_EIGSH_MAX[1] is None
    assert choose("auto", 1, 10**8) == "eigsh"
    for dim in (2, 3, 4):
        assert choose("auto", dim, AUTO_EIGSH_MAX[dim]) == "eigsh"
        assert choose("auto", dim, AUTO_EIGSH_MAX[dim] + 1) == "lobpcg"
    assert choose("lobpcg", 1, 10) == "lobpcg"

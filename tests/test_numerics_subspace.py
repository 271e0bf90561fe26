"""numerics.subspace: orthonormal and real bases, inverse-iteration refinement, Rayleigh-Ritz."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from qbench.numerics.subspace import (
    inverse_iteration,
    orthonormalize,
    rayleigh_ritz,
    real_basis,
    real_vectors,
)


def test_orthonormalize_drops_duplicates_and_what_is_in_against():
    rng = np.random.default_rng(0)
    against = orthonormalize(rng.standard_normal((50, 3)))
    vectors = rng.standard_normal((50, 4))
    vectors = np.hstack([vectors, vectors[:, :2] @ [[1.0], [2.0]], against[:, :1]])  # 2 redundant columns
    q = orthonormalize(vectors, against)
    assert q.shape == (50, 4)
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-14)
    np.testing.assert_allclose(against.T @ q, 0.0, atol=1e-14)


def test_real_vectors_and_real_basis_undo_an_arbitrary_complex_phase():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((20, 2))
    phased = real * np.exp(1j * np.array([0.7, -2.1]))
    back = real_vectors(phased)
    np.testing.assert_allclose(np.abs(back), np.abs(real), atol=1e-14)
    np.testing.assert_allclose(back.imag if np.iscomplexobj(back) else 0.0, 0.0)
    # A complex pair (a degenerate level split by rounding) spans two real states: both are kept.
    pair = (real[:, 0] + 1j * real[:, 1])[:, None]
    basis = real_basis(pair)
    assert basis.shape == (20, 2)
    residual = real - basis @ np.linalg.lstsq(basis, real, rcond=None)[0]
    np.testing.assert_allclose(residual, 0.0, atol=1e-13)


def test_one_step_of_inverse_iteration_removes_noise_from_an_eigenvector():
    rng = np.random.default_rng(2)
    matrix = np.diag(np.arange(1.0, 41.0)) + 1e-3 * rng.standard_normal((40, 40))  # non-symmetric
    values, vectors = scipy.linalg.eig(matrix)
    k = int(np.argmin(values.real))
    exact = real_vectors(vectors[:, [k]])[:, 0]
    noisy = exact + 1e-6 * rng.standard_normal(40)
    refined = inverse_iteration(matrix, values[[k]].real, noisy[:, None])[:, 0]
    refined *= np.sign(refined @ exact)
    assert np.linalg.norm(refined - exact / np.linalg.norm(exact)) < 1e-12


def test_rayleigh_ritz_solves_the_projected_problem_on_a_redundant_basis():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 6))
    stiffness, mass = a @ a.T + np.eye(6), np.diag(rng.uniform(1.0, 2.0, 6))
    expected = scipy.linalg.eigh(stiffness, mass, eigvals_only=True)[:3]
    # The same basis with a duplicated column (mass and stiffness rows and columns repeated).
    t = np.hstack([np.eye(6), np.eye(6)[:, :1]])
    values, vectors = rayleigh_ritz(t.T @ stiffness @ t, t.T @ mass @ t, 3)
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    np.testing.assert_allclose(vectors.T @ (t.T @ mass @ t) @ vectors, np.eye(3), atol=1e-12)

"""The sine DVR (qbench.numerics.dvr) and the plain-numpy tensor trains (qbench.numerics.tensor_train)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import scipy.linalg

from qbench.numerics.dvr import SineDVR
from qbench.numerics.tensor_train import (
    ProductTerm,
    add_mps,
    evaluate_mps,
    max_ranks,
    normalize_mps,
    random_mps,
    schmidt_values,
    sum_of_products_mpo,
    truncate_mps,
)


# -- sine DVR ----------------------------------------------------------------------------------------
def test_the_kinetic_matrix_gives_the_infinite_well_levels_exactly():
    dvr = SineDVR(-0.3, 1.7, 20)
    levels = scipy.linalg.eigh(dvr.kinetic(), eigvals_only=True)
    exact = (np.arange(1, 21) * math.pi / 2.0) ** 2
    np.testing.assert_allclose(levels, exact, rtol=1e-12)


def test_the_transform_is_symmetric_and_orthogonal():
    s = SineDVR(0.0, 1.0, 17).transform()
    np.testing.assert_allclose(s, s.T, atol=0)
    np.testing.assert_allclose(s @ s, np.eye(17), atol=1e-13)


@pytest.mark.parametrize("potential", ["dvr", "galerkin"])
def test_the_1d_oscillator_converges_spectrally(potential):
    """-d2/dx2 + x^2 on [-8, 8]: E_k = 2k + 1; the error falls by orders of magnitude per few points."""

    def errors(n: int) -> np.ndarray:
        dvr = SineDVR(-8.0, 8.0, n)
        v = np.diag(dvr.points**2) if potential == "dvr" else dvr.galerkin(np.square)
        levels = scipy.linalg.eigh(dvr.kinetic() + v, eigvals_only=True)[:3]
        return np.abs(levels - [1.0, 3.0, 5.0]) / [1.0, 3.0, 5.0]

    coarse, fine = errors(16), errors(32)
    assert np.all(coarse > 1e-7) and np.all(fine < 1e-11), (coarse, fine)


def test_the_basis_functions_are_orthonormal_and_cardinal():
    dvr = SineDVR(-1.0, 2.0, 12)
    # Gauss-Legendre integrates theta_i theta_j (trigonometric polynomials of degree 24) exactly.
    nodes, weights = np.polynomial.legendre.leggauss(64)
    x = 0.5 + 1.5 * nodes
    theta = dvr.basis(x)
    gram = theta.T @ (theta * (1.5 * weights)[:, None])
    np.testing.assert_allclose(gram, np.eye(12), atol=1e-13)
    np.testing.assert_allclose(dvr.basis(dvr.points), np.eye(12) / math.sqrt(dvr.weight), atol=1e-12)
    assert np.all(dvr.basis(np.array([-1.5, 2.5])) == 0.0)


def test_the_second_derivatives_give_the_kinetic_matrix():
    dvr = SineDVR(0.0, 3.0, 10)
    nodes, weights = np.polynomial.legendre.leggauss(64)
    x = 1.5 + 1.5 * nodes
    theta, second = dvr.basis(x), dvr.basis_second_derivative(x)
    np.testing.assert_allclose(-theta.T @ (second * (1.5 * weights)[:, None]), dvr.kinetic(), atol=1e-11)


def test_galerkin_integrates_across_a_jump():
    dvr = SineDVR(0.0, 1.0, 8)
    step = dvr.galerkin(lambda x: np.where(x < 0.3, 1.0, 0.0), breakpoints=[0.3])
    nodes, weights = np.polynomial.legendre.leggauss(80)
    x = 0.15 + 0.15 * nodes  # [0, 0.3]
    theta = dvr.basis(x)
    np.testing.assert_allclose(step, theta.T @ (theta * (0.15 * weights)[:, None]), atol=1e-13)


def test_sine_dvr_refuses_bad_walls():
    with pytest.raises(ValueError, match="lo < hi"):
        SineDVR(1.0, 1.0, 4)


# -- MPOs --------------------------------------------------------------------------------------------
def _dense_mpo(cores: list[np.ndarray]) -> np.ndarray:
    full = cores[0][0]
    for core in cores[1:]:
        full = np.einsum("aUV,abuv->bUuVv", full, core)
        b, u1, u2, v1, v2 = full.shape
        full = full.reshape(b, u1 * u2, v1 * v2)
    return full[0]


def _kron_sum(ops: list[np.ndarray], term: ProductTerm) -> np.ndarray:
    return term.coefficient * functools.reduce(
        np.kron, [term.ops.get(k, np.eye(len(ops[k]))) for k in range(len(ops))]
    )


def test_the_mpo_of_a_sum_of_products_is_exact_and_compresses():
    rng = np.random.default_rng(3)
    sizes = [3, 4, 2, 3]

    def sym(n: int) -> np.ndarray:
        a = rng.standard_normal((n, n))
        return a + a.T

    terms = [ProductTerm(1.0, {k: sym(n)}) for k, n in enumerate(sizes)]
    terms += [
        ProductTerm(0.7, {0: sym(3), 2: sym(2)}),
        ProductTerm(-1.3, {1: sym(4), 3: sym(3)}),
        ProductTerm(0.2, {0: sym(3), 1: sym(4), 3: sym(3)}),
    ]
    exact = sum(_kron_sum([np.eye(n) for n in sizes], t) for t in terms)
    mpo = sum_of_products_mpo(sizes, terms)
    np.testing.assert_allclose(_dense_mpo(mpo.cores), exact, atol=1e-12)
    assert mpo.relative_error < 1e-12
    assert all(b <= r for b, r in zip(mpo.bond_dims, mpo.raw_bond_dims))


def test_a_quadratic_form_mpo_has_the_small_bond():
    """x^T A x + kinetic in d = 8: at most min(k, d - k) + 2 at cut k once compressed."""
    d, n = 8, 5
    rng = np.random.default_rng(0)
    a = rng.standard_normal((d, d))
    a = a @ a.T
    x = np.diag(np.linspace(-1, 1, n))
    terms = [ProductTerm(1.0, {k: np.eye(n) + a[k, k] * x @ x}) for k in range(d)]
    terms += [ProductTerm(2 * a[i, j], {i: x, j: x}) for i in range(d) for j in range(i + 1, d)]
    mpo = sum_of_products_mpo([n] * d, terms)
    assert max(mpo.raw_bond_dims) == 2 + 16
    assert all(b <= min(k, d - k) + 2 for k, b in enumerate(mpo.bond_dims, start=1)), mpo.bond_dims


def test_the_mpo_refuses_a_term_off_the_sites():
    with pytest.raises(ValueError, match="outside"):
        sum_of_products_mpo([2, 2], [ProductTerm(1.0, {2: np.eye(2)})])
    with pytest.raises(ValueError, match="at least 2 sites"):
        sum_of_products_mpo([2], [ProductTerm(1.0, {0: np.eye(2)})])


# -- MPS ---------------------------------------------------------------------------------------------
def _dense_mps(cores: list[np.ndarray]) -> np.ndarray:
    full = cores[0]
    for core in cores[1:]:
        full = np.tensordot(full, core, axes=([-1], [0]))
    return full.reshape(-1)


def test_random_mps_is_normalized_and_capped():
    sizes = [3, 4, 5]
    assert max_ranks(sizes) == [3, 5]
    cores = random_mps(sizes, [10, 10], np.random.default_rng(1))
    assert [c.shape[2] for c in cores[:-1]] == [3, 5]
    assert abs(np.linalg.norm(_dense_mps(cores)) - 1.0) < 1e-13


def test_schmidt_values_and_truncation():
    rng = np.random.default_rng(2)
    cores = random_mps([4, 4, 4], [4, 4], rng)
    psi = _dense_mps(cores)
    for cut, values in enumerate(schmidt_values(cores), start=1):
        expected = np.linalg.svd(psi.reshape(4**cut, -1), compute_uv=False)
        np.testing.assert_allclose(values, expected[: len(values)], atol=1e-13)
    cores = random_mps([4, 5], [4], rng)  # one cut: the truncation drops the smallest values
    expected = np.linalg.svd(_dense_mps(cores).reshape(4, 5), compute_uv=False)
    cutoff = float(expected[-1] ** 2 + expected[-2] ** 2) * 1.0001
    truncated, dropped = truncate_mps(cores, cutoff)
    assert truncated[0].shape[2] == 2
    assert dropped[0] == pytest.approx(expected[-1] ** 2 + expected[-2] ** 2, rel=1e-10)
    assert abs(np.linalg.norm(_dense_mps(truncated)) - 1.0) < 1e-13


def test_add_mps_is_the_sum():
    rng = np.random.default_rng(4)
    a, b = random_mps([3, 3, 3], [2, 2], rng), random_mps([3, 3, 3], [3, 3], rng)
    np.testing.assert_allclose(_dense_mps(add_mps([a, b])), _dense_mps(a) + _dense_mps(b), atol=1e-14)
    np.testing.assert_allclose(_dense_mps(normalize_mps([2.0 * c for c in a])), _dense_mps(a), atol=1e-14)


def test_evaluate_mps_contracts_the_bases_and_carries_the_laplacian():
    rng = np.random.default_rng(5)
    dvrs = [SineDVR(0.0, 1.0, 5), SineDVR(-1.0, 1.0, 6), SineDVR(0.0, 2.0, 4)]
    cores = random_mps([5, 6, 4], [3, 3], rng)
    points = np.column_stack([rng.uniform(d.lo, d.hi, 7) for d in dvrs])
    bases = [d.basis(points[:, a]) for a, d in enumerate(dvrs)]
    seconds = [d.basis_second_derivative(points[:, a]) for a, d in enumerate(dvrs)]
    values, lap = evaluate_mps(cores, bases, seconds)
    coefficients = _dense_mps(cores).reshape(5, 6, 4)
    np.testing.assert_allclose(values, np.einsum("ijk,ni,nj,nk->n", coefficients, *bases), atol=1e-13)
    expected = sum(
        np.einsum("ijk,ni,nj,nk->n", coefficients, *[seconds[a] if a == b else bases[a] for a in range(3)])
        for b in range(3)
    )
    np.testing.assert_allclose(lap, expected, rtol=1e-12, atol=1e-10)
    assert evaluate_mps(cores, bases)[1] is None

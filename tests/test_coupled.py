"""coupled_oscillator: the exact reference checked independently, the walls' bound, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg

import qbench
from qbench.numerics.hermite import hermite_functions, hermite_log_mgf
from qbench.problems.coupled import CoupledOscillator
from qbench.problems.rotations import haar_rotation


def _grid_levels(problem: CoupledOscillator, n_states: int, points: int) -> np.ndarray:
    """The lowest levels of a fine 2D second-order grid built here (not a suite solver),
    Richardson-extrapolated."""

    def levels(m: int) -> np.ndarray:
        lo, hi = problem.box[0]
        h = (hi - lo) / (m + 1)
        x = lo + h * np.arange(1, m + 1)
        lap = scipy.sparse.diags([np.ones(m - 1), -2 * np.ones(m), np.ones(m - 1)], [-1, 0, 1]) / h**2
        eye = scipy.sparse.identity(m)
        xx, yy = np.meshgrid(x, x, indexing="ij")
        v = problem.potential(np.stack([xx.ravel(), yy.ravel()], axis=1))
        h_matrix = -(scipy.sparse.kron(lap, eye) + scipy.sparse.kron(eye, lap)) + scipy.sparse.diags(v)
        values = scipy.sparse.linalg.eigsh(h_matrix.tocsc(), k=n_states, sigma=0.0, which="LM")[0]
        return np.sort(values)

    coarse, fine = levels(points), levels(2 * points + 1)  # h halves exactly
    return (4 * fine - coarse) / 3


@pytest.mark.slow
def test_levels_match_an_independent_fine_grid_in_2d():
    problem = qbench.problems.get(
        "coupled_oscillator", dim=2, frequencies=[0.8, 1.5], seed=3, box_half_width=6.5
    )
    grid = _grid_levels(problem, 4, 160)
    exact = problem.level_energies(4)
    assert np.max(np.abs(grid - exact) / exact) < 2e-5


def test_matrix_and_frequencies_give_the_same_spectrum():
    frequencies = np.array([0.7, 1.1, 1.9])
    q = haar_rotation(3, 5)
    by_modes = qbench.problems.get("coupled_oscillator", frequencies=list(frequencies), rotation=q.tolist())
    a = (q * frequencies**2) @ q.T
    by_matrix = qbench.problems.get("coupled_oscillator", matrix=a.tolist())
    np.testing.assert_allclose(by_matrix.level_energies(8), by_modes.level_energies(8), rtol=1e-13)
    # The second route finds the frequencies as the matrix's eigenvalues, a computation of its own.
    np.testing.assert_allclose(np.sort(by_matrix.frequencies), frequencies, rtol=1e-13)


def test_levels_are_sums_over_normal_modes_counted_by_brute_force():
    problem = qbench.problems.get("coupled_oscillator", dim=4, seed=2)
    omega = problem.frequencies
    grid = np.stack(np.meshgrid(*[np.arange(6)] * 4, indexing="ij"), axis=-1).reshape(-1, 4)
    brute = np.sort((grid * 2 + 1) @ omega)[:20]
    np.testing.assert_allclose(problem.level_energies(20), brute, rtol=1e-14)


def test_degenerate_levels_are_grouped():
    problem = qbench.problems.get("coupled_oscillator", dim=3, frequencies=[1.0, 1.0, 2.0])
    assert problem.degenerate_groups(6) == [(0,), (1, 2), (3, 4, 5)]
    with pytest.raises(ValueError, match="splits the degenerate level"):
        problem.check_states(2)


@pytest.mark.parametrize("dim", [2, 3])
def test_reference_states_are_orthonormal_eigenfunctions(dim):
    problem = qbench.problems.get("coupled_oscillator", dim=dim, seed=1)
    reference = problem.reference(4)
    nodes, weights = problem.quadrature_rule()
    psi = reference.wavefunctions(nodes)
    np.testing.assert_allclose((psi * weights) @ psi.T, np.eye(4), atol=1e-9)
    # H psi = E psi at random interior points, by fourth-order differences of the closed form.
    rng = np.random.default_rng(0)
    x = rng.normal(scale=0.7, size=(50, dim))
    h = 1e-3
    lap = np.zeros((4, len(x)))
    for axis in range(dim):
        e = np.zeros(dim)
        e[axis] = h
        f = [reference.wavefunctions(x + k * e) for k in (-2, -1, 0, 1, 2)]
        lap += (-f[0] + 16 * f[1] - 30 * f[2] + 16 * f[3] - f[4]) / (12 * h * h)
    residual = -lap + problem.potential(x)[None, :] * f[2] - reference.energies[:, None] * f[2]
    assert np.max(np.abs(residual)) < 1e-6


def test_sampled_rule_above_four_dimensions_integrates_the_states():
    problem = qbench.problems.get("coupled_oscillator", dim=10)
    nodes, weights = problem.quadrature_rule()
    psi = problem.reference(3).wavefunctions(nodes)
    gram = (psi * weights) @ psi.T
    # A statistical rule: its error is a few standard errors of 2^14 samples.
    np.testing.assert_allclose(gram, np.eye(3), atol=0.05)


def test_hermite_moment_generating_function():
    y = np.linspace(-25, 25, 200001)
    h = hermite_functions(5, y)
    for n in range(5):
        for s in (0.5, 2.0):
            numeric = np.sum(h[n] ** 2 * np.exp(s * y)) * (y[1] - y[0])
            assert abs(np.log(numeric) - hermite_log_mgf(n, s)) < 1e-10


@pytest.mark.slow
def test_box_bound_holds_against_the_true_shift_of_a_narrow_box():
    # In a box this narrow the walls move the levels visibly: the grid's levels must lie between
    # the free-space value and the stated bound above it.
    problem = CoupledOscillator.__new__(CoupledOscillator)
    wide = qbench.problems.get("coupled_oscillator", dim=2, frequencies=[0.8, 1.5], seed=3)
    problem.__dict__.update(wide.__dict__)
    problem.box_half_width = 3.0
    problem._box_bounds = {}  # the wide box's bounds do not hold here
    bound = problem.box_bound(3)
    grid = _grid_levels(problem, 3, 120)
    free = problem.level_energies(3)
    shift = (grid - free) / free
    assert np.all(shift > 0)
    assert np.all(shift <= bound)
    assert np.all(bound < 1e3 * shift)  # and not vacuous


@pytest.mark.parametrize(
    "params, match",
    [
        ({"rotation": [[1.0, 0.0], [0.0, 1.1]]}, "rotation must be orthogonal"),
        ({"matrix": [[1.0, 2.0], [2.0, 1.0]]}, "positive definite"),
        ({"matrix": [[1.0, 0.5], [0.4, 1.0]]}, "symmetric"),
        ({"dim": 17}, "dim must be <= 16"),
        ({"box_half_width": 3.0}, "box_half_width=3.0 is too small"),
        ({"frequencies": [1.0, -1.0]}, "frequencies"),
        ({"dim": 3, "frequencies": [1.0, 2.0]}, "disagrees"),
    ],
)
def test_bad_input_is_one_line_naming_the_parameter(params, match):
    with pytest.raises(ValueError, match=match) as error:
        qbench.problems.get("coupled_oscillator", **params)
    assert "\n" not in str(error.value)


def test_product_terms_sum_to_the_potential():
    problem = qbench.problems.get("coupled_oscillator", dim=5, seed=4)
    x = np.random.default_rng(1).uniform(-3, 3, size=(20, 5))
    total = np.zeros(len(x))
    for coefficient, factors in problem.product_terms():
        term = np.full(len(x), coefficient)
        for axis, f in factors.items():
            term = term * f(x[:, axis])
        total += term
    np.testing.assert_allclose(total, problem.potential(x), rtol=1e-12)


def test_rotation_is_seeded_and_orthogonal():
    q1, q2 = haar_rotation(8, 7), haar_rotation(8, 7)
    assert np.array_equal(q1, q2)
    np.testing.assert_allclose(q1.T @ q1, np.eye(8), atol=1e-13)
    assert not np.allclose(np.abs(q1), np.eye(8))
    assert scipy.linalg.norm(q1 - haar_rotation(8, 8)) > 0.1

"""numerics.enclosure: Rayleigh-Ritz upper and Lehmann-Maehly lower bounds of several levels at once.

H is a diagonal operator on a 300-dimensional space (its eigenvalues known exactly), so each bound
is checked against the exact level, never against another approximation.
"""

from __future__ import annotations

import numpy as np
import pytest

from qbench.numerics import enclosure

LEVELS = np.concatenate([[1.0, 2.5, 4.0, 9.0], np.linspace(12.0, 900.0, 296)])


def trial(states: list[int], noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A0, A1, A2 of the eigenvectors ``states``, each spoiled by noise weighted to high modes."""
    rng = np.random.default_rng(seed)
    u = np.zeros((len(LEVELS), len(states)))
    u[states, range(len(states))] = 1.0
    u += noise * rng.normal(size=u.shape) / np.sqrt(1.0 + np.arange(len(LEVELS)))[:, None]
    u /= np.linalg.norm(u, axis=0)
    hu = LEVELS[:, None] * u
    return u.T @ u, u.T @ hu, hu.T @ hu


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("noise", [1e-4, 1e-2, 1e-1])
def test_the_bounds_hold_the_exact_levels(seed, noise):
    a0, a1, a2 = trial([0, 1, 2], noise, seed)
    upper = enclosure.ritz_upper_bounds(a0, a1)
    assert np.all(upper >= LEVELS[:3])
    for shift in (4.5, 8.99, 9.0):  # three levels below each
        lower = enclosure.lehmann_lower_bounds(a0, a1, a2, shift)[::-1]
        assert np.all(lower <= LEVELS[:3] + 1e-12), (shift, lower)


def test_lehmann_is_tighter_than_kato_temple_for_the_lower_states():
    """The gap that divides eps^2 is sigma - lambda_k, not lambda_{k+1} - lambda_k."""
    a0, a1, a2 = trial([0, 1, 2], 1e-3)
    lower = enclosure.lehmann_lower_bounds(a0, a1, a2, 8.9)[::-1]
    rho = np.diag(a1)
    eps2 = np.diag(a2) - rho**2
    for k in (0, 1):
        temple = rho[k] - eps2[k] / (LEVELS[k + 1] - rho[k])  # with the exact neighbour as gap end
        assert LEVELS[k] - lower[k] < 0.5 * (LEVELS[k] - temple)
    upper = enclosure.ritz_upper_bounds(a0, a1)
    assert np.all(upper - LEVELS[:3] <= 2 * (rho - LEVELS[:3]) + 1e-15)


def test_stated_errors_widen_the_bounds_to_hold_every_matrix_within_them():
    a0, a1, a2 = trial([0, 1, 2], 1e-2)
    rng = np.random.default_rng(7)
    errors = (1e-6, 1e-4, 1e-2)
    lower = enclosure.lehmann_lower_bounds(a0, a1, a2, 8.5, errors)
    upper = enclosure.ritz_upper_bounds(a0, a1, errors[0], errors[1])
    for _ in range(20):
        spoiled = []
        for matrix, error in zip((a0, a1, a2), errors):
            delta = rng.normal(size=matrix.shape)
            delta = delta + delta.T
            spoiled.append(matrix + error * delta / np.linalg.norm(delta, 2))
        # Bounds computed from spoiled matrices with the same stated errors still hold.
        assert np.all(enclosure.lehmann_lower_bounds(*spoiled, 8.5, errors)[::-1] <= LEVELS[:3])
        assert np.all(enclosure.ritz_upper_bounds(spoiled[0], spoiled[1], *errors[:2]) >= LEVELS[:3])
    assert np.all(lower <= enclosure.lehmann_lower_bounds(a0, a1, a2, 8.5)), "errors must widen"
    assert np.all(upper >= enclosure.ritz_upper_bounds(a0, a1))


def test_a_trial_space_that_misses_a_level_bounds_levels_by_index_not_by_state():
    """States 0 and 2 only: the second Ritz value bounds lambda_1 (not lambda_2) from above, and
    Lehmann with two levels below the shift gives no lower bound the missing level would break."""
    a0, a1, a2 = trial([0, 2], 1e-3)
    upper = enclosure.ritz_upper_bounds(a0, a1)
    assert upper[1] >= LEVELS[1] and upper[1] > LEVELS[2] - 1e-3
    lower = enclosure.lehmann_lower_bounds(a0, a1, a2, 3.0)[::-1]  # lambda_0, lambda_1 below 3
    assert np.all(lower <= LEVELS[:2])


def test_a_gram_matrix_that_is_not_positive_definite_is_refused():
    a0, a1, a2 = trial([0, 1], 1e-3)
    with pytest.raises(ValueError, match="positive definite"):
        enclosure.ritz_upper_bounds(np.ones((2, 2)), a1)
    assert np.all(np.isinf(enclosure.lehmann_lower_bounds(a0, a1, a2, 3.0, (0.0, 0.0, 1e9))))

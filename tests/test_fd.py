"""Finite differences: convergence order, orthonormality, determinism, validation."""

from __future__ import annotations

import numpy as np
import pytest

import qbench
from qbench.metrics import rel_energy_error
from qbench.quadrature import domain_rule


def ground_state_error(problem, n_points, order=2):
    solution = qbench.solvers.get("fd", n_points=n_points, order=order).solve(problem, 1)
    return rel_energy_error(solution.energies, problem.reference(1).energies)[0]


def test_second_order_halves_error_by_four(any_problem):
    """Doubling N cuts the error by ~4, for every placement of the jumps."""
    ratio = ground_state_error(any_problem, 200) / ground_state_error(any_problem, 400)
    assert 3.0 < ratio < 5.0


def test_fourth_order_on_infinite_well():
    problem = qbench.problems.InfiniteWell()
    ratio = ground_state_error(problem, 40, order=4) / ground_state_error(problem, 80, order=4)
    assert 12.0 < ratio < 20.0


def test_fourth_order_beats_second_order_on_jumps(any_problem):
    assert ground_state_error(any_problem, 400, order=4) < 1e-2 * ground_state_error(any_problem, 400)


@pytest.mark.parametrize("order", [2, 4])
def test_states_are_orthonormal_and_accurate(any_problem, order):
    n_states = 3
    solution = qbench.solvers.get("fd", n_points=600, order=order).solve(any_problem, n_states)
    nodes, weights = domain_rule(any_problem.domain, any_problem.breakpoints)
    psi = solution.wavefunctions(nodes)
    gram = (psi * weights) @ psi.T
    np.testing.assert_allclose(gram, np.eye(n_states), atol=1e-4)
    assert np.allclose(np.diag(gram), 1.0, atol=1e-12)  # each state is normalized exactly
    reference = any_problem.reference(n_states)
    assert np.all(rel_energy_error(solution.energies, reference.energies) < 1e-3)
    assert solution.status == "ok"
    assert solution.info["matrix_size"][0] == 600


def test_wavefunctions_vanish_outside_and_at_walls(canonical):
    solution = qbench.solvers.get("fd", n_points=200).solve(canonical, 2)
    x0, x1 = canonical.domain
    values = solution.wavefunctions(np.array([x0 - 1.0, x0, x1, x1 + 1.0]))
    assert values.shape == (2, 4)
    np.testing.assert_array_equal(values[:, [0, 3]], 0.0)
    np.testing.assert_allclose(values[:, [1, 2]], 0.0, atol=1e-14)


def test_same_input_gives_bit_identical_output():
    problem = qbench.problems.FiniteWell()
    first = qbench.solvers.get("fd", n_points=300).solve(problem, 3)
    second = qbench.solvers.get("fd", n_points=300).solve(problem, 3)
    np.testing.assert_array_equal(first.energies, second.energies)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"n_points": 4}, "n_points must be >= 5"),
        ({"n_points": 100.5}, "n_points must be an integer"),
        ({"n_points": True}, "n_points must be an integer"),
        ({"order": 3}, "order must be one of 2, 4"),
        ({"n_pts": 100}, "unknown option.*n_pts.*allowed: n_points, order"),
    ],
)
def test_bad_options_raise_at_construction(options, match):
    with pytest.raises(ValueError, match=match):
        qbench.solvers.get("fd", **options)


def test_too_few_points_for_the_states():
    solver = qbench.solvers.get("fd", n_points=10)
    with pytest.raises(ValueError, match="n_points must be >= 20 for 5 state"):
        solver.solve(qbench.problems.InfiniteWell(), 5)

"""Training rules, the fine rule and the empty box's levels (qbench.solvers.neural.rules), d = 1-4."""

from __future__ import annotations

import math

import numpy as np
import pytest

import qbench
from qbench.solvers.neural import rules


def wells(d: int):
    """The finite well (box [-3, 3], jumps at +-1) in every axis of a d-dimensional box."""
    return (
        qbench.problems.get("finite_well")
        if d == 1
        else qbench.problems.get("separable", parts=["finite_well"] * d)
    )


@pytest.mark.parametrize("d", [1, 2])
def test_gauss_rules_end_their_panels_at_the_breakpoints(d):
    problem = wells(d)
    points, weights, kind = rules.training_rule(problem, "gauss", 600, True, 0, None)
    assert kind == ("gauss-panels" if d == 1 else "gauss-tensor")
    assert points.shape[1] == d and weights.sum() == pytest.approx(6.0**d)
    for axis, cuts in enumerate(problem.axis_breakpoints):
        assert cuts and not np.any(np.isclose(points[:, axis][:, None], np.array(cuts)[None, :]))
    # Integrates a polynomial with a kink at each breakpoint exactly (panels end there).
    kinked = np.prod(np.abs(points**2 - 1.0), axis=1)
    assert kinked @ weights == pytest.approx((44.0 / 3.0) ** d, rel=1e-12)


@pytest.mark.parametrize("d", [1, 2])
def test_uniform_and_random_rules(d):
    problem = wells(d)
    grid, w, kind = rules.training_rule(problem, "uniform", 400, True, 0, None)
    assert kind == "uniform-grid" and grid.shape == (400, d) and np.ptp(w) == 0
    assert np.all(np.abs(grid) < 3.0)  # interior: psi = 0 on the walls
    rng = np.random.default_rng(0)
    random, w, kind = rules.training_rule(problem, "random", 100, True, 0, rng)
    again, _, _ = rules.training_rule(problem, "random", 100, True, 0, np.random.default_rng(0))
    assert kind == "random" and random.shape == (100, d) and w.sum() == pytest.approx(6.0**d)
    assert np.array_equal(random, again) and np.all(np.diff(random[:, 0]) >= 0)


@pytest.mark.parametrize("d", [3, 4])
def test_three_and_more_dimensions_train_on_seeded_sobol_points(d):
    problem = qbench.problems.get("separable", parts=["infinite_well"] * d)
    points, weights, kind = rules.training_rule(problem, "gauss", 256, True, 0, np.random.default_rng(0))
    again, _, _ = rules.training_rule(problem, "gauss", 256, True, 0, np.random.default_rng(1))
    other, _, _ = rules.training_rule(problem, "gauss", 256, True, 1, np.random.default_rng(0))
    assert kind == "sobol" and points.shape == (256, d) and weights.sum() == pytest.approx(1.0)
    assert np.array_equal(points, again) and not np.array_equal(points, other)  # seeded by the seed


def test_a_curved_interface_trains_on_the_problems_own_rule():
    problem = qbench.problems.get("circular_well")
    points, _, kind = rules.training_rule(problem, "gauss", 400, True, 0, None)
    assert kind == "problem-rule"
    expected, _ = problem.quadrature_rule(400)
    assert np.array_equal(points, expected)


@pytest.mark.slow  # about a second: the fast set stays under a minute
def test_the_fine_rule_is_the_grading_rule_capped_in_four_dimensions():
    square = qbench.problems.get("separable", parts=["infinite_well"] * 2)
    points, weights = rules.fine_rule(square)
    assert np.array_equal(points, square.quadrature_rule()[0])
    box4 = qbench.problems.get("separable", parts=["infinite_well"] * 4)
    points, weights = rules.fine_rule(box4)
    assert len(weights) <= rules.FINE_POINTS_MAX < len(box4.quadrature_rule()[1])
    assert points.shape[1] == 4 and weights.sum() == pytest.approx(1.0)


def test_box_levels_are_sorted_sums_of_axis_levels():
    assert rules.box_level([(0.0, 2.0)], 2) == (3 * math.pi / 2.0) ** 2
    levels = [rules.box_level([(0.0, 1.0), (0.0, 1.0)], k) / math.pi**2 for k in range(4)]
    assert levels == pytest.approx([2.0, 5.0, 5.0, 8.0])
    assert rules.box_level([(0.0, 1.0), (0.0, 2.0), (0.0, 3.0)], 0) == pytest.approx(
        math.pi**2 * (1 + 1 / 4 + 1 / 9)
    )

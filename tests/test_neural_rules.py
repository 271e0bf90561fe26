"""Training rules, the fine rule and the empty box's levels (qbench.solvers.neural.rules), d = 1-4."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

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


def test_auto_sampling_is_gauss_in_one_dimension_and_adaptive_above():
    from qbench.solvers.neural.base import resolve_sampling

    assert resolve_sampling("auto", 1) == "gauss"
    assert [resolve_sampling("auto", d) for d in (2, 3, 6)] == ["adaptive"] * 3
    assert resolve_sampling("random", 3) == "random" and resolve_sampling("gauss", 2) == "gauss"


@pytest.mark.parametrize("name", ["pinn", "nn-galerkin"])
def test_auto_in_one_dimension_is_the_gauss_rule_bit_for_bit(name):
    problem = qbench.problems.get("finite_well")
    tiny = {
        "pinn": dict(n_points=64, width=6, warm_steps=10, warm_lbfgs_iterations=5, lbfgs_iterations=5),
        "nn-galerkin": dict(n_points=64, width=6, adam_steps=20),
    }[name]
    auto = qbench.solvers.get(name, **tiny).solve(problem, 1)
    gauss = qbench.solvers.get(name, sampling="gauss", **tiny).solve(problem, 1)
    assert auto.energies.tobytes() == gauss.energies.tobytes()
    assert auto.info["collocation"] == "gauss-panels"


def test_the_adaptive_rule_follows_each_function_normalized_on_its_own():
    # Two bumps of very different norms: each counts equally, so the fitted mean lies midway.
    box = ((-8.0, 8.0), (-8.0, 8.0))
    problem = qbench.problems.get("harmonic_oscillator", dim=2)
    adaptive = rules.AdaptiveRule(problem)
    assert np.allclose(adaptive.proposal.scales, 4.0)  # the box's first guess: L / 4
    points, weights, kind = adaptive.draw(4096, seed=0)
    assert kind == "adaptive" and np.all(np.abs(points) <= 8.0)
    x, w = torch.as_tensor(points), torch.as_tensor(weights)
    left = 1e3 * torch.exp(-((x[:, 0] + 2.0) ** 2 + x[:, 1] ** 2) / 2)
    right = 1e-3 * torch.exp(-((x[:, 0] - 2.0) ** 2 + x[:, 1] ** 2) / 2)
    adaptive.refit(x, w, torch.stack([left, right]))
    assert adaptive.proposal.mean == pytest.approx([0.0, 0.0], abs=0.1)
    # x-variance of the equal mixture: 1/2 (each bump, psi^2 has variance 1/2) + 4 (the offsets).
    widest = max(adaptive.proposal.scales)
    assert widest < (box[0][1] - box[0][0]) / 4 and widest == pytest.approx(1.5 * math.sqrt(4.5), rel=0.05)
    # No functions: the proposal is kept.
    before = adaptive.proposal
    adaptive.refit(x, w, x.new_zeros((0, len(x))))
    assert adaptive.proposal is before


@pytest.mark.parametrize("name", ["pinn", "nn-galerkin"])
def test_an_adaptive_training_ends_with_points_where_its_state_lives(name):
    # The 2D oscillator's ground state: psi^2 = exp(-|x|^2) / pi, variance 1/2 per axis, centred.
    problem = qbench.problems.get("harmonic_oscillator", dim=2)
    options = {
        "pinn": dict(n_points=256, width=8, warm_steps=300, learning_rate=3e-2, warm_lbfgs_iterations=0,
                     lbfgs_iterations=50, envelope_decay=8.0),
        "nn-galerkin": dict(n_points=256, width=8, adam_steps=300, learning_rate=3e-2, envelope_decay=8.0),
    }[name]  # fmt: skip
    solution = qbench.solvers.get(name, **options).solve(problem, 1)
    info = solution.info
    assert info["collocation"].startswith("adaptive") and info["training_point_sets"] > 100
    assert solution.energies[0] == pytest.approx(2.0, rel=0.05)
    # The last proposal was refitted to the trained state: its widths are about 1.5 x 0.71,
    # not the box's first guess of 4, and it is centred.
    assert info["adaptive_proposal"]["scales"] == pytest.approx([1.5 * math.sqrt(0.5)] * 2, rel=0.15)
    assert info["adaptive_proposal"]["mean"] == pytest.approx([0.0, 0.0], abs=0.15)


def test_learning_rate_decay_shrinks_adams_steps_exponentially():
    from qbench.solvers.neural.training import train

    # A linear objective has a constant gradient, on which each Adam step is the learning rate.
    for decay in (1.0, 0.01):
        p = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

        def linear(p=p):
            return p * 1.0, p.detach()

        train([p], linear, adam_steps=50, learning_rate=0.1,
              lbfgs_iterations=0, log_every=10, time_limit_s=0.0, learning_rate_decay=decay)  # fmt: skip
        expected = -sum(0.1 * decay ** (k / 50) for k in range(50))
        assert float(p) == pytest.approx(expected, rel=1e-6)


def test_the_floor_test_on_drawn_points_is_statistical():
    from qbench.solvers.neural.training import below_floor

    rng = np.random.default_rng(0)
    noisy_at_the_floor = list(1.0 + 0.05 * rng.standard_normal(50))
    assert not below_floor(noisy_at_the_floor, 1.0)  # a converged state whose bound is E0 itself
    assert below_floor(list(0.9 + 0.05 * rng.standard_normal(50)), 1.0)  # two standard deviations low
    assert not below_floor([0.99] * 49 + [1.5], 1.0)  # a mean below, but within its spread

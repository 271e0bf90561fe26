"""The defensive Gaussian-mixture rules: unbiased integrals over the box, bounded weights, moment fits."""

from __future__ import annotations

import numpy as np
import pytest

from qbench.numerics.importance import (
    INFLATION,
    GaussianProposal,
    box_proposal,
    fit_proposal,
    mixture_rule,
)
from qbench.numerics.quadrature import gaussian_rule
from qbench.problems.rotations import haar_rotation

BOX3 = [(-8.0, 8.0), (-6.0, 8.0), (-8.0, 5.0)]


def _gaussian(x: np.ndarray, centre: np.ndarray, width: float) -> np.ndarray:
    return np.exp(-np.sum((x - centre) ** 2, axis=1) / width**2)


def test_mixture_rule_integrates_a_narrow_bump_and_a_constant_over_the_box():
    # Exact: the bump's integral (it lies far inside the box) is (pi w^2)^(3/2); the box's volume.
    centre, width = np.array([0.5, 1.0, -0.5]), 0.8
    proposal = GaussianProposal(centre, np.full(3, 1.2 * width), np.eye(3))
    points, weights = mixture_rule(BOX3, proposal, 8192, seed=3)
    bump = weights @ _gaussian(points, centre, width)
    assert bump == pytest.approx((np.pi * width**2) ** 1.5, rel=2e-3)
    volume = np.prod([hi - lo for lo, hi in BOX3])
    assert weights.sum() == pytest.approx(volume, rel=0.05)
    inside = np.all((points >= [lo for lo, _ in BOX3]) & (points <= [hi for _, hi in BOX3]), axis=1)
    assert inside.all()


def test_mixture_rule_weights_are_bounded_by_the_uniform_share():
    # A proposal far too narrow and off-centre: the uniform share still caps every weight.
    proposal = GaussianProposal(np.array([5.0, 5.0, 3.0]), np.full(3, 0.05), np.eye(3))
    _, weights = mixture_rule(BOX3, proposal, 1000, seed=0, uniform_fraction=0.2)
    volume = np.prod([hi - lo for lo, hi in BOX3])
    assert weights.max() <= volume / 200 * (1 + 1e-12)
    # ... and the integral of a bump at the centre, which the Gaussian misses, is still unbiased
    # (averaged over scramblings: its spread is large, its mean is right).
    estimates = [
        w @ _gaussian(x, np.zeros(3), 1.5)
        for x, w in (mixture_rule(BOX3, proposal, 1000, seed=s, uniform_fraction=0.2) for s in range(40))
    ]
    exact = (np.pi * 1.5**2) ** 1.5
    assert np.mean(estimates) == pytest.approx(exact, rel=4 * np.std(estimates) / np.sqrt(40) / exact)


def test_mixture_rule_is_seeded():
    proposal = box_proposal(BOX3)
    a = mixture_rule(BOX3, proposal, 500, seed=7)
    b = mixture_rule(BOX3, proposal, 500, seed=7)
    c = mixture_rule(BOX3, proposal, 500, seed=8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_fit_proposal_recovers_a_rotated_gaussians_moments_times_the_inflation():
    rotation = haar_rotation(3, 2)
    sigmas = np.array([0.5, 0.9, 1.4])
    centre = np.array([0.3, -0.2, 0.4])
    points, weights = mixture_rule(BOX3, box_proposal(BOX3), 2**15, seed=1)
    z = ((points - centre) @ rotation) / sigmas
    density = np.exp(-0.5 * np.sum(z * z, axis=1))
    fitted = fit_proposal(BOX3, points, weights, density)
    assert fitted.mean == pytest.approx(centre, abs=0.03)
    covariance = fitted.rotation @ np.diag(fitted.scales**2) @ fitted.rotation.T
    exact = INFLATION**2 * rotation @ np.diag(sigmas**2) @ rotation.T
    assert np.abs(covariance - exact).max() < 0.03 * INFLATION**2 * sigmas.max() ** 2


def test_fit_proposal_falls_back_to_the_box_for_a_zero_or_nan_density():
    points, weights = mixture_rule(BOX3, box_proposal(BOX3), 256, seed=0)
    for density in (np.zeros(len(weights)), np.full(len(weights), np.nan)):
        fitted = fit_proposal(BOX3, points, weights, density)
        assert np.array_equal(fitted.mean, box_proposal(BOX3).mean)
        assert np.array_equal(fitted.scales, box_proposal(BOX3).scales)


def test_fit_proposal_keeps_scales_within_the_box_limits():
    points, weights = mixture_rule(BOX3, box_proposal(BOX3), 512, seed=0)
    spike = np.zeros(len(weights))
    spike[np.argmax(weights)] = 1.0  # all mass at one point: zero covariance
    fitted = fit_proposal(BOX3, points, weights, spike)
    assert fitted.scales.min() == pytest.approx(13.0 / 256)


def test_gaussian_rule_is_unchanged_by_sharing_the_node_generator():
    # gaussian_rule (the problems' sampled rules) builds its nodes with gaussian_nodes; they must
    # be the nodes it built before: random_base2 Sobol' points from an int seed, by the quantile.
    from scipy.stats import norm, qmc

    scales, rotation = np.array([1.0, 2.0]), haar_rotation(2, 4)
    nodes, _ = gaussian_rule(scales, rotation, [(-9, 9), (-9, 9)], 64, seed=5)
    before = (norm.ppf(qmc.Sobol(d=2, scramble=True, seed=5).random_base2(6)) * scales) @ rotation.T
    assert np.array_equal(nodes, before)


def test_mixture_rule_refuses_a_share_outside_zero_one():
    with pytest.raises(ValueError, match="uniform_fraction"):
        mixture_rule(BOX3, box_proposal(BOX3), 100, seed=0, uniform_fraction=1.0)

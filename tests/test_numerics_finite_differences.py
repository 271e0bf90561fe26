"""numerics.finite_differences: fourth-order Laplacians that never cross a breakpoint, one-sided limits."""

from __future__ import annotations

import numpy as np
import pytest

from qbench.numerics import finite_differences as fd


def smooth(points: np.ndarray) -> np.ndarray:
    """Two states: sin(x) cos(2y) and exp(x + y / 2); Laplacians -5 psi_0 and 1.25 psi_1."""
    x, y = points[:, 0], points[:, 1]
    return np.stack([np.sin(x) * np.cos(2 * y), np.exp(x + 0.5 * y)])


BOX = ((0.0, 2.0), (-1.0, 1.0))
POINTS = np.random.default_rng(0).uniform([0.0, -1.0], [2.0, 1.0], (200, 2))


def exact_laplacian(points: np.ndarray) -> np.ndarray:
    values = smooth(points)
    return np.stack([-5.0 * values[0], 1.25 * values[1]])


def test_the_laplacian_converges_at_fourth_order_up_to_the_walls():
    errors = []
    for h in (4e-2, 2e-2, 1e-2):
        approx = fd.laplacian(smooth, POINTS, BOX, ((), ()), [h, h])
        errors.append(np.max(np.abs(approx - exact_laplacian(POINTS))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 3.5), orders


def test_no_stencil_crosses_a_breakpoint():
    """|x - 1| is linear on each side of x = 1: every stencil inside one piece sees psi'' = 0."""

    def kinked(points):
        return np.abs(points[:, 0] - 1.0)[None, :]

    points = np.array([[0.999], [1.001], [0.5], [1.6]])
    approx = fd.laplacian(kinked, points, ((0.0, 2.0),), ((1.0,),), [1e-2])
    np.testing.assert_allclose(approx, 0.0, atol=1e-9)
    crossing = fd.laplacian(kinked, points, ((0.0, 2.0),), ((),), [1e-2])
    assert np.abs(crossing[0, :2]).max() > 10.0  # without the breakpoint the kink shows


def test_several_step_sets_from_batched_calls_equal_one_call_each(monkeypatch):
    steps = [[1e-2, 2e-2], [2e-2, 4e-2], [3.7e-3, 7.4e-3]]
    separate = [fd.laplacian(smooth, POINTS, BOX, ((1.0,), ()), s) for s in steps]
    calls = []

    def counted(points):
        calls.append(len(points))
        return smooth(points)

    monkeypatch.setattr(fd, "BATCH_POINTS", 3000)
    together = fd.laplacians(counted, POINTS, BOX, ((1.0,), ()), steps)
    for a, b in zip(together, separate):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-12)
    # 200 points x 2 axes x 3 step sets x 5 or 6 stencil points, in batches of whole stencils.
    assert len(calls) > 1 and max(calls) <= 3000 + 6 * len(POINTS)
    assert sum(calls) >= 200 * 2 * 3 * 5


@pytest.mark.parametrize("step", [1e-3, 1e-2])
def test_one_sided_limits_are_exact_for_quintics_on_each_side(step):
    """A piecewise quintic with a jump in value and slope at x = 0.3: each side's limits exactly."""

    def piecewise(points):
        x = points[:, 0]
        below, above = 1 + x - 2 * x**5, 3 - 4 * x + x**3
        return np.where(x < 0.3, below, above)[None, :]

    ((value_below, value_above, slope_below, slope_above),) = fd.one_sided_limits(
        piecewise, np.array([[0.3]]), 0, [step]
    )
    x = 0.3
    np.testing.assert_allclose(value_below, 1 + x - 2 * x**5, rtol=1e-9)
    np.testing.assert_allclose(value_above, 3 - 4 * x + x**3, rtol=1e-9)
    np.testing.assert_allclose(slope_below, 1 - 10 * x**4, rtol=1e-7)
    np.testing.assert_allclose(slope_above, -4 + 3 * x**2, rtol=1e-7)

"""numerics.quadrature: Gauss-Legendre panels ending at the jumps, on one axis and as tensor products."""

from __future__ import annotations

import numpy as np
import pytest

from qbench.numerics.quadrature import (
    axis_rule,
    domain_rule,
    gauss_legendre_rule,
    grading_rule,
    panel_edges,
    tensor_rule,
)


def test_panel_edges_are_the_walls_and_the_breakpoints_inside_sorted():
    np.testing.assert_array_equal(panel_edges((-1.0, 2.0), (1.5, -3.0, 0.0, 2.0)), [-1.0, 0.0, 1.5, 2.0])


@pytest.mark.parametrize("order", [1, 4, 16])
def test_a_rule_of_order_m_is_exact_to_degree_2m_minus_1_per_subpanel(order):
    edges, subpanels = [0.0, 0.3, 1.0], [2, 3]
    nodes, weights = gauss_legendre_rule(edges, subpanels, order=order)
    assert len(nodes) == 5 * order
    for degree in range(2 * order):
        assert weights @ nodes**degree == pytest.approx(1.0 / (degree + 1), rel=1e-13)
    # One degree more is not exact: the rule's order is what it claims, no more.
    sub_edges = np.concatenate([np.linspace(0.0, 0.3, 3)[:-1], np.linspace(0.3, 1.0, 4)])
    degree = 2 * order
    exact = sum(
        (b ** (degree + 1) - a ** (degree + 1)) / (degree + 1) for a, b in zip(sub_edges[:-1], sub_edges[1:])
    )
    assert abs(weights @ nodes**degree - exact) > 1e-16 * exact


def test_domain_rule_gives_a_narrow_piece_four_panels():
    """A barrier of width 1e-3 in a box of width 10 still gets 4 x 16 nodes."""
    nodes, weights = domain_rule((0.0, 10.0), (5.0, 5.001), n_points=1024)
    inside = (nodes > 5.0) & (nodes < 5.001)
    assert np.count_nonzero(inside) == 4 * 16
    assert weights.sum() == pytest.approx(10.0, rel=1e-14)


def test_axis_rule_may_give_a_piece_a_single_panel():
    nodes, _ = axis_rule((0.0, 10.0), (5.0, 5.001), n_points=48, order=16)
    assert np.count_nonzero((nodes > 5.0) & (nodes < 5.001)) == 16


def test_tensor_rule_is_the_product_of_axis_rules_in_c_order():
    box, cuts = ((0.0, 1.0), (-1.0, 2.0)), ((0.4,), ())
    nodes, weights = tensor_rule(box, cuts, 32, order=8)
    x, wx = axis_rule(box[0], cuts[0], 32, order=8)
    y, wy = axis_rule(box[1], cuts[1], 32, order=8)
    assert nodes.shape == (len(x) * len(y), 2)
    np.testing.assert_array_equal(nodes[: len(y), 0], x[0])  # the last axis varies fastest
    np.testing.assert_array_equal(nodes[: len(y), 1], y)
    # A separable integrand with a kink on the cut: exact because a panel ends there.
    f = np.abs(nodes[:, 0] - 0.4) * nodes[:, 1] ** 2
    exact = (0.4**2 + 0.6**2) / 2 * (8.0 + 1.0) / 3
    assert weights @ f == pytest.approx(exact, rel=1e-14)
    np.testing.assert_allclose(weights.reshape(len(x), len(y)), np.outer(wx, wy), rtol=0, atol=0)


def test_grading_rule_of_one_axis_is_the_domain_rule():
    nodes, weights = grading_rule(((-3.0, 3.0),), ((-1.0, 1.0),))
    x, w = domain_rule((-3.0, 3.0), (-1.0, 1.0), n_points=4096)
    np.testing.assert_array_equal(nodes[:, 0], x)
    np.testing.assert_array_equal(weights, w)

"""numerics.grids: nodes on the breakpoints, intervals shared out by width, bisection, tensor products."""

from __future__ import annotations

import numpy as np
import pytest

from qbench.numerics.grids import apportion, axis_grid, build_grid, tensor_grid


@pytest.mark.parametrize("total", [20, 101, 1000])  # every quota >= 1: the minimum does not bind
def test_apportion_shares_by_width_within_one_of_the_quota(total):
    widths = np.array([0.3, 2.0, 0.7, 1.69])
    counts = apportion(total, widths)
    assert counts.sum() == total
    np.testing.assert_array_less(np.abs(counts - total * widths / widths.sum()), 1.0)


def test_apportion_gives_every_piece_its_minimum():
    counts = apportion(10, np.array([0.3, 2.0, 0.01, 1.69]), minimum=2)
    assert counts.sum() == 10 and counts[2] == 2 and np.all(counts >= 2)


def test_apportion_refuses_fewer_than_the_minimum_per_piece():
    with pytest.raises(ValueError, match="need at least 9 points, 3 per piece; got 8"):
        apportion(8, np.ones(3), minimum=3)


def test_axis_grid_has_nodes_on_the_breakpoints_and_uniform_pieces():
    grid = axis_grid((-1.0, 2.0), (0.1, 1.7), 100)
    assert grid.n_intervals == 100
    np.testing.assert_array_equal(grid.edges, [-1.0, 0.1, 1.7, 2.0])
    for first, last in grid.pieces:
        h = np.diff(grid.nodes[first : last + 1])
        np.testing.assert_allclose(h, h[0], rtol=1e-12)


def test_bisection_halves_every_interval_and_keeps_the_pieces():
    grid = build_grid(np.array([0.0, 0.3, 1.0]), [3, 5])
    fine = grid.bisected()
    np.testing.assert_array_equal(fine.nodes[::2], grid.nodes)
    np.testing.assert_allclose(np.diff(fine.nodes), np.repeat(np.diff(grid.nodes) / 2, 2), rtol=1e-12)
    np.testing.assert_array_equal(fine.edges, grid.edges)


def test_one_sided_nodes_stay_inside_their_piece():
    grid = build_grid(np.array([0.0, 0.3, 1.0]), [3, 5])
    for (first, last), x in zip(grid.pieces, grid.one_sided_nodes()):
        a, b = grid.nodes[first], grid.nodes[last]
        assert a < x[0] < x[1] and x[-2] < x[-1] < b
        np.testing.assert_array_equal(x[1:-1], grid.nodes[first + 1 : last])


def test_a_tensor_grid_is_one_axis_grid_per_axis():
    grid = tensor_grid(((0.0, 1.0), (-2.0, 2.0), (0.0, 3.0)), ((0.5,), (), (1.0, 2.0)), 12)
    assert grid.dim == 3 and grid.node_shape == (13, 13, 13) and grid.shape == (11, 11, 11)
    assert grid.n_unknowns == 11**3
    np.testing.assert_array_equal(grid.axes[2].edges, [0.0, 1.0, 2.0, 3.0])
    assert grid.bisected().shape == (23, 23, 23)

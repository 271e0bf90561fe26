"""numerics.cell_polynomials: tensor Chebyshev polynomials on cells, integrated exactly, evaluated."""

from __future__ import annotations

import numpy as np

from qbench.numerics.cell_polynomials import CellPolynomials, TensorChebyshev
from qbench.numerics.chebyshev import axis_collocation
from qbench.numerics.quadrature import tensor_rule
from qbench.numerics.tensor import tensor_points


def nodal_values(axes, functions):
    """Values of ``functions`` (callables of (n, d) points) at every tensor node, trailing state axis."""
    points = tensor_points([axis.nodes for axis in axes])
    shape = [len(axis.nodes) for axis in axes]
    return np.stack([f(points).reshape(shape) for f in functions], axis=-1)


def test_the_series_interpolate_the_nodal_values_and_vanish_outside_the_box():
    box = ((0.0, 1.0), (-1.0, 1.0))
    axes = [axis_collocation(box[0], (0.4,), 22), axis_collocation(box[1], (), 12)]
    cells = CellPolynomials(axes, nodal_values(axes, [lambda p: np.sin(3 * p[:, 0]) * np.cos(p[:, 1])]))
    states = TensorChebyshev(box, axes, cells.transform(np.eye(1)))
    points = tensor_points([axis.nodes for axis in axes])
    np.testing.assert_allclose(states(points)[0], cells.nodal.ravel(), atol=1e-13)
    # Between the nodes: spectral accuracy of a smooth function (scattered points take the other path).
    scattered = np.random.default_rng(0).uniform([0.0, -1.0], [1.0, 1.0], (300, 2))
    exact = np.sin(3 * scattered[:, 0]) * np.cos(scattered[:, 1])
    np.testing.assert_allclose(states(scattered)[0], exact, atol=1e-8)
    assert np.all(states(np.array([[1.5, 0.0], [0.5, -1.01]])) == 0.0)


def test_galerkin_matrices_are_exact_for_polynomial_states():
    """psi = x (1 - x) y (1 - y) on the unit square, V = 3 + x: closed-form integrals."""
    box = ((0.0, 1.0), (0.0, 1.0))
    axes = [axis_collocation(box[0], (0.25,), 20), axis_collocation(box[1], (), 10)]

    def psi(p):
        return p[:, 0] * (1 - p[:, 0]) * p[:, 1] * (1 - p[:, 1])

    def potential(p):
        return 3.0 + p[:, 0]

    cells = CellPolynomials(axes, nodal_values(axes, [psi]))
    stiffness, mass = cells.galerkin_matrices(potential, box)
    a, b = 1 / 30, 1 / 3  # int (x (1 - x))^2, int (1 - 2 x)^2
    assert mass[0, 0] == np.float64(mass[0, 0]) and abs(mass[0, 0] - a * a) < 1e-15
    # int V psi^2 = 3 a^2 + a * int x (x (1 - x))^2 = 3 a^2 + a / 60
    np.testing.assert_allclose(stiffness[0, 0], 2 * a * b + 3 * a * a + a / 60, rtol=1e-13)
    # A rule that follows nothing special (the curved-interface path) gives the same integral.
    rule = lambda n: tensor_rule(box, ((0.25,), ()), 64, order=16)  # noqa: E731 - n is not needed here
    curved, _ = cells.galerkin_matrices(potential, box, curved_rule=rule)
    np.testing.assert_allclose(curved, stiffness, rtol=1e-13)


def test_stencils_share_the_contraction_of_the_axes_they_do_not_move_along():
    """Points on finite-difference stencils (sharing all coordinates but one) take the grouped
    contraction; it must agree with numpy's chebval3d of the same cell series, point by point."""
    from numpy.polynomial import chebyshev

    box = ((-1.0, 2.0), (0.0, 1.0), (-2.0, 2.0))
    axes = [
        axis_collocation(box[0], (0.5,), 20),
        axis_collocation(box[1], (), 10),
        axis_collocation(box[2], (0.0,), 18),
    ]
    rng = np.random.default_rng(3)
    cells = [(i, 0, k) for i in range(2) for k in range(2)]
    shape = [[int(d) + 1 for d in axis.degrees] for axis in axes]
    coefficients = [rng.normal(size=(*[shape[a][c] for a, c in enumerate(cell)], 2)) for cell in cells]
    states = TensorChebyshev(box, axes, coefficients)
    centres = rng.uniform([-0.9, 0.1, -1.9], [1.9, 0.9, 1.9], (40, 3))
    stencils = []
    for axis in range(3):
        shifted = np.repeat(centres[None], 5, axis=0)
        shifted[:, :, axis] += np.arange(-2, 3)[:, None] * 1e-2
        stencils.append(shifted.reshape(-1, 3))
    points = np.concatenate(stencils)
    values = states(points)

    def by_chebval(p):
        cell = tuple(int(np.searchsorted(axes[a].edges, p[a], side="right") - 1) for a in range(3))
        c = coefficients[cells.index(cell)]
        t = [
            (2 * p[a] - axes[a].edges[cell[a]] - axes[a].edges[cell[a] + 1])
            / (axes[a].edges[cell[a] + 1] - axes[a].edges[cell[a]])
            for a in range(3)
        ]
        return [chebyshev.chebval3d(*t, c[..., s]) for s in range(2)]

    expected = np.array([by_chebval(p) for p in points]).T
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12 * np.abs(expected).max())

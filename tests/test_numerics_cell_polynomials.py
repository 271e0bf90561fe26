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

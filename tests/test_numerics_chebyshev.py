"""numerics.chebyshev: Lobatto differentiation, interpolation, one axis's collocation and its conditions."""

from __future__ import annotations

import numpy as np
import pytest

from qbench.numerics.chebyshev import MIN_DEGREE, axis_collocation, chebyshev_lobatto, interpolation_matrices


@pytest.mark.parametrize("degree", [8, 20])
def test_derivative_matrices_are_exact_on_polynomials_of_the_degree(degree):
    points, first, second, to_coefficients = chebyshev_lobatto(degree)
    assert np.all(np.diff(points) > 0) and points[0] == -1.0 and points[-1] == 1.0
    p = np.polynomial.Polynomial(np.random.default_rng(degree).standard_normal(degree + 1))
    np.testing.assert_allclose(first @ p(points), p.deriv()(points), atol=1e-9 * degree**2)
    np.testing.assert_allclose(second @ p(points), p.deriv(2)(points), atol=1e-8 * degree**4)
    np.testing.assert_allclose(
        np.polynomial.chebyshev.chebval(points, to_coefficients @ p(points)), p(points), atol=1e-12
    )
    assert not first.flags.writeable  # cached: nobody may change them


def test_interpolation_matrices_reproduce_a_polynomial_and_its_derivative_on_a_piece():
    degree, a, b = 12, 0.3, 1.7
    nodes = a + 0.5 * (b - a) * (chebyshev_lobatto(degree)[0] + 1.0)
    x = np.linspace(a, b, 23)
    values, derivatives = interpolation_matrices(degree, a, b, x)
    np.testing.assert_allclose(values @ np.sin(3 * nodes), np.sin(3 * x), atol=1e-9)  # spectral accuracy
    np.testing.assert_allclose(derivatives @ nodes**5, 5 * x**4, rtol=1e-11)


def test_one_piece_gives_the_laplacians_eigenvalues_spectrally():
    """-psi'' on [0, pi] with psi = 0 at the walls: eigenvalues k^2 to rounding for the lowest modes."""
    axis = axis_collocation((0.0, np.pi), (), 40)
    assert axis.operator.shape == (38, 38) and axis.n_interior == 38
    values = np.sort(np.linalg.eigvals(axis.operator).real)[:8]
    np.testing.assert_allclose(values, np.arange(1, 9) ** 2, rtol=1e-11)


def test_the_extension_puts_zeros_on_the_walls_and_joins_value_and_slope_at_interfaces():
    axis = axis_collocation((-1.0, 2.0), (0.2,), 30)
    assert len(axis.pieces) == 2 and np.all(axis.degrees >= MIN_DEGREE)
    assert sum(axis.degrees + 1) == 30
    rng = np.random.default_rng(0)
    nodal = axis.extension @ rng.standard_normal(axis.n_interior)
    assert nodal[0] == 0.0 and nodal[-1] == 0.0
    left, right = axis.pieces
    assert nodal[left.stop - 1] == pytest.approx(nodal[right.start], abs=1e-12)
    slopes = []
    for piece, (a, b) in ((left, (-1.0, 0.2)), (right, (0.2, 2.0))):
        degree = piece.stop - piece.start - 1
        slopes.append((interpolation_matrices(degree, a, b, np.array([0.2]))[1] @ nodal[piece])[0])
    assert slopes[0] == pytest.approx(slopes[1], rel=1e-9)
    assert axis.nodes[left.stop - 1] == pytest.approx(
        axis.nodes[right.start], abs=1e-15
    )  # the interface, twice

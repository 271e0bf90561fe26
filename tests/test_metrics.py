"""Metrics: energy errors and the sign-aligned L2 error on breakpoint panels."""

from __future__ import annotations

import numpy as np
import pytest

import qbench
from qbench.metrics import abs_energy_error, l2_error, rel_energy_error, wavefunction_l2_error
from qbench.quadrature import domain_rule, gauss_legendre_rule, panel_edges
from qbench.solvers import Solution


def test_energy_errors():
    np.testing.assert_allclose(abs_energy_error([1.1, 1.8], [1.0, 2.0]), [0.1, 0.2])
    np.testing.assert_allclose(rel_energy_error([1.1, -1.8], [1.0, -2.0]), [0.1, 0.1])


def test_l2_error_ignores_sign_and_scale():
    nodes, weights = domain_rule((0.0, 1.0), ())
    psi = np.sqrt(2) * np.sin(np.pi * nodes)[None, :]
    assert l2_error(-psi, psi, weights)[0] < 1e-14
    assert l2_error(3.0 * psi, psi, weights)[0] < 1e-14


def test_l2_error_of_orthogonal_states_is_sqrt2():
    nodes, weights = domain_rule((0.0, 1.0), ())
    first = np.sqrt(2) * np.sin(np.pi * nodes)[None, :]
    second = np.sqrt(2) * np.sin(2 * np.pi * nodes)[None, :]
    assert l2_error(first, second, weights)[0] == pytest.approx(np.sqrt(2), rel=1e-13)


def test_panels_end_at_breakpoints_so_kinks_integrate_exactly():
    """|x - b| has a kink at b; a rule with a panel edge there is exact for it."""
    b = 0.3719
    nodes, weights = gauss_legendre_rule(panel_edges((0.0, 1.0), (b,)), 1, order=2)
    exact = (b**2 + (1 - b) ** 2) / 2
    assert weights @ np.abs(nodes - b) == pytest.approx(exact, rel=1e-15)
    nodes, weights = gauss_legendre_rule(panel_edges((0.0, 1.0), ()), 1, order=2)
    assert abs(weights @ np.abs(nodes - b) - exact) > 1e-3  # straddling the kink loses it


def test_wavefunction_l2_error_of_the_reference_itself_is_zero(canonical):
    reference = canonical.reference(2)
    exact = Solution(reference.energies, reference.wavefunctions)
    assert np.all(wavefunction_l2_error(exact, canonical, reference) < 1e-13)


def test_wavefunction_l2_error_detects_a_wrong_state():
    problem = qbench.problems.InfiniteWell()
    reference = problem.reference(2)
    swapped = Solution(reference.energies, lambda x: reference.wavefunctions(x)[::-1])
    np.testing.assert_allclose(wavefunction_l2_error(swapped, problem, reference), np.sqrt(2), rtol=1e-12)

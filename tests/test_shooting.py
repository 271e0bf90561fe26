"""Shooting: accuracy at the default tolerance, state targeting, tolerance control, validation."""

from __future__ import annotations

import numpy as np
import pytest
from derivatives import laplacian_mismatch, residual_norms

import qbench
from qbench.metrics import rel_energy_error, wavefunction_l2_error


def test_default_tolerance_reaches_1e_10(any_problem):
    solution = qbench.solvers.get("shooting").solve(any_problem, 3)
    reference = any_problem.reference(3)
    assert solution.status == "ok", solution.message
    assert np.all(rel_energy_error(solution.energies, reference.energies) <= 1e-10)
    assert np.all(wavefunction_l2_error(solution, any_problem, reference) < 1e-8)


def test_finds_excited_states_in_order_without_skipping():
    problem = qbench.problems.FiniteBarrier()
    solution = qbench.solvers.get("shooting", tol=1e-8).solve(problem, 6)
    reference = problem.reference(6)
    assert np.all(rel_energy_error(solution.energies, reference.energies) < 1e-8)
    assert solution.info["nodes"] == list(range(6))


def test_looser_tolerance_takes_fewer_steps_and_stays_within_it():
    problem = qbench.problems.FiniteWell()
    reference = problem.reference(1)
    loose = qbench.solvers.get("shooting", tol=1e-6).solve(problem, 1)
    tight = qbench.solvers.get("shooting", tol=1e-10).solve(problem, 1)
    assert loose.info["steps"][0] < tight.info["steps"][0]
    assert rel_energy_error(loose.energies, reference.energies)[0] <= 1e-6
    assert loose.info["rel_error_estimate"][0] <= 1e-6


def test_same_input_gives_bit_identical_output():
    problem = qbench.problems.FiniteBarrier()
    first = qbench.solvers.get("shooting").solve(problem, 2)
    second = qbench.solvers.get("shooting").solve(problem, 2)
    np.testing.assert_array_equal(first.energies, second.energies)


@pytest.mark.parametrize("tol", [0.0, -1e-8, 1e-13, 0.5, float("nan"), "small"])
def test_bad_tolerance_raises(tol):
    with pytest.raises(ValueError, match="tol"):
        qbench.solvers.get("shooting", tol=tol)


@pytest.mark.slow  # about a second: the fast set stays under a minute
def test_a_state_it_cannot_bracket_is_reported_as_failed_not_raised():
    """A double well split at 4e-12 relative: Numerov cannot separate the pair; the suite must hear it."""
    problem = qbench.problems.PiecewiseConstant([0.0, 5 / 3, 10 / 3, 5.0], [-50.0, 200.0, -50.0])
    solution = qbench.solvers.get("shooting").solve(problem, 3)
    assert solution.status == "failed" and solution.message.startswith("state 0")
    assert np.isnan(solution.energies[0])
    exact = problem.reference(3).energies
    assert np.all(rel_energy_error(solution.energies[1:], exact[1:]) <= 1e-10)
    assert np.all(np.isnan(solution.wavefunctions(np.array([1.0]))[0]))


@pytest.mark.parametrize("name", ["harmonic_oscillator", "finite_well"])
def test_supplied_laplacian_is_the_splines_own_and_the_residual_falls_with_tol(name):
    """Differences of psi agree with the spline's Laplacian (measured <= 2.6e-4 at tol = 1e-6), and
    ``||(H - E) psi|| / ||psi||`` falls about 10x from tol = 1e-6 to 1e-8 (measured 9.7 to 10.3):
    the step goes as tol^(1/4) and the spline's second derivative is second order in it."""
    problem = qbench.problems.get(name)
    loose, tight = (qbench.solvers.get("shooting", tol=tol).solve(problem, 2) for tol in (1e-6, 1e-8))
    assert loose.derivatives_by == "cubic spline"
    assert np.all(laplacian_mismatch(loose, problem) < 1e-3)
    assert np.all(residual_norms(tight, problem) < residual_norms(loose, problem) / 5)

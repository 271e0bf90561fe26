"""pyslise (the ``gold`` extra): the adapter, why jumps matter, and a cross-check of the exact references.

pyslise is a second, independent route to the spectrum (constant-perturbation
methods in C++), so agreement with the transfer-matrix roots on many random
problems checks both. Skipped where pyslise is not installed; the test extra
installs it, so CI runs it.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from derivatives import STEP, interior_points, second_differences
from hypothesis import given, settings
from strategies import piecewise_problems

import qbench
from qbench.cases import Case
from qbench.metrics import wavefunction_l2_error
from qbench.numerics.quadrature import domain_rule
from qbench.solvers.pyslise import DIRICHLET

pyslise = pytest.importorskip("pyslise")

N_STATES = 5


def energy_scale(problem, energy):
    """|E|, but never less than the box's level spacing unit (pi / L)^2: relative error is
    meaningless at E = 0, which a negative potential can put a level on."""
    return max(abs(energy), (math.pi / problem.length) ** 2)


def test_jumps_are_what_make_pyslise_exact():
    """Without ``jumps`` pyslise is off by ~1e-5 on the finite well while its own estimate claims
    ~1e-11; with them (what the adapter always passes) it agrees with the exact roots."""
    problem = qbench.problems.FiniteWell()
    exact = problem.reference(N_STATES).energies

    def potential(x):
        return float(problem.potential(np.array([x]))[0])

    blind = pyslise.Pyslise(potential, *problem.domain, tolerance=1e-12)
    pairs = blind.eigenvaluesByIndex(0, N_STATES, DIRICHLET, DIRICHLET)
    blind_energies = np.array([energy for _, energy in pairs])
    claimed = max(blind.eigenvalueError(e, DIRICHLET, DIRICHLET, index=i) for i, e in pairs)
    blind_error = np.max(np.abs(blind_energies - exact) / exact)
    assert blind_error > 1e-6 and claimed < 1e-9, (blind_error, claimed)

    solution = qbench.solvers.get("pyslise").solve(problem, N_STATES)
    assert solution.info["jumps"] == list(problem.breakpoints)
    assert np.max(np.abs(solution.energies - exact) / exact) <= 1e-13


@settings(max_examples=100, deadline=None, derandomize=True)
@given(problem=piecewise_problems())
@pytest.mark.slow  # about a second: the fast set stays under a minute
def test_pyslise_agrees_with_the_exact_references_on_random_piecewise_problems(problem):
    """The acceptance check of the gold standard: 100 random problems (fixed seed), states 0-4."""
    exact = problem.reference(N_STATES).energies
    solution = qbench.solvers.get("pyslise").solve(problem, N_STATES)
    assert solution.status == "ok", solution.message
    for n, (energy, reference) in enumerate(zip(solution.energies, exact)):
        error = abs(energy - reference) / energy_scale(problem, reference)
        assert error <= 1e-12, (problem, n, energy, reference, error)


@pytest.mark.parametrize(
    "name", ["step_well", "kronig_penney", "harmonic_oscillator", "poschl_teller", "double_well"]
)
def test_pyslise_agrees_with_the_references_of_the_new_problems(name):
    """The smooth problems' analytic references (and the wall corrections of their
    wavefunctions) against pyslise, which knows nothing of the closed forms."""
    problem = qbench.problems.get(name)
    n_states = min(4, problem.max_states or 4) if hasattr(problem, "max_states") else 4
    reference = problem.reference(n_states)
    solution = qbench.solvers.get("pyslise").solve(problem, n_states)
    np.testing.assert_allclose(solution.energies, reference.energies, rtol=1e-12)
    assert np.all(wavefunction_l2_error(solution, problem) <= 1e-10)


def test_solution_is_normalized_rises_from_the_left_and_records_the_error_estimate(canonical):
    solution = qbench.solvers.get("pyslise").solve(canonical, 3)
    x, w = domain_rule(canonical.domain, canonical.breakpoints)
    psi = solution.wavefunctions(x)
    np.testing.assert_allclose((psi * w) @ psi.T, np.eye(3), atol=1e-10)
    near_left = solution.wavefunctions(canonical.domain[0] + 1e-3 * canonical.length)
    assert np.all(near_left > 0)
    assert len(solution.info["error_estimate"]) == 3
    assert all(0 <= e < 1e-10 for e in solution.info["error_estimate"])
    assert np.all(solution.wavefunctions([canonical.domain[0] - 1.0]) == 0)


@pytest.mark.parametrize("tolerance", [0.0, 1e-16, 1e-2, float("nan"), "1e-8"])
def test_bad_tolerance_names_the_option(tolerance):
    with pytest.raises(ValueError, match="tolerance"):
        qbench.solvers.get("pyslise", tolerance=tolerance)


def test_without_pyslise_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyslise", None)  # what an absent package looks like to import
    with pytest.raises(ValueError, match=r"pip install 'qbench\[gold\]'"):
        qbench.solvers.get("pyslise")
    with pytest.raises(ValueError, match=r"qbench\[gold\]"):
        Case.resolve("finite_well", "pyslise")
    assert qbench.solvers.install_hint("pyslise") == "pip install 'qbench[gold]'"
    assert qbench.solvers.install_hint("fd") is None


@pytest.mark.parametrize("name", ["harmonic_oscillator", "finite_well"])
def test_supplies_no_laplacian_and_its_psi_is_smooth_enough_to_difference(name):
    """pyslise gives psi and psi', not psi''; (V - E) psi would make the residual vanish by
    construction, so qbench differences psi itself. That is sound because pyslise's psi is a smooth
    ODE solution: fourth-order differences of it satisfy the equation to 1e-8 of max |psi''|
    (measured 2.6e-9 to 2.8e-8), away from the walls and the jumps."""
    problem = qbench.problems.get(name)
    solution = qbench.solvers.get("pyslise").solve(problem, 3)
    assert solution.laplacian is None and solution.derivatives_by == ""
    points = interior_points(problem, 3000, 3 * STEP * problem.length)
    psi = solution.wavefunctions(points)
    second = second_differences(solution.wavefunctions, points, STEP * problem.length)
    residual = -second + (problem.potential(points) - solution.energies[:, None]) * psi
    assert np.all(np.max(np.abs(residual), axis=1) < 1e-6 * np.max(np.abs(second), axis=1))

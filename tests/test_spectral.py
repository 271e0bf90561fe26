"""Chebyshev collocation: spectral accuracy on every problem, geometric convergence, the contract."""

from __future__ import annotations

import numpy as np
import pytest

import qbench
from qbench.metrics import rel_energy_error, wavefunction_l2_error
from qbench.quadrature import domain_rule


def spectral(n_points=200):
    return qbench.solvers.get("spectral", n_points=n_points)


def test_states_0_to_4_of_the_canonical_problems_to_1e_12(canonical):
    """The issue's accuracy target with a few hundred points (measured worst: 3e-13)."""
    exact = canonical.reference(5).energies
    solution = spectral(200).solve(canonical, 5)
    assert solution.status == "ok"
    assert np.all(rel_energy_error(solution.energies, exact) <= 1e-12)
    assert np.all(wavefunction_l2_error(solution, canonical) <= 1e-10)


def test_every_problem_to_1e_11_with_400_points(every_problem):
    problem, n_states = every_problem, 3
    solution = spectral(400).solve(problem, n_states)
    exact = problem.reference(n_states).energies
    assert np.all(rel_energy_error(solution.energies, exact) <= 1e-11), (problem, solution.energies - exact)


def test_convergence_is_geometric_across_jumps():
    """Two more degrees per piece buy a factor >= 100 on the finite well: exponential, not a power of N
    (a power law would need an order above 30 for that)."""
    problem = qbench.problems.FiniteWell()
    exact = problem.reference(3).energies
    errors = [np.max(rel_energy_error(spectral(n).solve(problem, 3).energies, exact)) for n in (27, 33, 39)]
    assert errors[0] > 1e-8, errors  # still resolution-limited, so the ratios measure convergence
    assert errors[0] / errors[1] >= 100 and errors[1] / errors[2] >= 100, errors


def test_wavefunctions_are_orthonormal_continuous_and_signed_like_the_reference(every_problem):
    problem = every_problem
    solution = spectral(300).solve(problem, 4)
    x, w = domain_rule(problem.domain, problem.breakpoints)
    psi = solution.wavefunctions(x)
    np.testing.assert_allclose((psi * w) @ psi.T, np.eye(4), atol=1e-10)
    x0, x1 = problem.domain
    np.testing.assert_allclose(solution.wavefunctions([x0, x1]), 0.0, atol=1e-10)
    # Signs follow the reference's convention (positive where the state first rises from the left).
    assert np.all(np.diag((psi * w) @ problem.reference(4).wavefunctions(x).T) > 0.99)
    for b in problem.breakpoints:  # the two pieces meet: psi is continuous at every jump
        left, right = solution.wavefunctions([np.nextafter(b, x0)]), solution.wavefunctions([b])
        np.testing.assert_allclose(left, right, atol=1e-10)
    assert np.all(solution.wavefunctions([x0 - 1.0, x1 + 1.0]) == 0.0)


def test_info_records_the_discretization_and_the_raw_collocation_eigenvalues(canonical):
    solution = spectral(120).solve(canonical, 3)
    info = solution.info
    assert sum(d + 1 for d in info["degrees"]) == 120
    assert len(info["degrees"]) == len(canonical.breakpoints) + 1
    assert info["matrix_size"] == 120 - 2 * len(info["degrees"])
    assert len(info["collocation_energies"]) == 3 and info["max_rel_imag"] == 0.0
    # The Rayleigh quotient refines the collocation eigenvalue; they agree to its accuracy.
    np.testing.assert_allclose(info["collocation_energies"], solution.energies, rtol=1e-8)


def test_too_few_points_for_the_pieces_names_the_option():
    with pytest.raises(ValueError, match=r"n_points must be >= 81 .* 9 piece"):
        spectral(80).solve(qbench.problems.get("kronig_penney"), 3)


@pytest.mark.parametrize("n_points", [8, 4001, 100.5, True])
def test_bad_n_points_names_the_option(n_points):
    with pytest.raises(ValueError, match="n_points"):
        qbench.solvers.get("spectral", n_points=n_points)

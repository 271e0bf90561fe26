"""The tensor-train solver ``tt``: quimb's DMRG on a sine basis, against exact oscillators."""

from __future__ import annotations

import numpy as np
import pytest

import qbench
from qbench.metrics import wavefunction_l2_error
from qbench.solvers import Status
from qbench.solvers import tt as tt_module

pytest.importorskip("quimb")


def coupled(dim: int) -> qbench.problems.Problem:
    return qbench.problems.get("coupled_oscillator", dim=dim, seed=1)


@pytest.fixture(scope="module")
def coupled_2d():
    problem = coupled(2)
    return problem, qbench.solvers.get("tt").solve(problem, 1)


def test_the_1d_oscillator_ground_energy():
    problem = qbench.problems.get("harmonic_oscillator")
    solution = qbench.solvers.get("tt").solve(problem, 3)
    exact = problem.reference(3).energies
    assert np.all(np.abs(solution.energies - exact) / exact < 1e-10), solution.energies
    assert solution.info["method"].startswith("dense")


def test_a_jump_in_1d_converges_with_galerkin_but_not_on_the_dvr_points():
    """The finite well at 256 points: Galerkin (the default) 1.4e-6 off (its error falls like N^-3),
    the DVR's diagonal V 6.6e-3."""
    problem = qbench.problems.get("finite_well")
    exact = problem.reference(1).energies[0]
    galerkin = qbench.solvers.get("tt").solve(problem, 1).energies[0]
    dvr = qbench.solvers.get("tt", potential="dvr").solve(problem, 1).energies[0]
    assert abs(galerkin - exact) / exact < 2e-6
    assert galerkin > exact  # a Ritz-Galerkin value is an upper bound
    assert abs(dvr - exact) / exact > 1e-4


def test_the_2d_coupled_ground_state(coupled_2d):
    problem, solution = coupled_2d
    exact = problem.level_energies(1)[0]
    assert solution.status is Status.OK, solution.message
    assert abs(solution.energies[0] - exact) / exact < 1e-8, solution.energies
    nodes, weights = problem.quadrature_rule()
    norm = weights @ solution.wavefunctions(nodes)[0] ** 2
    assert abs(norm - 1.0) < 1e-10
    assert wavefunction_l2_error(solution, problem)[0] < 1e-5
    # At random points, sign aligned, against the exact Gaussian.
    points = np.random.default_rng(0).uniform(-3.0, 3.0, (200, 2))
    psi, exact_psi = solution.wavefunctions(points)[0], problem.reference(1).wavefunctions(points)[0]
    psi *= np.sign(psi @ exact_psi)
    assert np.max(np.abs(psi - exact_psi)) < 1e-5 * np.max(np.abs(exact_psi))


def test_the_laplacian_is_the_states_own(coupled_2d):
    """The supplied Laplacian is psi's (central differences agree), and -Lap psi + V psi is E psi
    to the discretization's accuracy at points inside."""
    problem, solution = coupled_2d
    points = np.random.default_rng(1).uniform(-2.0, 2.0, (50, 2))
    psi, lap = solution.wavefunctions(points)[0], solution.laplacians(points)[0]
    h = 1e-3
    differences = (
        sum(
            solution.wavefunctions(points + h * e)[0] - 2 * psi + solution.wavefunctions(points - h * e)[0]
            for e in np.eye(2)
        )
        / h**2
    )
    assert np.max(np.abs(lap - differences)) < 1e-6 * np.max(np.abs(lap))
    residual = -lap + (problem.potential(points) - solution.energies[0]) * psi
    assert np.max(np.abs(residual)) < 1e-4 * np.max(np.abs(psi))
    assert solution.derivatives_by == tt_module.DERIVATIVES_BY


def test_the_info_reports_ranks_bonds_and_sweeps(coupled_2d):
    _, solution = coupled_2d
    info = solution.info
    assert info["n_points"] == [32, 32] and info["potential"] == "galerkin"
    assert info["mpo_bond_dim"] == max(info["mpo_bond_dims"]) and info["mpo_bond_dim"] <= 4
    assert info["max_rank"][0] == max(info["bond_dims"][0]) >= 2
    assert info["sweeps"][0] == len(info["energy_history"][0]) >= 2
    assert info["converged"] == [True]
    assert info["cutoff"] == 1e-12 and info["discarded_weight"][0] <= 1e-12 * 1.0001
    assert set(info) >= {"axis_order", "smallest_schmidt_weight", "rank_capped", "quimb_version"}


@pytest.mark.slow
def test_the_3d_coupled_ground_and_excited_states():
    problem = coupled(3)
    solution = qbench.solvers.get("tt").solve(problem, 4)
    exact = problem.level_energies(4)
    assert solution.status is Status.OK, solution.message
    assert np.all(np.abs(solution.energies - exact) / exact < 1e-8), solution.energies - exact
    assert max(solution.info["max_overlap"]) < 1e-6


def test_a_degenerate_level_is_found_whole():
    """The isotropic 2D oscillator's first excited level is a pair: both states come out."""
    problem = qbench.problems.get("harmonic_oscillator", dim=2)
    solution = qbench.solvers.get("tt").solve(problem, 3)
    np.testing.assert_allclose(solution.energies, problem.level_energies(3), rtol=1e-10)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_bits():
    problem = coupled(3)
    first = qbench.solvers.get("tt", seed=3).solve(problem, 2)
    second = qbench.solvers.get("tt", seed=3).solve(problem, 2)
    assert np.array_equal(first.energies, second.energies)
    points = np.random.default_rng(2).uniform(-2, 2, (20, 3))
    assert np.array_equal(first.wavefunctions(points), second.wavefunctions(points))


def test_a_sweep_budget_too_small_is_failed_not_ok():
    solution = qbench.solvers.get("tt", max_sweeps=2).solve(coupled(3), 1)
    assert solution.status is Status.FAILED and "did not settle" in solution.message
    assert np.isfinite(solution.energies[0])


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("n_points", 3, "[4, 512]"),
        ("n_points", 513, "[4, 512]"),
        ("n_points", "many", "auto"),
        ("bond_dim", 0, ">= 1"),
        ("bond_dim", 513, "<= 512"),
        ("cutoff", 0.0, "(0, 0.01]"),
        ("cutoff", 0.1, "(0, 0.01]"),
        ("tol", -1e-9, "(0, 0.01]"),
        ("max_sweeps", 1, ">= 2"),
        ("seed", -1, ">= 0"),
        ("ordering", "random", "fiedler"),
        ("potential", "exact", "galerkin"),
        ("penalty", 0.1, "[0.5, 1000]"),
    ],
)
def test_bad_options_are_refused_naming_the_option(option, value, words):
    with pytest.raises(ValueError, match=option) as caught:
        qbench.solvers.get("tt", **{option: value})
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_a_problem_without_product_terms_is_refused():
    with pytest.raises(ValueError, match=r"circular_well.*product_terms"):
        qbench.solvers.get("tt").solve(qbench.problems.get("circular_well"), 1)


def test_more_states_than_basis_functions_are_refused():
    with pytest.raises(ValueError, match="n_states=5 exceeds"):
        qbench.solvers.get("tt", n_points=4).solve(qbench.problems.get("infinite_well"), 5)


def test_a_missing_quimb_is_refused_with_the_install_hint(monkeypatch):
    monkeypatch.setattr(tt_module, "_quimb_installed", lambda: False)
    with pytest.raises(ValueError, match=r"pip install 'qbench\[tt\]'"):
        qbench.solvers.get("tt").solve(coupled(2), 1)
    assert qbench.solvers.install_hint("tt") == "pip install 'qbench[tt]'"


def test_a_state_that_skipped_a_level_is_replaced_by_the_extra_one(monkeypatch):
    """With excited states one more is found and the lowest are returned: a state that landed on a
    higher level (here pretended, by raising its energy) gives way to the extra one."""
    original = tt_module.TensorTrain._dmrg
    calls = []

    def dmrg(self, *args):
        run = original(self, *args)
        calls.append(run)
        if len(calls) == 2:
            run.energy += 10.0
        return run

    monkeypatch.setattr(tt_module.TensorTrain, "_dmrg", dmrg)
    problem = coupled(2)
    solution = qbench.solvers.get("tt").solve(problem, 3)
    assert len(calls) == 4
    assert solution.info["found_order"] == [0, 2, 3]
    assert solution.info["dropped_energies"] == [calls[1].energy]
    assert solution.status is Status.OK, solution.message
    exact = problem.level_energies(4)
    # The states found after the skipped one are the next levels up: 0, 2, 3 of the four.
    np.testing.assert_allclose(solution.energies, exact[[0, 2, 3]], rtol=1e-8)

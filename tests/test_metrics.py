"""Metrics: energy errors, the L2 error against a state's level, and the level's subspace sine."""

from __future__ import annotations

import numpy as np
import pytest

import qbench
from qbench.metrics import (
    abs_energy_error,
    grade_wavefunctions,
    l2_error,
    rel_energy_error,
    sorted_by_energy,
    subspace_sines,
    wavefunction_l2_error,
)
from qbench.numerics.quadrature import domain_rule, gauss_legendre_rule, panel_edges
from qbench.problems import Problem, Reference
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


# -- d dimensions: a 2D infinite square box, whose states 1 and 2 are one degenerate level ----------
class SquareBox(Problem):
    """``[0, L]^2`` with hard walls: E = pi^2 (n1^2 + n2^2) / L^2, psi = (2/L) sin sin."""

    name = "test-square-box"
    has_exact_reference = True

    def __init__(self, length: float = 1.0):
        super().__init__()
        self.length_ = float(length)

    @property
    def box(self):
        return ((0.0, self.length_), (0.0, self.length_))

    @property
    def params(self):
        return {"length": self.length_}

    def potential(self, points):
        return np.zeros(len(points))

    def _quanta(self, n):
        pairs = [(a, b) for a in range(1, n + 2) for b in range(1, n + 2)]
        return sorted(pairs, key=lambda ab: (ab[0] ** 2 + ab[1] ** 2, ab))[:n]

    def level_energies(self, n):
        return np.array([np.pi**2 * (a * a + b * b) / self.length_**2 for a, b in self._quanta(n)])

    def _compute_reference(self, n_states):
        quanta, length = self._quanta(n_states), self.length_

        def evaluate(points):
            x, y = points[:, 0], points[:, 1]
            return np.array(
                [
                    2 / length * np.sin(a * np.pi * x / length) * np.sin(b * np.pi * y / length)
                    for a, b in quanta
                ]
            )

        return Reference(self.level_energies(n_states), evaluate)


def _rotated(problem, n_states, angle, swap=False):
    """The exact states with the degenerate pair (1, 2) rotated by ``angle`` (and listed in reverse)."""
    reference = problem.reference(n_states)
    c, s = np.cos(angle), np.sin(angle)

    def evaluate(points):
        values = reference.wavefunctions(points).copy()
        values[1], values[2] = c * values[1] + s * values[2], -s * values[1] + c * values[2]
        return values

    energies = reference.energies.copy()
    if swap:  # a solver that lists its states out of order: grading sorts them by energy
        order = [0, 2, 1, 3]
        return Solution(energies[order], lambda p: evaluate(p)[order])
    return Solution(energies, evaluate)


def test_a_rotated_basis_of_a_degenerate_level_is_exact():
    problem = SquareBox()
    assert problem.degenerate_groups(4) == [(0,), (1, 2), (3,)]
    solution = _rotated(problem, 4, angle=0.7)
    graded = grade_wavefunctions(solution, problem)
    assert graded.group.tolist() == [0, 1, 1, 2]
    assert np.all(graded.l2_error < 1e-13) and np.all(graded.subspace_sine < 1e-13)
    # State by state against one exact function each, the rotated pair is far off: the level is what counts.
    nodes, weights = problem.quadrature_rule()
    naive = l2_error(solution.wavefunctions(nodes), problem.reference(4).wavefunctions(nodes), weights)
    assert naive[1] > 0.5 and naive[2] > 0.5


def test_the_l2_error_is_the_distance_to_the_nearest_function_of_the_level():
    """psi = cos(t) phi_1 + sin(t) (cos(a) phi_2 + sin(a) phi_3): its level is (1, 2), the angle to it is
    t * (out-of-level part), and the nearest normalized function of the level is 2 sin(theta/2) away."""
    problem = SquareBox()
    reference = problem.reference(4)
    t = 1e-3

    def evaluate(points):
        values = reference.wavefunctions(points)
        tilted = np.cos(t) * values[1] + np.sin(t) * values[3]  # leaks into the next level (state 3)
        return np.array([values[0], tilted, values[2], values[3]])

    graded = grade_wavefunctions(Solution(reference.energies, evaluate), problem)
    assert graded.l2_error[1] == pytest.approx(2 * np.sin(t / 2), rel=1e-9)
    assert graded.subspace_sine[1] == graded.subspace_sine[2] == pytest.approx(np.sin(t), rel=1e-9)
    assert graded.l2_error[2] < 1e-13 and graded.subspace_sine[0] < 1e-13


def test_a_state_from_the_wrong_level_gives_a_sine_of_one():
    problem = SquareBox()
    reference = problem.reference(4)

    def evaluate(points):
        values = reference.wavefunctions(points)
        return np.array([values[0], values[1], values[3], values[3]])  # state 2 is the (2, 2) state

    graded = grade_wavefunctions(Solution(reference.energies, evaluate), problem)
    assert graded.subspace_sine[1] == graded.subspace_sine[2] == pytest.approx(1.0, abs=1e-12)
    assert graded.l2_error[1] < 1e-13 and graded.l2_error[2] == pytest.approx(np.sqrt(2), rel=1e-12)


def test_two_states_that_are_one_function_span_too_little():
    problem = SquareBox()
    reference = problem.reference(4)

    def evaluate(points):
        values = reference.wavefunctions(points)
        return np.array([values[0], values[1], -values[1], values[3]])

    graded = grade_wavefunctions(Solution(reference.energies, evaluate), problem)
    assert graded.subspace_sine[1] == graded.subspace_sine[2] == 1.0
    assert np.all(graded.l2_error < 1e-13)  # each state alone is a function of the level


def test_states_are_graded_in_ascending_energy_and_a_missing_one_is_nan():
    problem = SquareBox()
    graded = grade_wavefunctions(_rotated(problem, 4, angle=0.3, swap=True), problem)
    assert np.all(graded.l2_error < 1e-13) and np.all(graded.subspace_sine < 1e-13)
    reference = problem.reference(4)
    energies = reference.energies.copy()
    energies[0] = np.nan

    def evaluate(points):
        values = reference.wavefunctions(points)
        values[0] = np.nan
        return values

    solution = Solution(energies, evaluate, state_status=["failed", "ok", "ok", "ok"])
    ordered = sorted_by_energy(solution, problem)
    assert [s.value for s, _ in ordered.statuses()] == ["ok", "ok", "ok", "failed"]  # NaN last, with status
    graded = grade_wavefunctions(solution, problem)
    assert np.isnan(graded.l2_error[3]) and np.isnan(graded.subspace_sine[3])


def test_one_dimensional_grading_sorts_by_energy_with_one_state_per_group(canonical):
    """As in every dimension, states are graded in ascending energy: a solution that lists them
    in reverse is graded state for state against the right exact ones."""
    reference = canonical.reference(3)
    solution = Solution(reference.energies[::-1].copy(), lambda x: reference.wavefunctions(x)[::-1])
    graded = grade_wavefunctions(solution, canonical)
    assert graded.group.tolist() == [0, 1, 2]
    assert np.all(graded.l2_error < 1e-13)
    swapped = Solution(reference.energies.copy(), lambda x: reference.wavefunctions(x)[[1, 0, 2]])
    np.testing.assert_allclose(grade_wavefunctions(swapped, canonical).l2_error[:2], np.sqrt(2), rtol=1e-12)
    # In 1D the subspace sine is sin(theta) of the state alone: sqrt(1 - cos^2) for a tilted state.
    t = 1e-4
    tilted = Solution(
        reference.energies,
        lambda x: np.cos(t) * reference.wavefunctions(x) + np.sin(t) * reference.wavefunctions(x)[[1, 2, 0]],
    )
    np.testing.assert_allclose(subspace_sines(tilted, canonical), np.sin(t), rtol=1e-6)

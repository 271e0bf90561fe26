"""Tensor-product Chebyshev collocation (``spectral`` in d = 2, 3, 4): exact separable sums, geometric
convergence, degenerate groups, orthonormal states, dense vs iterative, the size guard."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import eval_hermite

import qbench
from qbench.metrics import rel_energy_error
from qbench.problems import Problem, Reference
from qbench.solvers import spectral_nd


class CoupledOscillator(Problem):
    """V = x^2 + y^2 + c x y in [-b, b]^2: not separable on the axes, exactly solvable on the diagonals.

    In u = (x + y) / sqrt(2), v = (x - y) / sqrt(2), V = (1 + c/2) u^2 + (1 - c/2) v^2: two
    oscillators of frequency omega = sqrt(1 +- c/2), E = omega_u (2 i + 1) + omega_v (2 j + 1).
    With b = 6.5 the walls move the levels used here by less than 1e-14 (exp(-omega_v b^2)).
    """

    name = "coupled_oscillator_test"
    has_exact_reference = True

    def __init__(self, c: float = 0.6, half_width: float = 6.5):
        super().__init__()
        self.c, self.half_width = c, half_width

    @property
    def box(self):
        return ((-self.half_width, self.half_width),) * 2

    @property
    def params(self):
        return {"c": self.c, "half_width": self.half_width}

    def potential(self, points):
        x, y = points[:, 0], points[:, 1]
        return x * x + y * y + self.c * x * y

    def _levels(self, n):
        omega = np.sqrt([1 + self.c / 2, 1 - self.c / 2])
        pairs = [(i, j) for i in range(n) for j in range(n)]
        energies = np.array([omega[0] * (2 * i + 1) + omega[1] * (2 * j + 1) for i, j in pairs])
        order = np.argsort(energies, kind="stable")[:n]
        return energies[order], [pairs[k] for k in order], omega

    def level_energies(self, n):
        return self._levels(n)[0]

    def _compute_reference(self, n_states):
        energies, pairs, omega = self._levels(n_states)

        def hermite_function(k, w, s):
            norm = (w / math.pi) ** 0.25 / math.sqrt(2.0**k * math.factorial(k))
            return norm * eval_hermite(k, math.sqrt(w) * s) * np.exp(-w * s * s / 2)

        def evaluate(points):
            u = (points[:, 0] + points[:, 1]) / math.sqrt(2.0)
            v = (points[:, 0] - points[:, 1]) / math.sqrt(2.0)
            return np.array(
                [hermite_function(i, omega[0], u) * hermite_function(j, omega[1], v) for i, j in pairs]
            )

        return Reference(energies, evaluate)


def separable(*parts):
    return qbench.problems.get("separable", parts=list(parts))


def spectral(n_points):
    return qbench.solvers.get("spectral", n_points=n_points)


def overlaps(solution, problem, n_states):
    """``<psi_i, exact_j>`` and ``<psi_i, psi_j>`` on the problem's own quadrature rule; in 3D with
    32^3 nodes (the default has ~10^6, and evaluating the references there takes seconds)."""
    x, w = problem.quadrature_rule(None if problem.dim == 2 else 32**problem.dim)
    psi = solution.wavefunctions(x)
    exact = problem.reference(n_states).wavefunctions(x)
    return (psi * w) @ exact.T, (psi * w) @ psi.T


SEPARABLE_CASES = {
    # name: (parts, points per axis, n_states) -- n_states ends at a group boundary
    "box_2d": (["infinite_well"] * 2, 20, 6),
    "finite_well_2d": (["finite_well"] * 2, 45, 6),
    "mixed_2d": (["finite_well", {"name": "harmonic_oscillator", "box_half_width": 7.0}], 50, 6),
    "box_3d": (["infinite_well"] * 3, 20, 10),
    "finite_well_3d": (["finite_well"] * 3, 39, 7),
}


@pytest.mark.parametrize("case", SEPARABLE_CASES)
def test_separable_problems_reach_the_sum_of_1d_energies(case):
    """Exact references (sums of 1D energies) to 1e-10 at modest points per axis (measured: <= 2e-12)."""
    parts, n_points, n_states = SEPARABLE_CASES[case]
    problem = separable(*parts)
    solution = spectral(n_points).solve(problem, n_states)
    assert solution.status == "ok", solution.message
    exact = problem.reference(n_states).energies
    assert np.all(rel_energy_error(solution.energies, exact) <= 1e-10), solution.energies - exact
    # The states span the exact ones: every exact state of the computed set is fully captured.
    cross, _ = overlaps(solution, problem, n_states)
    np.testing.assert_allclose(np.linalg.svd(cross, compute_uv=False), 1.0, atol=1e-8)


def test_four_dimensions_on_the_separable_box():
    """d = 4 works where it fits: the hypercube's ground state and its 4-fold first level."""
    problem = separable(*["infinite_well"] * 4)
    solution = spectral(16).solve(problem, 5)
    exact = problem.reference(5).energies
    assert solution.info["matrix_size"] == 14**4
    assert np.all(rel_energy_error(solution.energies, exact) <= 1e-10), solution.energies - exact


@pytest.mark.parametrize(
    "problem, sizes, n_states",
    [
        (separable("finite_well", "finite_well"), (27, 33, 39), 3),
        pytest.param(
            separable("finite_well", "finite_well", "finite_well"), (27, 33, 39), 4, marks=pytest.mark.slow
        ),
        pytest.param(CoupledOscillator(), (30, 40, 50), 3, marks=pytest.mark.slow),
    ],
    ids=["finite_well_2d", "finite_well_3d", "coupled_oscillator"],
)
def test_convergence_is_geometric(problem, sizes, n_states):
    """Six (ten) more points per axis buy a factor >= 100: exponential, not a power of n, across the
    finite well's jumps and on a non-separable smooth potential (the iterative path's GMRES)."""
    exact = problem.reference(n_states).energies
    errors = [np.max(rel_energy_error(spectral(n).solve(problem, n_states).energies, exact)) for n in sizes]
    assert errors[0] > 1e-8, errors  # still resolution-limited, so the ratios measure convergence
    assert errors[0] / errors[1] >= 100 and errors[1] / errors[2] >= 100, errors


@pytest.mark.parametrize(
    "parts, n_points, group",
    [
        (["infinite_well"] * 2, 20, (1, 2)),
        (["infinite_well"] * 3, 20, (1, 2, 3)),
        (["finite_well"] * 3, 39, (4, 5, 6)),
    ],
    ids=["square", "cube", "finite_well_cube"],
)
def test_degenerate_groups_are_returned_whole(parts, n_points, group):
    """Every state of a degenerate level comes back, with the level's energy, and spans the level."""
    problem = separable(*parts)
    n_states = group[-1] + 1
    assert tuple(group) in problem.degenerate_groups(n_states)
    solution = spectral(n_points).solve(problem, n_states)
    exact = problem.reference(n_states).energies
    assert np.all(rel_energy_error(solution.energies[list(group)], exact[list(group)]) <= 1e-10)
    cross, _ = overlaps(solution, problem, n_states)
    block = cross[np.ix_(group, group)]  # any basis of the level: its principal angles are all zero
    np.testing.assert_allclose(np.linalg.svd(block, compute_uv=False), 1.0, atol=1e-8)


@pytest.mark.parametrize(
    "problem, n_points, n_states",
    [
        (separable("finite_well", "finite_well"), 33, 6),
        pytest.param(separable("finite_well", "infinite_well", "finite_well"), 27, 7, marks=pytest.mark.slow),
        (CoupledOscillator(), 40, 4),
        pytest.param(qbench.problems.get("circular_well"), 40, 6, marks=pytest.mark.slow),
    ],
    ids=["finite_well_2d", "mixed_3d", "coupled_oscillator", "circular_well"],
)
def test_wavefunctions_are_orthonormal_on_the_problems_rule_and_vanish_on_the_walls(
    problem, n_points, n_states
):
    solution = spectral(n_points).solve(problem, n_states)
    x, w = problem.quadrature_rule()
    psi = solution.wavefunctions(x)
    np.testing.assert_allclose((psi * w) @ psi.T, np.eye(n_states), atol=1e-10)
    rng = np.random.default_rng(0)
    box = np.array(problem.box)
    for axis in range(problem.dim):
        for wall in box[axis]:
            points = box[:, 0] + (box[:, 1] - box[:, 0]) * rng.random((50, problem.dim))
            points[:, axis] = wall
            np.testing.assert_allclose(solution.wavefunctions(points), 0.0, atol=1e-10)
    outside = box[:, 1] + 1.0
    assert np.all(solution.wavefunctions(outside[None, :]) == 0.0)


def test_states_are_continuous_across_interface_planes():
    """Cells meet on the finite well's breakpoint planes: the values agree from both sides."""
    problem = separable("finite_well", "finite_well")
    solution = spectral(33).solve(problem, 4)
    y = np.linspace(-3, 3, 41)
    for b in problem.axis_breakpoints[0]:
        left = solution.wavefunctions(np.column_stack([np.full_like(y, np.nextafter(b, -np.inf)), y]))
        right = solution.wavefunctions(np.column_stack([np.full_like(y, b), y]))
        np.testing.assert_allclose(left, right, atol=1e-12)


@pytest.mark.parametrize(
    "problem, n_points, n_states",
    [
        (separable("finite_well", "finite_well"), 33, 6),
        pytest.param(
            separable("infinite_well", "infinite_well", "infinite_well"), 12, 7, marks=pytest.mark.slow
        ),
        (CoupledOscillator(), 24, 4),  # the non-separable (GMRES) path at a fast size
        pytest.param(CoupledOscillator(), 36, 4, marks=pytest.mark.slow),
        pytest.param(qbench.problems.get("circular_well"), 28, 6, marks=pytest.mark.slow),
    ],
    ids=["finite_well_2d", "box_3d", "coupled_oscillator_24", "coupled_oscillator", "circular_well"],
)
def test_dense_and_iterative_eigensolvers_agree(problem, n_points, n_states):
    """Same discretization, two eigensolvers: the same energies and the same states (per level)."""
    dense = spectral_nd.solve(problem, n_states, n_points, eigensolver="dense")
    iterative = spectral_nd.solve(problem, n_states, n_points, eigensolver="iterative")
    assert dense.info["eigensolver"].startswith("dense") and iterative.info["eigensolver"].startswith(
        "iterative"
    )
    np.testing.assert_allclose(iterative.energies, dense.energies, rtol=1e-11)
    np.testing.assert_allclose(
        iterative.info["collocation_energies"], dense.info["collocation_energies"], rtol=1e-9
    )
    x, w = problem.quadrature_rule()
    cross = (dense.wavefunctions(x) * w) @ iterative.wavefunctions(x).T
    for group in qbench.problems.base.degenerate_groups(dense.energies, rtol=1e-9):
        block = cross[np.ix_(group, group)]
        np.testing.assert_allclose(np.linalg.svd(block, compute_uv=False), 1.0, atol=1e-8)


def test_the_circular_well_converges_only_algebraically_and_from_above():
    """The tensor grid cannot follow the circle: errors fall like a power of n, not exponentially,
    and Rayleigh-Ritz energies stay above the exact ones (measured ground state: 8e-3 at n = 30,
    2.7e-3 at 60, 6.1e-4 at 120)."""
    problem = qbench.problems.get("circular_well")
    reference = problem.reference(3)
    errors = []
    for n in (30, 60):
        energies = spectral(n).solve(problem, 3).energies
        assert np.all(energies >= reference.energies * (1 - reference.rel_error_bound))
        errors.append(np.max(rel_energy_error(energies, reference.energies)))
    assert errors[1] < errors[0] / 2  # converging ...
    assert errors[1] > errors[0] / 20  # ... but a doubling of n buys one digit at most: not spectral


def test_info_records_the_discretization_and_the_eigensolver():
    problem = separable("finite_well", "finite_well")
    info = spectral(33).solve(problem, 3).info
    assert info["dimension"] == 2 and info["points_per_axis"] == 33
    assert info["degrees"] == [[10, 10, 10]] * 2  # 33 points over 3 pieces of widths 2, 2, 2
    assert info["matrix_size"] == (33 - 6) ** 2 and len(info["collocation_energies"]) == 3
    # Separable V: the preconditioner's eigenvectors are H's own, so the iterative path needs no solve.
    assert info["separable_potential"] and info["eigensolver"].startswith("iterative")
    assert info["shift_invert_solves"] == 0
    small = spectral(24).solve(qbench.problems.get("circular_well"), 3).info
    assert not small["separable_potential"] and small["eigensolver"].startswith("dense")
    large = spectral(40).solve(qbench.problems.get("circular_well"), 3).info
    assert large["eigensolver"].startswith("iterative") and large["shift_invert_solves"] > 0
    # Converged, or stopped by rounding (which depends on the BLAS thread count) with a warning that
    # says so; the Ritz energies' error is the square of this residual either way.
    assert large["max_rel_residual"] <= spectral_nd._FAIL_RESIDUAL
    assert (large["max_rel_residual"] <= spectral_nd.RESIDUAL_TOL) != ("warning" in large)


@pytest.mark.parametrize(
    "parts, n_points, message",
    [
        (
            ["finite_well"] * 3,
            200,
            r"^n_points must be <= 85 per axis for 'separable' in 3D \(\d+ unknowns > 500000\), got 200$",
        ),
        (["infinite_well"] * 4, 40, r"^n_points must be <= 28 per axis .* in 4D"),
        (["finite_well"] * 2, 26, r"^n_points must be >= 27 per axis"),
    ],
)
def test_size_guard_names_n_points_and_its_range(parts, n_points, message):
    with pytest.raises(ValueError, match=message):
        spectral(n_points).solve(separable(*parts), 1)


def test_the_solver_takes_dimensions_one_to_four():
    assert qbench.solvers.get("spectral").dimensions == (1, 2, 3, 4)

"""Grading: one row per state in ascending energy, each state against its level, every d alike."""

from __future__ import annotations

import math

import pytest
from harness_doubles import SQUARE, Rotates

from qbench import problems, solvers
from qbench.harness.grading import grade, ungraded_rows
from qbench.solvers import Status


def test_a_2d_solution_is_graded_level_by_level_in_ascending_energy():
    problem = problems.get("separable", **SQUARE)
    rows = grade(Rotates().solve(problem, 4), problem)
    assert [(r["state"], r["group"]) for r in rows] == [(0, 0), (1, 1), (2, 1), (3, 2)]
    energies = [r["energy"] for r in rows]
    assert energies == sorted(energies) and all(r["abs_error"] == 0.0 for r in rows)
    for row in rows:  # a rotated basis of a level is as exact as any
        assert row["l2_error"] < 1e-12 and row["subspace_sine"] < 1e-12


def test_a_1d_solution_has_one_state_per_group():
    problem = problems.get("finite_well")
    rows = grade(solvers.get("fd").solve(problem, 2), problem)
    assert [(r["state"], r["group"]) for r in rows] == [(0, 0), (1, 1)]
    assert all(0 < r["subspace_sine"] <= r["l2_error"] * 1.001 for r in rows)  # sin(theta) vs 2 sin(theta/2)


def test_a_case_without_a_solution_has_the_same_columns_with_groups_and_nan_grades():
    problem = problems.get("separable", **SQUARE)
    rows = ungraded_rows(problem, 4)
    assert [r["group"] for r in rows] == [0, 1, 1, 2]
    assert [r["energy_ref"] for r in rows] == problem.reference(4).energies.tolist()
    for column in ("energy", "abs_error", "rel_error", "l2_error", "subspace_sine"):
        assert all(math.isnan(r[column]) for r in rows)
    assert [list(r) for r in rows] == [list(r) for r in grade(Rotates().solve(problem, 4), problem)]


def test_a_real_2d_solver_converges_at_its_order_in_every_graded_column():
    if 2 not in solvers.METHODS["fd"].dimensions:
        pytest.skip("fd does not take 2D problems here")
    problem = problems.get("separable", **SQUARE)
    errors = {}
    for n_points in (40, 80):
        solution = solvers.get("fd", n_points=n_points).solve(problem, 3)
        assert solution.status == Status.OK
        errors[n_points] = grade(solution, problem)
    for coarse, fine in zip(errors[40], errors[80]):
        assert coarse["group"] == fine["group"]
        # The energy is second order (h / 2 gives / 4). The states are fourth order: on this square
        # of infinite wells the discrete eigenvectors are exact samples of the sines, so only fd's
        # cubic-spline interpolant errs (h / 2 gives / 16).
        assert 3.5 < coarse["rel_error"] / fine["rel_error"] < 4.5, (coarse["rel_error"], fine["rel_error"])
        for column in ("l2_error", "subspace_sine"):
            assert 14.0 < coarse[column] / fine[column] < 18.0, (column, coarse[column], fine[column])
    # The degenerate pair, whatever basis fd returned: one level, one sine, the same distance by symmetry.
    pair = errors[80][1:]
    assert pair[0]["subspace_sine"] == pair[1]["subspace_sine"]
    assert pair[0]["l2_error"] == pytest.approx(pair[1]["l2_error"], rel=1e-6)

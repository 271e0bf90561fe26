"""numerics.collocation: the tensor Chebyshev collocation eigenproblem, its three eigensolver paths,
and the size rules the ``spectral`` solver and the certified references share."""

from __future__ import annotations

import numpy as np
import pytest

import qbench
from qbench.numerics import collocation
from qbench.problems.base import degenerate_groups


def coupled(points):
    """x^2 + y^2 + 0.6 x y: not separable on the axes."""
    return points[:, 0] ** 2 + points[:, 1] ** 2 + 0.6 * points[:, 0] * points[:, 1]


def solve_all(problem_or_potential, box, cuts, n_points, n_states, paths, curved_rule=None):
    return {
        path: collocation.solve(
            problem_or_potential, box, cuts, n_points, n_states, curved_rule, eigensolver=path
        )
        for path in paths
    }


def agree(results, rule):
    """Same energies and the same states, per level (any basis of a degenerate level is right)."""
    (first, a), *others = results.items()
    x, w = rule
    for name, b in others:
        np.testing.assert_allclose(b.energies, a.energies, rtol=1e-11, err_msg=f"{first} vs {name}")
        cross = (a.states(x) * w) @ b.states(x).T
        for group in degenerate_groups(a.energies, rtol=1e-9):
            block = cross[np.ix_(group, group)]
            np.testing.assert_allclose(np.linalg.svd(block, compute_uv=False), 1.0, atol=1e-8)


@pytest.mark.parametrize(
    "problem, n_points, n_states",
    [
        (qbench.problems.get("finite_well"), 60, 4),
        (qbench.problems.get("separable", parts=["finite_well", "finite_well"]), 33, 6),
        pytest.param(
            qbench.problems.get("separable", parts=["infinite_well"] * 3), 12, 7, marks=pytest.mark.slow
        ),
    ],
    ids=["finite_well_1d", "finite_well_2d", "box_3d"],
)
def test_separable_dense_and_iterative_paths_agree_on_a_separable_potential(problem, n_points, n_states):
    results = solve_all(
        problem.potential,
        problem.box,
        problem.axis_breakpoints,
        n_points,
        n_states,
        ("separable", "dense", "iterative"),
    )
    agree(results, problem.quadrature_rule())
    assert results["separable"].info["separable_potential"] and not results["separable"].failure
    np.testing.assert_allclose(
        results["separable"].info["collocation_energies"],
        results["dense"].info["collocation_energies"],
        rtol=1e-9,
    )


@pytest.mark.parametrize(
    ("name", "n_points"),
    [
        ("coupled", 24),  # the non-separable (GMRES) path at a fast size
        pytest.param("coupled", 36, marks=pytest.mark.slow),
        pytest.param("circular_well", 28, marks=pytest.mark.slow),
    ],
)
def test_dense_and_iterative_paths_agree_on_a_non_separable_potential(name, n_points):
    if name == "coupled":
        box, cuts, potential, curved = ((-6.5, 6.5),) * 2, ((), ()), coupled, None
        rule = qbench.numerics.quadrature.tensor_rule(box, cuts, 128)
        n_states = 4
    else:
        problem = qbench.problems.get("circular_well")
        box, cuts, potential, curved = (
            problem.box,
            problem.axis_breakpoints,
            problem.potential,
            problem.quadrature_rule,
        )
        rule = problem.quadrature_rule()
        n_states = 6
    results = solve_all(potential, box, cuts, n_points, n_states, ("dense", "iterative"), curved)
    agree(results, rule)
    assert results["iterative"].info["shift_invert_solves"] > 0
    np.testing.assert_allclose(
        results["iterative"].info["collocation_energies"],
        results["dense"].info["collocation_energies"],
        rtol=1e-9,
    )
    with pytest.raises(ValueError, match="eigensolver='separable' needs a separable V"):
        collocation.solve(potential, box, cuts, n_points, n_states, curved, eigensolver="separable")


def test_auto_takes_the_separable_path_in_1d_at_any_size():
    """No residual test to pass, no Krylov iteration: at 600 points the rounding of a residual
    (eps * ||L||, ~1e-9 here) is above the iterative path's tolerance, where it would stagnate."""
    problem = qbench.problems.get("harmonic_oscillator")
    result = collocation.solve(problem.potential, problem.box, problem.axis_breakpoints, 600, 3)
    assert result.info["eigensolver"].startswith("separable") and not result.failure
    np.testing.assert_allclose(result.energies, problem.reference(3).energies, rtol=1e-12)


def test_an_unknown_eigensolver_is_refused():
    with pytest.raises(
        ValueError, match="eigensolver must be one of 'auto', 'separable', 'dense', 'iterative'"
    ):
        collocation.solve(coupled, ((-1.0, 1.0),) * 2, ((), ()), 12, 1, eigensolver="arpack")


@pytest.mark.parametrize("n_states", [1, 3, 40, 200])
@pytest.mark.parametrize("cuts", [(), (0.5,), (-0.5, 0.1, 0.2, 0.7)])
def test_the_points_needed_in_1d_are_nine_per_piece_and_two_per_state(cuts, n_states):
    pieces = len(cuts) + 1
    expected = max(9 * pieces, 2 * n_states + 2 * pieces)
    assert collocation.minimum_points(((-1.0, 1.0),), (cuts,), n_states) == expected


def test_the_points_needed_in_d_dimensions_leave_room_for_the_krylov_block():
    box, cuts = ((0.0, 1.0),) * 2, ((), ())
    assert collocation.minimum_points(box, cuts, 3) == 9  # 49 unknowns: dense if not separable
    assert collocation.minimum_points(box, cuts, 400) == 31  # 841 >= 2 * 400 unknowns, dense if need be
    n = collocation.minimum_points(box, cuts, 700)  # past the dense limit: (700 + 4) * 4 unknowns
    assert collocation.unknowns(box, cuts, n) >= 2816 > collocation.unknowns(box, cuts, n - 1)
    assert collocation.max_points_per_axis(((0.0, 1.0),), ((),)) == collocation.MAX_POINTS

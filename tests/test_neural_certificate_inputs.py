"""What the neural solvers hand qbench's certificate: the Laplacian of the returned psi, the
estimator they report beside a trained E, and the guard against a training rule exploited."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qbench
from qbench.solvers.neural import deepxde_runtime, rules

STEP = 2e-3  # Richardson-extrapolated central differences: truncation ~STEP^4, rounding ~eps / STEP^2


def second_difference(solution: qbench.solvers.Solution, points: np.ndarray, step: float) -> np.ndarray:
    """sum_i (psi(x + h e_i) - 2 psi(x) + psi(x - h e_i)) / h^2 of the returned wavefunctions."""
    total = np.zeros((solution.n_states, len(points)))
    centre = solution.wavefunctions(points)
    for axis in range(points.shape[1]):
        shift = np.zeros(points.shape[1])
        shift[axis] = step
        plus, minus = solution.wavefunctions(points + shift), solution.wavefunctions(points - shift)
        total += (plus - 2 * centre + minus) / step**2
    return total


def finite_difference_laplacian(solution: qbench.solvers.Solution, points: np.ndarray) -> np.ndarray:
    """The Laplacian of the returned psi by second differences at STEP and STEP / 2, extrapolated
    (Richardson), so that the h^2 error of either does not hide a wrong derivative."""
    coarse = second_difference(solution, points, STEP)
    fine = second_difference(solution, points, STEP / 2)
    return (4 * fine - coarse) / 3


def interior_points(problem: qbench.problems.Problem, n: int) -> np.ndarray:
    """Random points of the box, none within 2 STEP of a wall or of a jump of V (where psi'' jumps)."""
    box = np.array(problem.box)
    points = box[:, 0] + np.random.default_rng(7).random((n, len(box))) * (box[:, 1] - box[:, 0])
    keep = np.ones(n, dtype=bool)
    for axis, cuts in enumerate(problem.axis_breakpoints):
        for cut in (*cuts, *box[axis]):
            keep &= np.abs(points[:, axis] - cut) > 2 * STEP
    return points[keep]


PROBLEMS = {
    1: lambda: qbench.problems.FiniteWell(),
    2: lambda: qbench.problems.get("separable", parts=["finite_well", "finite_barrier"]),
}
SHORT = {
    "pinn": {
        "warm_steps": 30,
        "warm_lbfgs_iterations": 10,
        "lbfgs_iterations": 10,
        "width": 12,
        "n_points": 256,
    },
    "nn-galerkin": {"adam_steps": 30, "width": 12, "n_points": 256},
}


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("name", ["pinn", "nn-galerkin"])
def test_the_laplacian_is_that_of_the_returned_psi(name, dim):
    problem = PROBLEMS[dim]()
    solution = qbench.solvers.get(name, **SHORT[name]).solve(problem, 2)
    points = interior_points(problem, 300)
    supplied = solution.laplacians(points)
    assert supplied.shape == (2, len(points)) and supplied.dtype == np.float64
    assert solution.derivatives_by == "forward-mode autodiff"
    differenced = finite_difference_laplacian(solution, points)
    for k in range(2):
        scale = np.max(np.abs(supplied[k]))
        assert scale > 0
        assert np.max(np.abs(supplied[k] - differenced[k])) < 1e-5 * scale


def test_the_laplacian_is_evaluated_in_chunks():
    problem = PROBLEMS[1]()
    solution = qbench.solvers.get("nn-galerkin", **SHORT["nn-galerkin"]).solve(problem, 1)
    points = np.linspace(-2.9, 2.9, 3 * 8192 + 5)[:, None]
    whole = solution.laplacians(points)
    assert whole.shape == (1, len(points))
    np.testing.assert_array_equal(whole[:, -5:], solution.laplacians(points[-5:]))


def test_deepxde_laplacian_is_the_autograd_second_derivative_of_the_scaled_state():
    """Without DeepXDE: its state wrapper around any torch network, sign and normalization included."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    state = deepxde_runtime._State(net, 1.0)
    state.scale = -2.5
    x = np.linspace(0.1, 0.9, 9)[:, None]
    differenced = (state.values(x + STEP) - 2 * state.values(x) + state.values(x - STEP)) / STEP**2
    supplied = deepxde_runtime._Evaluator([state]).laplacian(x)
    assert supplied.shape == (1, 9)
    assert np.max(np.abs(supplied[0] - differenced)) < 1e-5 * np.max(np.abs(differenced))


def test_a_trained_energy_is_reported_beside_the_rayleigh_quotient():
    problem = qbench.problems.FiniteWell()
    tiny = {"adam_steps": 30, "n_points": 64, "width": 16}
    trainable = qbench.solvers.get("pinn-trainable", **tiny).solve(problem, 2)
    assert trainable.trained_energies is not None
    np.testing.assert_array_equal(trainable.trained_energies, trainable.info["energy_parameter"])
    np.testing.assert_array_equal(trainable.energies, trainable.info["rayleigh_energy"])
    assert not np.array_equal(trainable.energies, trainable.trained_energies)
    fixed = qbench.solvers.get("pinn-fixed", **tiny).solve(problem, 1)
    assert fixed.trained_energies is None
    galerkin = qbench.solvers.get("nn-galerkin", **tiny).solve(problem, 1)
    assert galerkin.trained_energies is None
    np.testing.assert_array_equal(galerkin.energies, galerkin.info["rayleigh_energy"])


def test_the_ground_state_floor_is_exact_for_piecewise_and_separable_problems():
    well = qbench.problems.FiniteWell()
    assert rules.potential_floor(well) == (0.0, "exact")
    cube = qbench.problems.get("separable", parts=["finite_well"] * 3)
    floor, how = rules.ground_state_floor(cube)
    assert how == "exact" and floor == pytest.approx(3 * (np.pi / 6) ** 2)
    assert floor < cube.reference(1).energies[0]


@pytest.mark.slow  # seconds of training
def test_a_fixed_tiny_point_set_is_exploited_and_the_guard_fails_the_state():
    """32 fixed random points in 3D: the Ritz value falls below min V + the box's ground level."""
    cube = qbench.problems.get("separable", parts=["finite_well"] * 3)
    options = {"adam_steps": 100, "width": 16, "n_points": 32, "sampling": "random"}
    fixed = qbench.solvers.get("nn-galerkin", **options).solve(cube, 1)
    assert fixed.status == "failed"
    assert "quadrature exploited: training energy" in fixed.message
    assert "below the lower bound 0.822467 on E0" in fixed.message
    assert fixed.info["training_point_sets"] == 1 and fixed.info["iterations"] < 100
    drawn = qbench.solvers.get("nn-galerkin", resample_every=1, **options).solve(cube, 1)
    assert drawn.status == "ok", drawn.message
    assert drawn.info["training_point_sets"] == 100
    assert drawn.energies[0] >= cube.reference(1).energies[0]


@pytest.mark.slow  # seconds of training
def test_sobol_points_are_drawn_afresh_each_step_and_repeat_bit_for_bit():
    cube = qbench.problems.get("separable", parts=["finite_well"] * 3)
    options = {"adam_steps": 20, "width": 8, "n_points": 64, "sampling": "gauss"}
    one = qbench.solvers.get("nn-galerkin", **options).solve(cube, 1)
    two = qbench.solvers.get("nn-galerkin", **options).solve(cube, 1)
    assert one.info["collocation"] == "sobol" and one.info["training_point_sets"] == 20
    assert [r["energy"] for r in one.info["history"]] == [r["energy"] for r in two.info["history"]]
    assert one.energies[0] == two.energies[0]


def test_pinn_residual_only_is_pinn_without_its_warm_start():
    assert qbench.solvers.family("pinn-residual-only") == "pinn"
    options = qbench.solvers.get("pinn-residual-only").options
    assert "warm_steps" not in options and "warm_lbfgs_iterations" not in options
    assert {k: v for k, v in qbench.solvers.get("pinn").options.items() if k in options} == options
    problem = qbench.problems.FiniteWell()
    solution = qbench.solvers.get("pinn-residual-only", lbfgs_iterations=20, width=12).solve(problem, 1)
    assert solution.info["warm_start"] is False
    assert {row["phase"] for row in solution.info["history"]} <= {"residual-lbfgs", "residual-final"}

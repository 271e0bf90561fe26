"""What every neural solver does alike, in 1D and 2D, on budgets of a second or less.

The class modules import without torch (checked in test_imports.py, in the fresh interpreter of
its start-up checks); the option tables name the activations; a seed gives bit-identical results;
the time limit, a NaN, a collapsed state and the options are handled the same way in every d.
Accuracy targets live in benchmarks/bench_pinn.py, bench_pinn_residual.py, bench_paper_pinn.py
and bench_pinn_nd.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import qbench
from qbench.solvers.neural import base, functionals, trial

NEURAL = ("nn-galerkin", "pinn", "pinn-fixed", "pinn-trainable")
# A few dozen optimizer steps on a small network and a few hundred points: < 1 s per state.
TINY = {
    "pinn": dict(width=12, n_points=144, warm_steps=30, warm_lbfgs_iterations=10, lbfgs_iterations=10),
    "nn-galerkin": dict(width=12, n_points=144, adam_steps=30),
    "pinn-fixed": dict(width=12, n_points=144, adam_steps=30),
    "pinn-trainable": dict(width=12, n_points=144, adam_steps=30),
}
# The float32 presets (the reference paper's dtype) are orthonormal to float32 rounding only.
ORTHONORMAL_ATOL = {"pinn": 1e-10, "nn-galerkin": 1e-10, "pinn-fixed": 1e-5, "pinn-trainable": 1e-5}


def problem_of(d: int):
    """1D: the finite well; 2D: the 1 x 1.5 box (E = pi^2 (n1^2 + n2^2 / 1.5^2), no degeneracy)."""
    if d == 1:
        return qbench.problems.FiniteWell()
    return qbench.problems.get("separable", parts=["infinite_well", {"name": "infinite_well", "length": 1.5}])


def square():
    """The unit square: E = pi^2 (n1^2 + n2^2), levels 2, 5, 5, 8 (times pi^2)."""
    return qbench.problems.get("separable", parts=["infinite_well", "infinite_well"])


def test_the_option_tables_name_the_activations_the_networks_have():
    assert base.ACTIVATION_NAMES == tuple(trial.ACTIVATIONS)


@pytest.mark.parametrize("name", NEURAL)
def test_every_neural_family_takes_one_to_four_dimensions_and_pinn_and_galerkin_ten(name):
    expected = tuple(range(1, 11)) if name in ("pinn", "nn-galerkin") else (1, 2, 3, 4)
    assert qbench.solvers.get(name).dimensions == expected
    assert qbench.solvers.METHODS["deepxde"].dimensions == (1,)


@pytest.mark.parametrize(
    ("name", "d"),
    # 2D repeats 1D's seeding (one code path for every d; test_neural_high_dim seeds pinn and
    # nn-galerkin in d >= 5): slow, but for pinn-fixed, whose energy only a 2D run can check.
    [
        pytest.param(name, d, marks=[pytest.mark.slow] if d == 2 and name != "pinn-fixed" else [])
        for name in NEURAL
        for d in (1, 2)
    ],
)
def test_same_seed_is_bit_identical_and_other_seeds_differ(name, d):
    problem = problem_of(d)
    points = problem.quadrature_rule(400)[0]
    runs = [qbench.solvers.get(name, seed=3, **TINY[name]).solve(problem, 1) for _ in range(2)]
    assert runs[0].energies.tobytes() == runs[1].energies.tobytes()
    assert runs[0].wavefunctions(points).tobytes() == runs[1].wavefunctions(points).tobytes()
    assert runs[0].info["final_loss"] == runs[1].info["final_loss"]
    other = qbench.solvers.get(name, seed=4, **TINY[name]).solve(problem, 1)
    assert other.wavefunctions(points).tobytes() != runs[0].wavefunctions(points).tobytes()
    if name != "pinn-fixed" or d > 1:  # pinn-fixed returns the exact E in 1D whatever the seed
        assert other.energies.tobytes() != runs[0].energies.tobytes()


@pytest.mark.parametrize("name", NEURAL)
def test_states_are_orthonormal_ascending_and_shaped_in_2d(name):
    """Three states of the square (a ground state and a degenerate pair): an orthonormal basis."""
    problem = square()
    solution = qbench.solvers.get(name, **TINY[name]).solve(problem, 3)
    points, weights = problem.quadrature_rule()
    psi = solution.wavefunctions(points)
    assert solution.energies.shape == (3,) and psi.shape == (3, len(weights))
    assert np.all(np.diff(solution.energies) >= 0)
    np.testing.assert_allclose((psi * weights) @ psi.T, np.eye(3), atol=ORTHONORMAL_ATOL[name])
    info = solution.info
    assert len(solution.state_status) == 3 and info["subspace_rotation"] is (name != "nn-galerkin")
    assert info["dimension"] == 2 and info["fine_points"] == len(weights)
    if name in ("pinn", "nn-galerkin"):
        # The default points in d >= 2 follow the trained states, drawn afresh as training goes.
        assert info["collocation"].startswith("adaptive: ") and info["training_point_sets"] > 1
    else:
        assert info["collocation"] == "uniform-grid"  # the reference paper's preset: its fixed grid
    assert info["node_check"].startswith("skipped")
    assert info["rayleigh_energy"] == pytest.approx(list(solution.energies), rel=1e-12)


@pytest.mark.parametrize("d", [1, 2])
def test_a_collapsed_state_fails_alone(monkeypatch, second_network_zeroed, d):
    """pinn-fixed: state 1 started at psi = 0 stays there (zero gradient): failed; state 0 is ok."""
    options = (
        # 1D, 100 steps: state 0's L2 error 0.005-0.015 on seeds 0-2 (300 steps: 0.003-0.010)
        dict(adam_steps=100, learning_rate=1e-2, n_points=64, width=16) if d == 1 else TINY["pinn-fixed"]
    )
    solver = qbench.solvers.get("pinn-fixed", **options)
    monkeypatch.setattr(trial, "network_for", second_network_zeroed(trial.network_for))
    problem = qbench.problems.InfiniteWell() if d == 1 else problem_of(2)
    solution = solver.solve(problem, 2)
    assert solution.state_status == ["ok", "failed"], solution.state_messages
    assert solution.state_messages[0] == "" and "collapsed" in solution.state_messages[1]
    assert solution.status == "failed" and solution.message.startswith("state 1:")
    assert solution.info["subspace_rotation"] is False
    assert qbench.metrics.wavefunction_l2_error(solution, problem)[0] < 0.5


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("name", ["nn-galerkin", "pinn"])
def test_time_limit_gives_timeout_for_every_unfinished_state(name, d):
    options = dict(TINY[name], time_limit_s=1e-6)
    solution = qbench.solvers.get(name, **options).solve(problem_of(d), 2)
    assert solution.status == "timeout" and "time limit" in solution.message
    assert solution.energies.shape == (2,)
    if name == "pinn":
        assert solution.state_status == ["timeout", "timeout"]


@pytest.mark.parametrize("d", [1, 2])
def test_a_nan_loss_is_diverged_not_an_exception(monkeypatch, d):
    def poisoned(stiffness, mass, coefficients):
        return torch.full((coefficients.shape[1],), float("nan"), dtype=stiffness.dtype, requires_grad=True)

    monkeypatch.setattr(functionals, "ritz_values", poisoned)
    solution = qbench.solvers.get("nn-galerkin", **TINY["nn-galerkin"]).solve(problem_of(d), 1)
    assert solution.status == "diverged" and "nan" in solution.message
    assert solution.info["steps"] == [0]


# training.py's L-BFGS check calls float() on a loss still in the graph; harmless, not ours.
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")
def test_a_nan_residual_is_diverged_not_an_exception(monkeypatch):
    def nan_residual(psi, grad, lap, potential, weights):
        energy = functionals.rayleigh_quotient(psi, grad, potential, weights)
        return energy * math.nan, energy

    monkeypatch.setattr(functionals, "relative_residual", nan_residual)
    solution = qbench.solvers.get("pinn", **TINY["pinn"]).solve(problem_of(1), 1)
    assert solution.status == "diverged" and solution.state_status == ["diverged"]


def test_info_records_training_and_resources():
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # not the solver's 1 (tests/conftest.py gives the session 1)
    try:
        options = dict(TINY["nn-galerkin"], width=16, log_every=5)
        solution = qbench.solvers.get("nn-galerkin", **options).solve(qbench.problems.InfiniteWell(), 1)
        assert torch.get_num_threads() == 2  # restored after training
    finally:
        torch.set_num_threads(before)
    info = solution.info
    assert {"step", "loss", "energy", "time_s", "state", "phase"} <= set(info["history"][0])
    assert [row["step"] for row in info["history"][:3]] == [0, 5, 10]
    assert info["steps"] == [30] and info["n_parameters"] == (1 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    assert info["device"] == "cpu" and info["dtype"] == "float64" and info["seed"] == 0
    assert info["peak_rss_mb_process"] > 0 and math.isnan(info["peak_gpu_mem_mb"])
    assert info["deterministic_algorithms"] is torch.are_deterministic_algorithms_enabled()
    assert info["wall_time_s"] > 0 and info["dimension"] == 1 and info["node_count"] == [0]


@pytest.mark.parametrize(
    ("names", "options", "match"),
    [
        (NEURAL, {"width": 0}, "width must be >= 1"),
        (NEURAL, {"depth": 1.5}, "depth"),
        (NEURAL, {"activation": "relu"}, "activation must be one of"),
        (NEURAL, {"dtype": "float16"}, "dtype must be one of"),
        (NEURAL, {"device": "tpu"}, "device must be one of"),
        (NEURAL, {"seed": -1}, "seed must be >= 0"),
        (NEURAL, {"threads": 0}, "threads must be >= 1"),
        (NEURAL, {"time_limit_s": -5.0}, "time_limit_s must be > 0"),
        (NEURAL, {"hidden": 3}, "unknown option"),
        (NEURAL, {"learning_rate": 0.0}, "learning_rate must be > 0"),
        (("pinn",), {"n_points": 8}, "n_points must be >= 16"),
        (("pinn",), {"warm_steps": -1}, "warm_steps"),
        (("pinn",), {"lbfgs_iterations": "many"}, "lbfgs_iterations"),
        (("pinn",), {"kink_features": "yes"}, "kink_features must be True or False"),
        (("pinn",), {"node_check": 1.0}, "node_check must be True or False"),
        (NEURAL[1:], {"adam_steps": -1}, "adam_steps must be >= "),
        (("nn-galerkin", "pinn-fixed", "pinn-trainable"), {"n_points": 4}, "n_points must be >= 8"),
        (("nn-galerkin", "pinn-fixed", "pinn-trainable"), {"adam_steps": 0}, "adam_steps must be >= 1"),
        (("nn-galerkin", "pinn-fixed", "pinn-trainable"), {"lbfgs_iterations": -1}, "lbfgs_iterations"),
        (("nn-galerkin", "pinn-fixed", "pinn-trainable"), {"optimizer": "sgd"}, "optimizer must be one of"),
        (("nn-galerkin", "pinn-fixed", "pinn-trainable"), {"energy": "magic"}, "energy must be one of"),
        (("nn-galerkin", "pinn-fixed", "pinn-trainable"), {"sampling": "sobol"}, "sampling must be one of"),
        (("pinn-fixed",), {"overlap_weight": -1.0}, "overlap_weight"),
        (("pinn",), {"sampling": "random"}, "sampling must be one of"),
        (NEURAL, {"envelope_decay": -1.0}, "envelope_decay must be >= 0"),
        (NEURAL, {"learning_rate_decay": 1.5}, r"learning_rate_decay must be in \(0, 1\]"),
        (NEURAL, {"learning_rate_decay": 0.0}, "learning_rate_decay must be > 0"),
    ],
)
def test_bad_options_raise_naming_the_option(names, options, match):
    for name in names:
        with pytest.raises(ValueError, match=match):
            qbench.solvers.get(name, **options)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error():
    for name in NEURAL:
        with pytest.raises(ValueError, match="device='cuda' but CUDA is not available"):
            qbench.solvers.get(name, device="cuda")


def test_a_five_dimensional_box_without_a_sampled_rule_is_refused():
    class Box5(qbench.problems.Problem):
        name = "box5"
        box = ((0.0, 1.0),) * 5
        params = {}

        def potential(self, points):
            return np.zeros(len(points))

        def level_energies(self, n):
            return np.zeros(n)

        def _compute_reference(self, n_states):
            raise NotImplementedError

    for name in NEURAL:
        # pinn and nn-galerkin take d = 5 on Monte Carlo points from the problem's sampled rule.
        message = (
            "has no sampled_rule" if name in ("pinn", "nn-galerkin") else "supports dimension 1, 2, 3, 4"
        )
        with pytest.raises(ValueError, match=message):
            qbench.solvers.get(name).solve(Box5(), 1)

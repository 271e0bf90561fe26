"""PINN solvers: behaviour with budgets of seconds (accuracy targets live in benchmarks/bench_pinn.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import qbench
from qbench.solvers.pinn import objectives
from qbench.solvers.pinn.network import TrialFunction
from qbench.solvers.pinn.solver import residual_loss_and_gradient

TINY = {"adam_steps": 30, "n_points": 64, "width": 16}


def test_fixed_energy_keeps_pi_squared_and_learns_the_shape():
    problem = qbench.problems.InfiniteWell()
    solution = qbench.solvers.get("pinn-fixed", adam_steps=300, learning_rate=1e-2).solve(problem, 1)
    assert solution.energies[0] == math.pi**2
    assert solution.info["history"][0]["loss"] > solution.info["final_loss"][0]
    assert qbench.metrics.wavefunction_l2_error(solution, problem)[0] < 0.5


def test_trainable_energy_moves_toward_the_reference():
    problem = qbench.problems.InfiniteWell()
    exact = problem.reference(1).energies[0]
    start = 12.0
    solver = qbench.solvers.get(
        "pinn-trainable",
        initial_energy=start,
        adam_steps=300,
        learning_rate=1e-2,
        energy_learning_rate=3e-2,
        norm_weight=1e4,
    )
    solution = solver.solve(problem, 1)
    energies = [row["energy"] for row in solution.info["history"]]
    assert energies[0] == start
    assert solution.status == "ok", solution.message
    assert abs(solution.energies[0] - exact) < 0.2 * abs(start - exact)


def test_energy_has_its_own_learning_rate():
    """E moves by about energy_learning_rate per Adam step, whatever the network's learning rate."""
    problem = qbench.problems.FiniteWell()
    options = dict(initial_energy=8.0, adam_steps=100, n_points=64, width=16, learning_rate=1e-4)
    fast = qbench.solvers.get("pinn-trainable", energy_learning_rate=0.05, **options).solve(problem, 1)
    slow = qbench.solvers.get("pinn-trainable", energy_learning_rate=1e-4, **options).solve(problem, 1)
    assert fast.info["initial_energy"] == [8.0] and fast.info["energy_learning_rate"] == 0.05
    assert abs(8.0 - fast.energies[0]) > 0.2  # > 20 times what E could move at the network's lr
    assert abs(8.0 - slow.energies[0]) <= 100 * 1e-4 * 1.01  # Adam moves at most ~lr per step


@pytest.mark.parametrize("name", ["pinn-fixed", "pinn-trainable"])
def test_psi_does_not_start_near_zero(name):
    """A fresh network gives integral psi^2 ~ 1e-3; the output layer is rescaled to 1 at init."""
    problem = qbench.problems.FiniteWell()
    options = dict(adam_steps=1, learning_rate=1e-9, n_points=256, width=32)
    if name == "pinn-trainable":
        options["energy_learning_rate"] = 1e-9
    scaled = qbench.solvers.get(name, **options).solve(problem, 1)
    raw = qbench.solvers.get(name, normalize_init=False, **options).solve(problem, 1)
    assert scaled.info["norm_integral"][0] == pytest.approx(1.0, rel=0.05)  # fine rule vs training rule
    assert raw.info["norm_integral"][0] < 1e-2  # the unscaled start the option exists for


def test_trainable_energy_started_far_off_collapses_and_says_so():
    """The paper's loss with normalization weight 1 and E started far away: psi -> 0.

    With n = integral psi^2 the loss n rho + w (n - 1)^2 is smallest at n = max(0, 1 - rho / 2w),
    and rho (the residual per unit norm) is far above 2 here, so even a normalized start collapses.
    """
    problem = qbench.problems.FiniteBarrier()
    solver = qbench.solvers.get("pinn-trainable", adam_steps=300, learning_rate=1e-2, norm_weight=1.0)
    solution = solver.solve(problem, 1)
    assert solution.status == "failed" and "collapsed to psi = 0" in solution.message
    assert solution.info["norm_integral"][0] < 1e-2


def test_box_rule_and_exact_offset_starts():
    problem = qbench.problems.FiniteWell()
    exact = problem.reference(2).energies
    tiny = dict(adam_steps=1, n_points=64, width=16)
    box = qbench.solvers.get("pinn-trainable", **tiny).solve(problem, 2)
    v_min = float(np.min(problem.potential(np.linspace(-3, 3, 1001))))
    assert box.info["initial_energy"] == pytest.approx([v_min + (k * math.pi / 6.0) ** 2 for k in (1, 2)])
    assert box.info["reads_exact_answer"] is False
    spellings = [("exact-20%", 0.8), ("exact+50%", 1.5), ("exact", 1.0), ("exact + 12.5%", 1.125)]
    for spelling, factor in spellings:
        solution = qbench.solvers.get("pinn-trainable", initial_energy=spelling, **tiny).solve(problem, 2)
        assert solution.info["initial_energy"] == pytest.approx(list(factor * exact))
        assert solution.info["reads_exact_answer"] is True
    fixed = qbench.solvers.get("pinn-fixed", **tiny).solve(problem, 1)
    assert fixed.info["reads_exact_answer"] is True


def test_exact_offset_start_needs_a_known_energy():
    class Unknown(qbench.problems.PiecewiseConstant):
        name = "unknown_energy"
        has_exact_reference = False

    with pytest.raises(
        ValueError, match="initial_energy='exact-10%' needs a problem whose energies are known"
    ):
        qbench.solvers.get("pinn-trainable", initial_energy="exact-10%").solve(Unknown([0.0, 1.0], [0.0]), 1)


@pytest.mark.parametrize("name", ["pinn-fixed", "pinn-trainable"])
def test_a_residual_state_with_the_wrong_sign_changes_fails_alone(monkeypatch, name):
    """The Sturm check reads no reference: a state whose lobes do not number k is not state k."""
    monkeypatch.setattr(objectives, "count_nodes", lambda psi: 1)  # every state "has" one node
    solution = qbench.solvers.get(name, **TINY).solve(qbench.problems.InfiniteWell(), 2)
    assert solution.state_status == ["failed", "ok"]
    assert "1 sign changes where state 0 has 0 (Sturm)" in solution.state_messages[0]
    assert solution.status == "failed" and solution.message.startswith("state 0:")


def test_variational_states_are_not_node_checked(monkeypatch):
    monkeypatch.setattr(objectives, "count_nodes", lambda psi: 7)
    solution = qbench.solvers.get("nn-galerkin", **TINY).solve(qbench.problems.InfiniteWell(), 2)
    assert solution.state_status == ["ok", "ok"]


def test_per_state_status_keeps_the_learned_state(second_network_zeroed):
    """State 0 learned while state 1 collapsed: state 0 ok, state 1 failed, the case failed."""
    solver = qbench.solvers.get("pinn-fixed", adam_steps=300, learning_rate=1e-2, n_points=64, width=16)
    solver._network = second_network_zeroed(solver._network)
    problem = qbench.problems.InfiniteWell()
    solution = solver.solve(problem, 2)
    assert solution.state_status == ["ok", "failed"], solution.state_messages
    assert solution.state_messages[0] == "" and "collapsed" in solution.state_messages[1]
    assert solution.status == "failed" and solution.message.startswith("state 1:")
    assert qbench.metrics.wavefunction_l2_error(solution, problem)[0] < 0.5
    healthy = qbench.solvers.get("pinn-fixed", adam_steps=300, learning_rate=1e-2, n_points=64, width=16)
    both = healthy.solve(problem, 2)
    assert both.state_status == ["ok", "ok"] and both.status == "ok"


@pytest.mark.parametrize("overlap_weight", [0.0, 3.0])
def test_hand_written_residual_gradient_matches_autograd(overlap_weight):
    torch.manual_seed(0)
    problem = qbench.problems.FiniteBarrier()
    network = TrialFunction(problem.domain, (), 8, 3, "tanh").double()
    x = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)
    w = torch.full_like(x, 1 / 50)
    v = torch.as_tensor(problem.potential(x.numpy()))
    energy = torch.tensor(20.0, dtype=torch.float64, requires_grad=True)
    previous = [torch.sin(3 * x), torch.cos(2 * x)]
    psi, _, d2psi = network.derivatives(x, 2)
    residual = (v - energy) * psi - d2psi
    loss = (w * residual**2).sum() + 7.0 * ((w * psi**2).sum() - 1) ** 2
    loss = loss + overlap_weight * objectives.overlap_penalty(psi, w, previous)
    loss.backward()
    expected = [p.grad.clone() for p in network.parameters()]
    network.zero_grad(set_to_none=True)
    manual, g_energy = residual_loss_and_gradient(
        network, x, w, v, energy.detach(), 7.0, 1.0, previous, overlap_weight
    )
    torch.testing.assert_close(manual, loss.detach())
    torch.testing.assert_close(g_energy, energy.grad)
    for p, g in zip(network.parameters(), expected):
        torch.testing.assert_close(p.grad, g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("energy", ["galerkin", "ritz"])
def test_variational_energy_never_falls_below_the_ground_state(energy, canonical):
    solution = qbench.solvers.get("nn-galerkin", energy=energy, **TINY).solve(canonical, 1)
    exact = canonical.reference(1).energies[0]
    # Upper bound up to quadrature error (Gauss panels end at the breakpoints: ~1e-12 here).
    assert solution.energies[0] >= exact * (1 - 1e-10)
    assert solution.info["rayleigh_energy"][0] >= exact * (1 - 1e-10)


def test_galerkin_gives_ordered_excited_states_above_the_exact_ones():
    problem = qbench.problems.FiniteWell()
    solution = qbench.solvers.get("nn-galerkin", adam_steps=100, n_points=128, width=32).solve(problem, 3)
    exact = problem.reference(3).energies
    assert np.all(solution.energies >= exact * (1 - 1e-10))  # min-max: each Ritz value bounds its state
    assert np.all(qbench.metrics.rel_energy_error(solution.energies, exact) < 0.05)


def test_deflation_trains_one_network_per_state():
    problem = qbench.problems.InfiniteWell()
    solution = qbench.solvers.get("nn-galerkin", energy="ritz", adam_steps=200, n_points=64, width=16).solve(
        problem, 2
    )
    assert len(solution.info["steps"]) == 2
    assert {row["state"] for row in solution.info["history"]} == {0, 1}
    nodes, weights = qbench.numerics.quadrature.domain_rule(problem.domain, problem.breakpoints)
    psi = solution.wavefunctions(nodes)
    assert abs((psi[0] * psi[1]) @ weights) < 0.2  # the penalty keeps state 1 away from state 0
    assert solution.energies[1] > 2 * solution.energies[0]


@pytest.mark.parametrize("name", ["nn-galerkin", "pinn-trainable"])
def test_same_seed_is_bit_identical_on_cpu(name):
    problem = qbench.problems.FiniteWell()
    first = qbench.solvers.get(name, seed=3, **TINY).solve(problem, 1)
    second = qbench.solvers.get(name, seed=3, **TINY).solve(problem, 1)
    other = qbench.solvers.get(name, seed=4, **TINY).solve(problem, 1)
    np.testing.assert_array_equal(first.energies, second.energies)
    assert first.info["final_loss"] == second.info["final_loss"]
    assert other.energies[0] != first.energies[0]


def test_info_records_training_and_resources():
    threads = torch.get_num_threads()
    solution = qbench.solvers.get("nn-galerkin", log_every=5, **TINY).solve(qbench.problems.InfiniteWell(), 1)
    info = solution.info
    assert torch.get_num_threads() == threads  # restored after training
    assert {"step", "loss", "energy", "time_s", "state", "phase"} <= set(info["history"][0])
    assert [row["step"] for row in info["history"][:3]] == [0, 5, 10]
    assert info["steps"] == [30] and info["n_parameters"] == (1 * 16 + 16) + (16 * 16 + 16) + (16 + 1)
    assert info["device"] == "cpu" and info["dtype"] == "float64" and info["seed"] == 0
    assert info["peak_rss_mb_process"] > 0 and math.isnan(info["peak_gpu_mem_mb"])
    assert info["deterministic_algorithms"] is torch.are_deterministic_algorithms_enabled()
    assert info["wall_time_s"] > 0


def test_nan_loss_stops_training_as_diverged_without_raising(monkeypatch):
    def poisoned(stiffness, mass, coefficients):
        return torch.full((coefficients.shape[1],), float("nan"), dtype=stiffness.dtype, requires_grad=True)

    monkeypatch.setattr(objectives, "ritz_values", poisoned)
    solution = qbench.solvers.get("nn-galerkin", **TINY).solve(qbench.problems.InfiniteWell(), 1)
    assert solution.status == "diverged"
    assert "nan" in solution.message
    assert solution.info["steps"] == [0]


def test_nan_parameters_end_galerkin_training_as_diverged():
    """Parameters that became NaN must not crash the eigen-solve of the output layer."""
    solver = qbench.solvers.get("nn-galerkin", **TINY)
    build = solver._network

    def poisoned(context):
        network = build(context)
        with torch.no_grad():
            network.hidden[0].weight.fill_(float("nan"))
        return network

    solver._network = poisoned
    solution = solver.solve(qbench.problems.FiniteWell(), 2)
    assert solution.status == "diverged"
    assert np.all(np.isnan(solution.energies))


def test_time_limit_stops_training_as_timeout():
    solver = qbench.solvers.get("nn-galerkin", adam_steps=100000, n_points=64, width=16, time_limit_s=0.2)
    solution = solver.solve(qbench.problems.InfiniteWell(), 1)
    assert solution.status == "timeout"
    assert solution.info["steps"][0] < 100000
    assert np.isfinite(solution.energies[0])


def test_collapse_to_zero_is_reported_as_failed(monkeypatch):
    """A residual-loss state whose integral of psi^2 ends near 0 is a failure, not a result."""
    solver = qbench.solvers.get("pinn-fixed", adam_steps=1, n_points=64, width=16)
    monkeypatch.setattr(solver, "_network", _zero_network(solver._network))
    solution = solver.solve(qbench.problems.InfiniteWell(), 1)
    assert solution.status == "failed" and "collapsed" in solution.message
    assert solution.state_status == ["failed"]


def _zero_network(build):
    def build_zero(context):
        network = build(context)
        with torch.no_grad():
            network.output.weight.zero_()
            network.output.bias.zero_()
        return network

    return build_zero


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"width": 0}, "width must be >= 1"),
        ({"depth": 0}, "depth must be >= 1"),
        ({"adam_steps": 0}, "adam_steps must be >= 1"),
        ({"lbfgs_iterations": -1}, "lbfgs_iterations must be >= 1"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"learning_rate": -1e-3}, "learning_rate must be > 0"),
        ({"activation": "relu"}, "activation must be one of"),
        ({"optimizer": "sgd"}, "optimizer must be one of"),
        ({"energy": "magic"}, "energy must be one of"),
        ({"dtype": "float16"}, "dtype must be one of"),
        ({"device": "tpu"}, "device must be one of"),
        ({"n_points": 4}, "n_points must be >= 8"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"hidden": 3}, "unknown option"),
    ],
)
def test_bad_options_raise_naming_the_option(options, match):
    for name in ("nn-galerkin", "pinn-fixed", "pinn-trainable"):
        with pytest.raises(ValueError, match=match):
            qbench.solvers.get(name, **options)


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("nn-galerkin", {"energy": "trainable"}, "energy must be one of 'galerkin', 'ritz', got 'trainable'"),
        ("nn-galerkin", {"energy": "rayleigh"}, "energy must be one of 'galerkin', 'ritz'"),
        ("pinn-fixed", {"energy": "trainable"}, "energy must be one of 'fixed', got 'trainable'"),
        ("pinn-trainable", {"energy": "galerkin"}, "energy must be one of 'trainable', got 'galerkin'"),
        ("pinn-trainable", {"energy": "rayleigh"}, "energy must be one of 'trainable'"),
        ("nn-galerkin", {"norm_weight": 10.0}, "unknown option.*norm_weight"),
        ("pinn-fixed", {"initial_energy": 3.0}, "unknown option.*initial_energy"),
        ("pinn-fixed", {"energy_learning_rate": 0.1}, "unknown option.*energy_learning_rate"),
        ("pinn-trainable", {"initial_energy": "guess"}, "initial_energy must be 'box', a finite number, or"),
        ("pinn-trainable", {"initial_energy": "exact*0.8"}, "initial_energy must be 'box'"),
        ("pinn-trainable", {"initial_energy": "exact+60%"}, "within -50%..\\+50%"),
        ("pinn-trainable", {"initial_energy": "exact-50.5%"}, "within -50%..\\+50%"),
        ("pinn-trainable", {"energy_learning_rate": 0.0}, "energy_learning_rate must be > 0"),
        ("pinn-trainable", {"norm_weight": -1.0}, "norm_weight must be > 0"),
        ("pinn-trainable", {"normalize_init": "yes"}, "normalize_init must be one of True, False"),
    ],
)
def test_presets_accept_only_their_own_modes_and_options(name, options, match):
    with pytest.raises(ValueError, match=match):
        qbench.solvers.get(name, **options)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="device='cuda' but CUDA is not available"):
        qbench.solvers.get("nn-galerkin", device="cuda")


def test_fixed_energy_needs_a_known_energy():
    class Unknown(qbench.problems.PiecewiseConstant):
        name = "unknown_energy"
        has_exact_reference = False

    problem = Unknown([0.0, 1.0], [0.0])
    with pytest.raises(ValueError, match="energy='fixed' needs a problem whose energies are known"):
        qbench.solvers.get("pinn-fixed").solve(problem, 1)


def test_kink_features_let_psi_bend_at_the_breakpoints():
    network = qbench.solvers.pinn.network.TrialFunction((0.0, 1.0), (0.4,), 8, 1, "tanh").double()
    x = torch.tensor([0.4 - 1e-4, 0.4, 0.4 + 1e-4], dtype=torch.float64)
    psi, dpsi = network.value_and_derivative(x)
    (autograd_dpsi,) = torch.autograd.grad(network(x.requires_grad_(True)).sum(), x)
    torch.testing.assert_close(dpsi, autograd_dpsi)  # forward-carried derivative is exact
    assert torch.all(torch.isfinite(psi))

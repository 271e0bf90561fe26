"""The residual PINN ``pinn`` on budgets of a second or less (accuracy: benchmarks/bench_pinn_residual.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import qbench
from qbench.solvers.pinn import ResidualPinn, objectives, residual
from qbench.solvers.pinn.network import TrialFunction

# A few hundred optimizer steps on a small network: well under a second per state.
TINY = {"width": 16, "n_points": 64, "warm_steps": 50, "warm_lbfgs_iterations": 25, "lbfgs_iterations": 25}
SHORT = {
    "width": 16,
    "n_points": 96,
    "warm_steps": 100,
    "warm_lbfgs_iterations": 60,
    "lbfgs_iterations": 60,
}


def test_registered_as_pinn_in_the_pinn_family():
    assert isinstance(qbench.solvers.get("pinn"), ResidualPinn)
    assert qbench.solvers.family("pinn") == "pinn"


def test_short_training_finds_the_ground_state_from_above():
    """A few hundred steps on the infinite well: E0 = pi^2 to 1e-6, never below it.

    The energy is the Rayleigh quotient of the ground-state trial function on a
    fine Gauss rule, so by the variational principle it cannot fall below pi^2.
    """
    problem = qbench.problems.InfiniteWell()
    solution = ResidualPinn(**SHORT).solve(problem, 1)
    assert solution.status == "ok", solution.message
    error = (solution.energies[0] - math.pi**2) / math.pi**2
    assert -1e-12 < error < 1e-6
    assert qbench.metrics.wavefunction_l2_error(solution, problem)[0] < 1e-4


@pytest.mark.parametrize(
    "name, params",
    [
        ("finite_barrier", {}),
        ("piecewise_constant", dict(edges=[0.0, 0.3137, 1.0], values=[0.0, 37.0])),
    ],
)
def test_kinked_ground_state_lands_on_the_right_state(name, params):
    problem = qbench.problems.get(name, **params)
    solution = ResidualPinn(**SHORT).solve(problem, 1)
    exact = problem.reference(2).energies
    assert solution.status == "ok", solution.message
    assert solution.info["node_count"] == [0]
    assert abs(solution.energies[0] - exact[0]) < 1e-3 * abs(exact[1] - exact[0])


def test_excited_states_each_have_their_own_status_and_nodes():
    problem = qbench.problems.InfiniteWell()
    solution = ResidualPinn(**SHORT).solve(problem, 3)
    exact = problem.reference(3).energies
    assert solution.state_status == ["ok"] * 3, solution.state_messages
    assert solution.info["node_count"] == [0, 1, 2]
    np.testing.assert_allclose(solution.energies, exact, rtol=1e-5)
    # The states are orthogonal: lower states are projected out exactly.
    x, w = qbench.numerics.quadrature.domain_rule(problem.domain, (), n_points=2048)
    psi = solution.wavefunctions(x)
    np.testing.assert_allclose((psi * w) @ psi.T, np.eye(3), atol=1e-6)


def test_a_wrong_node_count_fails_that_state_only(monkeypatch):
    """State 0 ok while state 1 failed must be expressible; the case is ok only if every state is."""
    monkeypatch.setattr(residual, "count_nodes", lambda psi: 0)  # every state "has" no node
    solution = ResidualPinn(**TINY).solve(qbench.problems.InfiniteWell(), 2)
    assert solution.state_status == ["ok", "failed"]
    assert solution.state_messages[0] == ""
    assert "0 sign changes" in solution.state_messages[1] and "Sturm" in solution.state_messages[1]
    assert solution.status == "failed" and solution.message.startswith("state 1:")


def test_the_node_check_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(residual, "count_nodes", lambda psi: 0)
    solution = ResidualPinn(**TINY, node_check=False).solve(qbench.problems.InfiniteWell(), 2)
    assert solution.state_status == ["ok", "ok"]


@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("noise", [0.0, 1e-5])
def test_count_nodes_counts_sign_changes_but_not_rounding_noise(k, noise):
    """k - 1 interior nodes of sin(k pi x), then a tail (as deep in a barrier) where psi is
    noise of relative size ``noise`` that changes sign often: those are not nodes."""
    x = np.linspace(0.0, 1.0, 2001)[1:-1]
    tail = noise * np.sin(997.0 * x)
    assert residual.count_nodes(np.concatenate([np.sin(k * math.pi * x), tail])) == k - 1


# training.py's L-BFGS check calls float() on a loss still in the graph; harmless, not ours.
@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")
def test_nan_loss_is_diverged_not_an_exception(monkeypatch):
    def nan_residual(psi, dpsi, d2psi, potential, weights):
        energy = objectives.rayleigh_quotient(psi, dpsi, potential, weights)
        return energy * math.nan, energy

    monkeypatch.setattr(objectives, "relative_residual", nan_residual)
    solution = ResidualPinn(**TINY).solve(qbench.problems.InfiniteWell(), 1)
    assert solution.status == "diverged"
    assert solution.state_status == ["diverged"]


def test_time_limit_gives_timeout_for_every_unfinished_state():
    solution = ResidualPinn(**TINY, time_limit_s=1e-6).solve(qbench.problems.InfiniteWell(), 2)
    assert solution.state_status == ["timeout", "timeout"]
    assert "time limit" in solution.message


@pytest.mark.parametrize(
    "option, value",
    [
        ("width", 0),
        ("depth", 1.5),
        ("activation", "relu"),
        ("n_points", 8),
        ("warm_steps", -1),
        ("learning_rate", 0.0),
        ("lbfgs_iterations", "many"),
        ("dtype", "float16"),
        ("device", "tpu"),
        ("seed", -1),
        ("threads", 0),
        ("time_limit_s", -5.0),
        ("kink_features", "yes"),
        ("node_check", 1.0),
    ],
)
def test_bad_option_names_itself(option, value):
    with pytest.raises(ValueError, match=option):
        ResidualPinn(**{option: value})


def test_no_training_at_all_is_rejected_before_work():
    with pytest.raises(ValueError, match="adam_steps and lbfgs_iterations"):
        ResidualPinn(adam_steps=0, lbfgs_iterations=0).solve(qbench.problems.InfiniteWell(), 1)


def test_same_seed_is_bit_identical_and_other_seeds_differ():
    problem = qbench.problems.FiniteWell()
    first, again = (ResidualPinn(**TINY, seed=3).solve(problem, 1) for _ in range(2))
    other = ResidualPinn(**TINY, seed=4).solve(problem, 1)
    assert first.energies.tobytes() == again.energies.tobytes()
    assert [r["loss"] for r in first.info["history"]] == [r["loss"] for r in again.info["history"]]
    x = np.linspace(-3, 3, 101)
    assert first.wavefunctions(x).tobytes() == again.wavefunctions(x).tobytes()
    assert first.energies[0] != other.energies[0]


def test_state_zero_does_not_depend_on_how_many_states_are_asked():
    """The benchmark reads n_states=1 results off n_states=3 solves; this is why it may."""
    problem = qbench.problems.FiniteBarrier()
    one = ResidualPinn(**TINY, seed=1).solve(problem, 1)
    two = ResidualPinn(**TINY, seed=1).solve(problem, 2)
    assert one.energies[0] == two.info["trained_energy"][0] == one.info["trained_energy"][0]


@pytest.mark.parametrize("rotation", [True, False])
def test_subspace_rotation_orders_the_states_and_only_lowers_the_ground_energy(rotation):
    problem = qbench.problems.get("kronig_penney", n_wells=2)
    solution = ResidualPinn(**TINY, subspace_rotation=rotation).solve(problem, 2)
    trained = solution.info["trained_energy"]
    if rotation:  # the lowest Ritz value in the span is below the Rayleigh quotient of any member
        assert solution.energies[0] <= trained[0] + 1e-12 * abs(trained[0])
        assert solution.energies[0] <= solution.energies[1]
    else:
        assert list(solution.energies) == trained


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1e3])
def test_loss_is_scale_free_so_psi_zero_is_no_minimum(scale):
    """loss(c psi) = loss(psi): shrinking psi toward 0 never lowers it, unlike residual + norm penalty."""
    torch.manual_seed(0)
    problem = qbench.problems.FiniteBarrier()
    net = TrialFunction(problem.domain, problem.breakpoints, 16, 2, "tanh").double()
    x, w = objectives.rule(problem, "gauss", 128, True, np.random.default_rng(0))
    v = torch.as_tensor(problem.potential(x))
    x, w = torch.as_tensor(x), torch.as_tensor(w)
    values = net.derivatives(x, 2)
    loss, energy = objectives.relative_residual(*values, v, w)
    scaled_loss, scaled_energy = objectives.relative_residual(*(scale * d for d in values), v, w)
    assert float(scaled_loss) == pytest.approx(float(loss), rel=1e-12)
    assert float(scaled_energy) == pytest.approx(float(energy), rel=1e-12)
    # The loss's gradient has no component along psi itself (d/dc loss(c psi) = 0).
    c = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(objectives.relative_residual(*(c * d for d in values), v, w)[0], c)
    assert abs(float(grad)) < 1e-10 * float(loss)


def test_residual_energy_is_the_best_energy_for_the_trial_function():
    """E = Rayleigh quotient minimizes sum(w r^2) over E for a fixed psi (so no separate E is trained)."""
    torch.manual_seed(1)
    problem = qbench.problems.InfiniteWell()
    net = TrialFunction(problem.domain, (), 16, 2, "tanh").double()
    x, w = (torch.as_tensor(a) for a in objectives.rule(problem, "gauss", 128, True, None))
    v = torch.zeros_like(x)
    psi, dpsi, d2psi = net.derivatives(x, 2)
    loss, energy = objectives.relative_residual(psi, dpsi, d2psi, v, w)
    for shift in (-1e-2, 1e-2):
        r = -d2psi + (v - energy - shift) * psi
        assert float((w * r**2).sum() / (w * psi**2).sum()) > float(loss)


def test_info_history_and_progress():
    reports = []
    with qbench.progress.listening(lambda done, total: reports.append((done, total))):
        solution = ResidualPinn(**TINY).solve(qbench.problems.InfiniteWell(), 2)
    info = solution.info
    for key in ("history", "steps", "iterations", "final_loss", "n_parameters", "device", "dtype", "seed"):
        assert key in info
    assert math.isnan(info["peak_gpu_mem_mb"])
    assert {row["state"] for row in info["history"]} == {0, 1}
    assert {"step", "phase", "loss", "energy", "time_s"} <= set(info["history"][0])
    assert {row["phase"].split("-")[0] for row in info["history"]} == {"rayleigh", "residual"}
    assert info["iterations"] == sum(info["steps"])
    assert reports and reports[-1][0] <= reports[-1][1]
    assert all(b[0] >= a[0] for a, b in zip(reports, reports[1:]))

"""The reference paper's PINNs ``pinn-fixed`` and ``pinn-trainable`` (arXiv 2504.05367), 1D and 2D.

Behaviour with budgets of seconds; the tuning protocol and accuracy are benchmarks/bench_paper_pinn.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import qbench
from qbench.solvers.neural import states, trial

TINY = {"adam_steps": 30, "n_points": 64, "width": 16}


def test_fixed_energy_keeps_pi_squared_and_learns_the_shape():
    problem = qbench.problems.InfiniteWell()
    # 100 steps: L2 error 0.004-0.022 on seeds 0-2 (300 steps: at most 0.005)
    solution = qbench.solvers.get("pinn-fixed", adam_steps=100, learning_rate=1e-2).solve(problem, 1)
    assert solution.energies[0] == math.pi**2 and solution.info["energy_parameter"] == [math.pi**2]
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
    assert abs(solution.trained_energies[0] - exact) < 0.2 * abs(start - exact)


def test_energy_has_its_own_learning_rate():
    """E moves by about energy_learning_rate per Adam step, whatever the network's learning rate."""
    problem = qbench.problems.FiniteWell()
    options = dict(initial_energy=8.0, adam_steps=100, n_points=64, width=16, learning_rate=1e-4)
    fast = qbench.solvers.get("pinn-trainable", energy_learning_rate=0.05, **options).solve(problem, 1)
    slow = qbench.solvers.get("pinn-trainable", energy_learning_rate=1e-4, **options).solve(problem, 1)
    assert fast.info["initial_energy"] == [8.0] and fast.info["energy_learning_rate"] == 0.05
    assert abs(8.0 - fast.trained_energies[0]) > 0.2  # > 20 times what E could move at the network's lr
    assert abs(8.0 - slow.trained_energies[0]) <= 100 * 1e-4 * 1.01  # Adam moves at most ~lr per step


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
    # 100 steps: norm 5e-6 to 1e-5 on seeds 0-2 (300 steps: 6e-7 to 1e-5)
    solver = qbench.solvers.get("pinn-trainable", adam_steps=100, learning_rate=1e-2, norm_weight=1.0)
    solution = solver.solve(problem, 1)
    assert solution.status == "failed" and "collapsed to psi = 0" in solution.message
    assert solution.info["norm_integral"][0] < 1e-2


def test_collapse_to_zero_is_reported_as_failed(monkeypatch):
    """A residual-loss state whose integral of psi^2 ends near 0 is a failure, not a result."""
    build = trial.network_for

    def zero(*args):
        network = build(*args)
        network.output.weight.data.zero_()
        network.output.bias.data.zero_()
        return network

    monkeypatch.setattr(trial, "network_for", zero)
    solution = qbench.solvers.get("pinn-fixed", adam_steps=1, n_points=64, width=16).solve(
        qbench.problems.InfiniteWell(), 1
    )
    assert solution.status == "failed" and "collapsed" in solution.message
    assert solution.state_status == ["failed"]


@pytest.mark.parametrize("d", [1, 2])
def test_box_rule_and_exact_offset_starts(d):
    """The box start is min V plus the empty box's k-th level; 'exact...' starts read the answer."""
    if d == 1:
        problem, n_states = qbench.problems.FiniteWell(), 2
        v_min = float(np.min(problem.potential(np.linspace(-3, 3, 1001)[:, None])))
        box = [v_min + (k * math.pi / 6.0) ** 2 for k in (1, 2)]
    else:
        problem, n_states = qbench.problems.get("separable", parts=["infinite_well", "infinite_well"]), 3
        box = [2 * math.pi**2, 5 * math.pi**2, 5 * math.pi**2]
    exact = problem.reference(n_states).energies
    tiny = dict(adam_steps=1, n_points=64, width=8)
    solution = qbench.solvers.get("pinn-trainable", **tiny).solve(problem, n_states)
    assert solution.info["initial_energy"] == pytest.approx(box)
    assert solution.info["reads_exact_answer"] is False
    spellings = [("exact-20%", 0.8), ("exact+50%", 1.5), ("exact", 1.0), ("exact + 12.5%", 1.125)]
    for spelling, factor in spellings[: 4 if d == 1 else 1]:
        solution = qbench.solvers.get("pinn-trainable", initial_energy=spelling, **tiny).solve(
            problem, n_states
        )
        assert solution.info["initial_energy"] == pytest.approx(list(factor * exact))
        assert solution.info["reads_exact_answer"] is True
    fixed = qbench.solvers.get("pinn-fixed", **tiny).solve(problem, 1)
    assert fixed.info["energy_parameter"] == [problem.level_energies(1)[0]]
    assert fixed.info["reads_exact_answer"] is True


class Unknown(qbench.problems.PiecewiseConstant):
    name = "unknown_energy"
    has_exact_reference = False


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("pinn-fixed", {}, "energy='fixed' needs a problem whose energies are known"),
        (
            "pinn-trainable",
            {"initial_energy": "exact-10%"},
            "initial_energy='exact-10%' needs a problem whose",
        ),
    ],
)
def test_reading_the_answer_needs_a_known_energy(name, options, match):
    with pytest.raises(ValueError, match=match):
        qbench.solvers.get(name, **options).solve(Unknown([0.0, 1.0], [0.0]), 1)


@pytest.mark.parametrize("name", ["pinn-fixed", "pinn-trainable"])
def test_a_residual_state_with_the_wrong_sign_changes_fails_alone(monkeypatch, name):
    """The 1D Sturm check reads no reference: a state whose lobes do not number k is not state k."""
    monkeypatch.setattr(states, "count_nodes", lambda psi: 1)  # every state "has" one node
    solution = qbench.solvers.get(name, **TINY).solve(qbench.problems.InfiniteWell(), 2)
    assert solution.state_status == ["failed", "ok"]
    assert "1 sign changes where state 0 has 0 (Sturm)" in solution.state_messages[0]
    assert solution.status == "failed" and solution.message.startswith("state 0:")


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("pinn-fixed", {"energy": "trainable"}, "energy must be one of 'fixed', got 'trainable'"),
        ("pinn-trainable", {"energy": "galerkin"}, "energy must be one of 'trainable', got 'galerkin'"),
        ("pinn-trainable", {"energy": "rayleigh"}, "energy must be one of 'trainable'"),
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

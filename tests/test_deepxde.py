"""The ``deepxde`` peer solver with budgets of seconds (accuracy figures: benchmarks/bench_deepxde.py)."""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import types

import numpy as np
import pytest
import torch

import qbench
from qbench.solvers.neural import deepxde as peer
from qbench.solvers.neural import deepxde_runtime as runtime
from qbench.solvers.neural import states

if importlib.util.find_spec("deepxde") is None:  # in the ``test`` extra, so CI runs these
    pytest.skip("deepxde is not installed (pip install 'qbench[peers]')", allow_module_level=True)

TINY = {"adam_steps": 200, "lbfgs_steps": 20, "n_collocation": 64, "width": 16, "depth": 2}


def test_registered_in_the_pinn_family_with_an_install_hint():
    assert "deepxde" in qbench.solvers.available()
    assert qbench.solvers.family("deepxde") == "pinn"
    assert qbench.solvers.install_hint("deepxde") == "pip install 'qbench[peers]'"


@pytest.mark.slow  # a few seconds: DeepXDE's import and two trainings
def test_runs_and_is_graded_on_the_infinite_well(capfd):
    dde = runtime.load_deepxde()  # imported silently by the solver; loaded here to read its config
    capfd.readouterr()
    dtype, device = torch.get_default_dtype(), torch.get_default_device()
    dde_float, dde_seed = dde.config.default_float(), dde.config.random_seed
    problem = qbench.problems.InfiniteWell()
    solution = qbench.solvers.get("deepxde", log_every=50, **TINY).solve(problem, 2)

    out, err = capfd.readouterr()
    assert out == "" and err == ""  # DeepXDE's compile/train logs are silenced
    assert torch.get_default_dtype() == dtype and torch.get_default_device() == device
    assert dde.config.default_float() == dde_float and dde.config.random_seed == dde_seed

    exact = problem.reference(2).energies
    assert solution.status == "ok", solution.message
    assert solution.state_status == ["ok", "ok"]
    assert np.all(qbench.metrics.rel_energy_error(solution.energies, exact) < 5e-2)
    assert np.all(qbench.metrics.wavefunction_l2_error(solution, problem) < 0.1)
    info = solution.info
    assert info["steps"][0] >= TINY["adam_steps"] and info["node_count"] == [0, 1]
    assert info["initial_energy"] == pytest.approx([(k * math.pi) ** 2 for k in (1, 2)])
    assert {"step", "phase", "loss", "energy", "time_s", "state"} <= set(info["history"][0])
    assert {row["phase"] for row in info["history"]} == {"adam", "lbfgs"}
    assert info["device"] == "cpu" and info["dtype"] == "float64" and info["reads_exact_answer"] is False

    x = np.linspace(0.0, 1.0, 201)
    psi = solution.wavefunctions(x)
    assert psi.shape == (2, 201) and psi[:, 0] == pytest.approx([0.0, 0.0], abs=1e-12)
    assert np.all(psi[:, 20] > 0)  # each state rises from the left wall
    nodes, weights = problem.quadrature_rule()
    assert (solution.wavefunctions(nodes) ** 2) @ weights == pytest.approx([1.0, 1.0], rel=1e-10)


@pytest.mark.slow
def test_same_seed_is_bit_identical_on_cpu():
    problem = qbench.problems.FiniteWell()
    options = {**TINY, "adam_steps": 100, "lbfgs_steps": 10}
    first = qbench.solvers.get("deepxde", seed=3, **options).solve(problem, 1)
    second = qbench.solvers.get("deepxde", seed=3, **options).solve(problem, 1)
    other = qbench.solvers.get("deepxde", seed=4, **options).solve(problem, 1)
    np.testing.assert_array_equal(first.energies, second.energies)
    assert first.info["final_loss"] == second.info["final_loss"]
    assert other.energies[0] != first.energies[0]


@pytest.mark.slow
def test_wrong_sign_changes_fail_the_state_alone(monkeypatch):
    monkeypatch.setattr(states, "count_nodes", lambda psi: 1)
    options = {**TINY, "adam_steps": 100, "lbfgs_steps": 0}
    solution = qbench.solvers.get("deepxde", **options).solve(qbench.problems.InfiniteWell(), 2)
    assert solution.state_status == ["failed", "ok"]
    assert "1 sign changes where state 0 has 0 (Sturm)" in solution.state_messages[0]
    assert solution.status == "failed" and solution.message.startswith("state 0:")


@pytest.mark.slow
def test_time_limit_gives_timeout_not_an_exception():
    options = {**TINY, "adam_steps": 5000, "time_limit_s": 0.2}
    solution = qbench.solvers.get("deepxde", **options).solve(qbench.problems.InfiniteWell(), 1)
    assert solution.status == "timeout" and "time limit" in solution.message
    assert solution.info["steps"][0] < 5000


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"width": 0}, "width must be >= 1"),
        ({"depth": 0}, "depth must be >= 1"),
        ({"activation": "relu"}, "activation must be one of"),
        ({"n_collocation": 8}, "n_collocation must be >= 16"),
        ({"adam_steps": -1}, "adam_steps must be >= 0"),
        ({"lbfgs_steps": 1.5}, "lbfgs_steps"),
        ({"learning_rate": 0.0}, "learning_rate must be > 0"),
        ({"norm_weight": -1.0}, "norm_weight must be > 0"),
        ({"device": "tpu"}, "device must be one of"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"threads": 0}, "threads must be >= 1"),
        ({"time_limit_s": -1.0}, "time_limit_s must be > 0"),
        ({"hidden": 3}, "unknown option"),
    ],
)
def test_bad_options_raise_naming_the_option(options, match):
    with pytest.raises(ValueError, match=match):
        qbench.solvers.get("deepxde", **options)


def test_nothing_to_train_is_refused():
    solver = qbench.solvers.get("deepxde", adam_steps=0, lbfgs_steps=0)
    with pytest.raises(ValueError, match="adam_steps and lbfgs_steps are both 0"):
        solver.solve(qbench.problems.InfiniteWell(), 1)


def test_missing_deepxde_says_how_to_install(monkeypatch):
    monkeypatch.delitem(sys.modules, "deepxde", raising=False)
    monkeypatch.setattr(peer, "_find_spec", lambda name: None)
    with pytest.raises(
        ValueError, match=r"needs the optional package deepxde \(pip install 'qbench\[peers\]'\)"
    ):
        qbench.solvers.get("deepxde")

    def missing():
        raise ModuleNotFoundError("No module named 'deepxde'", name="deepxde")

    monkeypatch.setattr(runtime, "_import_deepxde", missing)
    with pytest.raises(ValueError, match=r"not installed"):
        runtime.load_deepxde()


def test_incompatible_torch_is_reported_as_such(monkeypatch):
    monkeypatch.delitem(sys.modules, "deepxde", raising=False)

    def broken():
        raise RuntimeError("DeepXDE requires PyTorch>=2.0.0.")

    monkeypatch.setattr(runtime, "_import_deepxde", broken)
    with pytest.raises(
        ValueError, match=r"installed but is not compatible with the installed torch .*PyTorch>=2"
    ):
        runtime.load_deepxde()


def test_another_backend_already_imported_is_a_clear_error(monkeypatch):
    fake = types.ModuleType("deepxde")
    fake.backend = types.SimpleNamespace(backend_name="tensorflow")
    monkeypatch.setitem(sys.modules, "deepxde", fake)
    with pytest.raises(ValueError, match="already imported in this process with backend 'tensorflow'"):
        runtime.load_deepxde()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="device='cuda' but CUDA is not available"):
        qbench.solvers.get("deepxde", device="cuda")


@pytest.mark.slow
def test_import_side_effects_are_undone(monkeypatch, capfd):
    """DeepXDE prints its backend on import and, where CUDA exists, makes CUDA the default device."""
    real = runtime.load_deepxde()
    monkeypatch.delitem(sys.modules, "deepxde")
    monkeypatch.setenv("DDE_BACKEND", "jax")
    dtype, device = torch.get_default_dtype(), torch.get_default_device()
    seen = {}

    def noisy():
        seen["backend"] = os.environ["DDE_BACKEND"]
        print("Using backend: pytorch", file=sys.stderr)
        torch.set_default_device("meta")  # stands for DeepXDE's set_default_device("cuda")
        torch.set_default_dtype(torch.float16)
        return real

    monkeypatch.setattr(runtime, "_import_deepxde", noisy)
    capfd.readouterr()
    assert runtime.load_deepxde() is real
    assert seen["backend"] == "pytorch" and os.environ["DDE_BACKEND"] == "jax"
    assert torch.get_default_device() == device and torch.get_default_dtype() == dtype
    assert torch.empty(1).device.type == device.type
    assert capfd.readouterr() == ("", "")

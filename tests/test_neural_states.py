"""States after training (qbench.solvers.neural.states): combinations, Ritz solve, checks, evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import qbench
from qbench.solvers.neural import states
from qbench.solvers.neural.states import StateSet


def test_dependent_states_and_the_ritz_solve():
    """Gram-Schmidt on the Gram matrix finds a state in the span of earlier ones; Ritz drops it."""
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 50))
    values = np.vstack([values, values[0] - 2.0 * values[2]])  # state 3 = state 0 - 2 state 2
    mass = values @ values.T
    eps = float(np.finfo(float).eps)
    assert states.dependent_states(mass, eps) == [3]
    assert states.dependent_states(mass[:3, :3], eps) == []
    stiffness = values @ np.diag(np.linspace(1, 2, 50)) @ values.T
    energies, vectors, kept = states.ritz_galerkin(stiffness, mass, eps)
    assert kept == 3 and vectors.shape == (4, 3)
    np.testing.assert_allclose(vectors.T @ mass @ vectors, np.eye(3), atol=1e-10)
    assert np.all(np.diff(energies) >= 0) and energies[0] >= 1.0 and energies[-1] <= 2.0


@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("noise", [0.0, 1e-5])
def test_count_nodes_counts_sign_changes_but_not_rounding_noise(k, noise):
    """k - 1 interior nodes of sin(k pi x), then a tail (as deep in a barrier) where psi is
    noise of relative size ``noise`` that changes sign often: those are not nodes."""
    x = np.linspace(0.0, 1.0, 2001)[1:-1]
    tail = noise * np.sin(997.0 * x)
    assert states.count_nodes(np.concatenate([np.sin(k * math.pi * x), tail])) == k - 1


def _functions(columns):
    """A generator of fixed functions of x (n, 1): values (n, m), gradients (n, 1, m), Laplacians."""

    def generate(x, order):
        values = torch.stack([f(x[:, 0]) for f in columns], dim=-1)
        return [values, values[:, None, :], values][: order + 1]

    return generate, len(columns)


def test_a_state_set_combines_its_functions_and_a_nan_spoils_only_its_own_states():
    x = torch.linspace(0.1, 0.9, 7, dtype=torch.float64)[:, None]
    good = _functions([torch.sin, torch.cos])
    bad = _functions([lambda t: t * math.nan])
    c = torch.tensor([[1.0, 0.0, 0.5], [2.0, 0.0, 0.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    psi = StateSet([good, bad], c).derivatives(x, 0)[0]
    t = x[:, 0]
    torch.testing.assert_close(psi[:, 0], torch.sin(t) + 2.0 * torch.cos(t))
    assert torch.isnan(psi[:, 1]).all() and torch.isnan(psi[:, 2]).all()
    rotated = StateSet([good], torch.eye(2, dtype=torch.float64)).rotated(np.array([[0.0, 1.0], [1.0, 0.0]]))
    torch.testing.assert_close(
        rotated.derivatives(x, 1)[1][:, 0, :], torch.stack([torch.cos(t), torch.sin(t)], -1)
    )


@pytest.mark.parametrize("d", [1, 2])
def test_fine_rule_integrals_and_the_evaluator(d):
    """Sine states of the unit box: orthonormal on the fine rule, energies pi^2 |n|^2, unit norms."""
    problem = (
        qbench.problems.get("infinite_well")
        if d == 1
        else qbench.problems.get("separable", parts=["infinite_well"] * 2)
    )
    fine = states.FineRule.of(problem, torch.device("cpu"), torch.float64)
    modes = [(1,) * d, (2,) + (1,) * (d - 1)]

    def generate(x, order):
        k = [math.pi * torch.tensor(m, dtype=torch.float64) for m in modes]
        scale = 2 ** (d / 2)
        values = [torch.prod(torch.sin(km * x), dim=1) * scale for km in k]
        grads = []
        for km in k:
            factors = torch.sin(km * x)
            grads.append(
                torch.stack(
                    [
                        km[i]
                        * torch.cos(km[i] * x[:, i])
                        * torch.prod(factors[:, [j for j in range(d) if j != i]], 1)
                        for i in range(d)
                    ],
                    dim=1,
                )
                * scale
            )
        return [torch.stack(values, -1), torch.stack(grads, -1)][: order + 1]

    state_set = StateSet([(generate, 2)], torch.eye(2, dtype=torch.float64))
    measured = fine.integrals(state_set, values=True)
    np.testing.assert_allclose(measured.mass, np.eye(2), atol=1e-12)
    expected = [math.pi**2 * sum(n * n for n in m) for m in modes]
    np.testing.assert_allclose(measured.rayleigh, expected, rtol=1e-12)
    np.testing.assert_allclose(np.diag(measured.stiffness), expected, rtol=1e-12)
    assert measured.values.shape == (len(fine), 2)
    evaluator = states.Evaluator(state_set, [2.0, 1.0], torch.device("cpu"), torch.float64, d)
    points = np.full((3, d), 0.5)
    np.testing.assert_allclose(evaluator(points)[0], 2 ** (d / 2) / 2.0)


def test_the_evaluator_runs_on_the_solvers_thread_count_and_restores_the_callers():
    """Grading and certificates evaluate a network as it trained, on the solver's threads: the same
    rounding, and no oversubscription when cases run side by side."""
    seen = []

    def generate(x, order):
        seen.append(torch.get_num_threads())
        return [torch.ones(len(x), 1, dtype=x.dtype)][: order + 1]

    evaluator = states.Evaluator(
        StateSet([(generate, 1)], torch.eye(1, dtype=torch.float64)),
        [1.0],
        torch.device("cpu"),
        torch.float64,
        1,
        threads=1,
    )
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        evaluator(np.zeros((4, 1)))
        assert seen == [1]
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)

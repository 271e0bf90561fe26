"""Energies and losses (qbench.solvers.neural.functionals) on a rule, in 1D and 2D."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qbench
from qbench.solvers.neural import functionals, rules, trial

BOXES = {
    1: lambda: qbench.problems.FiniteBarrier(),
    2: lambda: qbench.problems.get("separable", parts=["finite_barrier", "infinite_well"]),
}


def _setup(d: int, seed: int = 0):
    """A kinked network on a d-dimensional problem, and a Gauss training rule as tensors."""
    torch.manual_seed(seed)
    problem = BOXES[d]()
    network = trial.make_network(problem, 16, 2, "tanh", kink_features=True).double()
    x, w, _ = rules.training_rule(problem, "gauss", 128 if d == 1 else 400, True, 0, None)
    v = torch.as_tensor(rules.potential(problem, x))
    return problem, network, torch.as_tensor(x), torch.as_tensor(w), v


@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1e3])
def test_residual_loss_is_scale_free_so_psi_zero_is_no_minimum(d, scale):
    """loss(c psi) = loss(psi): shrinking psi toward 0 never lowers it, unlike residual + norm penalty."""
    _, network, x, w, v = _setup(d)
    values = [f.detach() for f in network.derivatives(x, 2)]
    loss, energy = functionals.relative_residual(*values, v, w)
    scaled_loss, scaled_energy = functionals.relative_residual(*(scale * f for f in values), v, w)
    assert float(scaled_loss) == pytest.approx(float(loss), rel=1e-12)
    assert float(scaled_energy) == pytest.approx(float(energy), rel=1e-12)
    # The loss's gradient has no component along psi itself (d/dc loss(c psi) = 0).
    c = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(functionals.relative_residual(*(c * f for f in values), v, w)[0], c)
    assert abs(float(grad)) < 1e-10 * float(loss)


@pytest.mark.parametrize("d", [1, 2])
def test_residual_energy_is_the_best_energy_for_the_trial_function(d):
    """E = Rayleigh quotient minimizes sum(w r^2) over E for a fixed psi (so no separate E is trained)."""
    _, network, x, w, v = _setup(d, seed=1)
    with torch.no_grad():
        psi, grad, lap = network.derivatives(x, 2)
        loss, energy = functionals.relative_residual(psi, grad, lap, v, w)
        assert float(energy) == float(functionals.rayleigh_quotient(psi, grad, v, w))
        for shift in (-1e-2, 1e-2):
            r = -lap + (v - energy - shift) * psi
            assert float((w * r**2).sum() / (w * psi**2).sum()) > float(loss)


@pytest.mark.parametrize("d", [1, 2])
def test_rayleigh_quotient_and_ritz_values_are_above_the_ground_state(d):
    """On an exact rule every trial function's energy, and the lowest Ritz value of any basis, is >= E0."""
    problem, network, _, _, _ = _setup(d, seed=2)
    x, w = (torch.as_tensor(a) for a in rules.fine_rule(problem))
    v = torch.as_tensor(rules.potential(problem, x.numpy()))
    exact = problem.level_energies(2)
    with torch.no_grad():
        psi, grad = network.derivatives(x, 1)
        assert float(functionals.rayleigh_quotient(psi, grad, v, w)) > exact[0]
        stiffness, mass = functionals.galerkin_matrices(network, x, w, v)
        coefficients = functionals.ritz_coefficients(stiffness, mass, 2)
        values = functionals.ritz_values(stiffness, mass, coefficients).numpy()
    assert np.all(values >= exact * (1 - 1e-10)) and values[0] < values[1]


def test_ritz_coefficients_of_a_collapsed_basis_are_nan():
    """Fewer independent directions than states (a NaN or a zero basis) gives NaN, ending training."""
    mass = torch.diag(torch.tensor([1.0, 1e-30, 0.0], dtype=torch.float64))
    assert torch.isnan(functionals.ritz_coefficients(mass, mass, 2)).all()
    assert torch.isnan(functionals.ritz_coefficients(mass * float("nan"), mass, 1)).all()
    assert not torch.isnan(functionals.ritz_coefficients(mass, mass, 1)).any()

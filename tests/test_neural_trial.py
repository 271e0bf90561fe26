"""The trial function (qbench.solvers.neural.trial) in every d: exact derivatives, hard walls, kinks."""

from __future__ import annotations

import pytest
import torch

import qbench
from qbench.solvers.neural import functionals, trial
from qbench.solvers.neural.trial import TrialFunction


def _network(
    d: int, activation: str = "tanh", envelope_decay: float = 0.0
) -> tuple[TrialFunction, torch.Tensor]:
    """A network on a box of unequal sides with axis kinks (and, for d >= 2, a circle), and points."""
    torch.manual_seed(d)
    box = [(-1.0, 2.0)] + [(0.0, 1.5)] * (d - 1)
    kinks = [(0.3,)] + [()] * (d - 2) + [(0.5, 1.0)] if d > 1 else [(0.3, 1.1)]
    circles = [((0.2,) * d, 0.7)] if d > 1 else []
    network = TrialFunction(box, kinks, circles, 6, 3, activation, envelope_decay).double()
    assert network.n_inputs == d + sum(len(cuts) for cuts in kinks) + len(circles)
    lo = torch.tensor([b[0] for b in box], dtype=torch.float64)
    x = lo + torch.rand(40, d, dtype=torch.float64) * torch.tensor([b[1] - b[0] for b in box])
    return network, x


@pytest.mark.parametrize("d", [1, 2, 3, 4])
@pytest.mark.parametrize(
    ("activation", "envelope_decay"), [("tanh", 0.0), ("sin", 0.0), ("silu", 0.0), ("tanh", 8.0)]
)
def test_forward_mode_derivatives_and_galerkin_basis_match_autograd(d, activation, envelope_decay):
    """psi, grad psi, the Laplacian (and the Galerkin basis's) equal nested autograd, with and
    without the Gaussian envelope."""
    network, x = _network(d, activation, envelope_decay)
    xr = x.clone().requires_grad_(True)
    functions = torch.cat([network(xr)[:, None], network.galerkin_basis(xr, 0)[0]], dim=1)
    ours = [
        torch.cat([a[..., None], b], dim=-1)
        for a, b in zip(network.derivatives(x), network.galerkin_basis(x, 2))
    ]
    for j in range(functions.shape[1]):
        (grad,) = torch.autograd.grad(functions[:, j].sum(), xr, create_graph=True)
        lap = sum(torch.autograd.grad(grad[:, i].sum(), xr, retain_graph=True)[0][:, i] for i in range(d))
        torch.testing.assert_close(ours[0][:, j], functions[:, j], rtol=1e-13, atol=1e-15)
        torch.testing.assert_close(ours[1][:, :, j], grad, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(ours[2][:, j], lap, rtol=1e-11, atol=1e-13)


def test_lower_orders_are_the_leading_entries_of_higher_ones():
    """Asking for fewer derivatives (the points' features then come from the cache) changes nothing."""
    network, x = _network(2)
    full = network.derivatives(x, 2)
    for order in (1, 0):
        for ours, theirs in zip(network.derivatives(x, order), full):
            assert torch.equal(ours, theirs)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_trial_function_vanishes_on_every_wall(d):
    box = [(0.0, 1.0), (-2.0, 3.0), (1.0, 1.5)][:d]
    network = TrialFunction(box, [()] * d, [], 8, 2, "sin").double()
    inside = [0.5, 0.1, 1.2][:d]
    walls = []
    for axis, (lo, hi) in enumerate(box):
        for wall in (lo, hi):
            point = list(inside)
            point[axis] = wall
            walls.append(point)
    assert torch.all(network(torch.tensor(walls, dtype=torch.float64)) == 0.0)
    assert torch.all(network(torch.tensor([inside], dtype=torch.float64)) != 0.0)


def test_kink_features_let_psi_bend_at_the_breakpoints():
    """psi and psi' are continuous across a kink input; psi'' jumps there."""
    network = TrialFunction([(0.0, 1.0)], [(0.4,)], [], 8, 1, "tanh").double()
    x = torch.tensor([[0.4 - 1e-7], [0.4 + 1e-7]], dtype=torch.float64)
    with torch.no_grad():
        psi, dpsi, d2psi = network.derivatives(x, 2)
    assert abs(float(psi[1] - psi[0])) < 1e-6 and abs(float(dpsi[1, 0] - dpsi[0, 0])) < 1e-5
    assert abs(float(d2psi[1] - d2psi[0])) > 1e-3


def test_make_network_gives_kinks_and_circles_only_with_kink_features():
    problem = qbench.problems.get("circular_well")
    network = trial.make_network(problem, 8, 2, "tanh", kink_features=True)
    assert network.n_inputs == 3 and network.circles == [((0.0, 0.0), 1.0, 1.0 / 6.0)]
    assert trial.make_network(problem, 8, 2, "tanh", kink_features=False).n_inputs == 2
    barrier = qbench.problems.get("finite_barrier")
    assert trial.make_network(barrier, 8, 2, "tanh", kink_features=True).n_inputs == 1 + len(
        barrier.breakpoints
    )


@pytest.mark.parametrize("overlap_weight", [0.0, 3.0])
def test_hand_written_residual_gradient_matches_autograd(overlap_weight):
    """The 1D tanh fast path: its loss and every parameter's gradient equal autograd's."""
    torch.manual_seed(0)
    problem = qbench.problems.FiniteBarrier()
    network = trial.make_network(problem, 8, 3, "tanh", kink_features=False).double()
    assert trial.uses_manual_gradient(network)
    x = torch.linspace(0.01, 0.99, 50, dtype=torch.float64)[:, None]
    w = torch.full((50,), 1 / 50, dtype=torch.float64)
    v = torch.as_tensor(problem.potential(x.numpy()))
    energy = torch.tensor(20.0, dtype=torch.float64, requires_grad=True)
    previous = [torch.sin(3 * x[:, 0]), torch.cos(2 * x[:, 0])]
    psi, _, d2psi = network.derivatives(x, 2)
    residual = (v - energy) * psi - d2psi
    loss = (w * residual**2).sum() + 7.0 * ((w * psi**2).sum() - 1) ** 2
    loss = loss + overlap_weight * functionals.overlap_penalty(psi, w, previous)
    loss.backward()
    expected = [p.grad.clone() for p in network.parameters()]
    network.zero_grad(set_to_none=True)
    manual, g_energy = trial.residual_loss_and_gradient(
        network, x, w, v, energy.detach(), 7.0, 1.0, previous, overlap_weight
    )
    torch.testing.assert_close(manual, loss.detach())
    torch.testing.assert_close(g_energy, energy.grad)
    for p, g in zip(network.parameters(), expected):
        torch.testing.assert_close(p.grad, g, rtol=1e-12, atol=1e-14)


def test_the_fast_path_is_only_for_the_plain_1d_tanh_network():
    box = [(0.0, 1.0)]
    assert not trial.uses_manual_gradient(TrialFunction(box, [(0.5,)], [], 4, 2, "tanh"))
    assert not trial.uses_manual_gradient(TrialFunction(box, [()], [], 4, 2, "sin"))
    assert not trial.uses_manual_gradient(TrialFunction(box * 2, [(), ()], [], 4, 2, "tanh"))
    assert not trial.uses_manual_gradient(TrialFunction(box, [()], [], 4, 2, "tanh", envelope_decay=8.0))
    assert trial.uses_manual_gradient(TrialFunction(box, [()], [], 4, 2, "tanh"))


def test_the_envelope_is_the_box_scaled_gaussian_times_the_walls():
    box = [(-8.0, 8.0), (-2.0, 6.0)]
    plain = TrialFunction(box, [(), ()], [], 4, 2, "tanh").double()
    enveloped = TrialFunction(box, [(), ()], [], 4, 2, "tanh", envelope_decay=8.0).double()
    enveloped.load_state_dict(plain.state_dict())
    x = torch.tensor([[0.0, 2.0], [4.0, 2.0], [4.0, 6.0], [-2.0, 0.0]], dtype=torch.float64)
    t = torch.stack([x[:, 0] / 8.0, (x[:, 1] - 2.0) / 4.0], dim=1)
    torch.testing.assert_close(
        enveloped(x), plain(x) * torch.exp(-8.0 * (t * t).sum(1)), rtol=1e-15, atol=0.0
    )


def test_a_float32_network_rounds_its_constants_once():
    """Constants are float64 values rounded once to the network's dtype (as a Python float is)."""
    network = TrialFunction([(0.0, 3.0)], [()], [], 4, 1, "tanh").float()
    x = torch.tensor([[1.0], [2.0]], dtype=torch.float32)
    t = 2.0 * (x - 0.0) / 3.0 - 1.0
    assert torch.equal(network._inputs(x, 0)[0], t)

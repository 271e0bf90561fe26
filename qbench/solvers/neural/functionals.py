"""Energies and losses of trial functions on a rule ``(x, w)``, in any dimension.

Every integral is ``sum(w * f(x))`` over a rule of points ``(n, d)`` and weights ``(n,)``
(:mod:`.rules`). Gradients have shape ``(n, d)`` (in 1D ``(n, 1)``: psi'), Laplacians
``(n,)`` (in 1D psi''). The sums are written so that in 1D they are the same floating-point
operations as qbench's 1D functionals always were.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from .trial import TrialFunction, residual_loss_and_gradient


def rayleigh_quotient(
    psi: torch.Tensor, grad: torch.Tensor, potential: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """(integral |grad psi|^2 + V psi^2) / (integral psi^2): the energy of psi, >= E0 exactly."""
    return (weights * ((grad**2).sum(1) + potential * psi**2)).sum() / (weights * psi**2).sum()


def relative_residual(
    psi: torch.Tensor, grad: torch.Tensor, lap: torch.Tensor, potential: torch.Tensor, weights: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The scale-free residual loss sum(w r^2) / sum(w psi^2), r = -Laplacian psi + (V - E) psi, and E.

    E is the Rayleigh quotient of psi, which is also the E that minimizes the
    loss for this psi (the loss is then the energy variance). The loss is
    unchanged under psi -> c psi, so psi = 0 is no minimum of it.
    """
    norm = (weights * psi**2).sum()
    energy = (weights * ((grad**2).sum(1) + potential * psi**2)).sum() / norm
    residual = -lap + (potential - energy) * psi
    return (weights * residual**2).sum() / norm, energy


def overlap_penalty(
    psi: torch.Tensor, weights: torch.Tensor, previous: Sequence[torch.Tensor]
) -> torch.Tensor:
    """Sum over earlier states of the squared normalized overlap <psi, psi_j>^2 / (|psi|^2 |psi_j|^2)."""
    norm = (weights * psi**2).sum()
    total = psi.new_zeros(())
    for other in previous:
        total = total + (weights * psi * other).sum() ** 2 / (norm * (weights * other**2).sum())
    return total


def galerkin_matrices(
    network: TrialFunction, x: torch.Tensor, w: torch.Tensor, v: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stiffness K and mass M of the network's last hidden layer (times the wall factor) as a basis.

    Basis function i is envelope(x) * h_i(x), plus the envelope itself (the output bias).
    K_ij = integral(grad b_i . grad b_j + V b_i b_j), M_ij = integral(b_i b_j).
    """
    basis, grad = network.galerkin_basis(x, 1)
    m = basis.shape[1]
    mass = (basis * w[:, None]).T @ basis
    stiffness = (grad * w[:, None, None]).reshape(-1, m).T @ grad.reshape(-1, m)
    return stiffness + (basis * (w * v)[:, None]).T @ basis, mass


def ritz_coefficients(stiffness: torch.Tensor, mass: torch.Tensor, n_states: int) -> torch.Tensor:
    """Coefficients (detached, float64, on the CPU) of the lowest Ritz vectors of (K, M).

    M is often nearly singular (hidden units overlap). Directions with mass
    below 1e4 machine epsilons (of the training dtype) of the largest are
    dropped before solving: on them both K and M are rounding noise, and a
    jitter instead of the cut would turn that noise into spurious (even
    negative) eigenvalues.
    """
    cutoff = 1e4 * torch.finfo(stiffness.dtype).eps
    with torch.no_grad():
        k = stiffness.detach().double().cpu()
        m = mass.detach().double().cpu()
        if not (torch.isfinite(k).all() and torch.isfinite(m).all()):
            # Diverged parameters: NaN coefficients make the loss NaN, which ends training.
            return torch.full((len(k), n_states), float("nan"), dtype=torch.float64)
        scales, vectors = torch.linalg.eigh(0.5 * (m + m.T))
        keep = scales > scales.max() * cutoff
        if int(keep.sum()) < n_states:  # the basis has collapsed: fewer directions than states
            return torch.full((len(k), n_states), float("nan"), dtype=torch.float64)
        whiten = vectors[:, keep] / torch.sqrt(scales[keep])
        reduced = whiten.T @ k @ whiten
        _, ritz = torch.linalg.eigh(0.5 * (reduced + reduced.T))
        return whiten @ ritz[:, :n_states]


def ritz_values(stiffness: torch.Tensor, mass: torch.Tensor, coefficients: torch.Tensor) -> torch.Tensor:
    """c_k^T K c_k / c_k^T M c_k for each column; differentiable in K and M (c held fixed).

    With c the exact Ritz vectors this is the Ritz value, and by the
    Hellmann-Feynman argument its gradient is the gradient of the eigenvalue.
    """
    c = coefficients.to(device=stiffness.device, dtype=stiffness.dtype)
    numerator = torch.einsum("ik,ij,jk->k", c, stiffness, c)
    denominator = torch.einsum("ik,ij,jk->k", c, mass, c)
    return numerator / denominator


def ritz_sum(
    network: TrialFunction, x: torch.Tensor, w: torch.Tensor, v: torch.Tensor, n_states: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The Galerkin training loss: the sum of the lowest ``n_states`` Ritz values, and the lowest one.

    The output layer is solved exactly (the Ritz vectors of the last hidden
    layer's basis), so only the basis is trained.
    """
    stiffness, mass = galerkin_matrices(network, x, w, v)
    values = ritz_values(stiffness, mass, ritz_coefficients(stiffness, mass, n_states))
    return values.sum(), values[0].detach()


def energy_objective(
    solver: Any,
    network: TrialFunction,
    training_set: Any,
    energy_param: torch.Tensor | None,
    fixed_energy: float | None,
    overlap_weight: float,
    by_hand: bool = False,
) -> Callable[[], tuple[torch.Tensor, torch.Tensor]]:
    """The closure ``() -> (loss, energy)`` that trains one state of the one-network-per-state modes.

    ``solver.energy == "ritz"``: the Rayleigh quotient. Otherwise the residual loss
    ``sum(w r^2) / measure + norm_weight (integral psi^2 - 1)^2`` with
    r = (V - E) psi - Laplacian psi, E the trainable ``energy_param`` or the held
    ``fixed_energy``; ``training_set.measure`` is the box's length (1D) or volume, so the
    first term is the mean squared residual. Earlier states enter through the overlap penalty.

    ``by_hand``: the residual loss of a plain 1D tanh network with its hand-written gradient
    (:func:`.trial.residual_loss_and_gradient`, see :func:`.trial.uses_manual_gradient`); the
    closure sets every parameter's ``.grad`` itself, for Adam steps without autograd.
    """
    order = 1 if solver.energy == "ritz" else 2

    def objective() -> tuple[torch.Tensor, torch.Tensor]:
        x, w, v, previous = training_set.tensors()
        values = network.derivatives(x, order)  # exact forward-mode psi, grad psi (, Laplacian)
        psi = values[0]
        if solver.energy == "ritz":
            loss = energy = rayleigh_quotient(psi, values[1], v, w)
        else:
            energy = energy_param if fixed_energy is None else psi.new_tensor(fixed_energy)
            residual = (v - energy) * psi - values[2]
            norm = (w * psi**2).sum()
            loss = (w * residual**2).sum() / training_set.measure + solver.norm_weight * (norm - 1.0) ** 2
        if previous and overlap_weight:
            loss = loss + overlap_weight * overlap_penalty(psi, w, previous)
        return loss, energy.detach()

    def objective_by_hand() -> tuple[torch.Tensor, torch.Tensor]:
        x, w, v, previous = training_set.tensors()
        energy = energy_param.detach() if fixed_energy is None else fixed_energy
        loss, g_energy = residual_loss_and_gradient(
            network, x, w, v, energy, solver.norm_weight, training_set.measure, previous, overlap_weight
        )
        if energy_param is not None:
            energy_param.grad = g_energy.reshape_as(energy_param)
            return loss, energy_param.detach()
        return loss, loss.new_tensor(fixed_energy)

    return objective_by_hand if by_hand else objective


def normalize_output(network: TrialFunction, x: torch.Tensor, w: torch.Tensor) -> None:
    """Scale the output layer once so that integral psi^2 = 1 on the rule (shape unchanged)."""
    with torch.no_grad():
        norm = float((w * network(x) ** 2).sum())
        if math.isfinite(norm) and norm > 0:
            scale = 1.0 / math.sqrt(norm)
            network.output.weight.mul_(scale)
            network.output.bias.mul_(scale)

"""Points, weights and losses of the PINN formulations.

All integrals use a rule ``(x, w)`` with ``sum(w * f(x))`` approximating the
integral over the domain: Gauss-Legendre on panels (ending at the breakpoints
unless told otherwise), a uniform grid with trapezoid weights as in most PINN
papers, or uniformly random points with equal weights.
"""

from __future__ import annotations

import numpy as np
import torch

from ...numerics.quadrature import domain_rule
from ...problems import Problem

GAUSS_ORDER = 8
# Node counting skips values of |psi| below this fraction of max |psi|, so it counts the lobes
# that make a state what it is, not sign noise in an exponentially small tail: seen on step_well
# (2 tail "nodes" at an energy error of 1e-7, floor 1e-3) and on the paper PINN's finite-well
# ground state (tail wiggles of 1% of max |psi| at an energy error of 2e-3). A genuine lower or
# higher state of the problems here has lobes far above 3%.
NODE_FLOOR = 3e-2


def rule(
    problem: Problem, sampling: str, n_points: int, breakpoint_panels: bool, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Positions and integration weights for one training set."""
    x0, x1 = problem.domain
    if sampling == "gauss":
        breakpoints = problem.breakpoints if breakpoint_panels else ()
        return domain_rule(problem.domain, breakpoints, n_points=n_points, order=GAUSS_ORDER)
    if sampling == "uniform":
        x = np.linspace(x0, x1, n_points + 2)[1:-1]
        return x, np.full(n_points, (x1 - x0) / (n_points + 1))  # trapezoid; psi = 0 at the walls
    x = np.sort(rng.uniform(x0, x1, n_points))
    return x, np.full(n_points, (x1 - x0) / n_points)


def derivatives(psi_fn, x: torch.Tensor, order: int) -> list[torch.Tensor]:
    """psi and its derivatives up to ``order`` at ``x`` (kept in the graph)."""
    x = x.detach().requires_grad_(True)
    values = [psi_fn(x)]
    for _ in range(order):
        (grad,) = torch.autograd.grad(values[-1].sum(), x, create_graph=True)
        values.append(grad)
    return values


def rayleigh_quotient(psi, dpsi, potential, weights) -> torch.Tensor:
    """(integral psi'^2 + V psi^2) / (integral psi^2): the energy of psi, >= E0 exactly."""
    return (weights * (dpsi**2 + potential * psi**2)).sum() / (weights * psi**2).sum()


def overlap_penalty(psi, weights, previous: list[torch.Tensor]) -> torch.Tensor:
    """Sum over earlier states of the squared normalized overlap <psi, psi_j>^2 / (|psi|^2 |psi_j|^2)."""
    norm = (weights * psi**2).sum()
    total = psi.new_zeros(())
    for other in previous:
        total = total + (weights * psi * other).sum() ** 2 / (norm * (weights * other**2).sum())
    return total


def galerkin_basis(network, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Basis values and x-derivatives, ``(n, width + 1)``: envelope * (hidden units, 1)."""
    h, dh = network.hidden_features(x, order=1)
    envelope, denvelope = network._envelope(x)
    ones = torch.ones_like(h[:, :1])
    features = torch.cat([h, ones], dim=1)
    basis = envelope[:, None] * features
    dbasis = denvelope[:, None] * features + envelope[:, None] * torch.cat([dh, 0.0 * ones], dim=1)
    return basis, dbasis


def galerkin_matrices(network, x: torch.Tensor, w: torch.Tensor, v: torch.Tensor):
    """Stiffness K, mass M and basis values for the network's last hidden layer as a basis.

    Basis function i is envelope(x) * h_i(x), plus the envelope itself (the
    output bias). K_ij = integral(b_i' b_j' + V b_i b_j), M_ij = integral(b_i b_j).
    """
    basis, dbasis = galerkin_basis(network, x)
    mass = (basis * w[:, None]).T @ basis
    stiffness = (dbasis * w[:, None]).T @ dbasis + (basis * (w * v)[:, None]).T @ basis
    return stiffness, mass


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


def ritz_sum(network, x: torch.Tensor, w: torch.Tensor, v: torch.Tensor, n_states: int):
    """The Galerkin training loss: the sum of the lowest ``n_states`` Ritz values, and the lowest one.

    The output layer is solved exactly (the Ritz vectors of the last hidden
    layer's basis), so only the basis is trained.
    """
    stiffness, mass = galerkin_matrices(network, x, w, v)
    values = ritz_values(stiffness, mass, ritz_coefficients(stiffness, mass, n_states))
    return values.sum(), values[0].detach()


def relative_residual(psi, dpsi, d2psi, potential, weights) -> tuple[torch.Tensor, torch.Tensor]:
    """The scale-free residual loss sum(w r^2) / sum(w psi^2), r = -psi'' + (V - E) psi, and E.

    E is the Rayleigh quotient of psi, which is also the E that minimizes the
    loss for this psi (the loss is then the energy variance). The loss is
    unchanged under psi -> c psi, so psi = 0 is no minimum of it.
    """
    norm = (weights * psi**2).sum()
    energy = (weights * (dpsi**2 + potential * psi**2)).sum() / norm
    residual = -d2psi + (potential - energy) * psi
    return (weights * residual**2).sum() / norm, energy


def count_nodes(psi: np.ndarray, floor: float = NODE_FLOOR) -> int:
    """Sign changes of ``psi`` (values at increasing interior points), ignoring values below
    ``floor * max|psi|``, where the sign is approximation noise rather than a node.

    A lobe whose largest value is below the floor is not seen either; the lowest
    states of the problems here have none that small.
    """
    psi = np.asarray(psi, dtype=float)
    scale = np.max(np.abs(psi)) if psi.size else 0.0
    if not scale > 0:
        return 0
    signs = np.sign(psi[np.abs(psi) > floor * scale])
    return int(np.count_nonzero(signs[1:] != signs[:-1]))


def energy_objective(solver, network, training_set, energy_param, fixed_energy, overlap_weight, rayleigh):
    """The closure ``() -> (loss, energy)`` that trains one state of the energy-based modes.

    ``solver.energy == "ritz"``: the Rayleigh quotient ``rayleigh(psi, grad psi, V, w)``.
    Otherwise the residual loss ``sum(w r^2) / measure + norm_weight (integral psi^2 - 1)^2``
    with r = (V - E) psi - Laplacian psi, E the trainable ``energy_param`` or the held
    ``fixed_energy``; ``training_set.measure`` is the domain's length (1D) or volume, so the
    first term is the mean squared residual. Earlier states enter through the overlap penalty.
    The network's ``derivatives(x, order)`` gives psi, its gradient and its Laplacian, in any d.
    """
    order = 1 if solver.energy == "ritz" else 2

    def objective():
        x, w, v, previous = training_set.tensors()
        values = network.derivatives(x, order)  # exact forward-mode psi, grad psi (, Laplacian)
        psi = values[0]
        if solver.energy == "ritz":
            loss = energy = rayleigh(psi, values[1], v, w)
        else:
            energy = energy_param if fixed_energy is None else psi.new_tensor(fixed_energy)
            residual = (v - energy) * psi - values[2]
            norm = (w * psi**2).sum()
            loss = (w * residual**2).sum() / training_set.measure + solver.norm_weight * (norm - 1.0) ** 2
        if previous and overlap_weight:
            loss = loss + overlap_weight * overlap_penalty(psi, w, previous)
        return loss, energy.detach()

    return objective

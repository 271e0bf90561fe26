"""The trial wavefunction: a fully connected network times a factor that vanishes at the walls."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def _tanh(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    value = torch.tanh(z)
    return value, 1.0 - value * value


def _sin(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.sin(z), torch.cos(z)


def _silu(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    sigmoid = torch.sigmoid(z)
    return z * sigmoid, sigmoid * (1.0 + z * (1.0 - sigmoid))


# Each activation returns its value and its derivative, so psi' is carried
# forward exactly with the values (cheaper than a second autograd pass).
ACTIVATIONS = {"tanh": _tanh, "sin": _sin, "silu": _silu}


class TrialFunction(nn.Module):
    """psi(x) = (x - x0)(x1 - x) / L^2 * N(features(x)): Dirichlet zeros hold exactly.

    Parameters
    ----------
    domain
        The walls ``(x0, x1)``.
    kinks
        Interior breakpoints given to the network as extra inputs
        ``s_j = (t - t_j) |t - t_j|`` (t the coordinate scaled to [-1, 1]).
        Each s_j is C^1 with a jump in its second derivative at t_j, so psi can
        have exactly the kink the equation demands there (psi'' jumps by
        (V_right - V_left) psi) while psi and psi' stay continuous. Empty for
        the plain network of the reference paper.
    width, depth
        Hidden units per layer and number of hidden layers.
    activation
        ``"tanh"``, ``"sin"`` or ``"silu"``.
    """

    def __init__(
        self,
        domain: tuple[float, float],
        kinks: Sequence[float],
        width: int,
        depth: int,
        activation: str,
    ):
        super().__init__()
        self.x0, self.x1 = float(domain[0]), float(domain[1])
        self.length = self.x1 - self.x0
        self.register_buffer("kinks", torch.tensor([self._scaled(b) for b in kinks]), persistent=False)
        self.activation = ACTIVATIONS[activation]
        sizes = [1 + len(kinks)] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(width, 1)

    def _scaled(self, x):
        return 2.0 * (x - self.x0) / self.length - 1.0

    def _envelope(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (x - self.x0) * (self.x1 - x) / self.length**2, (self.x0 + self.x1 - 2.0 * x) / self.length**2

    def hidden_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Last hidden layer's outputs and their x-derivatives, each ``(n, width)``."""
        t = self._scaled(x)[:, None]
        dt = torch.full_like(t, 2.0 / self.length)
        if len(self.kinks):
            offset = t - self.kinks.to(t.dtype)[None, :]
            t = torch.cat([t, offset * offset.abs()], dim=1)
            dt = torch.cat([dt, 2.0 * offset.abs() * dt], dim=1)
        h, dh = t, dt
        for layer in self.hidden:
            z = layer(h)
            dz = dh @ layer.weight.T
            h, slope = self.activation(z)
            dh = slope * dz
        return h, dh

    def value_and_derivative(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """psi and psi' at ``x`` of shape ``(n,)``, both differentiable in the parameters."""
        h, dh = self.hidden_features(x)
        n, dn = self.output(h)[:, 0], (dh @ self.output.weight.T)[:, 0]
        envelope, denvelope = self._envelope(x)
        return envelope * n, denvelope * n + envelope * dn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """psi at positions ``x`` of shape ``(n,)``; returns shape ``(n,)``."""
        h, _ = self.hidden_features(x)
        return self._envelope(x)[0] * self.output(h)[:, 0]

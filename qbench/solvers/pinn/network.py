"""The trial wavefunction: a fully connected network times a factor that vanishes at the walls."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def _tanh(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    value = torch.tanh(z)
    slope = 1.0 - value * value
    return value, slope, -2.0 * value * slope


def _sin(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    value = torch.sin(z)
    return value, torch.cos(z), -value


def _silu(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    sigmoid = torch.sigmoid(z)
    spread = sigmoid * (1.0 - sigmoid)
    return z * sigmoid, sigmoid + z * spread, spread * (2.0 + z * (1.0 - 2.0 * sigmoid))


# Each activation returns its value and its first two derivatives, so psi' and
# psi'' are carried forward exactly with the values: one forward pass instead of
# two nested autograd passes, several times cheaper for these small networks.
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

    def hidden_features(self, x: torch.Tensor, order: int = 1) -> list[torch.Tensor]:
        """Last hidden layer's outputs and their x-derivatives up to ``order`` (0-2), each ``(n, width)``."""
        t = self._scaled(x)[:, None]
        scale = 2.0 / self.length
        features = [t, torch.full_like(t, scale), torch.zeros_like(t)]
        if len(self.kinks):
            offset = t - self.kinks.to(t.dtype)[None, :]
            # s = o|o|: s' = 2|o| t', s'' = 2 sign(o) t'^2 (the jump the equation asks for).
            kink = [offset * offset.abs(), 2.0 * offset.abs() * scale, 2.0 * torch.sign(offset) * scale**2]
            features = [torch.cat([f, k], dim=1) for f, k in zip(features, kink)]
        h, dh, d2h = features
        for layer in self.hidden:
            z = layer(h)
            dz = dh @ layer.weight.T
            h, slope, curvature = self.activation(z)
            if order >= 2:
                d2h = curvature * dz * dz + slope * (d2h @ layer.weight.T)
            dh = slope * dz
        return [h, dh, d2h][: order + 1]

    def derivatives(self, x: torch.Tensor, order: int = 2) -> list[torch.Tensor]:
        """psi, psi' (and psi'' for ``order=2``) at ``x`` of shape ``(n,)``, differentiable in the parameters.

        Exact forward-mode derivatives (no autograd in x), the envelope's product rule included.
        """
        hidden = self.hidden_features(x, order)
        outputs = [self.output(hidden[0])[:, 0]] + [(d @ self.output.weight.T)[:, 0] for d in hidden[1:]]
        envelope, denvelope = self._envelope(x)
        psi = envelope * outputs[0]
        dpsi = denvelope * outputs[0] + envelope * outputs[1]
        if order < 2:
            return [psi, dpsi]
        d2envelope = -2.0 / self.length**2
        return [psi, dpsi, d2envelope * outputs[0] + 2.0 * denvelope * outputs[1] + envelope * outputs[2]]

    def value_and_derivative(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """psi and psi' at ``x`` of shape ``(n,)``, both differentiable in the parameters."""
        psi, dpsi = self.derivatives(x, order=1)
        return psi, dpsi

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """psi at positions ``x`` of shape ``(n,)``; returns shape ``(n,)``."""
        h = self.hidden_features(x, order=0)[0]
        return self._envelope(x)[0] * self.output(h)[:, 0]

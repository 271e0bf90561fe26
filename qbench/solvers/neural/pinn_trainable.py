"""``pinn-trainable``: the reference paper's (arXiv 2504.05367) residual PINN with E a trained parameter."""

from __future__ import annotations

from .energy_modes import PAPER, PINN, preset


class PinnTrainable(PINN):
    """The reference paper's trainable-energy PINN: E a parameter, by default started by the box rule
    min V + ((k+1) pi / L)^2 and trained with its own learning rate."""

    name = "pinn-trainable"
    family = "pinn"
    options = preset(("trainable",), (), **{**PAPER, "energy": "trainable"})

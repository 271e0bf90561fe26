"""``pinn-fixed``: the reference paper's (arXiv 2504.05367) residual PINN with E held at the exact E_k."""

from __future__ import annotations

from .energy_modes import PAPER, PINN, preset


class PinnFixed(PINN):
    """The reference paper's fixed-energy PINN: E held at the exact E_k (so it reads the answer)."""

    name = "pinn-fixed"
    family = "pinn"
    options = preset(("fixed",), ("initial_energy", "energy_learning_rate"), **{**PAPER, "energy": "fixed"})

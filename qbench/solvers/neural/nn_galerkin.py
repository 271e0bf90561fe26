"""``nn-galerkin``: neural-network Galerkin, a variational method (not a residual PINN)."""

from __future__ import annotations

from .energy_modes import PINN, VARIATIONAL_MODES, preset


class NNGalerkin(PINN):
    """Neural-network Galerkin: the network's last hidden layer is a basis, the output layer the
    exact Ritz-Galerkin solution in it; a variational method, not a residual PINN.
    Energy modes: ``galerkin`` (default) and ``ritz`` (Deep Ritz)."""

    name = "nn-galerkin"
    family = "neural-variational"
    options = preset(
        VARIATIONAL_MODES, ("initial_energy", "energy_learning_rate", "norm_weight", "normalize_init")
    )

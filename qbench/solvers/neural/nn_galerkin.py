"""``nn-galerkin``: neural-network Galerkin, a variational method (not a residual PINN)."""

from __future__ import annotations

from .base import MAX_SAMPLED_NEURAL_DIM
from .energy_modes import PINN, VARIATIONAL_MODES, preset


class NNGalerkin(PINN):
    """Neural-network Galerkin: the network's last hidden layer is a basis, the output layer the
    exact Ritz-Galerkin solution in it; a variational method, not a residual PINN.
    Energy modes: ``galerkin`` (default) and ``ritz`` (Deep Ritz).

    d = 1 .. 10. Above d = 4 the training points are draws of the problem's ``sampled_rule``
    (importance-weighted quasi-Monte Carlo points where the low states live; a problem without
    one is refused), ``n_points`` per draw, a fresh draw every ``resample_every`` Adam steps
    (0: every step) and before every chunk of L-BFGS iterations; the energies are measured on
    the problem's grading rule, a sampled rule there (:func:`~.rules.fine_rule`)."""

    name = "nn-galerkin"
    family = "neural-variational"
    dimensions = tuple(range(1, MAX_SAMPLED_NEURAL_DIM + 1))
    options = preset(
        VARIATIONAL_MODES, ("initial_energy", "energy_learning_rate", "norm_weight", "normalize_init")
    )

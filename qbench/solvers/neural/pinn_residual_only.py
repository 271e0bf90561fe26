"""``pinn-residual-only``: ``pinn`` without its Rayleigh-quotient warm start (an ablation).

The class and its options only; it imports no torch (the training is :mod:`.residual_training`).
"""

from __future__ import annotations

from .pinn import ResidualPinn

#: The options of ``pinn`` that set its warm start: left out here, so the warm start is off.
WARM_START_OPTIONS = ("warm_steps", "warm_lbfgs_iterations", "learning_rate")


class ResidualOnlyPinn(ResidualPinn):
    """``pinn`` trained on the residual alone: no Rayleigh-quotient warm start, d = 1-4.

    Everything else is ``pinn``'s, with its defaults: the trial function, the scale-free
    residual loss with E the Rayleigh quotient, the projection of the lower states, L-BFGS on
    the residual (``lbfgs_iterations``), the subspace rotation and the checks. Without the warm
    start nothing steers state k to its basin (the residual is zero at every eigenstate), so
    comparing it with ``pinn`` shows how much of ``pinn``'s accuracy the warm start gives.
    """

    name = "pinn-residual-only"
    family = "pinn"
    options = {key: option for key, option in ResidualPinn.options.items() if key not in WARM_START_OPTIONS}
    # The training reads these attributes; held at zero, the warm-start phase is skipped.
    warm_steps = 0
    warm_lbfgs_iterations = 0
    learning_rate = 0.0

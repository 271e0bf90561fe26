"""The built-in solvers registered lazily: name -> ``"module:Class"``, imported on the first lookup.

Listing the registered names (``qbench.solvers.available()``) imports none of
these modules; building, or asking for the family, options or install hint of,
one of them imports its module (and only that one). The classical solvers are
cheap to import and are registered as classes in :mod:`qbench.solvers`.
"""

from __future__ import annotations

#: The one table of lazily registered built-in solvers, in registration order.
LAZY_SOLVERS: dict[str, str] = {
    "nn-galerkin": "qbench.solvers.neural.nn_galerkin:NNGalerkin",
    "pinn-fixed": "qbench.solvers.neural.pinn_fixed:PinnFixed",
    "pinn-trainable": "qbench.solvers.neural.pinn_trainable:PinnTrainable",
    "pinn": "qbench.solvers.neural.pinn:ResidualPinn",
    "pinn-residual-only": "qbench.solvers.neural.pinn_residual_only:ResidualOnlyPinn",
    "deepxde": "qbench.solvers.neural.deepxde:DeepXDE",
    "vmc": "qbench.solvers.neural.vmc:VariationalMonteCarlo",
}

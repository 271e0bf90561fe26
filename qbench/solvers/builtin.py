"""The built-in solvers registered lazily: name -> ``"module:Class"``, imported on the first lookup.

Listing the registered names (``qbench.solvers.available()``) imports none of
these modules; building, or asking for the family, options or install hint of,
one of them imports its module (and only that one). The classical solvers are
cheap to import and are registered as classes in :mod:`qbench.solvers`.
"""

from __future__ import annotations

#: The one table of lazily registered built-in solvers, in registration order.
LAZY_SOLVERS: dict[str, str] = {
    "nn-galerkin": "qbench.solvers.pinn.solver:NNGalerkin",
    "pinn-fixed": "qbench.solvers.pinn.solver:PinnFixed",
    "pinn-trainable": "qbench.solvers.pinn.solver:PinnTrainable",
    "pinn": "qbench.solvers.pinn.residual:ResidualPinn",
    "deepxde": "qbench.solvers.deepxde:DeepXDE",
}

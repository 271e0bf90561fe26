"""The validation problems of the neural solvers' tuning protocols, in one place.

The defaults of the neural solvers were chosen on these problems, never on the canonical
three (infinite well, finite well, barrier), so timings and errors measured on them are
measured where the defaults were not fitted to the answer. Each entry is
``label -> (registered problem name, parameters)``; :func:`build` makes the problem.

Imported by ``bench_pinn_residual.py``, ``bench_paper_pinn.py`` and ``neural_speed.py``.
asv imports every module here; this one holds data only.
"""

from __future__ import annotations

from typing import Any

#: ``pinn`` (``bench_pinn_residual.py``): the step well, the 3-well Kronig-Penney chain, an asymmetric well.
RESIDUAL_PINN: dict[str, tuple[str, dict[str, Any]]] = {
    "step_well": ("step_well", {}),
    "kronig_penney(3 wells)": ("kronig_penney", {"n_wells": 3}),
    "asymmetric_well": (
        "piecewise_constant",
        {"edges": [0.0, 0.2718, 0.7071, 1.0], "values": [40.0, 0.0, 15.0]},
    ),
}

#: ``pinn-fixed`` and ``pinn-trainable`` (``bench_paper_pinn.py``): the step well, another
#: asymmetric well and an off-centre barrier.
PAPER_PINN: dict[str, tuple[str, dict[str, Any]]] = {
    "step_well": ("step_well", {}),
    "asymmetric_well": ("piecewise_constant", {"edges": [0.0, 0.37, 0.81, 1.0], "values": [30.0, 0.0, 12.0]}),
    "offcentre_barrier": (
        "piecewise_constant",
        {"edges": [0.0, 0.31, 0.43, 1.0], "values": [0.0, 70.0, 0.0]},
    ),
}

#: Every problem above once: the step well, the chain, the two asymmetric wells, the barrier.
ALL: dict[str, tuple[str, dict[str, Any]]] = {
    **RESIDUAL_PINN,
    "asymmetric_well(paper)": PAPER_PINN["asymmetric_well"],
    "offcentre_barrier": PAPER_PINN["offcentre_barrier"],
}


def build(spec: tuple[str, dict[str, Any]]):
    """The problem of a ``(name, parameters)`` entry."""
    import qbench

    name, params = spec
    return qbench.problems.get(name, **params)

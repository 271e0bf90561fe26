"""Problems: potentials in a hard-wall box, each with its exact reference.

>>> import qbench
>>> p = qbench.problems.get("finite_well", V0=50.0)
>>> p.reference(3).energies.shape
(3,)
"""

from __future__ import annotations

import inspect
from typing import Any

from .._validation import unknown_name_error
from .analytic import DoubleWell, HarmonicOscillator, PoschlTeller
from .base import Problem
from .layered import KronigPenney, StepWell
from .piecewise import FiniteBarrier, FiniteWell, InfiniteWell, PiecewiseConstant
from .reference import Reference
from .transfer import TransferMatrixSpectrum

PROBLEMS: dict[str, type[Problem]] = {}


def register(cls: type[Problem]) -> type[Problem]:
    """Add a ``Problem`` subclass to the registry under ``cls.name`` (usable as a decorator)."""
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise TypeError(f"register expects a Problem subclass, got {cls!r}")
    PROBLEMS[cls.name] = cls
    return cls


for _cls in (
    InfiniteWell,
    FiniteWell,
    FiniteBarrier,
    PiecewiseConstant,
    StepWell,
    KronigPenney,
    HarmonicOscillator,
    PoschlTeller,
    DoubleWell,
):
    register(_cls)


def available() -> list[str]:
    """Names of the registered problems, sorted."""
    return sorted(PROBLEMS)


def parameters(name: str) -> dict[str, Any]:
    """Parameter names of a registered problem with their defaults (``inspect.Parameter.empty`` if none)."""
    cls = _lookup(name)
    signature = inspect.signature(cls.__init__)
    return {p.name: p.default for p in list(signature.parameters.values())[1:]}


def get(name: str, **params: Any) -> Problem:
    """Build a registered problem by name with parameter overrides.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the available ones), an unknown
        parameter name, or a parameter value out of range.
    """
    cls = _lookup(name)
    allowed = parameters(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {', '.join(unknown)} for problem {name!r}; allowed: {', '.join(allowed)}"
        )
    missing = [k for k, v in allowed.items() if v is inspect.Parameter.empty and k not in params]
    if missing:
        raise ValueError(f"problem {name!r} needs parameter(s) {', '.join(missing)}")
    return cls(**params)


def _lookup(name: str) -> type[Problem]:
    try:
        return PROBLEMS[name]
    except (KeyError, TypeError):
        raise unknown_name_error("problem", name, PROBLEMS) from None


__all__ = [
    "PROBLEMS",
    "DoubleWell",
    "FiniteBarrier",
    "FiniteWell",
    "HarmonicOscillator",
    "InfiniteWell",
    "KronigPenney",
    "PiecewiseConstant",
    "PoschlTeller",
    "Problem",
    "Reference",
    "StepWell",
    "TransferMatrixSpectrum",
    "available",
    "get",
    "parameters",
    "register",
]

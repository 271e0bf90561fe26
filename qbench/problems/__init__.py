"""Problems: potentials in a hard-wall box, each with its exact reference.

>>> import qbench
>>> p = qbench.problems.get("finite_well", V0=50.0)
>>> p.reference(3).energies.shape
(3,)
"""

from __future__ import annotations

import inspect
from typing import Any

from ..registry import Registry, check_name_free, unknown_name_error
from .analytic import DoubleWell, HarmonicOscillator, OscillatorAxis, PoschlTeller
from .base import Problem
from .circular import CircularWell
from .coupled import CoupledOscillator
from .layered import KronigPenney, StepWell
from .piecewise import FiniteBarrier, FiniteWell, InfiniteWell, PiecewiseConstant
from .potential import Potential
from .reference import Reference
from .rotated import RotatedSeparable
from .separable import Separable
from .transfer import TransferMatrixSpectrum


def _check_class(cls: Any) -> None:
    """Raise ``TypeError`` unless ``cls`` is a ``Problem`` subclass with a name."""
    if not (isinstance(cls, type) and issubclass(cls, Problem)):
        raise TypeError(f"register expects a Problem subclass, got {cls!r}")
    if not isinstance(getattr(cls, "name", None), str) or not cls.name:
        raise TypeError(f"{cls.__name__} needs a non-empty class attribute 'name'")


#: name -> class; the first read loads the entry-point plugins (:mod:`qbench.plugins`).
PROBLEMS: Registry = Registry("problem", check=_check_class)


def register(cls: type[Problem]) -> type[Problem]:
    """Add a ``Problem`` subclass to the registry under ``cls.name`` (usable as a decorator).

    Raises ``ValueError`` if another class holds the name; registering the same class
    again (or the same plugin executed again) replaces it.
    """
    _check_class(cls)
    check_name_free("problem", PROBLEMS, cls)
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
    Potential,
    Separable,
    CircularWell,
    CoupledOscillator,
    RotatedSeparable,
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
    "CircularWell",
    "CoupledOscillator",
    "DoubleWell",
    "FiniteBarrier",
    "FiniteWell",
    "HarmonicOscillator",
    "InfiniteWell",
    "KronigPenney",
    "OscillatorAxis",
    "PiecewiseConstant",
    "PoschlTeller",
    "Potential",
    "Problem",
    "Reference",
    "RotatedSeparable",
    "Separable",
    "StepWell",
    "TransferMatrixSpectrum",
    "available",
    "get",
    "parameters",
    "register",
]

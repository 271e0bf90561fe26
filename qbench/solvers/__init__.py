"""Solvers: one ``Solver`` interface, registered by name.

>>> import qbench
>>> solver = qbench.solvers.get("fd", n_points=2000)
>>> sol = solver.solve(qbench.problems.FiniteWell(), n_states=3)
>>> sol.energies.shape
(3,)
"""

from __future__ import annotations

from typing import Any

from ..registry import LazyEntry, Registry, check_name_free, unknown_name_error
from .base import FAMILIES, Option, Solution, Solver, Status
from .builtin import LAZY_SOLVERS
from .fd import FiniteDifference
from .pyslise import Pyslise
from .shooting import Shooting
from .spectral import Spectral
from .tt import TensorTrain


def _check_class(cls: Any) -> None:
    """Raise ``TypeError`` unless ``cls`` is a ``Solver`` subclass with a name and a known family."""
    if not (isinstance(cls, type) and issubclass(cls, Solver)):
        raise TypeError(f"register expects a Solver subclass, got {cls!r}")
    if not isinstance(getattr(cls, "name", None), str) or not cls.name:
        raise TypeError(f"{cls.__name__} needs a non-empty class attribute 'name'")
    if getattr(cls, "family", None) not in FAMILIES:
        raise TypeError(
            f"{cls.__name__}.family must be one of {', '.join(FAMILIES)}, "
            f"got {getattr(cls, 'family', None)!r}"
        )


#: name -> class; the first read loads the entry-point plugins (:mod:`qbench.plugins`), and the
#: neural solvers (:data:`qbench.solvers.builtin.LAZY_SOLVERS`) are imported when first looked up.
METHODS: Registry = Registry("solver", check=_check_class)


def register(cls: type[Solver]) -> type[Solver]:
    """Make a ``Solver`` subclass available under ``cls.name`` (usable as a decorator).

    Raises ``ValueError`` if another class holds the name; registering the same class
    again (or the same plugin executed again) replaces it.
    """
    _check_class(cls)
    check_name_free("solver", METHODS, cls)
    METHODS[cls.name] = cls
    return cls


for _cls in (FiniteDifference, Shooting, Spectral, Pyslise, TensorTrain):
    register(_cls)
for _name, _target in LAZY_SOLVERS.items():
    METHODS.add_lazy(_name, _target)

#: Classes of lazily registered solvers that ``qbench.solvers`` exports by name, imported on access.
_LAZY_EXPORTS = {"DeepXDE": LAZY_SOLVERS["deepxde"], "ResidualPinn": LAZY_SOLVERS["pinn"]}


def __getattr__(name: str) -> Any:
    # PEP 562: ``qbench.solvers.DeepXDE`` imports its module only when asked for.
    if name in _LAZY_EXPORTS:
        return LazyEntry(_LAZY_EXPORTS[name]).load()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def available() -> list[str]:
    """Names of the registered solvers, sorted."""
    return sorted(METHODS)


def install_hint(name: str) -> str | None:
    """How to install the optional extra a registered solver needs, or None if it needs none."""
    try:
        return getattr(METHODS[name], "install_hint", None)
    except (KeyError, TypeError):
        raise unknown_name_error("solver", name, METHODS) from None


def family(name: str, unregistered: str | None = None) -> str:
    """The family of a registered solver (one of :data:`FAMILIES`).

    An unregistered name raises ``ValueError``, or gives ``unregistered`` when that is given
    (stored runs may name solvers this process does not have).
    """
    try:
        return METHODS[name].family
    except (KeyError, TypeError):
        if unregistered is not None:
            return unregistered
        raise unknown_name_error("solver", name, METHODS) from None


def get(name: str, **options: Any) -> Solver:
    """Build a registered solver by name; options are validated by its constructor.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the available ones) or an
        unknown or out-of-range option.
    """
    try:
        cls = METHODS[name]
    except (KeyError, TypeError):
        raise unknown_name_error("solver", name, METHODS) from None
    return cls(**options)


__all__ = [
    "FAMILIES",
    "METHODS",
    "DeepXDE",
    "FiniteDifference",
    "Option",
    "Pyslise",
    "ResidualPinn",
    "Shooting",
    "Solution",
    "Solver",
    "Spectral",
    "Status",
    "TensorTrain",
    "available",
    "family",
    "get",
    "install_hint",
    "register",
]

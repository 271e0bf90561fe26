"""The ``Problem`` abstraction: a potential in a hard-wall box in d dimensions and its exact answer."""

from __future__ import annotations

import dataclasses
import functools
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .._validation import check_int
from ..numerics.quadrature import grading_rule
from .reference import Reference

#: The largest dimension of a problem graded on a tensor-product rule.
MAX_DIM = 4
#: The largest dimension a problem may have: one whose integrals use a sampled rule above ``MAX_DIM``
#: (its ``quadrature_rule`` says so).
MAX_SAMPLED_DIM = 16

#: Reference levels closer than this (relative) form one degenerate group.
DEGENERACY_RTOL = 1e-12


def degenerate_groups(energies: np.ndarray, rtol: float = DEGENERACY_RTOL) -> list[tuple[int, ...]]:
    """Indices of ascending ``energies`` grouped where neighbours differ by at most ``rtol`` relative."""
    energies = np.asarray(energies, dtype=float)
    groups: list[list[int]] = []
    for k, energy in enumerate(energies):
        if groups and abs(energy - energies[k - 1]) <= rtol * max(abs(energies[k - 1]), abs(energy)):
            groups[-1].append(k)
        else:
            groups.append([k])
    return [tuple(g) for g in groups]


def check_unsplit(energies: np.ndarray, n_states: int, name: str) -> None:
    """Raise ``ValueError`` if ``n_states`` cuts a degenerate group of ``energies`` (which list the
    levels up to and past state ``n_states - 1``, or all there are) in two."""
    for group in degenerate_groups(energies):
        if group[0] < n_states <= group[-1]:
            raise ValueError(
                f"n_states={n_states} splits the degenerate level E={energies[group[0]]:.12g} "
                f"(states {group[0]}-{group[-1]}) of {name}; use n_states={group[0]} "
                f"or {group[-1] + 1}"
                if group[0] > 0
                else f"n_states={n_states} splits the degenerate ground level of {name}; "
                f"use n_states={group[-1] + 1}"
            )


class Problem(ABC):
    """A Schrödinger eigenproblem ``-Laplacian psi + V psi = E psi`` with psi = 0 on the walls.

    Units have hbar^2 / 2m = 1. One contract for every dimension d = 1 .. ``MAX_DIM``: a point
    is a row of an ``(n, d)`` array, d = 1 included. A subclass validates its parameters in
    ``__init__`` and provides:

    * ``name`` (class attribute): the registry name, e.g. ``"finite_well"``;
    * ``box``: the walls along each axis, ``((lo, hi), ...)``; ``dim`` is ``len(box)``;
    * ``axis_breakpoints`` (optional): per axis, the sorted coordinates where V jumps
      (default: none), or ``curved_interfaces`` for a jump no axis-aligned grid follows;
    * ``potential(points)``: V at points of shape ``(n, d)``, shape ``(n,)``, vectorized;
    * ``params``: the constructor arguments, enough to rebuild the problem;
    * ``_compute_reference(n_states)``: the exact eigenpairs; the ``Reference``'s
      wavefunctions take ``(n, d)`` points too.

    ``potential`` and the reference's ``wavefunctions`` always receive an ``(n, d)`` float
    array; callers may pass a flat ``(n,)`` array of positions when d = 1. ``domain`` and
    ``breakpoints`` are the d = 1 views ``box[0]`` and ``axis_breakpoints[0]``.

    A problem whose reference covers only some states (an analytic spectrum
    with finitely many bound states, a quasi-exactly solvable potential, a
    box that is only wide enough for the lowest levels) overrides
    ``check_states``, which suites call before any work starts. Degenerate
    levels (common in d >= 2, by symmetry) may not be split: ``check_states``
    refuses an ``n_states`` that would cut one in two, since any basis of a
    level is a correct answer and a part of one is not gradable.

    A 1D problem written for the contract before d > 1 existed (``domain``,
    ``breakpoints`` and ``potential(x)`` for x of shape ``(n,)``) keeps working: it is
    adapted when its class is defined, with a ``DeprecationWarning``.
    """

    name: ClassVar[str]
    #: True when ``reference`` is exact (analytic or transfer-matrix roots), not a converged approximation.
    has_exact_reference: ClassVar[bool] = False
    #: True when ``reference`` is certified: independent methods agree to its ``rel_error_bound``
    #: (:mod:`qbench.problems.certified`).
    certified_reference: ClassVar[bool] = False
    #: The dimensions the class's problems can have, for listings, when its constructor needs
    #: parameters that say it (``None``: read ``dim`` off a default instance).
    dimensions: ClassVar[tuple[int, ...] | None] = None
    #: True for a problem class written for the 1D-only contract (see the class docstring).
    _legacy_1d: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if _defines_legacy_1d(cls):
            _adapt_legacy_1d(cls)
        if "potential" in cls.__dict__:
            cls.potential = _points_in(cls.__dict__["potential"])  # type: ignore[method-assign]

    @property
    def reference_kind(self) -> str:
        """What the reference is, for the results table's ``reference`` column.

        ``"exact"`` (closed form, or transfer-matrix roots), ``"certified"``
        (independent numerical methods agree to its bound, see
        :mod:`qbench.problems.certified`), or ``"approximate"`` for a problem
        that claims neither (a plugin's own numerical reference, say).
        """
        if self.has_exact_reference:
            return "exact"
        return "certified" if self.certified_reference else "approximate"

    def __init__(self) -> None:
        self._reference_cache: Reference | None = None

    @property
    @abstractmethod
    def box(self) -> tuple[tuple[float, float], ...]:
        """The walls along each axis, ``((lo, hi), ...)``."""

    @property
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Constructor arguments; ``type(p)(**p.params)`` rebuilds ``p``."""

    @abstractmethod
    def potential(self, points: np.ndarray) -> np.ndarray:
        """V at points of shape ``(n, d)``, shape ``(n,)``; ``inf`` outside the box."""

    @abstractmethod
    def _compute_reference(self, n_states: int) -> Reference:
        """Exact eigenpairs of the ``n_states`` lowest states (wavefunctions of ``(n, d)`` points)."""

    @property
    def dim(self) -> int:
        """Number of space dimensions, ``len(box)``."""
        return len(self.box)

    @property
    def axis_breakpoints(self) -> tuple[tuple[float, ...], ...]:
        """Per axis, the sorted coordinates of axis-aligned jumps of V (default: none).

        A problem whose jumps are not axis-aligned (a circle) lists none here and says so in
        ``curved_interfaces``.
        """
        return tuple(() for _ in self.box)

    @property
    def curved_interfaces(self) -> bool:
        """True when V jumps on a surface that no axis-aligned grid can follow (a circle, a tilted plane)."""
        return False

    @property
    def domain(self) -> tuple[float, float]:
        """The walls ``(x0, x1)`` of a 1D problem: ``box[0]``."""
        if self.dim != 1:
            raise ValueError(
                f"problem {self.name!r} is {self.dim}-dimensional: use box ({self.box}), not domain"
            )
        return self.box[0]

    @property
    def breakpoints(self) -> tuple[float, ...]:
        """The jumps of V of a 1D problem: ``axis_breakpoints[0]``."""
        if self.dim != 1:
            raise ValueError(
                f"problem {self.name!r} is {self.dim}-dimensional: use axis_breakpoints, not breakpoints"
            )
        return self.axis_breakpoints[0]

    @property
    def length(self) -> float:
        """The longest side of the box."""
        return max(hi - lo for lo, hi in self.box)

    def quadrature_rule(self, n_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nodes ``(n, d)`` and weights ``(n,)`` that integrate this problem's eigenfunctions.

        A tensor product of Gauss-Legendre rules whose panels end at every axis-aligned jump
        (:func:`qbench.numerics.quadrature.grading_rule`). ``n_points`` is the approximate
        total number of nodes (default: the grading rule's, ``GRADING_POINTS[d]``). A problem
        with a curved interface overrides this with a rule that follows the curve.
        """
        return grading_rule(self.box, self.axis_breakpoints, n_points)

    def product_terms(self) -> list[tuple[float, dict[int, Callable[[np.ndarray], np.ndarray]]]] | None:
        """V as a sum of products of one-axis functions, for methods that need that form (tensor trains).

        Returns ``[(c_t, {axis: f_t_axis, ...}), ...]`` with V(x) = sum_t c_t prod_axis f_t_axis(x_axis)
        inside the box (each f takes a flat array of coordinates), or ``None`` when no such form is
        known. The default: V itself in 1D, ``None`` in d >= 2.
        """
        if self.dim != 1:
            return None
        return [(1.0, {0: lambda x: self.potential(np.asarray(x, dtype=float)[:, None])})]

    def sampled_rule(self, n_points: int, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
        """A randomized rule of about ``n_points`` nodes for integrals of this problem's low states,
        independent for each ``seed``: what grades and certifies above ``MAX_DIM``, where no tensor
        rule fits. ``None`` (the default) when the problem has none.
        """
        return None

    def level_energies(self, n: int) -> np.ndarray:
        """The ``n`` lowest exact energies, ascending.

        The default reads the reference; a problem whose wavefunctions are costly overrides it
        with the energies alone.
        """
        return self.reference(check_int("n", n, minimum=1)).energies.copy()

    def degenerate_groups(self, n_states: int) -> list[tuple[int, ...]]:
        """States ``0 .. n_states - 1`` grouped by level: consecutive exact energies closer
        than ``DEGENERACY_RTOL`` (relative) share a group.

        A 1D Dirichlet spectrum has no degenerate levels, so there every group is one state,
        whatever the rounding of a reference says.
        """
        if self.dim == 1:
            return [(k,) for k in range(n_states)]
        return degenerate_groups(self.level_energies(n_states))

    def check_states(self, n_states: int) -> None:
        """Raise ``ValueError`` if the reference cannot give ``n_states`` states to its stated
        accuracy, or if ``n_states`` splits a degenerate level."""
        n_states = check_int("n_states", n_states, minimum=1)
        if self.dim == 1:
            return  # no degenerate levels in 1D (see degenerate_groups)
        energies = self.level_energies(n_states + 1)
        check_unsplit(energies, n_states, self.name)

    def reference(self, n_states: int) -> Reference:
        """Exact eigenpairs of states ``0 .. n_states - 1``.

        Parameters
        ----------
        n_states
            Number of lowest states, >= 1.

        Returns
        -------
        Reference
            ``.energies`` of shape ``(n_states,)`` and ``.wavefunctions(points)``.
        """
        n_states = check_int("n_states", n_states, minimum=1)
        self.check_states(n_states)
        cached = self._reference_cache
        if cached is None or cached.n_states < n_states:
            cached = self._reference_cache = _points_reference(self._compute_reference(n_states), self)
        if cached.n_states == n_states:
            return cached
        full = cached

        def evaluate(points: np.ndarray) -> np.ndarray:
            return full.wavefunctions(points)[:n_states]

        spread = None if full.consensus_spread is None else full.consensus_spread[:n_states].copy()
        return Reference(full.energies[:n_states].copy(), evaluate, full.method, full.rel_error_bound, spread)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.params == self.params

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self.params)))


def as_points(points: Any, dim: int) -> np.ndarray:
    """``points`` as a float array of shape ``(n, dim)``; a flat ``(n,)`` array is taken as
    ``(n, 1)`` when ``dim == 1``. Raises ``ValueError`` for any other shape."""
    points = np.asarray(points, dtype=float)
    if points.ndim <= 1 and dim == 1:
        return points.reshape(-1, 1)
    if points.ndim != 2 or points.shape[1] != dim:
        raise ValueError(f"points must have shape (n, {dim}), got {points.shape}")
    return points


def _points_in(potential: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """``potential`` called with ``(n, d)`` points (a legacy 1D class: with flat positions)."""
    if getattr(potential, "_takes_points", False):
        return potential

    @functools.wraps(potential)
    def wrapped(self: Problem, points: Any) -> np.ndarray:
        points = as_points(points, self.dim)
        return potential(self, points[:, 0] if self._legacy_1d else points)

    wrapped._takes_points = True  # type: ignore[attr-defined]
    return wrapped


def _points_reference(reference: Reference, problem: Problem) -> Reference:
    """``reference`` whose wavefunctions take ``(n, d)`` points (flat ones in 1D too)."""
    dim, legacy, evaluate = problem.dim, problem._legacy_1d, reference._evaluate

    def points_evaluate(points: np.ndarray) -> np.ndarray:
        points = as_points(points, dim)
        return evaluate(points[:, 0] if legacy else points)

    return dataclasses.replace(reference, _evaluate=points_evaluate)


def _defines_legacy_1d(cls: type) -> bool:
    """True for a class that defines the old 1D ``domain`` but no ``box`` anywhere above Problem."""
    mro = [c for c in cls.__mro__ if c not in (Problem, ABC, object)]
    defines = {name for c in mro for name in vars(c)}
    return "domain" in defines and "box" not in defines


def _adapt_legacy_1d(cls: type) -> None:
    """Give a 1D-contract class ``box`` and ``axis_breakpoints`` from its ``domain``/``breakpoints``."""
    warnings.warn(
        f"problem class {cls.__module__}.{cls.__qualname__} uses the 1D-only contract (domain, "
        "breakpoints, potential(x) of shape (n,)); define box, axis_breakpoints and potential(points) "
        "of shape (n, d) instead (docs/contract.md)",
        DeprecationWarning,
        stacklevel=3,
    )
    domain, breakpoints = cls.domain, getattr(cls, "breakpoints", Problem.breakpoints)

    def box(self: Problem) -> tuple[tuple[float, float], ...]:
        x0, x1 = domain.__get__(self)
        return ((float(x0), float(x1)),)

    def axis_breakpoints(self: Problem) -> tuple[tuple[float, ...], ...]:
        if breakpoints is Problem.breakpoints:
            return ((),)
        return (tuple(float(b) for b in breakpoints.__get__(self)),)

    cls.box = property(box)
    cls.axis_breakpoints = property(axis_breakpoints)
    cls._legacy_1d = True


def check_dim(name: str, value: object, minimum: int = 1) -> int:
    """A dimension in ``[minimum, MAX_DIM]``, or ``ValueError`` naming ``name``."""
    return check_int(name, value, minimum=minimum, maximum=MAX_DIM)

"""The ``Problem`` abstraction: a potential in a hard-wall box and its exact answer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from .._validation import check_int
from ..quadrature import GRADING_POINTS_1D, domain_rule
from .reference import Reference

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


class Problem(ABC):
    """A Schrödinger eigenproblem ``-Laplacian psi + V psi = E psi`` with psi = 0 on the walls.

    Units have hbar^2 / 2m = 1. This class is the 1D contract; a problem in
    d >= 2 dimensions derives from :class:`qbench.problems.box.BoxProblem`,
    which has a box (a product of intervals) instead of ``domain``, and
    takes points of shape ``(n, d)`` where a 1D problem takes ``(n,)``.
    Every problem has ``dim``, ``box``, ``axis_breakpoints``,
    ``quadrature_rule`` and ``degenerate_groups``, so code written for any
    dimension uses those. 1D subclasses validate their parameters in
    ``__init__`` and provide:

    * ``name`` (class attribute): the registry name, e.g. ``"finite_well"``;
    * ``domain``: the walls ``(x0, x1)``;
    * ``potential(x)``: V on a numpy array, vectorized;
    * ``breakpoints``: sorted interior positions where V jumps (empty if smooth);
    * ``params``: the constructor arguments, enough to rebuild the problem;
    * ``_compute_reference(n_states)``: the exact eigenpairs.

    A problem whose reference covers only some states (an analytic spectrum
    with finitely many bound states, a quasi-exactly solvable potential, a
    box that is only wide enough for the lowest levels) overrides
    ``check_states``, which suites call before any work starts.
    """

    name: ClassVar[str]
    #: True when ``reference`` is exact (analytic or transfer-matrix roots), not a converged approximation.
    has_exact_reference: ClassVar[bool] = False
    #: True when ``reference`` is certified: independent methods agree to its ``rel_error_bound``
    #: (:mod:`qbench.problems.certified`).
    certified_reference: ClassVar[bool] = False

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
    def domain(self) -> tuple[float, float]:
        """The hard walls ``(x0, x1)``."""

    @property
    @abstractmethod
    def breakpoints(self) -> tuple[float, ...]:
        """Sorted interior positions where the potential jumps."""

    @property
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Constructor arguments; ``type(p)(**p.params)`` rebuilds ``p``."""

    @abstractmethod
    def potential(self, x: np.ndarray) -> np.ndarray:
        """V(x) for an array of positions; ``inf`` outside the walls."""

    @abstractmethod
    def _compute_reference(self, n_states: int) -> Reference:
        """Exact eigenpairs of the ``n_states`` lowest states."""

    @property
    def dim(self) -> int:
        """Number of space dimensions (1 here; ``BoxProblem`` gives ``len(box)``)."""
        return 1

    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        """The walls along each axis, ``((lo, hi), ...)``; in 1D ``(domain,)``."""
        x0, x1 = self.domain
        return ((float(x0), float(x1)),)

    @property
    def axis_breakpoints(self) -> tuple[tuple[float, ...], ...]:
        """Per axis, the sorted coordinates of axis-aligned jumps of V; in 1D ``(breakpoints,)``.

        A d-dimensional problem whose jumps are not axis-aligned (a circle) lists none
        here and says so in ``curved_interfaces``.
        """
        return (tuple(float(b) for b in self.breakpoints),)

    @property
    def curved_interfaces(self) -> bool:
        """True when V jumps on a surface that no axis-aligned grid can follow (a circle)."""
        return False

    def quadrature_rule(self, n_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nodes and weights that integrate this problem's eigenfunctions to rounding accuracy.

        In 1D the nodes have shape ``(n,)`` (Gauss-Legendre panels ending at the
        breakpoints, :func:`qbench.quadrature.domain_rule`); in d dimensions ``(n, d)``.
        ``n_points`` is the approximate total number of nodes (default: the grading rule's).
        """
        return domain_rule(self.domain, self.breakpoints, n_points=n_points or GRADING_POINTS_1D)

    def degenerate_groups(self, n_states: int) -> list[tuple[int, ...]]:
        """States ``0 .. n_states - 1`` grouped by level: consecutive reference energies closer
        than ``DEGENERACY_RTOL`` (relative) share a group. In 1D every group is one state."""
        return degenerate_groups(self.reference(n_states).energies)

    def check_states(self, n_states: int) -> None:
        """Raise ``ValueError`` if the reference cannot give ``n_states`` states to its stated accuracy."""
        check_int("n_states", n_states, minimum=1)

    def reference(self, n_states: int) -> Reference:
        """Exact eigenpairs of states ``0 .. n_states - 1``.

        Parameters
        ----------
        n_states
            Number of lowest states, >= 1.

        Returns
        -------
        Reference
            ``.energies`` of shape ``(n_states,)`` and ``.wavefunctions(x)``.
        """
        n_states = check_int("n_states", n_states, minimum=1)
        self.check_states(n_states)
        cached = self._reference_cache
        if cached is None or cached.n_states < n_states:
            cached = self._reference_cache = self._compute_reference(n_states)
        if cached.n_states == n_states:
            return cached
        full = cached

        def evaluate(x: np.ndarray) -> np.ndarray:
            return full.wavefunctions(x)[:n_states]

        return Reference(full.energies[:n_states].copy(), evaluate, full.method, full.rel_error_bound)

    @property
    def length(self) -> float:
        """Width of the box."""
        x0, x1 = self.domain
        return x1 - x0

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.params == self.params

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self.params)))

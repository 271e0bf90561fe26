"""Problems in d >= 2 dimensions: a potential in a box with hard walls.

A point is a row of an ``(n, d)`` array; ``potential`` and the reference's
``wavefunctions`` take such arrays. The box is a product of intervals
(``box``), jumps of V along an axis are listed per axis
(``axis_breakpoints``), and a jump on a curve (a circle) sets
``curved_interfaces``. Degenerate levels are common here (by symmetry), so a
problem refuses an ``n_states`` that would cut a degenerate group in two:
any basis of a group is a correct answer, and a part of one is not gradable.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from .._validation import check_int
from ..quadrature import GRADING_POINTS_PER_AXIS, tensor_rule
from .base import Problem, degenerate_groups

#: The largest dimension a problem may have.
MAX_DIM = 4


def check_dim(name: str, value: object, minimum: int = 1) -> int:
    """A dimension in ``[minimum, MAX_DIM]``, or ``ValueError`` naming ``name``."""
    return check_int(name, value, minimum=minimum, maximum=MAX_DIM)


class BoxProblem(Problem):
    """Base class of the problems in d >= 2 dimensions.

    Subclasses provide ``name``, ``box``, ``axis_breakpoints`` (or
    ``curved_interfaces``), ``params``, ``potential(points)`` for points of
    shape ``(n, d)``, ``_compute_reference(n_states)`` (wavefunctions taking
    ``(n, d)`` points) and ``level_energies(n)``, the ``n`` lowest exact
    energies, which ``check_states`` uses to refuse an ``n_states`` that splits
    a degenerate group.
    """

    @property
    @abstractmethod
    def box(self) -> tuple[tuple[float, float], ...]:
        """The walls along each axis."""

    @property
    def dim(self) -> int:
        return len(self.box)

    @property
    def domain(self) -> tuple[float, float]:
        raise ValueError(
            f"problem {self.name!r} is {self.dim}-dimensional: it has a box ({self.box}), not a 1D domain"
        )

    @property
    def breakpoints(self) -> tuple[float, ...]:
        raise ValueError(
            f"problem {self.name!r} is {self.dim}-dimensional: use axis_breakpoints, not breakpoints"
        )

    @property
    def axis_breakpoints(self) -> tuple[tuple[float, ...], ...]:
        return tuple(() for _ in self.box)

    @property
    def length(self) -> float:
        """The longest side of the box."""
        return max(hi - lo for lo, hi in self.box)

    @abstractmethod
    def level_energies(self, n: int) -> np.ndarray:
        """The ``n`` lowest exact energies, ascending (cheap: no wavefunctions)."""

    def quadrature_rule(self, n_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Tensor Gauss-Legendre rule with panels ending at every axis-aligned jump.

        ``n_points`` is the approximate total; the default has
        ``GRADING_POINTS_PER_AXIS[d]`` nodes per axis. A problem with a curved
        interface overrides this with a rule that follows the curve.
        """
        per_axis = (
            GRADING_POINTS_PER_AXIS.get(self.dim, 16)
            if n_points is None
            else round(n_points ** (1 / self.dim))
        )
        return tensor_rule(self.box, self.axis_breakpoints, max(per_axis, 4))

    def check_states(self, n_states: int) -> None:
        n_states = check_int("n_states", n_states, minimum=1)
        energies = self.level_energies(n_states + 1)
        groups = degenerate_groups(energies)
        for group in groups:
            if group[0] < n_states <= group[-1]:
                raise ValueError(
                    f"n_states={n_states} splits the degenerate level E={energies[group[0]]:.12g} "
                    f"(states {group[0]}-{group[-1]}) of {self.name}; use n_states={group[0]} "
                    f"or {group[-1] + 1}"
                    if group[0] > 0
                    else f"n_states={n_states} splits the degenerate ground level of {self.name}; "
                    f"use n_states={group[-1] + 1}"
                )

    def degenerate_groups(self, n_states: int) -> list[tuple[int, ...]]:
        return degenerate_groups(self.level_energies(n_states))

"""Chebyshev-Lobatto collocation of one axis cut into pieces at the potential's jumps.

Each piece between breakpoints gets a Chebyshev polynomial of its own degree, collocated at
its Lobatto points (the points shared out by width, at least ``MIN_DEGREE + 1`` per piece).
``-d^2/dx^2`` is imposed at the interior points of each piece; the end points carry the
conditions instead: psi = 0 at the walls, psi and psi' continuous at each interface. The
condition rows give the end values as a fixed linear map of the interior values (independent
of V and E), so eliminating them leaves the operator ``L`` on the interior points alone, and
an ``extension`` that recovers the values at every node. A tensor grid is a product of such
axes (:mod:`qbench.numerics.collocation`); d = 1 is one axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.polynomial import chebyshev

from .grids import apportion
from .quadrature import panel_edges

#: Smallest polynomial degree of a piece: below this a narrow piece is not resolved at all.
MIN_DEGREE = 8


@lru_cache(maxsize=64)
def chebyshev_lobatto(degree: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lobatto points on [-1, 1] (ascending), the first and second derivative matrices, and the
    matrix taking values at the points to Chebyshev coefficients (all read-only)."""
    points = chebyshev.chebpts2(degree + 1)
    vander = chebyshev.chebvander(points, degree)
    to_coefficients = np.linalg.inv(vander)
    identity = np.eye(degree + 1)
    first = chebyshev.chebvander(points, degree - 1) @ chebyshev.chebder(identity, 1, axis=0)
    second = chebyshev.chebvander(points, degree - 2) @ chebyshev.chebder(identity, 2, axis=0)
    results = (points, first @ to_coefficients, second @ to_coefficients, to_coefficients)
    for array in results:
        array.setflags(write=False)
    return results


@lru_cache(maxsize=256)
def _derivative_coefficients(degree: int) -> np.ndarray:
    """Chebyshev coefficients of the derivative (on [-1, 1]) of each basis polynomial T_0..T_degree."""
    return chebyshev.chebder(np.eye(degree + 1), 1, axis=0)


def interpolation_matrices(degree: int, a: float, b: float, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values and derivatives at ``x`` of the interpolant of values at [a, b]'s Lobatto points.

    Returns
    -------
    values, derivatives : numpy.ndarray
        Shape ``(len(x), degree + 1)`` each; times the nodal values they give the
        interpolant's values and first derivatives at ``x``.
    """
    t = (2.0 * x - (a + b)) / (b - a)
    to_coefficients = chebyshev_lobatto(degree)[3]
    values = chebyshev.chebvander(t, degree) @ to_coefficients
    derivatives = (chebyshev.chebvander(t, degree - 1) @ _derivative_coefficients(degree)) @ to_coefficients
    return values, derivatives * (2.0 / (b - a))


@dataclass(frozen=True)
class AxisCollocation:
    """One axis: its pieces, Lobatto points, the operator ``L`` and the map to all nodal values.

    Attributes
    ----------
    edges : numpy.ndarray
        Walls and breakpoints of this axis.
    degrees : numpy.ndarray
        Polynomial degree of each piece (its Lobatto points minus one).
    nodes : numpy.ndarray
        All Lobatto points of all pieces in order; an interface appears twice (once per side).
    pieces : list of slice
        Each piece's slice of ``nodes``.
    interior : numpy.ndarray
        Indices of the interior points (the unknowns) in ``nodes``.
    operator : numpy.ndarray
        ``L``: ``-d^2/dx^2`` on the interior points with the end values eliminated.
    extension : numpy.ndarray
        ``(len(nodes), len(interior))``: interior values to all nodal values (walls: 0; interfaces:
        continuity of the value and the derivative).
    """

    edges: np.ndarray
    degrees: np.ndarray
    nodes: np.ndarray
    pieces: list[slice]
    interior: np.ndarray
    operator: np.ndarray
    extension: np.ndarray

    @property
    def n_interior(self) -> int:
        return len(self.interior)


def count_pieces(interval: tuple[float, float], breakpoints: Sequence[float]) -> int:
    """The number of pieces of an axis: one more than its breakpoints strictly inside."""
    return len(panel_edges(interval, breakpoints)) - 1


def axis_collocation(
    interval: tuple[float, float], breakpoints: Sequence[float], n_points: int
) -> AxisCollocation:
    """The collocation of one axis with ``n_points`` Lobatto points over its pieces (shared by width)."""
    edges = panel_edges(interval, breakpoints)
    degrees = apportion(n_points, np.diff(edges), minimum=MIN_DEGREE + 1) - 1
    size = int(np.sum(degrees + 1))
    operator = np.zeros((size, size))
    conditions = []
    pieces, first_derivatives, nodes, start = [], [], [], 0
    for a, b, degree in zip(edges[:-1], edges[1:], degrees):
        points, first, second, _ = chebyshev_lobatto(int(degree))
        half = 0.5 * (b - a)
        rows = slice(start + 1, start + degree)
        operator[rows, start : start + degree + 1] = -second[1:-1] / half**2
        pieces.append(slice(start, start + degree + 1))
        first_derivatives.append(first / half)
        nodes.append(a + half * (points + 1.0))
        start += degree + 1
    for index in (0, size - 1):  # psi = 0 at both walls
        row = np.zeros(size)
        row[index] = 1.0
        conditions.append(row)
    for j in range(len(pieces) - 1):  # psi and psi' continuous at each interface
        left, right = pieces[j], pieces[j + 1]
        row = np.zeros(size)
        row[left.stop - 1], row[right.start] = 1.0, -1.0
        conditions.append(row)
        row = np.zeros(size)
        row[left] += first_derivatives[j][-1]
        row[right] -= first_derivatives[j + 1][0]
        conditions.append(row)
    conditions = np.array(conditions)
    ends = np.array(sorted({p.start for p in pieces} | {p.stop - 1 for p in pieces}))
    interior = np.setdiff1d(np.arange(size), ends)
    boundary_map = -np.linalg.solve(conditions[:, ends], conditions[:, interior])
    reduced = operator[np.ix_(interior, interior)] + operator[np.ix_(interior, ends)] @ boundary_map
    extension = np.zeros((size, len(interior)))
    extension[interior, np.arange(len(interior))] = 1.0
    extension[ends] = boundary_map
    return AxisCollocation(edges, degrees, np.concatenate(nodes), pieces, interior, reduced, extension)

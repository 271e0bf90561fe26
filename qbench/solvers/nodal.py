"""Wavefunctions known at grid nodes, made evaluable everywhere: ``points (n, d) -> (n_states, n)``.

Two interpolants, by what the nodal values support:

* :class:`SplineStates` (one axis): inside each piece the nodal values are joined by a cubic
  spline whose end second derivatives come from the equation itself, psi'' = (V - E) psi, so
  the interpolant is fourth-order accurate and keeps the kink of psi'' at a jump of V. It is
  one-dimensional by nature (a tensor spline solves spline systems along every axis at each
  call, several times the grid in temporaries).
* :class:`MultilinearStates` (any number of axes): the multilinear interpolant of
  ``scipy.interpolate.RegularGridInterpolator``. It is second order, the order of the
  finite-volume scheme itself; it needs no more memory than the nodal values (at 128^3 that is
  17 MB a state); and it is exact across a jump of V on a grid line, where psi'' jumps and a
  spline through the jump would ring. Each state is normalized so that its interpolant has
  unit L2 norm exactly: the integral of the square of a multilinear function is
  ``u^T (M_1 x .. x M_d) u`` with ``M_i`` the tridiagonal 1D mass matrix (h/3 on the
  diagonal, h/6 beside it).

Both take points of shape ``(n, d)`` and are zero outside the box.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.interpolate import CubicSpline, RegularGridInterpolator

from ..numerics.grids import TensorGrid
from ..numerics.quadrature import gauss_legendre_rule
from ..numerics.signs import rising_signs

Potential = Callable[[np.ndarray], np.ndarray]


class SplineStates:
    """Callable ``points (n, 1) -> (n_states, n)`` built from nodal values on one axis.

    Parameters
    ----------
    grid
        A one-axis grid; its nodes, walls included, are the interpolation nodes.
    values
        Nodal values, shape ``(n_states, *grid.node_shape)``, zero at the walls.
    potential
        V at points of shape ``(m, 1)``; supplies the spline end conditions.
    energies
        Eigenvalue of each state, shape ``(n_states,)``.

    The states are normalized to unit L2 norm (integrals of the spline squared are exact with
    4 Gauss points per interval) and signed to rise from the left wall
    (:func:`~qbench.numerics.signs.rising_signs`).
    """

    #: Order of accuracy of the interpolant: nodal values extrapolated to fourth order keep it.
    order = 4

    def __init__(self, grid: TensorGrid, values: np.ndarray, potential: Potential, energies: np.ndarray):
        if grid.dim != 1:
            raise ValueError(f"a spline interpolates along one axis, got a {grid.dim}D grid")
        (grid,) = grid.axes
        self.interval = (grid.nodes[0], grid.nodes[-1])
        self.piece_edges = grid.edges
        energies = np.asarray(energies, dtype=float)
        values = np.asarray(values, dtype=float)
        self._splines = []
        for (first, last), x in zip(grid.pieces, grid.one_sided_nodes()):
            v = np.asarray(potential(x[:, None]), dtype=float)
            y = values[:, first : last + 1].T
            start = (v[0] - energies) * y[0]
            end = (v[-1] - energies) * y[-1]
            self._splines.append(
                CubicSpline(grid.nodes[first : last + 1], y, bc_type=((2, start), (2, end)), axis=0)
            )
        nodes, weights = gauss_legendre_rule(grid.nodes, 1, order=4)
        norms = np.sqrt((self._raw(nodes) ** 2) @ weights)
        self._scale = rising_signs(values) / norms

    def _raw(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((self._splines[0].c.shape[-1], len(x)))
        piece = np.searchsorted(self.piece_edges, x, side="right") - 1
        piece = np.clip(piece, 0, len(self._splines) - 1)
        inside = (x >= self.interval[0]) & (x <= self.interval[1])
        for j, spline in enumerate(self._splines):
            mask = inside & (piece == j)
            if mask.any():
                out[:, mask] = spline(x[mask]).T
        return out

    def __call__(self, points: np.ndarray) -> np.ndarray:
        x = np.asarray(points, dtype=float).reshape(-1)
        return self._scale[:, None] * self._raw(x)


def _apply_mass(values: np.ndarray, nodes: np.ndarray, axis: int) -> np.ndarray:
    """Multiply ``values`` along ``axis`` by the 1D linear-element mass matrix on ``nodes``."""
    h = np.diff(nodes)
    u = np.moveaxis(values, axis, -1)
    out = np.zeros_like(u)
    out[..., :-1] += h / 3 * u[..., :-1] + h / 6 * u[..., 1:]
    out[..., 1:] += h / 6 * u[..., :-1] + h / 3 * u[..., 1:]
    return np.moveaxis(out, -1, axis)


def interpolant_norms(grid: TensorGrid, values: np.ndarray) -> np.ndarray:
    """L2 norm of the multilinear interpolant of each state; ``values`` is ``(n_states, *node_shape)``."""
    norms = np.empty(len(values))
    for k, u in enumerate(values):
        weighted = u
        for axis, line in enumerate(grid.axes):
            weighted = _apply_mass(weighted, line.nodes, axis)
        norms[k] = np.sqrt(np.sum(u * weighted))
    return norms


class MultilinearStates:
    """Callable ``points (n, d) -> (n_states, n)`` built from nodal values on a tensor grid.

    Parameters
    ----------
    grid
        The grid; its nodes (walls included) are the interpolation nodes.
    values
        Nodal values, shape ``(n_states, *grid.node_shape)``, zero on the walls.
    potential, energies
        Not needed (the constructor takes what :class:`SplineStates`'s takes).

    Outside the box every state is 0. Each is normalized to unit L2 norm
    (:func:`interpolant_norms`); the sign is the caller's.
    """

    #: Order of accuracy of the interpolant: extrapolating nodal values would buy nothing.
    order = 2

    def __init__(
        self,
        grid: TensorGrid,
        values: np.ndarray,
        potential: Potential | None = None,
        energies: np.ndarray | None = None,
    ):
        values = np.asarray(values, dtype=float)
        if values.shape[1:] != grid.node_shape:
            raise ValueError(f"values must have shape (n_states, *{grid.node_shape}), got {values.shape}")
        self.n_states = len(values)
        self.dim = grid.dim
        scaled = values / interpolant_norms(grid, values).reshape((-1,) + (1,) * grid.dim)
        self._interpolant = RegularGridInterpolator(
            tuple(axis.nodes for axis in grid.axes),
            np.moveaxis(scaled, 0, -1),  # trailing axis: all states in one interpolation
            method="linear",
            bounds_error=False,
            fill_value=0.0,
        )

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        return np.asarray(self._interpolant(points)).reshape(len(points), self.n_states).T


def interpolant(grid: TensorGrid) -> type[SplineStates] | type[MultilinearStates]:
    """The interpolant of nodal values on ``grid``: a spline along a single axis, multilinear above.

    This is where the dimension picks a method for fd's states (the class docstrings say why).
    """
    return SplineStates if grid.dim == 1 else MultilinearStates

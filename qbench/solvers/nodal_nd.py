"""Wavefunctions known at the nodes of a d-dimensional tensor grid, made evaluable everywhere.

The nodal values (walls included, where they are zero) are joined by the
multilinear interpolant of ``scipy.interpolate.RegularGridInterpolator``:

* it is second order, the order of the finite-volume scheme itself, so a
  higher-order interpolant would not make the states more accurate overall;
* it needs no more memory than the nodal values (at 128^3 that is 17 MB a
  state), where the ``cubic`` method solves spline systems along every axis at
  each call, several times the grid in temporaries;
* it is exact across a jump of V on a grid line, where psi'' jumps and a
  spline through the jump would ring.

Each state is normalized so that its interpolant has unit L2 norm exactly:
the integral of the square of a multilinear function is ``u^T (M_1 x .. x M_d) u``
with ``M_i`` the tridiagonal 1D mass matrix (h/3 on the diagonal, h/6 beside it).
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import RegularGridInterpolator

from .tensor_grid import TensorGrid


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


class NodalStatesND:
    """Callable ``points (n, d) -> (n_states, n)`` built from nodal values on a tensor grid.

    Parameters
    ----------
    grid
        The grid; its nodes (walls included) are the interpolation nodes.
    values
        Nodal values, shape ``(n_states, *grid.node_shape)``, zero on the walls.

    Outside the box every state is 0. Each is normalized to unit L2 norm
    (:func:`interpolant_norms`); the sign is arbitrary (any sign is correct).
    """

    def __init__(self, grid: TensorGrid, values: np.ndarray):
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

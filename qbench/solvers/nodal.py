"""Wavefunctions known at grid nodes, made evaluable everywhere: ``points (n, d) -> (n_states, n)``.

:class:`SplineStates` joins the nodal values by a tensor-product cubic spline
(:mod:`qbench.numerics.splines`), one construction for every d: C^2 inside each piece between
the potential's breakpoints, C^1 across them with the jump of the normal second derivative the
equation prescribes, ``s'' = 0`` at the walls. It is fourth-order accurate in the values and
second order in the second derivatives, and it is a function in the domain of H, so it supplies
its exact Laplacian (``laplacian``) for qbench's residual certificate. It needs one coefficient
array the size of the nodal values (at 128^3, 17 MB a state).

Points have shape ``(n, d)``; outside the box every state and its Laplacian are 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..numerics.grids import PiecewiseGrid, TensorGrid
from ..numerics.signs import rising_signs
from ..numerics.splines import AxisSpline, TensorSpline, axis_spline

Potential = Callable[[np.ndarray], np.ndarray]

#: ``Solution.derivatives_by`` of a solver whose states are :class:`SplineStates`.
DERIVATIVES_BY = "cubic spline"


class SplineStates:
    """Callable ``points (n, d) -> (n_states, n)`` built from nodal values on a tensor grid.

    Parameters
    ----------
    grid
        The grid; its nodes, walls included, are the interpolation nodes, and its piece edges
        are the breakpoints where the splines are only C^1.
    values
        Nodal values, shape ``(n_states, *grid.node_shape)``, zero on the walls.
    potential
        V at points of shape ``(m, d)``; its jump across each breakpoint sets the jump of the
        splines' normal second derivative there.

    The states are normalized to unit L2 norm (the integral of a spline squared is exact, axis
    by axis) and signed to rise from the first wall in C order of the nodes
    (:func:`~qbench.numerics.signs.rising_signs`).
    """

    #: Order of accuracy of the values: nodal values extrapolated to fourth order keep it.
    order = 4

    def __init__(self, grid: TensorGrid, values: np.ndarray, potential: Potential):
        values = np.asarray(values, dtype=float)
        if values.shape[1:] != grid.node_shape:
            raise ValueError(f"values must have shape (n_states, *{grid.node_shape}), got {values.shape}")
        self.dim = grid.dim
        axes = [axis_spline(axis.nodes, [last for _, last in axis.pieces[:-1]]) for axis in grid.axes]
        coefficients = np.moveaxis(values, 0, -1)  # trailing axis: all states in one solve
        for i, axis in enumerate(axes):
            jumps = _face_jumps(potential, grid, i, axis)
            coefficients = np.moveaxis(axis.coefficients(np.moveaxis(coefficients, i, 0), jumps), 0, i)
        splines = TensorSpline(axes, coefficients)
        signs = rising_signs(values.reshape(len(values), -1))
        self._splines = splines.scaled(signs / splines.norms())

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self._splines.evaluate(np.asarray(points, dtype=float).reshape(-1, self.dim))

    def laplacian(self, points: np.ndarray) -> np.ndarray:
        """``(n_states, n)``: the exact Laplacian of the states at ``points`` (0 outside the box)."""
        return self._splines.laplacian(np.asarray(points, dtype=float).reshape(-1, self.dim))


def _face_jumps(potential: Potential, grid: TensorGrid, axis: int, spline: AxisSpline) -> np.ndarray:
    """``[V]`` across each breakpoint of ``axis``: right minus left, at the middle of the face.

    Exact for a V separable across the face (every axis-aligned jump qbench's problems have);
    otherwise the middle's value stands for the face (:mod:`qbench.numerics.splines`).
    """
    middle = np.array([_middle(line) for line in grid.axes])
    jumps = []
    for index in spline.breakpoints:
        a = spline.nodes[index]
        sides = np.repeat(middle[None, :], 2, axis=0)
        sides[:, axis] = np.nextafter(a, -np.inf), np.nextafter(a, np.inf)
        left, right = np.asarray(potential(sides), dtype=float)
        jumps.append(right - left)
    return np.array(jumps)


def _middle(line: PiecewiseGrid) -> float:
    """A coordinate inside the widest piece of an axis, off every breakpoint."""
    widths = np.diff(line.edges)
    j = int(np.argmax(widths))
    return float(line.edges[j] + 0.5 * widths[j])

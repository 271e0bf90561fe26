"""Wavefunctions known at grid nodes, made evaluable everywhere.

Inside each piece the nodal values are joined by a cubic spline whose end
second derivatives come from the equation itself, psi'' = (V - E) psi, so the
interpolant is fourth-order accurate and keeps the kink of psi'' at a jump of V.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline

from ..problems import Problem
from ..problems.reference import rising_signs
from ..quadrature import gauss_legendre_rule
from .grid import PiecewiseGrid


class NodalStates:
    """Callable ``x -> (n_states, len(x))`` built from nodal eigenvectors.

    Parameters
    ----------
    problem
        Supplies the potential for the spline end conditions.
    grid
        The nodes, walls included.
    energies
        Eigenvalue of each state, shape ``(n_states,)``.
    values
        Nodal values, shape ``(n_states, len(grid.nodes))``, zero at the walls.

    The states are normalized to unit L2 norm (integrals of the spline squared
    are exact with 4 Gauss points per interval) and signed to rise from the left wall (``rising_signs``).
    """

    def __init__(self, problem: Problem, grid: PiecewiseGrid, energies: np.ndarray, values: np.ndarray):
        self.domain = problem.domain
        self.piece_edges = grid.edges
        energies = np.asarray(energies, dtype=float)
        values = np.asarray(values, dtype=float)
        potentials = grid.one_sided_potential(problem)
        self._splines = []
        for (first, last), v in zip(grid.pieces, potentials):
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
        inside = (x >= self.domain[0]) & (x <= self.domain[1])
        for j, spline in enumerate(self._splines):
            mask = inside & (piece == j)
            if mask.any():
                out[:, mask] = spline(x[mask]).T
        return out

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, dtype=float))
        return self._scale[:, None] * self._raw(x)

"""Tensor-product cubic splines through nodal values, C^1 where V jumps: values and Laplacians.

Along one axis the spline has a knot at every node and a double knot at every breakpoint (a jump
of V), so it is C^2 inside each piece and C^1 across a breakpoint, the smoothness of psi itself:
psi and its normal derivative are continuous there while its second derivative jumps. Its
N + P + 2 coefficients (N intervals, P pieces) are fixed by the N + 1 nodal values and by
P + 1 conditions the equation supplies in any dimension and for any E:

* at a wall ``s'' = 0``: psi = 0 along the wall, so its tangential second derivatives vanish,
  and ``Laplacian psi = (V - E) psi = 0`` there (V finite) leaves the normal one zero too;
* at a breakpoint ``[s''] = [V] s``: the other second derivatives are continuous across the
  face, so the jump of ``Laplacian psi = (V - E) psi`` is all in the normal one.

The conditions are linear in the nodal values and do not involve E, so a tensor-product spline
is the 1D construction applied along each axis in turn. Where ``[V]`` varies along a face (a V
that is not separable across that face) one weight per face cannot match it everywhere; the
spline is then still a C^1 function with the Laplacian this module computes, only less accurate
beside the face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.interpolate import BSpline, NdBSpline
from scipy.sparse.linalg import splu

from .quadrature import gauss_legendre_rule

DEGREE = 3


def _derivative_map(knots: np.ndarray, degree: int) -> sp.csr_matrix:
    """Sparse map from a spline's coefficients to its derivative's (degree - 1, knots[1:-1])."""
    n = len(knots) - degree - 1
    scale = degree / (knots[degree + 1 : degree + n] - knots[1:n])
    return sp.diags([-scale, scale], [0, 1], shape=(n - 1, n), format="csr")


@dataclass(frozen=True)
class AxisSpline:
    """The cubic spline space of one axis and the map from nodal values to its coefficients.

    Attributes
    ----------
    knots : numpy.ndarray
        Four-fold at the walls, single at every interior node, double at every breakpoint.
    nodes : numpy.ndarray
        The interpolation nodes, walls included.
    breakpoints : numpy.ndarray
        Indices into ``nodes`` of the breakpoints (the jumps of V on this axis).
    """

    knots: np.ndarray
    nodes: np.ndarray
    breakpoints: np.ndarray

    @property
    def n_basis(self) -> int:
        return len(self.knots) - DEGREE - 1

    def design(self, x: np.ndarray, derivative: int = 0) -> sp.csr_matrix:
        """``(len(x), n_basis)``: the basis splines' ``derivative``-th derivatives at ``x`` (in the box)."""
        x = np.asarray(x, dtype=float)
        if len(x) == 0:
            return sp.csr_matrix((0, self.n_basis))
        knots, degree, matrix = self.knots, DEGREE, sp.identity(self.n_basis, format="csr")
        for _ in range(derivative):
            matrix = _derivative_map(knots, degree) @ matrix
            knots, degree = knots[1:-1], degree - 1
        return (BSpline.design_matrix(x, knots, degree) @ matrix).tocsr()

    def coefficients(self, values: np.ndarray, jumps: np.ndarray) -> np.ndarray:
        """Coefficients, along axis 0, of the splines through ``values`` (axis 0: the nodes).

        ``jumps[k]`` is ``[V]`` across ``breakpoints[k]`` (right side minus left side).
        """
        rows = [
            self.design(self.nodes),
            self.design(self.nodes[[0, -1]], 2),
        ]
        right = np.nextafter(self.nodes[self.breakpoints], np.inf)
        left = np.nextafter(self.nodes[self.breakpoints], -np.inf)
        rows.append(self.design(right, 2) - self.design(left, 2))
        system = sp.vstack(rows, format="csc")
        flat = values.reshape(len(self.nodes), -1)
        rhs = np.zeros((self.n_basis, flat.shape[1]))
        rhs[: len(self.nodes)] = flat
        rhs[len(self.nodes) + 2 :] = np.asarray(jumps, dtype=float)[:, None] * flat[self.breakpoints]
        return splu(system).solve(rhs).reshape(self.n_basis, *values.shape[1:])

    def gram(self) -> sp.csr_matrix:
        """``int B_i B_j`` over the axis, exact (4 Gauss points per interval integrate degree 7)."""
        x, w = gauss_legendre_rule(np.unique(self.knots), 1, order=4)
        basis = self.design(x)
        return (basis.T @ sp.diags(w) @ basis).tocsr()


def axis_spline(nodes: np.ndarray, breakpoints: Sequence[int]) -> AxisSpline:
    """The spline space on ``nodes`` (increasing, walls included) with breakpoints at those indices."""
    nodes = np.asarray(nodes, dtype=float)
    breakpoints = np.asarray(sorted(breakpoints), dtype=int)
    interior = np.concatenate([nodes[1:-1], nodes[breakpoints]])
    knots = np.concatenate([[nodes[0]] * (DEGREE + 1), np.sort(interior), [nodes[-1]] * (DEGREE + 1)])
    return AxisSpline(knots, nodes, breakpoints)


def _along(matrix, tensor: np.ndarray, axis: int) -> np.ndarray:
    """``matrix`` (dense or sparse) applied along ``axis`` of ``tensor``."""
    moved = np.moveaxis(tensor, axis, 0)
    out = matrix @ moved.reshape(moved.shape[0], -1)
    return np.moveaxis(np.asarray(out).reshape(-1, *moved.shape[1:]), 0, axis)


class TensorSpline:
    """Tensor-product splines, one per trailing index of ``coefficients``, zero outside the box.

    Parameters
    ----------
    axes
        The spline space of each axis.
    coefficients
        Shape ``(*[axis.n_basis for axis in axes], n_states)``.
    """

    #: Above this many distinct coordinate tuples per point, points are taken as scattered.
    TENSOR_RATIO = 4.0

    def __init__(self, axes: Sequence[AxisSpline], coefficients: np.ndarray):
        self.axes = list(axes)
        self.coefficients = coefficients
        self.box = np.array([[axis.nodes[0], axis.nodes[-1]] for axis in self.axes])
        self._spline = NdBSpline(tuple(axis.knots for axis in self.axes), coefficients, DEGREE)

    def norms(self) -> np.ndarray:
        """The L2 norm of each spline over the box (exact: Gram matrices axis by axis)."""
        weighted = self.coefficients
        for i, axis in enumerate(self.axes):
            weighted = _along(axis.gram(), weighted, i)
        flat = self.coefficients.reshape(-1, self.coefficients.shape[-1])
        return np.sqrt(np.sum(flat * weighted.reshape(flat.shape), axis=0))

    def scaled(self, factors: np.ndarray) -> TensorSpline:
        """The splines, each times its factor."""
        return TensorSpline(self.axes, self.coefficients * factors)

    def evaluate(self, points: np.ndarray, derivatives: Sequence[int] | None = None) -> np.ndarray:
        """``(n_states, n)``: the mixed derivative of orders ``derivatives`` (per axis) at ``points``."""
        d = len(self.axes)
        derivatives = tuple(derivatives or (0,) * d)
        points = np.asarray(points, dtype=float).reshape(-1, d)
        out = np.zeros((self.coefficients.shape[-1], len(points)))
        inside = np.flatnonzero(np.all((points >= self.box[:, 0]) & (points <= self.box[:, 1]), axis=1))
        if len(inside) == 0:
            return out
        chosen = points[inside]
        distinct = [np.unique(chosen[:, i], return_inverse=True) for i in range(d)]
        if np.prod([float(len(u)) for u, _ in distinct]) <= self.TENSOR_RATIO * len(inside):
            # A tensor grid of points (a quadrature rule): one sparse design matrix per axis on the
            # distinct coordinates, contracted axis by axis, is far cheaper than per-point sums.
            tensor = self.coefficients
            for i, (axis, (coordinates, _)) in enumerate(zip(self.axes, distinct)):
                tensor = _along(axis.design(coordinates, derivatives[i]), tensor, i)
            out[:, inside] = tensor[tuple(inverse.ravel() for _, inverse in distinct)].T
        else:
            out[:, inside] = self._spline(chosen, nu=np.array(derivatives)).reshape(len(inside), -1).T
        return out

    def laplacian(self, points: np.ndarray) -> np.ndarray:
        """``(n_states, n)``: the sum of the splines' second derivatives along every axis."""
        d = len(self.axes)
        return sum(self.evaluate(points, tuple(2 * (j == i) for j in range(d))) for i in range(d))

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self.evaluate(points)

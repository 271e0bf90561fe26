"""Tensor-product Chebyshev polynomials on the cells of a collocation grid: integrals and values.

A cell is a product of one piece per axis; on it, a state known at the cell's tensor Lobatto
nodes is the tensor-product polynomial interpolating them. :class:`CellPolynomials` integrates
products of such states exactly (tensor Gauss-Legendre per cell) to give the Galerkin matrices
of a Rayleigh-Ritz step; :class:`TensorChebyshev` evaluates the resulting states anywhere.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence

import numpy as np
from numpy.polynomial import chebyshev

from .chebyshev import AxisCollocation, chebyshev_lobatto, interpolation_matrices
from .quadrature import gauss_legendre_rule
from .tensor import apply_along, tensor_points

#: Gauss points per axis beyond the exact-for-polynomials count in ``int V psi^2``, so that a smooth V
#: is integrated to rounding too.
EXTRA_GAUSS_POINTS = 16
#: Points per chunk times values per point in the evaluations on many points (bounds their memory).
CHUNK_ELEMENTS = 2_000_000

Potential = Callable[[np.ndarray], np.ndarray]
Rule = Callable[[int | None], tuple[np.ndarray, np.ndarray]]


class CellPolynomials:
    """The nodal values of a set of states cut into cells, and their integrals.

    Parameters
    ----------
    axes
        The collocation of each axis.
    nodal
        Values at every tensor node (interfaces twice, walls included), shape
        ``(*[len(axis.nodes) for axis in axes], n_basis)``.
    """

    def __init__(self, axes: Sequence[AxisCollocation], nodal: np.ndarray):
        self.axes = list(axes)
        self.nodal = nodal
        self.cells = list(itertools.product(*[range(len(axis.pieces)) for axis in self.axes]))

    def _cell_values(self, cell: tuple[int, ...]) -> np.ndarray:
        return self.nodal[tuple(axis.pieces[j] for axis, j in zip(self.axes, cell))]

    @staticmethod
    def _axis_rule(axis: AxisCollocation, piece: int, extra: int):
        """Gauss nodes and weights on one piece, and the value and derivative matrices from its nodes."""
        a, b = axis.edges[piece], axis.edges[piece + 1]
        degree = int(axis.degrees[piece])
        nodes, weights = gauss_legendre_rule([a, b], 1, order=degree + 1 + extra)
        return nodes, weights, *interpolation_matrices(degree, a, b, nodes)

    def galerkin_matrices(
        self, potential: Potential, box: Sequence[tuple[float, float]], curved_rule: Rule | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(int grad psi_i . grad psi_j + V psi_i psi_j, int psi_i psi_j)`` over the box.

        Parameters
        ----------
        potential
            V at points of shape ``(n, d)``.
        box
            The walls per axis.
        curved_rule
            ``None`` when V is smooth inside every cell (its jumps lie on the axes' breakpoints):
            ``int V psi^2`` then takes the tensor Gauss rule with :data:`EXTRA_GAUSS_POINTS` more
            points per axis. Otherwise a rule ``n_points -> (nodes (n, d), weights)`` that follows
            V's curved jumps (a problem's ``quadrature_rule``).

        Returns
        -------
        stiffness, mass : numpy.ndarray
            ``(n_basis, n_basis)`` each.
        """
        n_basis = self.nodal.shape[-1]
        stiffness = np.zeros((n_basis, n_basis))
        mass = np.zeros((n_basis, n_basis))
        d = len(self.axes)
        for cell in self.cells:
            values = self._cell_values(cell)
            # Degree + 1 Gauss points per axis integrate psi^2 and |grad psi|^2 exactly.
            rules = [self._axis_rule(axis, j, 0) for axis, j in zip(self.axes, cell)]
            weights = functools.reduce(np.multiply.outer, [rule[1] for rule in rules]).reshape(-1, 1)
            for k in range(-1, d):  # k = -1: the values; k >= 0: the derivative along axis k
                field = values
                for i, (_, _, value_matrix, derivative_matrix) in enumerate(rules):
                    field = apply_along(derivative_matrix if i == k else value_matrix, field, i)
                flat = field.reshape(-1, n_basis)
                product = flat.T @ (flat * weights)
                if k < 0:
                    mass += product
                else:
                    stiffness += product
            if curved_rule is None:
                stiffness += self._potential_term(potential, cell, values)
        if curved_rule is not None:
            # V jumps on a curve inside the cells: the problem's rule follows it. At least n^d nodes
            # (n points per axis): on the circular well at n = 200 the default 128^2 nodes move the
            # energies by 3e-7 (relative), n^d and (2 n)^d nodes agree to 1e-10.
            points, weights = curved_rule(None)
            wanted = int(np.prod([len(axis.nodes) for axis in self.axes]))
            if len(weights) < wanted:
                points, weights = curved_rule(wanted)
            psi = TensorChebyshev(box, self.axes, self.transform(np.eye(n_basis))).evaluate(points)
            stiffness += (psi * (weights * potential(points))) @ psi.T
        return stiffness, mass

    def _potential_term(self, potential: Potential, cell: tuple[int, ...], values: np.ndarray) -> np.ndarray:
        """``int V psi_i psi_j`` over one cell, V smooth there: :data:`EXTRA_GAUSS_POINTS` more per axis.

        The rule has ``prod(degree + 17)`` nodes (3.7 million for one 4D cell of degree 27), so it is
        taken in slabs of the first axis's nodes, each holding about :data:`CHUNK_ELEMENTS` values.
        """
        n_basis = values.shape[-1]
        rules = [self._axis_rule(axis, j, EXTRA_GAUSS_POINTS) for axis, j in zip(self.axes, cell)]
        rest = int(np.prod([len(rule[0]) for rule in rules[1:]]))
        step = max(1, CHUNK_ELEMENTS // (rest * n_basis))
        term = np.zeros((n_basis, n_basis))
        for start in range(0, len(rules[0][0]), step):
            slab = slice(start, start + step)
            psi = apply_along(rules[0][2][slab], values, 0)
            for i, (_, _, value_matrix, _) in enumerate(rules[1:], start=1):
                psi = apply_along(value_matrix, psi, i)
            nodes = [rules[0][0][slab], *[rule[0] for rule in rules[1:]]]
            weights = functools.reduce(
                np.multiply.outer, [rules[0][1][slab], *[rule[1] for rule in rules[1:]]]
            )
            v = np.asarray(potential(tensor_points(nodes)), dtype=float)
            flat = psi.reshape(-1, n_basis)
            term += flat.T @ (flat * (weights.ravel() * v)[:, None])
        return term

    def transform(self, coefficients: np.ndarray) -> list[np.ndarray]:
        """Per cell, the Chebyshev coefficient tensor of each combination ``nodal @ coefficients``."""
        out = []
        for cell in self.cells:
            tensor = self._cell_values(cell) @ coefficients
            for i, (axis, j) in enumerate(zip(self.axes, cell)):
                tensor = apply_along(chebyshev_lobatto(int(axis.degrees[j]))[3], tensor, i)
            out.append(tensor)
        return out


class TensorChebyshev:
    """Callable ``points (n, d) -> (n_states, n)``: per cell, a tensor-product Chebyshev series.

    Zero outside the box. d = 1 included: a piecewise Chebyshev series on the axis's pieces.

    Parameters
    ----------
    box
        The walls per axis.
    axes
        The collocation of each axis (its piece edges and degrees).
    coefficients
        Per cell (in ``itertools.product`` order of the axes' pieces), the coefficient tensor
        of shape ``(*[degree + 1 per axis], n_states)``.
    """

    def __init__(
        self,
        box: Sequence[tuple[float, float]],
        axes: Sequence[AxisCollocation],
        coefficients: list[np.ndarray],
    ):
        self.box = np.asarray(box, dtype=float)
        self.edges = [axis.edges for axis in axes]
        self.cells = list(itertools.product(*[range(len(axis.pieces)) for axis in axes]))
        self.coefficients = coefficients
        self.n_states = coefficients[0].shape[-1]
        self._second_derivatives: list[list[np.ndarray]] | None = None

    def evaluate(self, points: np.ndarray) -> np.ndarray:
        """The states at ``points`` of shape ``(n, d)``, shape ``(n_states, n)``."""
        return self._evaluate(points, self.coefficients)

    def laplacian(self, points: np.ndarray) -> np.ndarray:
        """The states' Laplacian at ``points`` of shape ``(n, d)``, shape ``(n_states, n)``.

        Exact for the polynomials: per cell and axis the series differentiated twice
        (``chebder``, times the squared map from the piece to [-1, 1]). 0 outside the box.
        """
        if self._second_derivatives is None:
            self._second_derivatives = [
                [
                    chebyshev.chebder(c, 2, scl=2.0 / (self.edges[i][j + 1] - self.edges[i][j]), axis=i)
                    for cell, c in zip(self.cells, self.coefficients)
                    for j in [cell[i]]
                ]
                for i in range(len(self.edges))
            ]
        return sum(self._evaluate(points, series) for series in self._second_derivatives)

    def _evaluate(self, points: np.ndarray, series: list[np.ndarray]) -> np.ndarray:
        """``(n_states, n)``: per cell, its coefficient tensor in ``series`` summed at ``points``."""
        points = np.asarray(points, dtype=float).reshape(-1, len(self.edges))
        out = np.zeros((self.n_states, len(points)))
        inside = np.all((points >= self.box[:, 0]) & (points <= self.box[:, 1]), axis=1)
        piece = np.stack(
            [
                np.clip(np.searchsorted(edges, points[:, i], side="right") - 1, 0, len(edges) - 2)
                for i, edges in enumerate(self.edges)
            ],
            axis=1,
        )
        # Each point's cell as its index in ``self.cells`` (itertools.product order is C order),
        # so the points of every cell come from one sort instead of a scan per cell.
        flat = np.ravel_multi_index(tuple(piece.T), [len(edges) - 1 for edges in self.edges])
        flat = np.where(inside, flat, -1)
        order = np.argsort(flat, kind="stable")
        bounds = np.searchsorted(flat[order], np.arange(len(self.cells) + 1))
        for index, (cell, coefficients) in enumerate(zip(self.cells, series)):
            rows = order[bounds[index] : bounds[index + 1]]
            if len(rows) == 0:
                continue
            # A tensor grid of points (the grading rule) shares coordinates: contract axis by axis on
            # the distinct coordinates, about N * n_states * (distinct per axis) operations instead of
            # N * n_states per point.
            distinct = [np.unique(points[rows, i], return_inverse=True) for i in range(len(cell))]
            if np.prod([float(len(u)) for u, _ in distinct]) <= 4.0 * len(rows):
                tensor = coefficients
                for i, (j, (coordinates, _)) in enumerate(zip(cell, distinct)):
                    tensor = apply_along(self._basis(i, j, coordinates, coefficients.shape[i] - 1), tensor, i)
                out[:, rows] = tensor[tuple(inverse.ravel() for _, inverse in distinct)].T
                continue
            out[:, rows] = self._scattered(cell, coefficients, points[rows]).T
        return out

    def _scattered(self, cell, coefficients: np.ndarray, points: np.ndarray) -> np.ndarray:
        """``(m, n_states)`` values of one cell's series at ``m`` scattered points inside it.

        Points that share every coordinate but one (a finite-difference stencil along one axis)
        share the contraction of the other axes: it is done once per distinct rest, and only the
        varying axis point by point, about five times less work for a 5-point stencil in 3D.
        Each point joins the axis along which the most points share its rest.
        """
        dim = points.shape[1]
        if dim == 1:
            return self._chunked(list(enumerate(cell)), coefficients, points)
        groups, sizes = [], []
        for a in range(dim):
            rest, inverse, counts = np.unique(
                np.delete(points, a, axis=1), axis=0, return_inverse=True, return_counts=True
            )
            groups.append((rest, inverse.reshape(-1)))
            sizes.append(counts[groups[-1][1]])
        along = np.argmax(np.stack(sizes), axis=0)
        out = np.empty((len(points), coefficients.shape[-1]))
        for a, (rest, inverse) in enumerate(groups):
            rows = np.flatnonzero(along == a)
            if len(rows):
                # The rests these points use, renumbered among themselves.
                used, local = np.unique(inverse[rows], return_inverse=True)
                out[rows] = self._along(cell, coefficients, points[rows], a, rest[used], local)
        return out

    def _along(
        self,
        cell,
        coefficients: np.ndarray,
        points: np.ndarray,
        a: int,
        rest: np.ndarray,
        inverse: np.ndarray,
    ) -> np.ndarray:
        """:meth:`_scattered` for points grouped by their coordinates other than axis ``a``: ``rest``
        holds the distinct ones, and ``inverse`` each point's row of it."""
        if 2 * len(rest) > len(points):  # too little sharing to pay for the grouping
            return self._chunked(list(enumerate(cell)), coefficients, points)
        others = [(i, j) for i, j in enumerate(cell) if i != a]
        moved = np.moveaxis(coefficients, a, len(cell) - 1)
        shared = self._chunked(others, moved, rest)  # (distinct rests, degree_a + 1, states)
        out = np.empty((len(points), shared.shape[-1]))
        step = max(1, CHUNK_ELEMENTS // shared[0].size)
        for start in range(0, len(points), step):
            chunk = slice(start, start + step)
            basis = self._basis(a, cell[a], points[chunk, a], coefficients.shape[a] - 1)
            out[chunk] = np.einsum("mjs,mj->ms", shared[inverse[chunk]], basis)
        return out

    def _chunked(self, axes, coefficients: np.ndarray, points: np.ndarray) -> np.ndarray:
        """:meth:`_cell_values` over chunks of at most :data:`CHUNK_ELEMENTS` values."""
        coefficients = np.ascontiguousarray(coefficients)  # one copy, not one per chunk
        per_point = coefficients.size // coefficients.shape[0]
        step = max(1, CHUNK_ELEMENTS // per_point)
        out = np.empty((len(points), *coefficients.shape[len(axes) :]))
        for start in range(0, len(points), step):
            out[start : start + step] = self._cell_values(axes, coefficients, points[start : start + step])
        return out

    def _cell_values(self, axes, coefficients: np.ndarray, points: np.ndarray) -> np.ndarray:
        """``(m, *rest)`` the series summed over its leading axes ``axes`` ((axis, piece) pairs) at
        ``m`` points (one column per such axis)."""
        bases = [self._basis(i, j, points[:, t], coefficients.shape[t] - 1) for t, (i, j) in enumerate(axes)]
        # Contract the first axis by a matrix product, then each further axis point by point.
        tensor = bases[0] @ coefficients.reshape(coefficients.shape[0], -1)
        tensor = tensor.reshape(len(points), *coefficients.shape[1:])
        for basis in bases[1:]:
            tensor = np.einsum("mj...,mj->m...", tensor, basis)
        return tensor

    def _basis(self, axis: int, piece: int, x: np.ndarray, degree: int) -> np.ndarray:
        """``(len(x), degree + 1)``: T_0..T_degree at ``x`` mapped from the piece to [-1, 1]."""
        a, b = self.edges[axis][piece], self.edges[axis][piece + 1]
        return chebyshev.chebvander((2.0 * x - (a + b)) / (b - a), degree)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self.evaluate(points)

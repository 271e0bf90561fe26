"""The vertex-centred finite-volume Hamiltonian on a tensor grid, in any number of dimensions.

Each axis of the box has a grid with nodes on that axis's breakpoints
(:func:`qbench.numerics.grids.tensor_grid`). Node i of one axis owns the dual cell
``[x_i - h_-/2, x_i + h_+/2]``; integrating ``-psi''`` over it gives the three-point scheme
``K psi = E W psi``, K symmetric tridiagonal and W the dual-cell widths. In d dimensions the
dual cell of a node is the product of its axes' dual cells, so ``W = W_1 x ... x W_d`` and the
symmetrized kinetic part ``W^-1/2 K W^-1/2`` is exactly the Kronecker sum of the axes'
symmetrized kinetic matrices (one tridiagonal matrix when d = 1). V enters as its average
over each node's dual cell, by the midpoint rule on the cell's 2^d sub-cells. With nodes on
the breakpoints the scheme is second order with an error that expands in even powers of h,
wherever the jumps are; for a separable V the cell average is the sum of the axes' cell
averages, so the d-dimensional energies are exactly sums of 1D ones.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from .grids import PiecewiseGrid, TensorGrid

#: Points per call of ``potential`` while averaging V over the dual cells: bounds the
#: temporary ``(n, d)`` arrays at 128^3 and beyond to a few tens of MB.
POTENTIAL_CHUNK = 2**19


def axis_kinetic(grid: PiecewiseGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetrized kinetic matrix ``W^-1/2 K W^-1/2`` of one axis, on its interior nodes.

    :func:`hamiltonian` sums these over the axes (a Kronecker sum).

    Returns
    -------
    diagonal, off_diagonal
        The tridiagonal matrix's main and first diagonals.
    scale
        ``W^-1/2``, the inverse square root of the dual-cell widths.
    """
    h = np.diff(grid.nodes)
    h_minus, h_plus = h[:-1], h[1:]
    widths = 0.5 * (h_minus + h_plus)
    scale = 1.0 / np.sqrt(widths)
    diagonal = (1.0 / h_minus + 1.0 / h_plus) / widths
    off_diagonal = -scale[:-1] * scale[1:] / h[1:-1]
    return diagonal, off_diagonal, scale


def _half_cells(grid: PiecewiseGrid) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Midpoints and width fractions of the left and right halves of each interior node's dual cell."""
    h = np.diff(grid.nodes)
    h_minus, h_plus = h[:-1], h[1:]
    x = grid.nodes[1:-1]
    total = h_minus + h_plus
    return (x - h_minus / 4, x + h_plus / 4), (h_minus / total, h_plus / total)


def dual_cell_potential(potential: Callable[[np.ndarray], np.ndarray], grid: TensorGrid) -> np.ndarray:
    """V averaged over each interior node's dual cell, shape ``grid.shape``.

    The dual cell is the product of the 1D ones; its 2^d sub-cells (left or right
    half along each axis) each contribute V at their midpoint times their volume.
    The sub-cells never straddle an axis-aligned jump (nodes sit on the jumps); a
    curved jump cuts them, and then this average is only first-order accurate
    near the curve, which costs the scheme its clean h^2 expansion.

    ``potential`` takes points of shape ``(n, d)`` and returns ``(n,)``.
    """
    halves = [_half_cells(axis) for axis in grid.axes]
    out = np.zeros(grid.shape)
    # Slabs along axis 0 keep each potential call to about POTENTIAL_CHUNK points.
    per_row = int(np.prod(grid.shape[1:], dtype=np.int64))
    rows = max(1, POTENTIAL_CHUNK // max(per_row, 1))
    for start in range(0, grid.shape[0], rows):
        stop = min(start + rows, grid.shape[0])
        for sides in itertools.product((0, 1), repeat=grid.dim):
            coords = [halves[i][0][side] for i, side in enumerate(sides)]
            fractions = [halves[i][1][side] for i, side in enumerate(sides)]
            coords[0], fractions[0] = coords[0][start:stop], fractions[0][start:stop]
            mesh = np.meshgrid(*coords, indexing="ij")
            points = np.stack([m.ravel() for m in mesh], axis=-1)
            values = np.asarray(potential(points), dtype=float).reshape(mesh[0].shape)
            out[start:stop] += functools.reduce(np.multiply.outer, fractions) * values
    return out


def hamiltonian(
    potential: Callable[[np.ndarray], np.ndarray], grid: TensorGrid
) -> tuple[sp.csr_matrix, np.ndarray, float]:
    """Symmetrized finite-volume Hamiltonian on ``grid``: Kronecker sum of the axes' kinetic parts + diag(V).

    ``potential`` takes points of shape ``(n, d)``; V enters averaged over each node's dual cell.

    Returns
    -------
    matrix
        CSR, size ``grid.n_unknowns``, (2 d + 1) diagonals (tridiagonal when d = 1); its
        eigenvalues are the energies.
    scale
        ``W^-1/2`` flattened like the unknowns: eigenvectors times this are nodal psi values.
    v_min
        The smallest cell-averaged V, a lower bound of the spectrum.
    """
    shape = grid.shape
    n = grid.n_unknowns
    v_dual = dual_cell_potential(potential, grid)
    v_min = float(v_dual.min())
    kinetic = [axis_kinetic(axis) for axis in grid.axes]
    diagonal = v_dual
    offsets, diagonals = [0], [diagonal.reshape(-1)]  # a view: the loop below still adds to it
    for i, (diag_i, off_i, _) in enumerate(kinetic):
        along = [1] * grid.dim
        along[i] = shape[i]
        diagonal += diag_i.reshape(along)
        # Coupling of node k to k + stride along axis i; none from the last node of the axis
        # (the wall is there), so that entry is a zero that eliminate_zeros drops.
        stride = int(np.prod(shape[i + 1 :], dtype=np.int64))
        coupling = np.zeros(shape)
        inner = [1] * grid.dim
        inner[i] = shape[i] - 1
        coupling[(slice(None),) * i + (slice(0, shape[i] - 1),)] = off_i.reshape(inner)
        upper = coupling.ravel()[: n - stride]
        offsets += [stride, -stride]
        diagonals += [upper, upper]
    matrix = sp.diags(diagonals, offsets, shape=(n, n), format="csr")
    matrix.eliminate_zeros()
    scale = functools.reduce(np.multiply.outer, [s for _, _, s in kinetic]).ravel()
    return matrix, scale, v_min

"""Tensors of values on a product grid: operators along one axis, Kronecker sums, point lists.

A field on a tensor grid is an array with one axis per space dimension (last varying fastest,
C order), often with a trailing axis of states. A Kronecker factor acts along one axis only, so
it is applied by a contraction along that axis instead of building the Kronecker product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def apply_along(matrix: np.ndarray, tensor: np.ndarray, axis: int) -> np.ndarray:
    """``matrix`` applied along ``axis`` of ``tensor`` (the Kronecker factor of that axis)."""
    return np.moveaxis(np.tensordot(matrix, tensor, axes=([1], [axis])), 0, axis)


def kronecker_sum(operators: Sequence[np.ndarray]) -> np.ndarray:
    """Dense ``A_1 (+) ... (+) A_d``, the last axis varying fastest (C order)."""
    sizes = [len(operator) for operator in operators]
    total = np.zeros((int(np.prod(sizes)),) * 2)
    for i, operator in enumerate(operators):
        before, after = int(np.prod(sizes[:i])), int(np.prod(sizes[i + 1 :]))
        total += np.kron(np.kron(np.eye(before), operator), np.eye(after))
    return total


def tensor_points(coordinates: Sequence[np.ndarray]) -> np.ndarray:
    """The ``(n, d)`` tensor grid of per-axis coordinates, last axis fastest."""
    grids = np.meshgrid(*coordinates, indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=-1)

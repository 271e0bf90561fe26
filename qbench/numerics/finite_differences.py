"""Fourth-order finite-difference Laplacians of a function given only by its values.

The stencil of a point never crosses a wall or a breakpoint of its axis: where
the centred five-point stencil would, a one-sided six-point stencil inside the
point's own piece replaces it. Across a jump of V the second derivative of an
eigenfunction jumps, and a stencil straddling it would report that jump as a
residual the function does not have.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

Function = Callable[[np.ndarray], np.ndarray]

#: Offsets of the centred stencil (fourth order).
CENTRED = (-2, -1, 0, 1, 2)
#: Points of a one-sided stencil (fourth order for the second derivative).
ONE_SIDED_POINTS = 6


@lru_cache(maxsize=64)
def derivative_weights(offsets: tuple[int, ...], order: int) -> np.ndarray:
    """Weights ``w`` with ``f^(order)(0) ~ sum_j w_j f(o_j h) / h**order`` for integer offsets ``o``.

    Exact for polynomials of degree ``len(offsets) - 1``.
    """
    o = np.asarray(offsets, dtype=float)
    powers = np.arange(len(o))
    vandermonde = o[None, :] ** powers[:, None]
    rhs = np.zeros(len(o))
    rhs[order] = float(math.factorial(order))
    return np.linalg.solve(vandermonde, rhs)


def second_derivative_weights(offsets: tuple[int, ...]) -> np.ndarray:
    """:func:`derivative_weights` of order 2."""
    return derivative_weights(offsets, 2)


def one_sided_limits(
    function: Function, points: np.ndarray, axis: int, step: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Limits of the value and of the derivative along ``axis`` from below and from above.

    Each is extrapolated from six points on its own side (never the point itself, which
    belongs to one side arbitrarily), exact for polynomials of degree 5.

    Returns
    -------
    value_below, value_above, slope_below, slope_above : numpy.ndarray
        Shape ``(k, n)`` each.
    """
    points = np.asarray(points, dtype=float)
    out = []
    for side in (-1, 1):
        offsets = tuple(side * j for j in range(1, 7))
        shifted = np.repeat(points[None], len(offsets), axis=0)
        shifted[:, :, axis] += np.asarray(offsets, dtype=float)[:, None] * step
        values = np.asarray(function(shifted.reshape(-1, points.shape[1])), dtype=float)
        values = values.reshape(values.shape[0], len(offsets), len(points))
        value = np.einsum("j,kjm->km", derivative_weights(offsets, 0), values)
        slope = np.einsum("j,kjm->km", derivative_weights(offsets, 1), values) / step
        out.append((value, slope))
    (value_below, slope_below), (value_above, slope_above) = out
    return value_below, value_above, slope_below, slope_above


def _offsets(x: np.ndarray, left: np.ndarray, right: np.ndarray, h: float) -> np.ndarray:
    """Per point, the first offset of its stencil: -2 for centred, else a one-sided start."""
    start = np.full(len(x), -2, dtype=int)
    near_left = x - 2 * h < left
    near_right = x + 2 * h > right
    # Inside [left, right]: the first offset is the smallest integer s with x + s h >= left.
    start[near_left] = np.ceil((left[near_left] - x[near_left]) / h - 1e-9).astype(int)
    last = np.floor((right[near_right] - x[near_right]) / h + 1e-9).astype(int)
    start[near_right] = last - (ONE_SIDED_POINTS - 1)
    return start


def laplacian(
    function: Function,
    points: np.ndarray,
    box: Sequence[tuple[float, float]],
    axis_breakpoints: Sequence[Sequence[float]],
    steps: Sequence[float],
) -> np.ndarray:
    """Fourth-order finite-difference Laplacian of ``function`` at ``points``.

    Parameters
    ----------
    function
        ``points (m, d) -> (k, m)`` values.
    points
        Shape ``(n, d)``, inside the box.
    box, axis_breakpoints
        Walls and jumps of each axis: no stencil crosses one.
    steps
        Step per axis; a piece narrower than eight steps gets an eighth of its width.

    Returns
    -------
    numpy.ndarray
        Shape ``(k, n)``.
    """
    points = np.asarray(points, dtype=float)
    n, dim = points.shape
    total: np.ndarray | None = None
    for axis in range(dim):
        x = points[:, axis]
        edges = np.array([box[axis][0], *sorted(axis_breakpoints[axis]), box[axis][1]], dtype=float)
        piece = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
        left, right = edges[piece], edges[piece + 1]
        h = np.minimum(steps[axis], (right - left) / 8.0)
        part = np.zeros((0, n)) if total is None else np.zeros_like(total)
        for step in np.unique(h):
            chosen = h == step
            first = _offsets(x[chosen], left[chosen], right[chosen], float(step))
            for start in np.unique(first):
                members = np.flatnonzero(chosen)[first == start]
                offsets = CENTRED if start == -2 else tuple(range(start, start + ONE_SIDED_POINTS))
                weights = second_derivative_weights(tuple(int(o) for o in offsets))
                shifted = np.repeat(points[members][None], len(offsets), axis=0)
                shifted[:, :, axis] += np.asarray(offsets, dtype=float)[:, None] * step
                values = np.asarray(function(shifted.reshape(-1, dim)), dtype=float)
                values = values.reshape(values.shape[0], len(offsets), len(members))
                if part.shape[0] == 0:
                    part = np.zeros((values.shape[0], n))
                part[:, members] = np.einsum("j,kjm->km", weights, values) / step**2
        total = part if total is None else total + part
    assert total is not None
    return total


def default_steps(box: Sequence[tuple[float, float]], fraction: float = 1e-3) -> list[float]:
    """A step per axis: ``fraction`` of the axis's length."""
    return [fraction * (b - a) for a, b in box]

"""Fourth-order finite-difference Laplacians of a function given only by its values.

The stencil of a point never crosses a wall or a breakpoint of its axis: where
the centred five-point stencil would, a one-sided six-point stencil inside the
point's own piece replaces it. Across a jump of V the second derivative of an
eigenfunction jumps, and a stencil straddling it would report that jump as a
residual the function does not have.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
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
    function: Function, points: np.ndarray, axis: int, steps: Sequence[float]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Limits of the value and of the derivative along ``axis`` from below and from above.

    Each is extrapolated from six points on its own side (never the point itself, which
    belongs to one side arbitrarily), exact for polynomials of degree 5, at each of ``steps``;
    ``function`` is called once for every side and step.

    Returns
    -------
    list of (value_below, value_above, slope_below, slope_above)
        One tuple per step, each array of shape ``(k, n)``.
    """
    points = np.asarray(points, dtype=float)
    offsets = {side: tuple(side * j for j in range(1, 7)) for side in (-1, 1)}
    blocks = []
    for step in steps:
        for side in (-1, 1):
            shifted = np.repeat(points[None], len(offsets[side]), axis=0)
            shifted[:, :, axis] += np.asarray(offsets[side], dtype=float)[:, None] * step
            blocks.append(shifted.reshape(-1, points.shape[1]))
    values = np.asarray(function(np.concatenate(blocks)), dtype=float)
    values = values.reshape(values.shape[0], len(steps), 2, 6, len(points))
    out = []
    for i, step in enumerate(steps):
        limits = []
        for j, side in enumerate((-1, 1)):
            on_side = values[:, i, j]
            limits.append(np.einsum("j,kjm->km", derivative_weights(offsets[side], 0), on_side))
            limits.append(np.einsum("j,kjm->km", derivative_weights(offsets[side], 1), on_side) / step)
        value_below, slope_below, value_above, slope_above = limits
        out.append((value_below, value_above, slope_below, slope_above))
    return out


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
    return laplacians(function, points, box, axis_breakpoints, [steps])[0]


def laplacians(
    function: Function,
    points: np.ndarray,
    box: Sequence[tuple[float, float]],
    axis_breakpoints: Sequence[Sequence[float]],
    step_sets: Sequence[Sequence[float]],
) -> list[np.ndarray]:
    """:func:`laplacian` at each set of steps in ``step_sets``, from as few calls of ``function`` as fit.

    Every stencil of every axis and step set is evaluated in batches of up to
    :data:`BATCH_POINTS` points: a function with a per-call cost (a network, a piecewise
    series) is called a few times instead of once per axis, stencil kind and step.
    """
    points = np.asarray(points, dtype=float)
    n, dim = points.shape
    # One stencil kind per entry: (step set, axis, members, offsets, step, weights / step**2). Its
    # shifted points are made only when its batch is evaluated, so memory stays within a batch.
    plan: list[tuple[int, int, np.ndarray, np.ndarray, float, np.ndarray]] = []
    for index, steps in enumerate(step_sets):
        for axis in range(dim):
            x = points[:, axis]
            edges = np.array([box[axis][0], *sorted(axis_breakpoints[axis]), box[axis][1]], dtype=float)
            piece = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
            left, right = edges[piece], edges[piece + 1]
            h = np.minimum(steps[axis], (right - left) / 8.0)
            for step in np.unique(h):
                chosen = h == step
                first = _offsets(x[chosen], left[chosen], right[chosen], float(step))
                for start in np.unique(first):
                    members = np.flatnonzero(chosen)[first == start]
                    offsets = CENTRED if start == -2 else tuple(range(start, start + ONE_SIDED_POINTS))
                    weights = second_derivative_weights(tuple(int(o) for o in offsets)) / step**2
                    plan.append((index, axis, members, np.asarray(offsets, float), float(step), weights))
    totals: list[np.ndarray | None] = [None] * len(step_sets)
    for batch in _batches([len(entry[2]) * len(entry[3]) for entry in plan]):
        blocks = []
        for _, axis, members, offsets, step, _ in (plan[i] for i in batch):
            shifted = np.repeat(points[members][None], len(offsets), axis=0)
            shifted[:, :, axis] += offsets[:, None] * step
            blocks.append(shifted.reshape(-1, dim))
        values = np.asarray(function(np.concatenate(blocks)), dtype=float)
        cuts = np.cumsum([len(b) for b in blocks])[:-1]
        for i, block in zip(batch, np.split(values, cuts, axis=1)):
            index, _, members, offsets, _, weights = plan[i]
            block = block.reshape(block.shape[0], len(offsets), len(members))
            if totals[index] is None:
                totals[index] = np.zeros((block.shape[0], n))
            totals[index][:, members] += np.einsum("j,kjm->km", weights, block)
    return [np.zeros((0, n)) if total is None else total for total in totals]


#: Largest number of points :func:`laplacians` passes to the function at once (bounds memory).
BATCH_POINTS = 1 << 20


def _batches(sizes: list[int]) -> Iterator[range]:
    """Consecutive runs of stencils whose points add up to at most :data:`BATCH_POINTS` (or one)."""
    first = 0
    while first < len(sizes):
        last, total = first, 0
        while last < len(sizes) and (last == first or total + sizes[last] <= BATCH_POINTS):
            total += sizes[last]
            last += 1
        yield range(first, last)
        first = last


def default_steps(box: Sequence[tuple[float, float]], fraction: float = 1e-3) -> list[float]:
    """A step per axis: ``fraction`` of the axis's length."""
    return [fraction * (b - a) for a, b in box]

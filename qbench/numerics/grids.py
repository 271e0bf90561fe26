"""Grids whose nodes fall on the potential's jumps: one axis, and tensor products of axes.

Each piece of an axis between breakpoints gets its own uniform spacing, so no stencil or
integration step ever has a jump of V strictly inside it. This keeps the classical solvers
at their nominal order of convergence on discontinuous potentials, wherever the jumps are
(``benchmarks/bench_core.py`` prints what a uniform grid blind to the jumps costs instead).
A box gets one such grid per axis (:class:`TensorGrid`); d = 1 is the one-axis case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .quadrature import panel_edges


@dataclass(frozen=True)
class PiecewiseGrid:
    """One axis: nodes (walls included) and, per piece, the index of its first and last node."""

    nodes: np.ndarray
    pieces: tuple[tuple[int, int], ...]

    @property
    def n_intervals(self) -> int:
        return len(self.nodes) - 1

    @property
    def edges(self) -> np.ndarray:
        """The piece edges: walls and breakpoints."""
        return self.nodes[[first for first, _ in self.pieces] + [self.pieces[-1][1]]]

    def bisected(self) -> PiecewiseGrid:
        """The grid with every interval halved: same pieces, spacing h / 2."""
        nodes = np.empty(2 * len(self.nodes) - 1)
        nodes[::2] = self.nodes
        nodes[1::2] = 0.5 * (self.nodes[:-1] + self.nodes[1:])
        return PiecewiseGrid(nodes, tuple((2 * first, 2 * last) for first, last in self.pieces))

    def one_sided_nodes(self) -> list[np.ndarray]:
        """Each piece's nodes, its end nodes nudged inside: V there takes this piece's side of a jump."""
        samples = []
        for first, last in self.pieces:
            x = self.nodes[first : last + 1].copy()
            x[0], x[-1] = np.nextafter(x[0], x[-1]), np.nextafter(x[-1], x[0])
            samples.append(x)
        return samples


def build_grid(edges: np.ndarray, counts: Sequence[int]) -> PiecewiseGrid:
    """Each piece between consecutive ``edges`` split uniformly into ``counts[j]`` intervals."""
    parts, pieces, start = [], [], 0
    for a, b, m in zip(edges[:-1], edges[1:], counts):
        parts.append(np.linspace(a, b, m + 1)[:-1])
        pieces.append((start, start + m))
        start += m
    return PiecewiseGrid(np.concatenate([*parts, edges[-1:]]), tuple(pieces))


def apportion(total: int, widths: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Split ``total`` points among pieces in proportion to their ``widths``, each >= ``minimum``.

    Largest-remainder apportionment keeps every piece's share within one of
    its quota ``total * width / sum(widths)``, except where the minimum binds.
    """
    widths = np.asarray(widths, dtype=float)
    if total < minimum * len(widths):
        raise ValueError(f"need at least {minimum * len(widths)} points, {minimum} per piece; got {total}")
    quotas = total * widths / widths.sum()
    counts = np.maximum(minimum, np.floor(quotas)).astype(int)
    remainders = quotas - np.floor(quotas)
    # Give leftover points to the largest remainders; take surplus from the pieces with most to spare.
    while counts.sum() < total:
        j = int(np.argmax(remainders))
        counts[j] += 1
        remainders[j] = -np.inf
    while counts.sum() > total:
        j = int(np.argmax(np.where(counts > minimum, widths / counts, -np.inf)))
        counts[j] -= 1
    return counts


def axis_grid(interval: tuple[float, float], breakpoints: Sequence[float], n_intervals: int) -> PiecewiseGrid:
    """Exactly ``n_intervals`` intervals on ``interval``, nodes on ``breakpoints``, shared out by width."""
    edges = panel_edges(interval, breakpoints)
    return build_grid(edges, apportion(n_intervals, np.diff(edges)).tolist())


@dataclass(frozen=True)
class TensorGrid:
    """One :class:`PiecewiseGrid` per axis; the unknowns are the interior nodes, last axis fastest."""

    axes: tuple[PiecewiseGrid, ...]

    @property
    def dim(self) -> int:
        return len(self.axes)

    @property
    def shape(self) -> tuple[int, ...]:
        """Interior nodes per axis (the unknowns' array shape)."""
        return tuple(len(axis.nodes) - 2 for axis in self.axes)

    @property
    def node_shape(self) -> tuple[int, ...]:
        """Nodes per axis, walls included."""
        return tuple(len(axis.nodes) for axis in self.axes)

    @property
    def n_unknowns(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def bisected(self) -> TensorGrid:
        """Every axis bisected: spacing h / 2, the same pieces."""
        return TensorGrid(tuple(axis.bisected() for axis in self.axes))


def tensor_grid(
    box: Sequence[tuple[float, float]], axis_breakpoints: Sequence[Sequence[float]], n_intervals: int
) -> TensorGrid:
    """``n_intervals`` intervals on every axis of ``box``, nodes on that axis's breakpoints."""
    return TensorGrid(
        tuple(axis_grid(interval, cuts, n_intervals) for interval, cuts in zip(box, axis_breakpoints))
    )

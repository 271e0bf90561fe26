"""Grids whose nodes fall on the potential's breakpoints.

Each piece between breakpoints gets its own uniform spacing, so no stencil or
integration step ever has a jump of V strictly inside it. This keeps the
classical solvers at their nominal order of convergence on discontinuous
potentials, wherever the jumps are (``benchmarks/bench_core.py`` prints what a
uniform grid blind to the jumps costs instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..problems import Problem
from ..quadrature import panel_edges


@dataclass(frozen=True)
class PiecewiseGrid:
    """Nodes (walls included) and, per piece, the index of its first and last node."""

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

    def one_sided_potential(self, problem: Problem) -> list[np.ndarray]:
        """V at each piece's nodes, its end nodes nudged inside so a jump takes this piece's side."""
        samples = []
        for first, last in self.pieces:
            x = self.nodes[first : last + 1].copy()
            x[0], x[-1] = np.nextafter(x[0], x[-1]), np.nextafter(x[-1], x[0])
            samples.append(np.asarray(problem.potential(x), dtype=float))
        return samples


def build_grid(edges: np.ndarray, counts: list[int]) -> PiecewiseGrid:
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


def grid_with_intervals(problem: Problem, n_intervals: int) -> PiecewiseGrid:
    """Exactly ``n_intervals`` intervals, apportioned to pieces by their width (``apportion``)."""
    return axis_grid(problem.domain, problem.breakpoints, n_intervals)


def axis_grid(interval: tuple[float, float], breakpoints: Sequence[float], n_intervals: int) -> PiecewiseGrid:
    """``grid_with_intervals`` for one axis of a box: walls ``interval``, jumps at ``breakpoints``."""
    edges = panel_edges(interval, breakpoints)
    return build_grid(edges, apportion(n_intervals, np.diff(edges)).tolist())

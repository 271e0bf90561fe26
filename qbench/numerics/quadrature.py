"""Gauss-Legendre quadrature on panels that end at the potential's breakpoints.

A wavefunction has a jump in its second derivative wherever the potential
jumps; a rule whose panels straddle such a point loses its high order, so every
integral in qbench uses panels that end there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

#: Nodes per axis of the grading rule in d dimensions (a tensor product). 80 per axis keeps the
#: Gram matrix of the 3D oscillator's lowest states (box [-8, 8]) at the identity to 1e-11; 48 left 7e-6.
GRADING_POINTS_PER_AXIS = {1: 4096, 2: 128, 3: 80, 4: 40}
#: Nodes of the grading rule of a 1D problem.
GRADING_POINTS_1D = GRADING_POINTS_PER_AXIS[1]


@lru_cache(maxsize=32)
def _gauss_legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.legendre.leggauss(order)
    return nodes, weights


def panel_edges(domain: tuple[float, float], breakpoints: Sequence[float]) -> np.ndarray:
    """Sorted panel edges: the walls plus the interior breakpoints."""
    x0, x1 = domain
    inner = [b for b in breakpoints if x0 < b < x1]
    return np.array([x0, *sorted(inner), x1], dtype=float)


def gauss_legendre_rule(
    edges: Sequence[float] | np.ndarray,
    subpanels: Sequence[int] | np.ndarray | int = 1,
    order: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of a composite Gauss-Legendre rule.

    Parameters
    ----------
    edges
        Increasing panel edges; no panel crosses an edge.
    subpanels
        Number of equal sub-panels per panel (one int for all, or one per panel).
    order
        Gauss-Legendre points per sub-panel; exact for polynomials of degree
        ``2 * order - 1`` on each sub-panel.

    Returns
    -------
    nodes, weights : numpy.ndarray
        Flat arrays; ``weights @ f(nodes)`` approximates the integral of f.
    """
    edges = np.asarray(edges, dtype=float)
    counts = np.broadcast_to(np.asarray(subpanels, dtype=int), (len(edges) - 1,))
    ref_nodes, ref_weights = _gauss_legendre(order)
    # Sub-panel k of panel j spans [a_j + k w_j, a_j + (k + 1) w_j], w_j = (b_j - a_j) / m_j.
    panel = np.repeat(np.arange(len(counts)), counts)
    within = np.arange(len(panel)) - np.repeat(np.cumsum(counts) - counts, counts)
    width = (np.diff(edges) / counts)[panel]
    left = edges[:-1][panel] + within * width
    half = 0.5 * width[:, None]
    nodes = (left[:, None] + half * (ref_nodes + 1.0)).ravel()
    weights = (half * ref_weights).ravel()
    return nodes, weights


def domain_rule(
    domain: tuple[float, float],
    breakpoints: Sequence[float],
    n_points: int = 4096,
    order: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """About ``n_points`` Gauss-Legendre nodes spread over the domain by length.

    Every panel between breakpoints gets at least four sub-panels, so narrow
    barriers are resolved as well as wide wells.
    """
    edges = panel_edges(domain, breakpoints)
    widths = np.diff(edges)
    total_subpanels = max(n_points // order, 1)
    counts = np.maximum(4, np.ceil(total_subpanels * widths / widths.sum())).astype(int)
    return gauss_legendre_rule(edges, counts, order)


def axis_rule(
    interval: tuple[float, float], breakpoints: Sequence[float], n_points: int, order: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """About ``n_points`` Gauss-Legendre nodes on one axis, panels ending at its breakpoints.

    Unlike :func:`domain_rule` a piece may get a single panel, so a coarse rule per axis of a
    tensor product stays small; ``order`` is capped so that every piece still gets one panel.
    """
    edges = panel_edges(interval, breakpoints)
    widths = np.diff(edges)
    total_subpanels = max(int(np.ceil(n_points / order)), len(widths))
    counts = np.maximum(1, np.round(total_subpanels * widths / widths.sum())).astype(int)
    return gauss_legendre_rule(edges, counts, order)


def tensor_rule(
    box: Sequence[tuple[float, float]],
    axis_breakpoints: Sequence[Sequence[float]],
    points_per_axis: int,
    order: int = 16,
    rule: Callable[..., tuple[np.ndarray, np.ndarray]] = axis_rule,
) -> tuple[np.ndarray, np.ndarray]:
    """Tensor product of a one-axis ``rule`` (default :func:`axis_rule`) along each axis of ``box``.

    Returns
    -------
    nodes : numpy.ndarray
        Shape ``(n, d)``, the last axis varying fastest.
    weights : numpy.ndarray
        Shape ``(n,)``.
    """
    rules = [
        rule(tuple(interval), cuts, points_per_axis, order) for interval, cuts in zip(box, axis_breakpoints)
    ]
    grids = np.meshgrid(*[nodes for nodes, _ in rules], indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=-1)
    weights = functools.reduce(np.multiply.outer, [w for _, w in rules]).ravel()
    return nodes, weights


def grading_rule(
    box: Sequence[tuple[float, float]],
    axis_breakpoints: Sequence[Sequence[float]],
    n_points: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The rule every grade is integrated with: nodes ``(n, d)``, weights ``(n,)``.

    A tensor product with ``GRADING_POINTS_PER_AXIS[d]`` nodes per axis (or about
    ``n_points`` in total). A single axis uses :func:`domain_rule`, which gives every piece
    between jumps at least four panels; in a product that floor would multiply across the
    axes, so each axis of a product uses :func:`axis_rule`, where a piece may get one panel.
    """
    dim = len(box)
    per_axis = (
        GRADING_POINTS_PER_AXIS.get(dim, 16) if n_points is None else max(round(n_points ** (1 / dim)), 4)
    )
    return tensor_rule(box, axis_breakpoints, per_axis, rule=domain_rule if dim == 1 else axis_rule)


def gaussian_rule(
    scales: np.ndarray,
    rotation: np.ndarray,
    box: Sequence[tuple[float, float]],
    n_points: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """A randomized quasi-Monte Carlo rule in d dimensions, importance-sampled from a Gaussian.

    Nodes ``x = rotation @ (scales * z)`` with z standard normal, from a scrambled Sobol'
    sequence (``seed``) mapped by the normal quantile; weights ``1 / (n p(x))``, with p the
    Gaussian's density, and 0 for nodes outside ``box`` (the integrand's domain). A tensor rule
    needs k^d nodes; this one's error falls like n^-1/2 or faster whatever d, and is statistical.

    Parameters
    ----------
    scales
        Standard deviation along each of the Gaussian's axes, shape ``(d,)``.
    rotation
        Orthogonal ``(d, d)`` matrix whose columns are those axes.
    box
        The walls along each axis.
    n_points
        Number of nodes; rounded up to a power of two (the Sobol' sequence's balance).
    seed
        Seed of the scrambling.

    Returns
    -------
    nodes, weights : numpy.ndarray
        ``(n, d)`` and ``(n,)``.
    """
    from .importance import gaussian_nodes

    scales = np.asarray(scales, dtype=float)
    dim = len(scales)
    m = max(int(np.ceil(np.log2(max(n_points, 2)))), 1)
    nodes, z = gaussian_nodes(np.zeros(dim), scales, rotation, 2**m, seed)
    log_density = -0.5 * np.sum(z * z, axis=1) - np.sum(np.log(scales)) - 0.5 * dim * np.log(2 * np.pi)
    weights = np.exp(-log_density) / len(nodes)
    lo, hi = np.array(box, dtype=float).T
    inside = np.all((nodes >= lo) & (nodes <= hi), axis=1)
    return nodes, np.where(inside, weights, 0.0)

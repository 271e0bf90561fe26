"""Importance-sampled rules that follow a density: a Gaussian proposal fitted by moments, mixed
with uniform points in the box (a defensive mixture).

The neural trainings draw their points from such a rule and refit it to their own current
|psi|^2 as they train (adaptive importance sampling), so that the points sit where the state
being trained lives without reading anything of the answer. The uniform share keeps every
weight below ``volume / n_uniform``: a proposal that is too narrow costs variance, never bias.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The box's share of a first proposal's standard deviation per axis (``L / 4``): wide enough
#: that the first draw covers most of the box, where an untrained network lives.
BOX_SCALE_FRACTION = 0.25
#: A fitted Gaussian's standard deviations are the moments' times this: a proposal somewhat
#: wider than the density keeps the weights of its tails bounded.
INFLATION = 1.5
#: Fitted standard deviations are kept within [box length / 256, box length / 2] per axis.
SMALLEST_SCALE_FRACTION = 1.0 / 256
LARGEST_SCALE_FRACTION = 0.5
#: The share of uniform points in a mixture rule.
UNIFORM_FRACTION = 0.2


@dataclass(frozen=True)
class GaussianProposal:
    """A Gaussian N(mean, R diag(scales^2) R^T): ``mean`` ``(d,)``, ``scales`` ``(d,)``, the
    orthogonal ``rotation`` ``(d, d)`` whose columns are its axes."""

    mean: np.ndarray
    scales: np.ndarray
    rotation: np.ndarray

    def log_density(self, points: np.ndarray) -> np.ndarray:
        """log N(x; mean, cov) at ``points`` ``(n, d)``."""
        z = ((points - self.mean) @ self.rotation) / self.scales
        dim = len(self.scales)
        return -0.5 * np.sum(z * z, axis=1) - np.sum(np.log(self.scales)) - 0.5 * dim * np.log(2 * np.pi)


def gaussian_nodes(
    mean: np.ndarray, scales: np.ndarray, rotation: np.ndarray, n_points: int, seed: int | np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n_points`` scrambled-Sobol' nodes of N(mean, R diag(scales^2) R^T), by the normal
    quantile, and the standard-normal coordinates ``z`` they came from (each ``(n, d)``)."""
    from scipy.stats import norm, qmc

    dim = len(scales)
    sobol = qmc.Sobol(d=dim, scramble=True, seed=seed)
    with warnings.catch_warnings():
        # Sobol' warns when n is not a power of two; the points are still a valid QMC set.
        warnings.simplefilter("ignore", UserWarning)
        uniform = sobol.random(n_points)
    z = norm.ppf(uniform)
    return mean + (z * scales) @ np.asarray(rotation, dtype=float).T, z


def box_proposal(box: Sequence[tuple[float, float]]) -> GaussianProposal:
    """The proposal before anything is known: centred in the box, :data:`BOX_SCALE_FRACTION`
    of each length as standard deviation, along the axes."""
    lo, hi = np.array(box, dtype=float).T
    return GaussianProposal((lo + hi) / 2, BOX_SCALE_FRACTION * (hi - lo), np.eye(len(lo)))


def fit_proposal(
    box: Sequence[tuple[float, float]], points: np.ndarray, weights: np.ndarray, density: np.ndarray
) -> GaussianProposal:
    """The Gaussian with the mean and covariance of ``density`` (values ``(n,)`` >= 0, unnormalized)
    as the rule ``points``, ``weights`` integrates it, standard deviations times :data:`INFLATION`
    and kept within [:data:`SMALLEST_SCALE_FRACTION`, :data:`LARGEST_SCALE_FRACTION`] of the box's
    smallest and largest length, the mean inside the box.

    A density that integrates to zero or to something not finite gives :func:`box_proposal`.
    """
    lo, hi = np.array(box, dtype=float).T
    mass = np.asarray(weights, dtype=float) * np.asarray(density, dtype=float)
    total = float(np.sum(mass))
    if not np.isfinite(total) or total <= 0.0:
        return box_proposal(box)
    p = mass / total
    mean = p @ points
    centred = points - mean
    covariance = (centred * p[:, None]).T @ centred
    variances, axes = np.linalg.eigh(0.5 * (covariance + covariance.T))
    lengths = hi - lo
    scales = np.clip(
        INFLATION * np.sqrt(np.maximum(variances, 0.0)),
        SMALLEST_SCALE_FRACTION * lengths.min(),
        LARGEST_SCALE_FRACTION * lengths.max(),
    )
    return GaussianProposal(np.clip(mean, lo, hi), scales, axes)


def mixture_rule(
    box: Sequence[tuple[float, float]],
    proposal: GaussianProposal,
    n_points: int,
    seed: int,
    uniform_fraction: float = UNIFORM_FRACTION,
) -> tuple[np.ndarray, np.ndarray]:
    """A randomized QMC rule on ``box`` from the mixture of uniform points and ``proposal``.

    ``round(uniform_fraction * n_points)`` (at least 1) nodes are scrambled-Sobol' points of the
    box, the rest draws of the Gaussian; Gaussian nodes outside the box are dropped. Every node
    gets the balance-heuristic weight ``1 / (n_u / volume + n_g N(x))`` (multiple importance
    sampling), so ``sum(w f(x))`` estimates the integral of f over the box without bias, and no
    weight exceeds ``volume / n_u``.

    Parameters
    ----------
    box
        The walls along each axis.
    proposal
        The Gaussian part.
    n_points
        Nodes drawn (the Gaussian's outside the box are then dropped).
    seed
        Seeds both scramblings.
    uniform_fraction
        The uniform share, in (0, 1).

    Returns
    -------
    nodes, weights : numpy.ndarray
        ``(m, d)`` and ``(m,)``, m <= ``n_points``.
    """
    from scipy.stats import qmc

    if not 0.0 < uniform_fraction < 1.0:
        raise ValueError(f"uniform_fraction must be in (0, 1), got {uniform_fraction!r}")
    lo, hi = np.array(box, dtype=float).T
    dim = len(lo)
    n_uniform = min(max(round(uniform_fraction * n_points), 1), n_points - 1)
    n_gaussian = n_points - n_uniform
    streams = np.random.SeedSequence(seed).spawn(2)
    sobol = qmc.Sobol(d=dim, scramble=True, seed=np.random.default_rng(streams[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        uniform = lo + sobol.random(n_uniform) * (hi - lo)
    gaussian, _ = gaussian_nodes(
        proposal.mean, proposal.scales, proposal.rotation, n_gaussian, np.random.default_rng(streams[1])
    )
    gaussian = gaussian[np.all((gaussian >= lo) & (gaussian <= hi), axis=1)]
    nodes = np.concatenate([uniform, gaussian])
    volume = float(np.prod(hi - lo))
    density = n_uniform / volume + n_gaussian * np.exp(proposal.log_density(nodes))
    return nodes, 1.0 / density

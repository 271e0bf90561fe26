"""Residual-based enclosures of 1D eigenvalues from piecewise Chebyshev states.

For a trial state psi (a piecewise polynomial, C^1 across its pieces, zero at the walls) and any
energy mu, the residual ``r = -psi'' + V psi - mu psi`` bounds how far the spectrum is:

* Weinstein: some eigenvalue lies in ``[mu - eta, mu + eta]``, ``eta = ||r|| / ||psi||``;
* Kato-Temple: if ``(a, b)`` holds exactly one eigenvalue lambda and ``a < rho < b``, with rho the
  Rayleigh quotient, then ``rho - eta^2 / (b - rho) <= lambda <= rho + eta^2 / (rho - a)``.

``||r||`` needs V everywhere, not at samples. V is split as ``W + (V - W)``: W is a Chebyshev
interpolant of V on each piece (a polynomial, so ``-psi'' + (W - mu) psi`` is a polynomial whose
norm is integrated exactly), and ``|V - W|`` is bounded on every sub-panel of the piece by a
Taylor form whose derivative enclosures come from interval arithmetic over V's formula
(:mod:`qbench.numerics.intervals`): no feature of V between samples goes unseen. Sub-panels
where that bound, weighted by psi^2, is large are bisected. What is not interval-controlled:
floating-point rounding (of the Chebyshev coefficients, the integrals and the interval ends) and
the C^1 matching of psi at the joints and its zeros at the walls, which hold to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft
from numpy.polynomial import chebyshev

from .intervals import Interval, Jet

#: Degrees of the Chebyshev interpolant W of V on a piece, tried in turn until its tail is at rounding.
W_DEGREES = (64, 128, 256, 512, 1024, 2048)
#: W's coefficients below this (relative to the largest) are rounding noise and dropped.
W_CHOP = 1e-15
#: Sub-panels per piece before any bisection.
START_SUBPANELS = 16
#: Most sub-panels over all pieces; beyond, V is not resolved and the bound stays as it is.
MAX_SUBPANELS = 100_000
#: Most rounds of bisection.
MAX_ROUNDS = 40
#: Unit roundoff of the sums of products of Chebyshev coefficients (float64).
ROUNDING = float(np.finfo(float).eps)

Enclose = Callable[[np.ndarray, np.ndarray], Jet]


@dataclass(frozen=True)
class Piece:
    """One piece ``[a, b]`` of a piecewise Chebyshev set of states.

    Attributes
    ----------
    a, b : float
        The piece's ends.
    coefficients : numpy.ndarray
        ``(degree + 1, n_states)``: Chebyshev coefficients in ``t = (2x - a - b) / (b - a)``.
    """

    a: float
    b: float
    coefficients: np.ndarray


@dataclass(frozen=True)
class Residuals:
    """Per state, what the enclosures are made of (psi normalized).

    Attributes
    ----------
    rayleigh : numpy.ndarray
        The Rayleigh quotient with V replaced by W (exact for W).
    slack : numpy.ndarray
        ``|true Rayleigh quotient - rayleigh| <= slack``: the bound of ``(V - W) psi^2`` plus an
        estimate of the rounding of the sums.
    residual : numpy.ndarray
        ``eta >= ||(H - mu) psi|| / ||psi||``.
    remainder : numpy.ndarray
        The part of ``residual`` that bounds ``(V - W) psi``.
    worst : tuple of float
        The x range whose sub-panels contribute most to ``remainder``.
    subpanels : int
        Sub-panels used.
    rigorous : bool
        False when V had no formula to enclose and ``|V - W|`` was only sampled.
    """

    rayleigh: np.ndarray
    slack: np.ndarray
    residual: np.ndarray
    remainder: np.ndarray
    worst: tuple[float, float]
    subpanels: int
    rigorous: bool


def interpolant(potential: Callable[[np.ndarray], np.ndarray], a: float, b: float) -> np.ndarray:
    """Chebyshev coefficients (in t on [-1, 1]) of an interpolant of V on ``[a, b]``, noise dropped."""
    for degree in W_DEGREES:
        n = degree + 1
        t = np.cos(math.pi * (np.arange(n) + 0.5) / n)
        values = np.asarray(potential(0.5 * (a + b) + 0.5 * (b - a) * t), dtype=float)
        coefficients = scipy.fft.dct(values, type=2) / n
        coefficients[0] /= 2.0
        top = float(np.max(np.abs(coefficients)))
        if not np.all(np.isfinite(coefficients)):
            break
        if np.max(np.abs(coefficients[-max(4, n // 8) :])) <= 1e-15 * top:
            break
    keep = np.flatnonzero(np.abs(coefficients) > W_CHOP * top)
    return coefficients[: (keep[-1] + 1 if keep.size else 1)]


def _integral(series: np.ndarray) -> float:
    """Integral over [-1, 1] of a Chebyshev series."""
    j = np.arange(len(series), dtype=float)
    weights = np.zeros(len(series))
    weights[::2] = 2.0 / (1.0 - j[::2] ** 2)
    return float(series @ weights)


def norm_piece(psi: np.ndarray, half: float) -> float:
    """int psi^2 over a piece of half-width ``half``."""
    return half * _integral(chebyshev.chebmul(psi, psi))


def _coefficient_bound(series: np.ndarray) -> float:
    """A bound of ``|series(t)|`` on [-1, 1]: |T_j| <= 1."""
    return float(np.sum(np.abs(series)))


def residuals(
    pieces: Sequence[Piece],
    energies: np.ndarray,
    potential: Callable[[np.ndarray], np.ndarray],
    enclose: Enclose | None,
    target: float,
) -> Residuals:
    """Bounds of the residual of each state at ``energies`` (see the module docstring).

    Parameters
    ----------
    pieces
        The states, piece by piece, left to right.
    energies
        ``mu`` per state.
    potential
        V at flat positions (for W).
    enclose
        ``(lo, hi) -> Jet`` enclosing V, V', V'' on intervals; ``None`` for a V without formula,
        whose ``|V - W|`` is then sampled (an estimate, ``rigorous`` False).
    target
        Bisect until the remainder of every state is below this (or the limits are reached).
    """
    energies = np.asarray(energies, dtype=float)
    n_states = len(energies)
    models = []
    norm2 = np.zeros(n_states)
    form = np.zeros(n_states)
    rounding = np.zeros(n_states)
    poly2 = np.zeros(n_states)
    for piece in pieces:
        half = 0.5 * (piece.b - piece.a)
        w = interpolant(potential, piece.a, piece.b)
        derivatives = [w, chebyshev.chebder(w, 1) / half, chebyshev.chebder(w, 2) / half**2]
        derivatives.append(chebyshev.chebder(w, 3) / half**3)
        squares = []
        for k in range(n_states):
            psi = piece.coefficients[:, k]
            r = chebyshev.chebsub(chebyshev.chebmul(w, psi), energies[k] * psi)
            r = chebyshev.chebsub(r, chebyshev.chebder(psi, 2) / half**2)
            norm2[k] += half * _integral(chebyshev.chebmul(psi, psi))
            # The Rayleigh quotient by the quadratic form (int psi'^2 + W psi^2), not <psi, r>: psi' is
            # continuous across the joints only to rounding, and its jump would enter <psi, psi''>.
            slope = chebyshev.chebder(psi, 1) / half
            form[k] += half * _integral(chebyshev.chebmul(slope, slope))
            form[k] += half * _integral(chebyshev.chebmul(w, chebyshev.chebmul(psi, psi)))
            poly2[k] += half * _integral(chebyshev.chebmul(r, r))
            squares.append(chebyshev.chebint(chebyshev.chebmul(psi, psi), lbnd=-1) * half)
            # Rounding of the sums above (an estimate, not interval-controlled): a few ulps per
            # coefficient of the products, on the size of each term.
            size = half * _integral(chebyshev.chebmul(slope, slope)) + _coefficient_bound(w) * norm_piece(
                psi, half
            )
            rounding[k] += ROUNDING * (len(psi) + len(w)) * size
        models.append((derivatives, squares))
    subpanels = _subpanels(pieces, models, norm2, potential, enclose, target)
    lo, hi, delta, weights = subpanels
    remainder = np.sqrt(np.sum(delta[:, None] ** 2 * weights, axis=0) / norm2)
    slack = (np.sum(delta[:, None] * weights, axis=0) + rounding) / norm2
    contribution = np.max(delta[:, None] * np.sqrt(weights / norm2), axis=1)
    big = contribution >= 0.1 * contribution.max() if contribution.size else np.zeros(0, bool)
    worst = (float(lo[big].min()), float(hi[big].max())) if big.any() else (float(lo[0]), float(hi[-1]))
    return Residuals(
        rayleigh=form / norm2,
        slack=slack,
        residual=np.sqrt(np.maximum(poly2, 0.0) / norm2) + remainder,
        remainder=remainder,
        worst=worst,
        subpanels=len(lo),
        rigorous=enclose is not None,
    )


def _subpanels(pieces, models, norm2, potential, enclose, target):
    """Sub-panel ends, the bound delta of |V - W| on each, and the weights int psi_k^2 there."""
    n_states = len(norm2)
    edges = [np.linspace(p.a, p.b, START_SUBPANELS + 1) for p in pieces]
    for _ in range(MAX_ROUNDS):
        lo_all, hi_all, delta_all, weight_all = [], [], [], []
        for piece, (derivatives, squares), e in zip(pieces, models, edges):
            lo, hi = e[:-1], e[1:]
            delta = _delta(piece, derivatives, lo, hi, potential, enclose)
            t = (2.0 * e - (piece.a + piece.b)) / (piece.b - piece.a)
            weights = np.stack([np.maximum(np.diff(chebyshev.chebval(t, s)), 0.0) for s in squares], axis=1)
            lo_all.append(lo)
            hi_all.append(hi)
            delta_all.append(delta)
            weight_all.append(weights)
        lo, hi = np.concatenate(lo_all), np.concatenate(hi_all)
        delta, weights = np.concatenate(delta_all), np.concatenate(weight_all).reshape(-1, n_states)
        contribution = np.max(delta[:, None] ** 2 * weights / norm2, axis=1)
        total = float(np.sum(contribution))
        if enclose is None or total <= target**2 or len(lo) >= MAX_SUBPANELS:
            break
        split = contribution > target**2 / len(lo)
        split &= (hi - lo) > 1e-13 * (pieces[-1].b - pieces[0].a)
        if not split.any():
            break
        new_edges, start = [], 0
        for e in edges:
            count = len(e) - 1
            mask = split[start : start + count]
            start += count
            middles = 0.5 * (e[:-1][mask] + e[1:][mask])
            new_edges.append(np.sort(np.concatenate([e, middles])))
        edges = new_edges
    return lo, hi, delta, weights


def _delta(piece, derivatives, lo, hi, potential, enclose) -> np.ndarray:
    """A bound of |V - W| on each sub-panel ``[lo, hi]`` of ``piece``."""
    half = 0.5 * (piece.b - piece.a)
    c, h = 0.5 * (lo + hi), hi - lo
    tc = (c - 0.5 * (piece.a + piece.b)) / half
    w_at_c = [chebyshev.chebval(tc, d) for d in derivatives]
    bounds = [_coefficient_bound(d) for d in derivatives]
    if enclose is None:  # sampled, not enclosed: an estimate
        x = lo[:, None] + h[:, None] * np.linspace(0.0, 1.0, 9)[None, :]
        t = (x - 0.5 * (piece.a + piece.b)) / half
        return np.max(
            np.abs(potential(x.ravel()).reshape(x.shape) - chebyshev.chebval(t, derivatives[0])), axis=1
        )
    # At a piece's ends V may jump (a breakpoint): its value exactly there is left out.
    inner_lo = np.where(lo == piece.a, np.nextafter(lo, np.inf), lo)
    inner_hi = np.where(hi == piece.b, np.nextafter(hi, -np.inf), hi)
    over = enclose(inner_lo, inner_hi)
    at = enclose(c, c)
    # W's range, slope and curvature on the sub-panel: its value at c plus the next derivative's bound.
    ranges = [
        Interval(w_at_c[j] - bounds[j + 1] * h / 2, w_at_c[j] + bounds[j + 1] * h / 2) for j in range(3)
    ]
    gap_value = (at.value - Interval.point(w_at_c[0])).magnitude()
    gap_slope = (at.first - Interval.point(w_at_c[1])).magnitude()
    order0 = (over.value - ranges[0]).magnitude()
    order1 = gap_value + (over.first - ranges[1]).magnitude() * h / 2
    order2 = gap_value + gap_slope * h / 2 + (over.second - ranges[2]).magnitude() * h**2 / 8
    with np.errstate(invalid="ignore"):
        delta = np.fmin(np.fmin(order0, order1), order2)
    return np.where(np.isnan(delta), np.inf, delta)

"""Exact spectrum of a piecewise-constant potential in a hard-wall box.

On a piece where V is constant the Schrödinger equation ``-psi'' + V psi = E psi``
has closed-form solutions, so (psi, psi') is carried across each piece by its
exact 2x2 transfer matrix: cos/sin where E > V, cosh/sinh where E < V, linear
where E = V. The eigenvalues are the energies where psi, started at the left wall
with psi = 0, psi' = 1, vanishes at the right wall. The number of zeros of that
solution inside the box equals the number of eigenvalues below E (Sturm
oscillation), which lets bisection isolate state n before ``brentq`` polishes
it, so no state is ever skipped or found twice.

Growth in classically forbidden pieces is kept in a separate logarithm, so deep
or wide barriers neither overflow nor lose the sign of psi.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..quadrature import gauss_legendre_rule
from ..sturm import energy_upper_bound, isolate_state

_EPS = np.finfo(float).eps


def _unit(psi: float, dpsi: float) -> tuple[float, float, float]:
    """Scale (psi, dpsi) to unit length; return the log of the factor removed."""
    norm = math.hypot(psi, dpsi)
    return psi / norm, dpsi / norm, math.log(norm)


def _propagate(psi: float, dpsi: float, width: float, excess: float) -> tuple[float, float, float]:
    """Carry (psi, psi') across a piece of ``width`` where ``excess = E - V``.

    Returns the unit vector at the far end and the log of its true length.
    """
    if excess > 0.0:
        k = math.sqrt(excess)
        c, s = math.cos(k * width), math.sin(k * width)
        return _unit(psi * c + dpsi * s / k, -psi * k * s + dpsi * c)
    if excess < 0.0:
        kappa = math.sqrt(-excess)
        t = kappa * width
        decay = math.exp(-2.0 * t)
        # cosh(t) = e^t * ch and sinh(t) = e^t * sh; e^t goes into the logarithm.
        ch, sh = 0.5 * (1.0 + decay), 0.5 * (1.0 - decay)
        psi_end, dpsi_end, log_norm = _unit(psi * ch + dpsi * sh / kappa, psi * kappa * sh + dpsi * ch)
        return psi_end, dpsi_end, log_norm + t
    return _unit(psi + dpsi * width, dpsi)


def _zeros_in_piece(psi: float, dpsi: float, width: float, excess: float) -> int:
    """Number of zeros of the piece's solution in ``(0, width]``."""
    if excess > 0.0:
        k = math.sqrt(excess)
        # psi(t) = R sin(k t + phase); zeros where k t + phase is a multiple of pi.
        phase = math.atan2(psi, dpsi / k)
        return math.floor((k * width + phase) / math.pi) - math.floor(phase / math.pi)
    if dpsi == 0.0:
        return 0
    if excess < 0.0:
        kappa = math.sqrt(-excess)
        ratio = -psi * kappa / dpsi  # zero where tanh(kappa t) equals this
        return int(0.0 < ratio <= math.tanh(kappa * width))
    return int(0.0 < -psi / dpsi <= width)


def _evaluate_piece(
    t: np.ndarray, psi: float, dpsi: float, excess: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """psi, psi' at offsets ``t`` into a piece, as mantissas times exp(log_growth)."""
    if excess > 0.0:
        k = math.sqrt(excess)
        c, s = np.cos(k * t), np.sin(k * t)
        return psi * c + dpsi * s / k, -psi * k * s + dpsi * c, np.zeros_like(t)
    if excess < 0.0:
        kappa = math.sqrt(-excess)
        decay = np.exp(-2.0 * kappa * t)
        ch, sh = 0.5 * (1.0 + decay), 0.5 * (1.0 - decay)
        return psi * ch + dpsi * sh / kappa, psi * kappa * sh + dpsi * ch, kappa * t
    return psi + dpsi * t, np.full_like(t, dpsi), np.zeros_like(t)


@dataclass(frozen=True)
class _Sweep:
    """The left-wall solution at one energy: unit start vectors per piece."""

    starts: tuple[tuple[float, float, float], ...]  # (psi, dpsi, log_scale) at each piece start
    end: tuple[float, float, float]
    zeros: int


class TransferMatrixSpectrum:
    """Exact eigenpairs of ``-psi'' + V psi = E psi`` for piecewise-constant V.

    Parameters
    ----------
    edges
        Strictly increasing piece edges; the first and last are hard walls.
    values
        The potential on each piece, ``len(edges) - 1`` finite numbers.
    """

    def __init__(self, edges: Sequence[float], values: Sequence[float]):
        self.edges = tuple(float(e) for e in edges)
        self.values = tuple(float(v) for v in values)
        self.widths = tuple(b - a for a, b in zip(self.edges[:-1], self.edges[1:]))
        self.length = self.edges[-1] - self.edges[0]

    # -- the left-wall solution ---------------------------------------------
    def _sweep(self, energy: float, widths=None, values=None) -> _Sweep:
        widths = self.widths if widths is None else widths
        values = self.values if values is None else values
        psi, dpsi, log_scale = 0.0, 1.0, 0.0
        starts, zeros = [], 0
        for width, value in zip(widths, values):
            starts.append((psi, dpsi, log_scale))
            zeros += _zeros_in_piece(psi, dpsi, width, energy - value)
            psi, dpsi, growth = _propagate(psi, dpsi, width, energy - value)
            log_scale += growth
        # A zero exactly on the right wall is the eigenvalue itself, not a node.
        if psi == 0.0:
            zeros -= 1
        return _Sweep(tuple(starts), (psi, dpsi, log_scale), zeros)

    def count_below(self, energy: float) -> int:
        """Number of eigenvalues strictly below ``energy``."""
        return self._sweep(energy).zeros

    def wall_value(self, energy: float) -> float:
        """psi at the right wall, up to a positive factor; zero at eigenvalues."""
        return self._sweep(energy).end[0]

    # -- eigenvalues ----------------------------------------------------------
    def _energy_scale(self, n_states: int) -> float:
        return max(1.0, max(abs(v) for v in self.values), ((n_states * math.pi) / self.length) ** 2)

    def eigenvalue(self, index: int) -> float:
        """Eigenvalue of state ``index`` (0 = ground state) to machine precision."""
        upper = energy_upper_bound(max(self.values), self.length, index)
        lower, upper = isolate_state(self.count_below, index, min(self.values), upper)
        scale = self._energy_scale(index + 1)
        f_lower, f_upper = self.wall_value(lower), self.wall_value(upper)
        widen = 8 * _EPS * scale
        while f_lower * f_upper > 0.0:  # the count flipped within rounding of the root
            lower, upper = lower - widen, upper + widen
            f_lower, f_upper = self.wall_value(lower), self.wall_value(upper)
            widen *= 2
        return brentq(self.wall_value, lower, upper, xtol=4 * _EPS * scale, rtol=4 * _EPS, maxiter=500)

    def eigenvalues(self, n_states: int) -> np.ndarray:
        """The ``n_states`` lowest eigenvalues, ascending."""
        return np.array([self.eigenvalue(i) for i in range(n_states)])

    # -- eigenfunctions -------------------------------------------------------
    def _side_values(self, x: np.ndarray, energy: float, mirrored: bool) -> tuple[np.ndarray, ...]:
        """psi, psi' and log scale of the wall solution from the left (or right) at x."""
        edges, values = np.array(self.edges), self.values
        if mirrored:
            edges = (edges[0] + edges[-1] - edges)[::-1]
            values = values[::-1]
            x = self.edges[0] + self.edges[-1] - x
        widths = tuple(np.diff(edges))
        sweep = self._sweep(energy, widths, values)
        piece = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(values) - 1)
        psi, dpsi, log_scale = (np.empty_like(x) for _ in range(3))
        for j, (start_psi, start_dpsi, start_log) in enumerate(sweep.starts):
            mask = piece == j
            if not mask.any():
                continue
            p, d, g = _evaluate_piece(x[mask] - edges[j], start_psi, start_dpsi, energy - values[j])
            psi[mask], dpsi[mask], log_scale[mask] = p, d, g + start_log
        if mirrored:
            dpsi = -dpsi
        return psi, dpsi, log_scale

    def eigenfunction(self, energy: float) -> _Eigenfunction:
        """Normalized eigenfunction at an eigenvalue, matched from both walls.

        Each wall solution is accurate where it grows or oscillates away from
        its wall; they are joined at an interior point where both are near
        their largest, so neither is used where it would have to decay.
        """
        edges = np.array(self.edges)
        candidates = np.concatenate([edges[1:-1], 0.5 * (edges[:-1] + edges[1:])])
        left = self._side_values(candidates, energy, mirrored=False)
        right = self._side_values(candidates, energy, mirrored=True)
        wave_number = math.sqrt(max(abs(energy - v) for v in self.values) + 1.0)

        def log_size(psi, dpsi, log_scale):
            return log_scale + np.log(np.hypot(psi, dpsi / wave_number) + 1e-300)

        log_left, log_right = log_size(*left), log_size(*right)
        score = (log_left - log_left.max()) + (log_right - log_right.max())
        m = int(np.argmax(score))
        left_vec = np.array([left[0][m], left[1][m] / wave_number])
        right_vec = np.array([right[0][m], right[1][m] / wave_number])
        # Least-squares factor taking the right solution onto the left one at x_m.
        right_factor = (left_vec @ right_vec) / (right_vec @ right_vec)
        match = _Eigenfunction(self, energy, float(candidates[m]), left[2][m], right[2][m], right_factor)
        match.normalize()
        return match


class _Eigenfunction:
    """One exact eigenfunction: left solution up to x_m, scaled right one after."""

    def __init__(self, spectrum, energy, x_match, log_left, log_right, right_factor):
        self.spectrum, self.energy, self.x_match = spectrum, energy, x_match
        self.log_left, self.log_right, self.right_factor = log_left, log_right, right_factor
        self.norm = 1.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = np.zeros_like(x)
        on_left = x <= self.x_match
        for mask, mirrored, shift, factor in (
            (on_left, False, self.log_left, 1.0),
            (~on_left, True, self.log_right, self.right_factor),
        ):
            if mask.any():
                psi, _, log_scale = self.spectrum._side_values(x[mask], self.energy, mirrored)
                out[mask] = factor * psi * np.exp(log_scale - shift)
        inside = (x >= self.spectrum.edges[0]) & (x <= self.spectrum.edges[-1])
        return np.where(inside, out, 0.0) / self.norm

    def normalize(self) -> None:
        spectrum = self.spectrum
        excess = [abs(self.energy - v) for v in spectrum.values]
        # Enough sub-panels that each spans well under one wavelength or decay length.
        subpanels = [1 + math.ceil(w * math.sqrt(e + 1.0) / 1.5) for w, e in zip(spectrum.widths, excess)]
        nodes, weights = gauss_legendre_rule(spectrum.edges, subpanels, order=20)
        self.norm = 1.0
        self.norm = math.sqrt(float(weights @ self(nodes) ** 2))

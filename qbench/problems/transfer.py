"""Exact spectrum of a piecewise-constant potential in a hard-wall box.

On a piece where V is constant the Schrödinger equation ``-psi'' + V psi = E psi``
has closed-form solutions, so (psi, psi') is carried across each piece by its
exact 2x2 transfer matrix: cos/sin where E > V, cosh/sinh where E < V, linear
where E = V. Solutions started at each wall (psi = 0, psi' = +-1) are carried to
a matching point inside the box; the eigenvalues are the energies where they are
parallel there (their Wronskian vanishes). The zeros of the two solutions and
their Prüfer angles at that point count the eigenvalues below E (Sturm
oscillation), which lets bisection isolate state n before ``brentq`` polishes
it, so no state is ever skipped or found twice. The matching point splits the
forbidden-region opacity evenly, so neither solution loses digits decaying
through a thick barrier (double-well doublets stay exact).

Growth in classically forbidden pieces is kept in a separate logarithm, so deep
or wide barriers neither overflow nor lose the sign of psi.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..numerics.bounds import energy_upper_bound
from ..numerics.quadrature import gauss_legendre_rule
from ..numerics.sturm import isolate_state

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

    starts: tuple[tuple[float, float, float, float], ...]  # (psi, dpsi, log_scale, log_amplification)
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
    def _sweep(self, energy: float, widths=None, values=None, ends_at_wall: bool = True) -> _Sweep:
        widths = self.widths if widths is None else widths
        values = self.values if values is None else values
        psi, dpsi, log_scale, amplification = 0.0, 1.0, 0.0, 0.0
        starts, zeros = [], 0
        for width, value in zip(widths, values):
            starts.append((psi, dpsi, log_scale, amplification))
            zeros += _zeros_in_piece(psi, dpsi, width, energy - value)
            psi, dpsi, growth = _propagate(psi, dpsi, width, energy - value)
            log_scale += growth
            if value > energy:
                # Rounding grows like the dominant mode, exp(kappa w); the solution by exp(growth).
                amplification += max(math.sqrt(value - energy) * width - growth, 0.0)
        # A zero exactly on the right wall is the eigenvalue itself, not a node.
        if ends_at_wall and psi == 0.0:
            zeros -= 1
        return _Sweep(tuple(starts), (psi, dpsi, log_scale), zeros)

    def matching_point(self, energy: float) -> float:
        """Where the two wall solutions are joined: the forbidden-region opacity split evenly.

        A wall solution loses digits only where it must decay, that is inside
        forbidden pieces (E < V), by about exp(opacity) with opacity the
        integral of sqrt(V - E). Joining the solutions where each has crossed
        half of the total opacity keeps both accurate; it puts the point in
        the middle of the barrier of a double well, where the even and odd
        states differ at order one.
        """
        kappas = [math.sqrt(max(v - energy, 0.0)) for v in self.values]
        opacities = [k * w for k, w in zip(kappas, self.widths)]
        half = 0.5 * sum(opacities)
        if half == 0.0:
            return 0.5 * (self.edges[0] + self.edges[-1])
        slack = 1e-12 * half
        # First and last x where the running opacity equals half (a plateau in allowed pieces).
        first = last = None
        running = 0.0
        for a, w, k, t in zip(self.edges[:-1], self.widths, kappas, opacities):
            if first is None and running + t >= half - slack:
                first = a + (min(max(half - running, 0.0), t) / k if k > 0 else 0.0)
            if running <= half + slack:
                last = a + (min(max(half - running, 0.0), t) / k if k > 0 else w)
            running += t
        return 0.5 * (first + last)

    def _halves(self, x_match: float):
        """(widths, values) from the left wall to x_match, and from the right wall back to it."""
        left, right = ([], []), ([], [])
        for a, b, v in zip(self.edges[:-1], self.edges[1:], self.values):
            for side, width in ((left, min(b, x_match) - a), (right, b - max(a, x_match))):
                if width > 0.0:
                    side[0].append(width)
                    side[1].append(v)
        return left, (right[0][::-1], right[1][::-1])

    def _half_sweeps(self, energy: float, x_match: float) -> tuple[_Sweep, _Sweep]:
        (left_w, left_v), (right_w, right_v) = self._halves(x_match)
        return (
            self._sweep(energy, left_w, left_v, ends_at_wall=False),
            self._sweep(energy, right_w, right_v, ends_at_wall=False),
        )

    def count_below(self, energy: float) -> int:
        """Number of eigenvalues strictly below ``energy``.

        Zeros of each wall solution on its own side of the matching point,
        plus one if the Prüfer angles at that point have passed each other:
        with theta_L = n_L pi + phi_L and the right one likewise, the count is
        n_L + n_R + [phi_L + phi_R >= pi].
        """
        left, right = self._half_sweeps(energy, self.matching_point(energy))
        phases = []
        for sweep in (left, right):
            psi, dpsi, _ = sweep.end
            sign = -1.0 if sweep.zeros % 2 else 1.0
            phases.append(math.atan2(abs(psi), sign * dpsi))
        return left.zeros + right.zeros + int(phases[0] + phases[1] >= math.pi)

    def mismatch(self, energy: float, x_match: float) -> float:
        """Wronskian of the unit left and right wall solutions at ``x_match``; zero at eigenvalues."""
        left, right = self._half_sweeps(energy, x_match)
        psi_left, dpsi_left, _ = left.end
        psi_right, dpsi_right = right.end[0], -right.end[1]  # back to the x direction
        return psi_left * dpsi_right - psi_right * dpsi_left

    # -- eigenvalues ----------------------------------------------------------
    def eigenvalue(self, index: int) -> float:
        """Eigenvalue of state ``index`` (0 = ground state) to machine precision."""
        upper = energy_upper_bound(max(self.values), self.length, index)
        lower, upper = isolate_state(self.count_below, index, min(self.values), upper)
        x_match = self.matching_point(0.5 * (lower + upper))

        def mismatch(energy: float) -> float:
            return self.mismatch(energy, x_match)

        f_lower, f_upper = mismatch(lower), mismatch(upper)
        unit = (math.pi / self.length) ** 2
        widen = 8 * _EPS * max(abs(lower), abs(upper), unit)
        while f_lower * f_upper > 0.0:  # the count flipped within rounding of the root
            lower, upper = lower - widen, upper + widen
            f_lower, f_upper = mismatch(lower), mismatch(upper)
            widen *= 2
        # Relative precision, with an absolute floor far below the box's energy unit for E near 0.
        return brentq(mismatch, lower, upper, xtol=1e-3 * _EPS * unit, rtol=4 * _EPS, maxiter=500)

    def eigenvalues(self, n_states: int) -> np.ndarray:
        """The ``n_states`` lowest eigenvalues, ascending."""
        return np.array([self.eigenvalue(i) for i in range(n_states)])

    # -- eigenfunctions -------------------------------------------------------
    def _side_values(self, x: np.ndarray, energy: float, mirrored: bool) -> tuple[np.ndarray, ...]:
        """psi, psi', log scale and log error amplification of one wall solution at x.

        The value is ``psi * exp(log_scale)``. The amplification is how much
        rounding has grown relative to the solution on the way from the wall:
        about 1 (log 0) where it oscillates or grows, exp(2 kappa d) after it
        has decayed through a barrier of width d.
        """
        edges, values = np.array(self.edges), self.values
        if mirrored:
            edges = (edges[0] + edges[-1] - edges)[::-1]
            values = values[::-1]
            x = self.edges[0] + self.edges[-1] - x
        widths = tuple(np.diff(edges))
        sweep = self._sweep(energy, widths, values)
        piece = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(values) - 1)
        psi, dpsi, log_scale, amplification = (np.empty_like(x) for _ in range(4))
        for j, (start_psi, start_dpsi, start_log, start_amp) in enumerate(sweep.starts):
            mask = piece == j
            if not mask.any():
                continue
            p, d, g = _evaluate_piece(x[mask] - edges[j], start_psi, start_dpsi, energy - values[j])
            psi[mask], dpsi[mask], log_scale[mask] = p, d, g + start_log
            local = -np.log(np.hypot(p, d) + 1e-300) if values[j] > energy else 0.0
            amplification[mask] = start_amp + np.maximum(local, 0.0)
        if mirrored:
            dpsi = -dpsi
        return psi, dpsi, log_scale, amplification

    def eigenfunction(self, energy: float) -> _Eigenfunction:
        """Normalized eigenfunction at an eigenvalue, from both wall solutions.

        At every point the wall solution with the smaller error amplification
        is used, so neither is trusted where it has had to decay through a
        barrier; the right one is scaled onto the left one at the edge or
        piece middle where both are most accurate.
        """
        edges = np.array(self.edges)
        candidates = np.concatenate(
            [edges[1:-1], 0.5 * (edges[:-1] + edges[1:]), [self.matching_point(energy)]]
        )
        left = self._side_values(candidates, energy, mirrored=False)
        right = self._side_values(candidates, energy, mirrored=True)
        wave_number = math.sqrt(max(abs(energy - v) for v in self.values) + 1.0)
        m = int(np.argmin(left[3] + right[3]))
        left_vec = np.array([left[0][m], left[1][m] / wave_number])
        right_vec = np.array([right[0][m], right[1][m] / wave_number])
        # Least-squares factor taking the right solution onto the left one there.
        right_factor = (left_vec @ right_vec) / (right_vec @ right_vec)
        match = _Eigenfunction(self, energy, left[2][m], right[2][m], right_factor)
        match.normalize()
        return match


class _Eigenfunction:
    """One exact eigenfunction: at each point the more accurate wall solution, scaled to agree."""

    def __init__(self, spectrum, energy, log_left, log_right, right_factor):
        self.spectrum, self.energy = spectrum, energy
        self.log_left, self.log_right, self.right_factor = log_left, log_right, right_factor
        self.norm = 1.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        psi_l, _, log_l, amp_l = self.spectrum._side_values(x, self.energy, mirrored=False)
        psi_r, _, log_r, amp_r = self.spectrum._side_values(x, self.energy, mirrored=True)
        with np.errstate(over="ignore", invalid="ignore"):
            from_left = psi_l * np.exp(log_l - self.log_left)
            from_right = self.right_factor * psi_r * np.exp(log_r - self.log_right)
        out = np.where(amp_l <= amp_r, from_left, from_right)
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

"""Shooting with a Gauss-Legendre collocation integrator: Sturm counts and eigenvalues in 1D.

psi'' = (V - E) psi is integrated from the left wall with (psi, psi') = (0, 1). The number of
sign changes of psi inside the box is the number of eigenvalues below E (Sturm oscillation), so
:meth:`GaussShooting.count_below` tells the index of any energy without reading a reference,
and :meth:`GaussShooting.eigenvalues` finds states by ``brentq`` on psi at the right wall inside
brackets that the count confirms. The certified reference of a typed potential and the
certificate of every 1D state (the index check and the Kato-Temple gaps) both use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.polynomial import legendre
from scipy.optimize import brentq

from .bounds import energy_upper_bound
from .quadrature import panel_edges
from .sturm import isolate_state

#: Gauss-Legendre stages of the shooting integrator (order 2 * stages).
SHOOTING_STAGES = 6
#: Largest product of step and local wave number (or decay rate) in the shooting integrator.
#: At 0.5 an order-12 step errs by ~1e-17; it also keeps the method's growth factor positive
#: in forbidden regions, so no spurious sign change corrupts the Sturm count.
SHOOTING_THETA = 0.5
_MIN_STEPS_PER_PANEL = 16
_MAX_STEPS = 50_000  # beyond this the potential is too stiff for a sweep to be cheap


def gauss_collocation_tableau(stages: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes ``c``, matrix ``a`` and weights ``b`` of the ``stages``-stage Gauss-Legendre method.

    ``a[i, j]`` integrates the j-th Lagrange polynomial on ``c`` from 0 to
    ``c[i]``; a Gauss rule of the same size does it exactly (the obvious
    route through ``numpy.poly1d`` loses digits already at six stages).
    """
    nodes, weights = legendre.leggauss(stages)
    c = 0.5 * (nodes + 1.0)

    def lagrange(t: np.ndarray) -> np.ndarray:
        out = np.ones((len(t), stages))
        for j in range(stages):
            for k in range(stages):
                if k != j:
                    out[:, j] *= (t - c[k]) / (c[j] - c[k])
        return out

    a = np.array([0.5 * c[i] * (weights @ lagrange(0.5 * c[i] * (nodes + 1.0))) for i in range(stages)])
    return c, a, 0.5 * weights


class GaussShooting:
    """psi'' = (V - E) psi from the left wall, (psi, psi') = (0, 1), by Gauss collocation steps.

    The equation is linear, so each step is a 2 x 2 propagator, found for all
    steps at once from the stage equations (one small linear solve per step).
    The steps are placed so that step x (local wave number or decay rate)
    stays below :data:`SHOOTING_THETA` for every energy between the lowest
    and highest of ``guesses`` (finite entries), with panels ending on the breakpoints.

    Parameters
    ----------
    potential
        V at points of shape ``(m, 1)``.
    interval, breakpoints
        The box ``(a, b)`` and the jumps of V inside it.
    guesses
        Energies the sweeps will be asked about (NaN allowed): they size the steps.
    """

    def count_below(self, energy: float) -> int:
        """Number of eigenvalues below ``energy`` (sign changes of psi inside the box)."""
        return self.sweep(energy)[0]

    def __init__(
        self,
        potential: Callable[[np.ndarray], np.ndarray],
        interval: tuple[float, float],
        breakpoints: Sequence[float],
        guesses: np.ndarray,
    ):
        self.potential = potential
        self.c, self.a, self.b = gauss_collocation_tableau(SHOOTING_STAGES)
        edges = panel_edges(tuple(interval), breakpoints)
        self.length = float(interval[1] - interval[0])
        probe = self._probe(edges)
        values = potential(probe[:, None])
        self.v_min, self.v_max = float(values.min()), float(values.max())
        finite = guesses[np.isfinite(guesses)]
        low = float(finite.min()) if finite.size else self.v_min
        high = (
            float(finite.max()) if finite.size else energy_upper_bound(self.v_max, self.length, len(guesses))
        )
        self.guesses = guesses
        starts, widths = [], []
        for lo, hi in zip(edges[:-1], edges[1:]):
            nodes = self._steps(lo, hi, low, high)
            starts.append(nodes[:-1])
            widths.append(np.diff(nodes))
        self.x = np.concatenate(starts)
        self.h = np.concatenate(widths)
        if len(self.h) > _MAX_STEPS:
            raise RuntimeError(f"the potential needs more than {_MAX_STEPS} integration steps")
        stages = self.x[:, None] + self.h[:, None] * self.c[None, :]
        self.v_stages = potential(stages.reshape(-1, 1)).reshape(stages.shape)
        self._last: dict[float, tuple[int, float]] = {}

    @staticmethod
    def _probe(edges: np.ndarray) -> np.ndarray:
        # Interior points only: V at a breakpoint itself belongs to one side arbitrarily.
        parts = [np.linspace(a, b, 2001)[1:-1] for a, b in zip(edges[:-1], edges[1:])]
        return np.concatenate(parts)

    def _steps(self, lo: float, hi: float, e_low: float, e_high: float) -> np.ndarray:
        """Step ends on [lo, hi]: equal increments of the integrated local wave number."""
        x = np.linspace(lo, hi, 4001)
        middle = 0.5 * (x[1:] + x[:-1])
        v = self.potential(middle[:, None])
        # |V - E| is convex in E, so its larger value at the two ends covers every energy between.
        rate = np.sqrt(np.maximum(np.abs(v - e_low), np.abs(v - e_high)))
        rate = np.maximum(rate, _MIN_STEPS_PER_PANEL * SHOOTING_THETA / (hi - lo))
        phase = np.concatenate([[0.0], np.cumsum(rate * np.diff(x))])
        count = max(_MIN_STEPS_PER_PANEL, math.ceil(phase[-1] / SHOOTING_THETA))
        if count > _MAX_STEPS:
            raise RuntimeError(f"the potential needs more than {_MAX_STEPS} integration steps")
        nodes = np.interp(np.linspace(0.0, phase[-1], count + 1), phase, x)
        nodes[0], nodes[-1] = lo, hi
        return nodes

    def _propagators(self, energy: float) -> np.ndarray:
        """(n_steps, 2, 2): the map of (psi, psi') across each step at ``energy``."""
        s, h = len(self.c), self.h
        g = self.v_stages - energy  # psi'' = g psi, i.e. y' = [[0, 1], [g, 0]] y
        matrix = np.zeros((len(h), 2 * s, 2 * s))
        diagonal = np.arange(2 * s)
        matrix[:, diagonal, diagonal] = 1.0
        ha = h[:, None, None] * self.a[None]
        matrix[:, 0::2, 1::2] -= ha  # stage i, row psi:  - h a_ij psi'_j
        matrix[:, 1::2, 0::2] -= ha * g[:, None, :]  # stage i, row psi': - h a_ij g_j psi_j
        stacked_identity = np.broadcast_to(np.tile(np.eye(2), (s, 1)), (len(h), 2 * s, 2))
        stages = np.linalg.solve(matrix, stacked_identity)  # stage values per unit start vector
        hb = h[:, None] * self.b[None, :]
        out = np.empty((len(h), 2, 2))
        out[:, 0, :] = np.einsum("nj,njk->nk", hb, stages[:, 1::2, :])
        out[:, 1, :] = np.einsum("nj,njk->nk", hb * g, stages[:, 0::2, :])
        out[:, 0, 0] += 1.0
        out[:, 1, 1] += 1.0
        return out

    def sweep(self, energy: float) -> tuple[int, float]:
        """Sturm count (sign changes of psi inside the box) and psi / |(psi, L psi')| at the right wall.

        The second value has the sign of psi at the wall and is continuous in
        E, whatever rescaling kept psi in range on the way; it vanishes at
        the eigenvalues.
        """
        if energy in self._last:
            return self._last[energy]
        y0, y1 = 0.0, 1.0
        negative, count = False, 0
        for (p00, p01), (p10, p11) in self._propagators(energy).tolist():
            y0, y1 = p00 * y0 + p01 * y1, p10 * y0 + p11 * y1
            if (y0 < 0.0) != negative:
                count += 1
                negative = not negative
            if abs(y0) + abs(y1) > 1e150:  # growth through a forbidden region: rescale, sign kept
                y0, y1 = y0 * 1e-150, y1 * 1e-150
        result = (count, y0 / math.hypot(y0, self.length * y1))
        self._last[energy] = result
        return result

    def eigenvalues(self, n_states: int) -> np.ndarray:
        energies = np.empty(n_states)
        for n in range(n_states):
            lower, upper = self._bracket(n)
            energies[n] = brentq(
                lambda e: self.sweep(e)[1], lower, upper, xtol=1e-300, rtol=4 * np.finfo(float).eps
            )
            self._last.clear()
        return energies

    def _bracket(self, n: int) -> tuple[float, float]:
        """Energies around state n and no other, confirmed by the Sturm count at both ends."""
        guess = self.guesses[n]
        if math.isfinite(guess):
            width = 1e-11 * max(abs(guess), (math.pi / self.length) ** 2)
            for _ in range(5):
                lower, upper = guess - width, guess + width
                if self.sweep(lower)[0] == n and self.sweep(upper)[0] == n + 1:
                    return lower, upper
                width *= 100.0
        # The guess is useless: bisection on the count from bounds that hold for any V.
        top = energy_upper_bound(self.v_max, self.length, n)
        return isolate_state(lambda e: self.sweep(e)[0], n, self.v_min - 1.0, top)

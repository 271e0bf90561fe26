"""A certified reference for any potential: independent methods that must agree.

No closed form exists for a general V, so the reference energies are
computed twice (three times when pyslise is installed) by methods that share
no discretization:

* **chebyshev**: piecewise Chebyshev collocation (:func:`qbench.numerics.collocation.solve`,
  the ``spectral`` solver's discretization, panels split at the breakpoints), refined through
  :data:`CHEBYSHEV_POINTS` until two successive resolutions agree to
  :data:`CHEBYSHEV_TOL`; its energies are Rayleigh-Ritz values.
* **shooting**: an initial-value integration from the left wall with a
  Gauss-Legendre collocation Runge-Kutta method of order 12 (steps ending on
  the breakpoints, sized by the local wave number), the Sturm count of the
  solution's sign changes to confirm the state's index, and ``brentq`` on
  psi at the right wall. It shares no code with qbench's Numerov shooting
  solver or with the collocation above; the Chebyshev energies serve only as
  starting guesses, and a bracket is used only if the Sturm counts at both
  its ends confirm that it holds exactly the wanted state.
* **pyslise**: Matslise's constant-perturbation method, when importable.

The reference energies and wavefunctions are the converged Chebyshev ones;
the certified relative error bound of state k is the largest relative
difference between any two methods' energies of state k (floored at
:data:`FLOOR`). Agreement of independent methods is evidence, not proof: two
methods could share an error only through the problem itself (a jump that
is not declared as a breakpoint fools them all differently, which is why it
shows up as disagreement).
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.polynomial import legendre
from scipy.optimize import brentq
from threadpoolctl import threadpool_limits

from ..numerics import collocation
from ..numerics.bounds import energy_upper_bound
from ..numerics.quadrature import panel_edges
from ..numerics.sturm import isolate_state

if TYPE_CHECKING:
    from .base import Problem

#: Largest certified relative bound a reference may have; a worse one is refused.
MAX_REL_BOUND = 1e-10
#: Smallest bound ever stated: double-precision rounding of the energies themselves.
FLOOR = 1e-15
#: Total Chebyshev points tried in turn (shared out over the panels by width).
CHEBYSHEV_POINTS = (48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
#: Successive Chebyshev energies agreeing this closely (relative) count as converged.
CHEBYSHEV_TOL = 2e-14
#: From this many points on, a change that no longer shrinks 100-fold per step ends the refinement.
_ALGEBRAIC_AFTER = 192
#: Gauss-Legendre stages of the shooting integrator (order 2 * stages).
SHOOTING_STAGES = 6
#: Largest product of step and local wave number (or decay rate) in the shooting integrator.
#: At 0.5 an order-12 step errs by ~1e-17; it also keeps the method's growth factor positive
#: in forbidden regions, so no spurious sign change corrupts the Sturm count.
SHOOTING_THETA = 0.5
_MIN_STEPS_PER_PANEL = 16
_MAX_STEPS = 50_000  # beyond this the potential is too stiff for the certificate to be cheap
PYSLISE_TOLERANCE = 1e-13


@dataclass(frozen=True)
class Certificate:
    """The reference of a general potential and the evidence for it.

    Attributes
    ----------
    energies : numpy.ndarray
        The converged Chebyshev energies of states ``0 .. n_states - 1``.
    wavefunctions : callable
        ``points (n, 1) -> (n_states, n)``, normalized, each rising from the left wall.
    by_method : dict
        Each method's energies (NaN where it failed), keyed by method name.
    state_bounds : numpy.ndarray
        Per state, the largest pairwise relative difference, floored at :data:`FLOOR`.
    notes : dict
        Resolution used, failures: what a refusal message draws on.
    """

    energies: np.ndarray
    wavefunctions: Any = field(repr=False)
    by_method: dict[str, np.ndarray]
    state_bounds: np.ndarray
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def n_states(self) -> int:
        return len(self.energies)

    @property
    def bound(self) -> float:
        """The certified relative error bound of all the states."""
        return float(np.max(self.state_bounds))

    @property
    def method(self) -> str:
        return f"certified ({'+'.join(self.by_method)})"


def certify(problem: Problem, n_states: int) -> Certificate:
    """Compute the lowest ``n_states`` eigenpairs of ``problem`` by every available method.

    Never raises for the sake of a method: a method that fails gives NaN
    energies, which make the bound infinite (the caller refuses it).

    Parameters
    ----------
    problem
        Any 1D problem; only ``box``, ``axis_breakpoints``, ``length`` and ``potential`` are used.
    n_states
        Number of lowest states, >= 1.

    Returns
    -------
    Certificate
    """
    # One BLAS thread, as the harness gives each case: the matrices are small, and threads that
    # compete with other processes for the cores make a dense eigensolve up to 50x slower.
    with threadpool_limits(limits=1, user_api="blas"):
        energies, wavefunctions, notes = _chebyshev(problem, n_states)
        by_method = {"chebyshev": energies}
        try:
            by_method["shooting"] = _GaussShooting(problem, energies).eigenvalues(n_states)
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            by_method["shooting"] = np.full(n_states, np.nan)
            notes["shooting_error"] = f"{type(exc).__name__}: {exc}"
        pyslise_energies = _pyslise(problem, n_states, notes)
    if pyslise_energies is not None:
        by_method["pyslise"] = pyslise_energies
    stacked = np.vstack(list(by_method.values()))
    spread = np.max(stacked, axis=0) - np.min(stacked, axis=0)
    with np.errstate(all="ignore"):
        relative = spread / np.abs(energies)
    state_bounds = np.where(np.isfinite(relative), np.maximum(relative, FLOOR), np.inf)
    return Certificate(energies, wavefunctions, by_method, state_bounds, notes)


# -- Chebyshev collocation -----------------------------------------------------------------
def _chebyshev(problem: Problem, n_states: int) -> tuple[np.ndarray, Any, dict[str, Any]]:
    box, cuts = problem.box, problem.axis_breakpoints
    needed = collocation.minimum_points(box, cuts, n_states)
    sizes = [n for n in CHEBYSHEV_POINTS if needed <= n <= collocation.MAX_POINTS]
    if not sizes or sizes[0] > 2 * needed:  # many states or panels: start at what they need
        sizes = [needed, *sizes]
    unit = (math.pi / problem.length) ** 2  # E can be ~0: compare to the box's energy scale too
    previous, result, change = None, None, np.full(n_states, np.inf)
    for n_points in sizes:
        result = collocation.solve(problem.potential, box, cuts, n_points, n_states)
        energies = np.asarray(result.energies, dtype=float)
        if previous is not None and not result.failure and np.all(np.isfinite(energies)):
            last, change = change, np.abs(energies - previous) / np.maximum(np.abs(energies), unit)
            if np.max(change) <= CHEBYSHEV_TOL:
                break
            # Converging algebraically, not spectrally (an undeclared jump or kink): finer
            # resolutions cost seconds and cannot reach the tolerance, so stop here.
            if n_points >= _ALGEBRAIC_AFTER and np.max(change) > max(1e-8, 0.01 * np.max(last)):
                break
        previous = energies
    notes = {"chebyshev_points": n_points, "chebyshev_change": float(np.max(change))}
    if result.failure:
        notes["chebyshev_error"] = result.failure
    return energies, result.states, notes


# -- shooting with a Gauss-Legendre collocation integrator ---------------------------------
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


class _GaussShooting:
    """psi'' = (V - E) psi from the left wall, (psi, psi') = (0, 1), by Gauss collocation steps.

    The equation is linear, so each step is a 2 x 2 propagator, found for all
    steps at once from the stage equations (one small linear solve per step).
    The steps are placed so that step x (local wave number or decay rate)
    stays below :data:`SHOOTING_THETA` for every energy between the lowest
    and highest wanted state, with panels ending on the breakpoints.
    """

    def __init__(self, problem: Problem, guesses: np.ndarray):
        self.problem = problem
        self.c, self.a, self.b = gauss_collocation_tableau(SHOOTING_STAGES)
        edges = panel_edges(problem.box[0], problem.axis_breakpoints[0])
        self.length = problem.length
        probe = self._probe(edges)
        values = problem.potential(probe[:, None])
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
        self.v_stages = problem.potential(stages.reshape(-1, 1)).reshape(stages.shape)
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
        v = self.problem.potential(middle[:, None])
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


# -- pyslise -----------------------------------------------------------------------------
def _pyslise(problem: Problem, n_states: int, notes: dict[str, Any]) -> np.ndarray | None:
    """pyslise's energies, or None when it is not installed (NaN where it fails)."""
    try:
        pyslise = importlib.import_module("pyslise")
    except ImportError:
        return None

    def potential(x: float) -> float:
        return float(problem.potential(np.array([[x]]))[0])

    energies = np.full(n_states, np.nan)
    try:
        solver = pyslise.Pyslise(
            potential, *problem.box[0], tolerance=PYSLISE_TOLERANCE, jumps=list(problem.axis_breakpoints[0])
        )
        for index, energy in solver.eigenvaluesByIndex(0, n_states, (0.0, 1.0), (0.0, 1.0)):
            energies[index] = energy
    except Exception as exc:  # a C++ failure of an optional cross-check: it counts as disagreement
        notes["pyslise_error"] = f"{type(exc).__name__}: {exc}"
    return energies

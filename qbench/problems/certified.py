"""A certified reference for any potential: residual enclosures, cross-checked by independent methods.

No closed form exists for a general V. The reference energies and wavefunctions are those of
piecewise Chebyshev collocation (:func:`qbench.numerics.collocation.solve`), its pieces split at
the breakpoints and at every piece's midpoint (:func:`split_breakpoints`, so that the
``spectral`` solver never shares the discretization), refined through :data:`CHEBYSHEV_POINTS`
until two successive resolutions agree to :data:`CHEBYSHEV_TOL`.

**The bound** of each energy is an enclosure from the state's residual
(:mod:`qbench.numerics.reference_enclosure`): Kato-Temple where the Sturm count of
:class:`~qbench.numerics.sturm_shooting.GaussShooting` confirms the gaps to the neighbouring
levels, Weinstein otherwise, with ``|V - W|`` (W a polynomial interpolant of V) bounded on every
sub-panel by interval arithmetic over V's formula. The stated bound of state k is the
enclosure's larger side divided by ``max(|E_k|, (pi / L)^2)`` (:func:`energy_scale`): absolute
near E = 0. Floating-point rounding is estimated, not interval-controlled.

**The consensus**, kept apart from the bound: the energies of the collocation, of the
shooting integration (``brentq`` on psi at the right wall inside brackets the Sturm count
confirms) and of pyslise (Matslise's constant-perturbation method, when importable); their
per-state spread is :attr:`Certificate.consensus_spread`.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from threadpoolctl import threadpool_limits

from ..numerics import collocation, enclosure, reference_enclosure
from ..numerics.sturm_shooting import GaussShooting

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
PYSLISE_TOLERANCE = 1e-13
#: Sub-panels are bisected until the bound of (V - W) psi is below this times the energy scale.
REMAINDER_TOL = 1e-12


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
        Per state, the enclosure's half-width on the side of the larger distance from the
        energy, divided by ``max(|E|, (pi / L)^2)`` (the energy scale of the box of width L),
        floored at :data:`FLOOR`; infinite where no enclosure was found.
    notes : dict
        Resolution used, failures, the enclosure's kind and its worst x range per state: what a
        refusal message draws on.
    lower, upper : numpy.ndarray
        Per state, the enclosure ``lower <= E_true <= upper`` (Kato-Temple or Weinstein).
    """

    energies: np.ndarray
    wavefunctions: Any = field(repr=False)
    by_method: dict[str, np.ndarray]
    state_bounds: np.ndarray
    notes: dict[str, Any] = field(default_factory=dict)
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None

    @property
    def n_states(self) -> int:
        return len(self.energies)

    @property
    def bound(self) -> float:
        """The certified error bound of all the states (relative to ``max(|E|, (pi / L)^2)``)."""
        return float(np.max(self.state_bounds))

    @property
    def consensus_spread(self) -> np.ndarray:
        """Per state, the largest difference between any two methods' energies (absolute)."""
        stacked = np.vstack(list(self.by_method.values()))
        return np.max(stacked, axis=0) - np.min(stacked, axis=0)

    @property
    def method(self) -> str:
        return f"certified (residual enclosure; consensus {'+'.join(self.by_method)})"


def energy_scale(problem: Problem) -> float:
    """``(pi / L)^2``, the ground energy of the empty box: the scale of an absolute bound near E = 0."""
    return (math.pi / problem.length) ** 2


def certify(problem: Problem, n_states: int) -> Certificate:
    """Compute the lowest ``n_states`` eigenpairs of ``problem``, enclose them, and cross-check them.

    Never raises for the sake of a method: a method that fails gives NaN energies (and no
    enclosure an infinite bound), which the caller refuses.

    Parameters
    ----------
    problem
        Any 1D problem; ``box``, ``axis_breakpoints``, ``length`` and ``potential`` are used, and
        ``expression`` (an object with ``enclose(lo, hi)``) when the problem has one.
    n_states
        Number of lowest states, >= 1.

    Returns
    -------
    Certificate
    """
    # One BLAS thread, as the harness gives each case: the matrices are small, and threads that
    # compete with other processes for the cores make a dense eigensolve up to 50x slower.
    with threadpool_limits(limits=1, user_api="blas"):
        # One state more than asked: its residual bounds the gap above the last one asked for.
        energies, states, notes = _chebyshev(problem, n_states + 1)
        by_method = {"chebyshev": energies[:n_states]}
        shooting = None
        try:
            shooting = GaussShooting(problem.potential, problem.box[0], problem.axis_breakpoints[0], energies)
            by_method["shooting"] = shooting.eigenvalues(n_states)
        except (RuntimeError, ValueError, np.linalg.LinAlgError) as exc:
            by_method["shooting"] = np.full(n_states, np.nan)
            notes["shooting_error"] = f"{type(exc).__name__}: {exc}"
        pyslise_energies = _pyslise(problem, n_states, notes)
        lower, upper = _enclosures(problem, energies, states, shooting, notes)
    if pyslise_energies is not None:
        by_method["pyslise"] = pyslise_energies
    energies, lower, upper = energies[:n_states], lower[:n_states], upper[:n_states]
    with np.errstate(all="ignore"):
        distance = np.maximum(energies - lower, upper - energies)
        relative = distance / np.maximum(np.abs(energies), energy_scale(problem))
    state_bounds = np.where(np.isfinite(relative), np.maximum(relative, FLOOR), np.inf)
    return Certificate(energies, _first(states, n_states), by_method, state_bounds, notes, lower, upper)


def _first(states: Any, n_states: int) -> Any:
    def evaluate(points: np.ndarray) -> np.ndarray:
        return states(points)[:n_states]

    return evaluate


# -- the enclosure ---------------------------------------------------------------------------
def _enclosures(
    problem: Problem, energies: np.ndarray, states: Any, shooting: GaussShooting | None, notes: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Per state, ``lower <= E <= upper``: Kato-Temple where Sturm counts confirm a gap, else Weinstein."""
    n = len(energies)
    lower, upper = np.full(n, -np.inf), np.full(n, np.inf)
    if "chebyshev_error" in notes or not np.all(np.isfinite(energies)):
        return lower, upper
    pieces = [
        reference_enclosure.Piece(float(a), float(b), coefficients)
        for a, b, coefficients in zip(states.edges[0][:-1], states.edges[0][1:], states.coefficients)
    ]
    expression = getattr(problem, "expression", None)
    enclose = expression.enclose if expression is not None else None

    def flat(x: np.ndarray) -> np.ndarray:
        return problem.potential(x.reshape(-1, 1))

    scale = max(float(np.max(np.abs(energies))), energy_scale(problem))
    found = reference_enclosure.residuals(pieces, energies, flat, enclose, REMAINDER_TOL * scale)
    eta = found.residual
    notes.update(
        residual=found.residual.tolist(),
        residual_remainder=found.remainder.tolist(),
        residual_worst_x=list(found.worst),
        residual_subpanels=found.subpanels,
        residual_rigorous=found.rigorous,
    )
    if shooting is None:
        notes["enclosure_error"] = "no Sturm count (the shooting integrator failed)"
        return lower, upper

    def count(energy: float) -> int:
        return shooting.count_below(energy) if math.isfinite(energy) else -1

    kinds = []
    for k in range(n):
        below = (
            -np.inf
            if k == 0
            else _confirmed(count, k, [energies[k - 1] + eta[k - 1], 0.5 * (energies[k - 1] + energies[k])])
        )
        above = (
            _confirmed(count, k + 1, [energies[k + 1] - eta[k + 1], 0.5 * (energies[k] + energies[k + 1])])
            if k + 1 < n
            else None
        )
        bounds = None
        low, high = found.rayleigh[k] - found.slack[k], found.rayleigh[k] + found.slack[k]
        # Kato-Temple only where the neighbours' levels stay a residual away from this one.
        if below is not None and above is not None and below + eta[k] < low and high < above - eta[k]:
            bounds = enclosure.kato_temple(found.rayleigh[k], eta[k], below, above, found.slack[k])
        w_low, w_high = enclosure.weinstein(energies[k], eta[k])
        weinstein_holds = count(w_low) <= k and count(w_high) >= k + 1
        if bounds is not None:
            lo, hi = bounds
            if weinstein_holds:
                lo, hi = max(lo, w_low), min(hi, w_high)
            kinds.append("kato-temple")
        elif weinstein_holds:
            lo, hi = w_low, w_high
            kinds.append("weinstein")
        else:
            kinds.append("none")
            continue
        lower[k], upper[k] = lo, hi
    notes["enclosure"] = kinds
    return lower, upper


def _confirmed(count: Any, expected: int, candidates: list[float]) -> float | None:
    """The first candidate energy with exactly ``expected`` eigenvalues below it, or None."""
    for energy in candidates:
        if math.isfinite(energy) and count(energy) == expected:
            return float(energy)
    return None


# -- Chebyshev collocation -----------------------------------------------------------------
def split_breakpoints(problem: Problem) -> tuple[float, ...]:
    """The problem's breakpoints and the midpoint of every piece between them.

    The extra joints make the reference a discretization that no ``spectral`` run (whose pieces
    end at the problem's breakpoints only) shares, so that solver is never graded against itself.
    """
    edges = [problem.box[0][0], *problem.axis_breakpoints[0], problem.box[0][1]]
    middles = [0.5 * (a + b) for a, b in zip(edges, edges[1:])]
    return tuple(sorted([*problem.axis_breakpoints[0], *middles]))


def _chebyshev(problem: Problem, n_states: int) -> tuple[np.ndarray, Any, dict[str, Any]]:
    box, cuts = problem.box, (split_breakpoints(problem),)
    needed = collocation.minimum_points(box, cuts, n_states)
    sizes = [n for n in CHEBYSHEV_POINTS if needed <= n <= collocation.MAX_POINTS]
    if not sizes or sizes[0] > 2 * needed:  # many states or panels: start at what they need
        sizes = [needed, *sizes]
    unit = energy_scale(problem)  # E can be ~0: compare to the box's energy scale too
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

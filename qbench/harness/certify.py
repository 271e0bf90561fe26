"""The certificate of every returned state, computed by qbench, never by the solver (docs/certificates.md).

For each state psi of a solution (in ascending energy, as graded), on a rule that no solver
sees (:func:`certification_rule`):

1. **Values and derivatives.** psi comes from ``Solution.wavefunctions``. Its Laplacian comes
   from ``Solution.laplacian`` when the solver supplies one, checked against qbench's own
   fourth-order finite differences of psi at fresh random points; the measured disagreement is
   added to the residual, so a supplied Laplacian can never make a state look better than its
   psi is. Without one, qbench differences psi itself, and checks at fresh points that steps
   h and 2h agree (a psi that is not smooth at that scale cannot be certified this way).
2. **The walls.** In 1D the linear function through psi's wall values is subtracted, so the
   certified function is in the domain of H whatever the solver's wall mismatch (shooting's,
   say); it changes the residual by (V - E) times that line, which is counted. In d >= 2 psi
   must vanish on the walls to :data:`WALL_TOL` (checked at fresh points on every face).
3. **Rayleigh quotient and residual** rho and eps = ||(H - rho) psi|| / ||psi||, and the
   state's relative residual eta = ||(H - E) psi|| / (|E| ||psi||) at its returned E.
4. **An eigenvalue interval**: Weinstein's [rho - eps, rho + eps] always; in 1D also
   Kato-Temple's, with the gap (a, b) around the state confirmed by Sturm counts of shooting on
   V (:class:`qbench.numerics.sturm_shooting.GaussShooting`), and the index check
   N(lo) <= k < N(hi). In 1D the leading states are also bounded together: their Ritz values
   from above, Lehmann-Maehly with a Sturm-confirmed shift from below (:meth:`_Certifier.subspace`),
   and each state's interval is narrowed by these. In d >= 2 no reference-free count exists
   here: the index is checked against the reference's numbering of levels, and
   ``index_checked_by`` says so.
5. **The verdict.** ``ok`` needs: the interval within ``tolerance`` of the returned E (relative
   to the smallest |lambda| the interval allows), E inside the interval, and the index check.
   The status of a state the solver already marked not ok is never changed.

A solution whose psi cannot be evaluated, whose supplied Laplacian disagrees with psi, or whose
psi cannot be differenced is ``unverified`` unless it states an a-posteriori error estimate
(``Solution.error_estimates``), which is then its interval (``verified_by`` says so).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..numerics import enclosure
from ..numerics.finite_differences import laplacians as fd_laplacians
from ..numerics.finite_differences import one_sided_limits
from ..numerics.sturm_shooting import GaussShooting
from ..problems import Problem
from ..problems.base import MAX_DIM
from ..solvers import Solution, Status

#: Nodes per axis of the certification rule (the grading rule has 4096, 128, 80, 40): a different
#: count gives nodes no solver trained or collocated on.
CERTIFICATION_POINTS_PER_AXIS = {1: 3072, 2: 112, 3: 56, 4: 24}
#: Finite-difference step, as a fraction of each axis's length.
FD_STEP = 1e-3
#: Fresh random points at which derivatives are checked.
CHECK_POINTS = 256
#: Finite differences at h and 2h disagreeing by more than this (relative to the RMS Laplacian)
#: mean that psi is not smooth at the scale of the step.
SMOOTHNESS_RTOL = 1e-3
#: A supplied Laplacian disagreeing with psi's finite differences by more than this (relative to
#: the RMS Laplacian) is not psi's Laplacian.
DERIVATIVE_RTOL = 1e-3
#: Steps of the one-sided limits at breakpoints, as fractions of each axis: the one whose estimates
#: at h and 2h agree best is used (:meth:`_Certifier.stable_jumps`).
LIMIT_STEPS = (1e-6, 1e-4, 1e-2)
#: Candidate steps, as multiples of :data:`FD_STEP` (the best is kept, :meth:`_Certifier.choose_step`).
STEP_FACTORS = (1.0, 4.0, 16.0)
#: Nodes per axis of the second rule, whose disagreement with the first estimates the rule's error.
COARSE_RULE = 0.75
#: A step whose h and 2h differences agree this well (relative) is kept without trying larger ones.
GOOD_ENOUGH_STEP = 1e-6
#: Divisors of the chosen step at which a supplied Laplacian is checked again.
SHORTER_STEPS = (4.0, 16.0)
#: The second finite-difference step, relative to the first (incommensurate with 2).
SECOND_STEP = 0.37
#: Largest |psi| on the walls, relative to its largest value inside, in d >= 2.
WALL_TOL = 1e-6
#: Largest jump of the normal derivative across a breakpoint plane (d >= 2), relative to its RMS.
KINK_TOL = 1e-5
#: A jump counts as a kink only above this multiple of its change between steps h and 2h.
KINK_NOISE = 10.0
#: Smallest relative half-width stated: rounding in the sums behind rho and eps.
ROUNDING_FLOOR = 1e-12
#: The shift search of the subspace bounds climbs at most this many spacings above the states...
SHIFT_REACH = 32
#: ...then halves the last step this many times towards the first level above them.
SHIFT_HALVINGS = 6
#: Above ``MAX_DIM``: independent randomized rules, their points in all, and the confidence stated.
SAMPLED_REPLICATES = 16
SAMPLED_POINTS = 2**14
SAMPLED_CONFIDENCE = 0.99
#: Seed of the fresh points (fixed: certificates are reproducible).
CHECK_SEED = 20261206


#: The certificate's columns of a state that has none (its case gave no solution, or it was
#: recorded before qbench certified states): NaN, and ``""`` for the labels.
UNCERTIFIED_COLUMNS: dict[str, object] = {
    "tolerance": math.nan,
    "residual": math.nan,
    "rayleigh_quotient": math.nan,
    "rq_rel_error": math.nan,
    "bound_lo": math.nan,
    "bound_hi": math.nan,
    "verified_by": "",
    "index_checked_by": "",
    "trained_energy": math.nan,
    "trained_rel_error": math.nan,
}


@dataclass(frozen=True)
class StateCertificate:
    """What the certificate found for one state.

    Attributes
    ----------
    residual
        eta = ||(H - E) psi|| / (|E| ||psi||) at the returned E (NaN where not computed).
    rayleigh_quotient
        rho of psi (NaN where not computed).
    bound_lo, bound_hi
        The eigenvalue interval (NaN where none).
    verified_by
        What gave the interval's ends: ``"weinstein"``, ``"kato-temple"``, ``"lehmann-maehly"``,
        ``"rayleigh-ritz"``, two joined by ``" + "`` (the lower end's first),
        ``"a-posteriori: <how>"`` or ``""`` (unverified).
    index_checked_by
        ``"sturm count"``, ``"reference numbering"`` or ``""``.
    status, message
        ``None`` where every test passed; else the status the state gets and which test failed.
    """

    residual: float = math.nan
    rayleigh_quotient: float = math.nan
    bound_lo: float = math.nan
    bound_hi: float = math.nan
    verified_by: str = ""
    index_checked_by: str = ""
    status: Status | None = None
    message: str = ""

    def columns(self) -> dict[str, object]:
        """The results-table columns of this certificate."""
        return {
            "residual": self.residual,
            "rayleigh_quotient": self.rayleigh_quotient,
            "bound_lo": self.bound_lo,
            "bound_hi": self.bound_hi,
            "verified_by": self.verified_by,
            "index_checked_by": self.index_checked_by,
        }


def certification_rule(problem: Problem, fraction: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The rule certificates integrate on: the problem's own kind of rule at another node count.

    ``fraction`` scales the nodes per axis (the coarser rule that estimates the rule's error).
    """
    per_axis = max(4, round(fraction * CERTIFICATION_POINTS_PER_AXIS.get(problem.dim, 16)))
    return problem.quadrature_rule(per_axis**problem.dim)


def certify(
    solution: Solution, problem: Problem, tolerance: float, reference_energies: np.ndarray | None = None
) -> list[StateCertificate]:
    """Certify every state of ``solution`` (already in ascending energy).

    Parameters
    ----------
    solution
        The solution, states in ascending energy (:func:`qbench.metrics.sorted_by_energy`).
    problem
        The problem.
    tolerance
        Relative tolerance of ``ok``.
    reference_energies
        The reference's level energies, used only in d >= 2 for the index check (the reference's
        numbering); 1D never reads them.

    Returns
    -------
    list of StateCertificate
        One per state.
    """
    if problem.dim > MAX_DIM:
        # Tensor rules and uniform fresh points see nothing of a state in d > 4: a sampled rule.
        return _SampledCertifier(solution, problem, tolerance, reference_energies).run()
    return _Certifier(solution, problem, tolerance, reference_energies).run()


class _Certifier:
    def __init__(
        self, solution: Solution, problem: Problem, tolerance: float, reference: np.ndarray | None
    ) -> None:
        self.solution, self.problem, self.tolerance = solution, problem, tolerance
        self.reference = reference
        self.energies = np.asarray(solution.energies, dtype=float)
        self.n = solution.n_states
        self.rng = np.random.default_rng(CHECK_SEED)
        self.steps = [FD_STEP * (b - a) for a, b in problem.box]
        self.step_spread = np.zeros(self.n)
        self.shift_step = 0.0  # set with the Sturm counter (:meth:`sturm`)
        self._jumps: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.unit = sum((math.pi / (b - a)) ** 2 for a, b in problem.box)

    # -- the pieces ----------------------------------------------------------------------------
    def fresh_points(self, count: int) -> np.ndarray:
        """Random points at least 3 steps from every wall and breakpoint of their axes."""
        columns = []
        for axis, (a, b) in enumerate(self.problem.box):
            cuts = np.array([a, *self.problem.axis_breakpoints[axis], b], dtype=float)
            margin = 3.0 * self.steps[axis]
            x = self.rng.uniform(a + margin, b - margin, 4 * count)
            keep = np.min(np.abs(x[:, None] - cuts[None, :]), axis=1) > margin
            columns.append(x[keep][:count] if keep.sum() >= count else x[:count])
        return np.stack(columns, axis=1)

    def differences(self, points: np.ndarray, *scales: float) -> list[np.ndarray]:
        """psi's finite-difference Laplacians at ``points`` with the steps times each of ``scales``."""
        return fd_laplacians(
            self.solution.wavefunctions,
            points,
            self.problem.box,
            self.problem.axis_breakpoints,
            [[scale * s for s in self.steps] for scale in scales],
        )

    def differenced(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """psi's finite-difference Laplacian at ``points`` and its change from steps h to 2h."""
        fd, doubled = self.differences(points, 1.0, 2.0)
        return fd, fd - doubled

    def plane_points(self, axis: int, value: float, count: int = 64) -> np.ndarray:
        """Fresh random points of the box on the plane ``x_axis = value``."""
        points = np.stack([self.rng.uniform(lo, hi, count) for lo, hi in self.problem.box], axis=1)
        points[:, axis] = value
        return points

    def corrections(self, points: np.ndarray) -> np.ndarray | None:
        """1D: what to subtract from psi to put it in the domain of H, at ``points`` (states x points).

        The line through psi's wall values, and at each breakpoint x_j the jump J_j of psi'
        times the Green's function G_j of -d2/dx2 (zero on the walls, its slope jumping by 1 at
        x_j, G_j'' = 0 elsewhere). Their second derivative vanishes away from the breakpoints, so
        the corrected psi has the same Laplacian there and none of the delta functions that a
        kink or a wall mismatch would put into H psi, which no residual on nodes could see.
        """
        if self.problem.dim != 1:
            return None
        a, b = self.problem.box[0]
        x = points[:, 0]
        walls = self.solution.wavefunctions(np.array([[a], [b]]))
        t = (x - a) / (b - a)
        total = walls[:, :1] * (1.0 - t)[None, :] + walls[:, 1:] * t[None, :]
        cuts, jumps, _ = self.jumps()
        for j, cut in enumerate(cuts):
            green = -(np.minimum(x, cut) - a) * (b - np.maximum(x, cut)) / (b - a)
            total += jumps[:, j : j + 1] * green[None, :]
        return total

    def jumps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """1D: the breakpoints, psi''s jump at each (states x cuts), and the slack its error leaves.

        The one-sided slopes come from six points within a few 1e-6 of the box of the
        breakpoint, inside one polynomial piece of any spline or collocation state, and again at
        twice that step. A kink left in the corrected psi by an error dJ of the jump shifts its
        Rayleigh quotient by dJ psi(x_j) (psi normalized), which the slack counts.
        """
        if self._jumps is None:
            a, b = self.problem.box[0]
            cuts = np.array([c for c in self.problem.axis_breakpoints[0] if a < c < b], dtype=float)
            slack = np.zeros(self.n)
            jumps = np.zeros((self.n, len(cuts)))
            if cuts.size:
                jumps, spread, _ = self.stable_jumps(cuts[:, None], 0)
                at_cuts = np.abs(self.solution.wavefunctions(cuts[:, None]))
                slack = np.sum(spread * at_cuts, axis=1)
            self._jumps = (cuts, jumps, slack)
        return self._jumps

    def stable_jumps(self, points: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The jump of d psi / dx_axis across ``points`` (states x points), its uncertainty, the slopes.

        One-sided slopes are extrapolated at steps h and 2h for h in :data:`LIMIT_STEPS` (fractions
        of the axis); the h whose two estimates agree best is kept. Inside one polynomial piece of
        a spline (float64) the smallest h is exact; a float32 network needs a larger one, where
        rounding divided by h no longer dominates.
        """
        length = self.problem.box[axis][1] - self.problem.box[axis][0]
        steps = [scale * fraction * length for fraction in LIMIT_STEPS for scale in (1.0, 2.0)]
        limits = one_sided_limits(self.solution.wavefunctions, points, axis, steps)
        best = None
        for at_h, at_2h in zip(limits[0::2], limits[1::2]):
            estimates = [at_h[3] - at_h[2], at_2h[3] - at_2h[2]]
            spread = np.abs(estimates[0] - estimates[1])
            score = float(np.nanmax(spread)) if spread.size else 0.0
            if best is None or score < best[0]:
                best = (score, estimates[0], spread, at_h[2])
        assert best is not None
        return best[1], best[2], best[3]

    def wall_values(self) -> np.ndarray:
        """d >= 2: the largest |psi| of each state at fresh points on the walls."""
        points = [
            self.plane_points(axis, wall) for axis, (a, b) in enumerate(self.problem.box) for wall in (a, b)
        ]
        return np.max(np.abs(self.solution.wavefunctions(np.concatenate(points))), axis=1)

    def kinks(self) -> dict[int, str]:
        """d >= 2: states whose normal derivative jumps across a breakpoint plane.

        A kink puts a surface delta into H psi that no residual on nodes can see (1D subtracts
        it, :meth:`corrections`; across a plane there is no such simple correction), so a jump
        above :data:`KINK_TOL` of the state's typical slope leaves it unverified. The jump is
        measured at two steps: a kink's is the same at both, while rounding (a float32 network)
        and truncation change with the step; only the part both steps agree on counts.
        """
        found: dict[int, str] = {}
        for axis, cuts in enumerate(self.problem.axis_breakpoints):
            a, b = self.problem.box[axis]
            for cut in (c for c in cuts if a < c < b):
                points = self.plane_points(axis, cut)
                jumps, spread, slopes = self.stable_jumps(points, axis)
                slope = np.sqrt(np.mean(slopes**2, axis=1))
                noise = np.max(spread, axis=1)
                jump = np.max(np.abs(jumps), axis=1)
                kinked = ~(jump <= KINK_TOL * slope + KINK_NOISE * noise + 1e-300)
                for k in np.flatnonzero(kinked):
                    found.setdefault(
                        int(k),
                        f"psi' jumps by {jump[k]:.1e} across x_{axis} = {cut:g} (not in the domain of H)",
                    )
        return found

    # -- the certificate -----------------------------------------------------------------------
    def run(self) -> list[StateCertificate]:
        nodes, weights = certification_rule(self.problem)
        psi = np.asarray(self.solution.wavefunctions(nodes), dtype=float)
        finite = np.all(np.isfinite(psi), axis=1) & np.isfinite(self.energies)
        if self.solution.laplacian is None and self.solution.error_estimates is not None:
            return self.from_estimates(finite)
        spoiled, unverified = self.check_derivatives()
        if self.problem.dim > 1:
            walls = self.wall_values()
            inside = np.max(np.abs(psi), axis=1)
            for k in np.flatnonzero(walls > WALL_TOL * inside):
                unverified[k] = (
                    unverified[k] or f"psi does not vanish on the walls (|psi| up to {walls[k]:.1e})"
                )
            for k, where in self.kinks().items():
                unverified[k] = unverified[k] or where
        rho, eps, eta, matrices = self.integrals(nodes, weights, psi)
        # The rule's own error (a spline's third derivative jumps at every knot, which no Gauss
        # panel sees): the same integrals on a coarser rule, and what moved widens the interval.
        coarse = self.integrals(*certification_rule(self.problem, COARSE_RULE))
        quadrature = np.maximum(np.abs(rho - coarse[0]), np.abs(eps - coarse[1]))
        # The error of H psi itself (relative to ||psi||), before the rule's.
        h_psi_error = np.maximum(spoiled, self.step_spread)
        if self.problem.dim == 1:
            h_psi_error = h_psi_error + self.jumps()[2]
        spoiled = h_psi_error + quadrature
        with np.errstate(all="ignore"):
            eta = eta + spoiled / np.abs(self.energies)
        certificates = []
        intervals = [
            # d bounds the error of H psi: rho is known to within d, and eps to within d.
            enclosure.weinstein(float(r), float(e + d), float(d)) if np.isfinite(r + e + d) else None
            for r, e, d in zip(rho, eps, spoiled)
        ]
        counter = self.sturm(intervals) if self.problem.dim == 1 else None
        usable = [bool(finite[k]) and not unverified[k] and intervals[k] is not None for k in range(self.n)]
        together = (
            self.subspace(matrices, coarse[3], h_psi_error, usable, counter) if counter is not None else {}
        )
        for k in range(self.n):
            if not finite[k]:
                certificates.append(
                    StateCertificate(status=Status.UNVERIFIED, message="psi or E is not finite")
                )
                continue
            if unverified[k] or intervals[k] is None:
                certificates.append(_unverified(eta[k], rho[k], unverified[k] or "no residual"))
                continue
            interval, verified_by = intervals[k], "weinstein"
            if counter is not None:
                kato = self.kato_temple(
                    k, float(rho[k]), float(eps[k]), float(spoiled[k]), intervals, counter
                )
                if kato is not None:
                    interval, verified_by = enclosure.intersect(interval, kato), "kato-temple"
            if k in together:
                interval, verified_by = self.joined(interval, verified_by, together[k])
            interval = self.floored(interval, float(rho[k]))
            checked_by, index_error = self.index(k, interval, counter)
            certificates.append(
                self.verdict(
                    k,
                    float(eta[k]),
                    float(rho[k]),
                    interval,
                    intervals[k],
                    verified_by,
                    checked_by,
                    index_error,
                )
            )
        return certificates

    def integrals(
        self, nodes: np.ndarray, weights: np.ndarray, psi: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """rho, eps and eta (before slack; eta relative) of every state on one rule, and the
        matrices A0, A1, A2 of the unit states (:meth:`subspace`).

        Without a supplied Laplacian, the residual is also computed with a second,
        incommensurate finite-difference step, and what changed is kept in ``step_spread``
        (the largest over the rules): a step's error estimate from h and 2h assumes psi smooth
        at that scale, which a C2 spline or a network with kinks is not.
        """
        if psi is None:
            psi = np.asarray(self.solution.wavefunctions(nodes), dtype=float)
        if self.solution.laplacian is not None:
            laplacians = [np.asarray(self.solution.laplacians(nodes), dtype=float)]
        else:
            laplacians = self.differences(nodes, 1.0, SECOND_STEP)
        correction = self.corrections(nodes)
        if correction is not None:
            psi = psi - correction
        potential = np.asarray(self.problem.potential(nodes), dtype=float)
        norms = np.sqrt((psi**2) @ weights)
        rho, eps, h_psi = _rayleigh(psi, laplacians[0], potential, weights, norms)
        for other in laplacians[1:]:
            rho_2, eps_2, _ = _rayleigh(psi, other, potential, weights, norms)
            self.step_spread = np.maximum(
                self.step_spread, np.maximum(np.abs(rho - rho_2), np.abs(eps - eps_2))
            )
        with np.errstate(all="ignore"):
            eta = np.sqrt(((h_psi - self.energies[:, None] * psi) ** 2) @ weights) / norms
            eta = eta / np.abs(self.energies)
            unit, h_unit = psi / norms[:, None], h_psi / norms[:, None]
        pairs = ((unit, unit), (unit, h_unit), (h_unit, h_unit))
        matrices = tuple((left * weights[None, :]) @ right.T for left, right in pairs)
        return rho, eps, eta, matrices

    def check_derivatives(self) -> tuple[np.ndarray, list[str]]:
        """The slack from the Laplacian's check at fresh points, and per-state unverified reasons.

        Also settles the finite-difference step (:meth:`choose_step`).
        """
        unverified = ["" for _ in range(self.n)]
        fresh = self.fresh_points(CHECK_POINTS)
        values = self.solution.wavefunctions(fresh)
        volume = float(np.prod([b - a for a, b in self.problem.box]))
        # Sampled L2 norms (Monte Carlo at the fresh points) of psi-normalized quantities.
        psi_norm = np.sqrt(np.mean(values**2, axis=1) * volume)
        fd, rms_lap, fd_error = self.choose_step(fresh, psi_norm, volume)
        supplied = self.solution.laplacians(fresh) if self.solution.laplacian is not None else None
        if supplied is not None:
            mismatch = _sampled_norm(supplied - fd, psi_norm, volume)
            # A spline's third derivative jumps at every knot, so its differences err to first
            # order in the step: a true Laplacian's disagreement shrinks with the step, a false
            # one's does not. The smallest disagreement over shorter steps is the one that counts.
            base = list(self.steps)
            for divisor in SHORTER_STEPS:
                self.steps = [s / divisor for s in base]
                shorter, change = self.differenced(fresh)
                other = _sampled_norm(supplied - shorter, psi_norm, volume)
                other_error = _sampled_norm(change, psi_norm, volume)
                better = other + other_error < mismatch + fd_error
                mismatch = np.where(better, other, mismatch)
                fd_error = np.where(better, other_error, fd_error)
            self.steps = base
            spoiled = mismatch + fd_error
            for k in range(self.n):
                if not mismatch[k] <= DERIVATIVE_RTOL * rms_lap[k] + fd_error[k]:
                    unverified[k] = (
                        f"the supplied Laplacian ({self.solution.derivatives_by or 'unnamed'}) disagrees "
                        "with "
                        f"finite differences of psi by {mismatch[k] / rms_lap[k]:.1e} (relative)"
                    )
            return spoiled, unverified
        for k in range(self.n):
            if not fd_error[k] <= SMOOTHNESS_RTOL * rms_lap[k]:
                unverified[k] = (
                    "no Laplacian supplied and psi is not smooth enough to difference "
                    f"(steps h and 2h disagree by {fd_error[k] / rms_lap[k]:.1e})"
                )
        return fd_error, unverified

    def choose_step(
        self, fresh: np.ndarray, psi_norm: np.ndarray, volume: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Settle the finite-difference step: the candidate whose h and 2h differences agree best.

        A float64 psi differences best near 1e-3 of the box; a float32 one (rounding 1e-7) near
        1e-2, where rounding divided by h^2 no longer dominates. Returns the differences at the
        fresh points, the RMS Laplacian and the error estimate |FD_h - FD_2h|, both relative to
        ||psi||, per state.
        """
        best = None
        base = list(self.steps)
        for factor in STEP_FACTORS:
            self.steps = [factor * s for s in base]
            fd, fd_error = self.differenced(fresh)
            fd_error = _sampled_norm(fd_error, psi_norm, volume)
            rms_lap = _sampled_norm(fd, psi_norm, volume)
            score = (
                float(np.nanmax(fd_error / rms_lap)) if np.any(np.isfinite(fd_error / rms_lap)) else np.inf
            )
            if best is None or score < best[0]:
                best = (score, list(self.steps), fd, rms_lap, fd_error)
            if score <= GOOD_ENOUGH_STEP:  # a larger step cannot help a psi this smooth
                break
        assert best is not None
        self.steps = best[1]
        return best[2], best[3], best[4]

    def from_estimates(self, finite: np.ndarray) -> list[StateCertificate]:
        """Intervals from the solver's stated a-posteriori estimates (no smooth psi to certify)."""
        estimates = np.asarray(self.solution.error_estimates, dtype=float)
        intervals = [
            (float(e - s), float(e + s)) if np.isfinite(e + s) and finite[k] else None
            for k, (e, s) in enumerate(zip(self.energies, estimates))
        ]
        counter = self.sturm(intervals) if self.problem.dim == 1 else None
        certificates = []
        for k, interval in enumerate(intervals):
            if interval is None:
                certificates.append(
                    StateCertificate(status=Status.UNVERIFIED, message="no finite energy or error estimate")
                )
                continue
            interval = self.floored(interval, float(self.energies[k]))
            checked_by, index_error = self.index(k, interval, counter)
            verified_by = f"a-posteriori: {self.solution.estimated_by or 'stated estimate'}"
            certificates.append(
                self.verdict(k, math.nan, math.nan, interval, interval, verified_by, checked_by, index_error)
            )
        return certificates

    def floored(self, interval: tuple[float, float], centre: float) -> tuple[float, float]:
        floor = ROUNDING_FLOOR * max(abs(centre), self.unit)
        return min(interval[0], centre - floor), max(interval[1], centre + floor)

    # -- Sturm counts (1D) ---------------------------------------------------------------------
    def sturm(self, intervals: list[tuple[float, float] | None]) -> GaussShooting | None:
        # A hopeless interval (it fails the width test anyway) would size the sweeps for energies
        # far from every state; the others decide the range.
        usable = [
            i for i in intervals if i is not None and i[1] - i[0] < 100 * (abs(i[0] + i[1]) / 2 + self.unit)
        ]
        ends = [x for interval in usable for x in interval]
        if not ends:
            return None
        # The sweeps must also resolve the shift search of :meth:`subspace`, which climbs up to
        # SHIFT_REACH spacings above the states.
        self.shift_step = self.spacing(ends)
        top = max(ends) + self.unit + SHIFT_REACH * self.shift_step
        guesses = np.array([min(ends), top])
        try:
            return GaussShooting(
                self.problem.potential, self.problem.box[0], self.problem.axis_breakpoints[0], guesses
            )
        except (RuntimeError, ValueError):
            return None

    def spacing(self, ends: list[float]) -> float:
        """The step of the shift search: a quarter of a typical level spacing of these states."""
        spread = (max(ends) - min(ends)) / max(self.n - 1, 1)
        return 0.25 * max(self.unit * (2 * self.n + 1), spread)

    def subspace(
        self,
        matrices: tuple[np.ndarray, np.ndarray, np.ndarray],
        coarse: tuple[np.ndarray, np.ndarray, np.ndarray],
        h_psi_error: np.ndarray,
        usable: list[bool],
        counter: GaussShooting,
    ) -> dict[int, tuple[float, float]]:
        """1D: intervals of lambda_0..lambda_{r-1} from the first r states together.

        r is the number of leading usable states. Upper ends are their Ritz values (Poincare),
        lower ends Lehmann-Maehly's with a shift sigma whose Sturm count is r, pushed up towards
        lambda_r (:data:`SHIFT_REACH`, :data:`SHIFT_HALVINGS`), so that the gap that divides
        eps^2 is the one to the first level above every state, not to the nearest neighbour
        (:mod:`qbench.numerics.enclosure`). The matrices' errors: the rule's (fine minus coarse)
        plus what the error of H psi (``h_psi_error``, per unit state) can do to them.
        """
        r = usable.index(False) if False in usable else self.n
        if r == 0:
            return {}
        a0, a1, a2 = (m[:r, :r] for m in matrices)
        quad = [float(np.linalg.norm(m[:r, :r] - c[:r, :r], 2)) for m, c in zip(matrices, coarse)]
        h_error = float(np.sqrt(np.sum(h_psi_error[:r] ** 2)))
        norm_u = math.sqrt(max(float(np.linalg.eigvalsh(a0)[-1]), 0.0))
        norm_hu = math.sqrt(max(float(np.linalg.eigvalsh(a2)[-1]), 0.0))
        errors = (quad[0], quad[1] + h_error * norm_u, quad[2] + 2 * h_error * norm_hu + h_error**2)
        if not all(math.isfinite(e) for e in errors):
            return {}
        try:
            upper = enclosure.ritz_upper_bounds(a0, a1, errors[0], errors[1])
        except (ValueError, np.linalg.LinAlgError):
            return {}
        lower = np.full(r, -math.inf)
        shift = self.shift(float(upper[-1]), r, counter)
        if shift is not None:
            try:
                lower = enclosure.lehmann_lower_bounds(a0, a1, a2, shift, errors)[::-1]
            except (ValueError, np.linalg.LinAlgError):
                pass
        return {k: (float(lower[k]), float(upper[k])) for k in range(r)}

    def shift(self, start: float, count: int, counter: GaussShooting) -> float | None:
        """The largest energy found, from ``start`` up, with exactly ``count`` eigenvalues below it.

        It climbs in the step the counter's sweeps were sized for (:meth:`sturm`), so every energy
        it counts at is one the sweeps resolve.
        """
        if not math.isfinite(start):
            return None
        step = self.shift_step
        try:
            if counter.count_below(start) != count:
                return None
            good, bad = start, None
            for doubling in range(int(math.log2(SHIFT_REACH)) + 1):  # steps 1, 2, 4, ..., SHIFT_REACH
                trial = start + step * 2**doubling
                if counter.count_below(trial) == count:
                    good = trial
                else:
                    bad = trial
                    break
            for _ in range(SHIFT_HALVINGS if bad is not None else 0):
                middle = 0.5 * (good + bad)
                if counter.count_below(middle) == count:
                    good = middle
                else:
                    bad = middle
        except (RuntimeError, ValueError, FloatingPointError):
            return None
        return good

    @staticmethod
    def joined(
        interval: tuple[float, float], verified_by: str, together: tuple[float, float]
    ) -> tuple[tuple[float, float], str]:
        """A state's own interval narrowed by the subspace's, and which bounds give its ends.

        The subspace's interval holds lambda_k; the state's own (Weinstein's) may hold another
        level, so where the two do not overlap the subspace's is kept. The Sturm index check that
        follows tests the result either way.
        """
        lo, hi = together
        if not (lo <= interval[1] and interval[0] <= hi):
            if math.isfinite(lo):
                return (lo, hi), "lehmann-maehly + rayleigh-ritz"
            return interval, verified_by
        low_by = "lehmann-maehly" if lo > interval[0] else verified_by
        high_by = "rayleigh-ritz" if hi < interval[1] else verified_by
        label = low_by if low_by == high_by else f"{low_by} + {high_by}"
        return (max(lo, interval[0]), min(hi, interval[1])), label

    def kato_temple(
        self,
        k: int,
        rho: float,
        eps: float,
        slack: float,
        intervals: list[tuple[float, float] | None],
        counter: GaussShooting,
    ) -> tuple[float, float] | None:
        """Kato-Temple's interval with a gap (a, b) that Sturm counts confirm holds only state k."""
        spacing = self.unit * (2 * k + 1)
        own = intervals[k]
        assert own is not None
        below = [intervals[k - 1][1]] if k > 0 and intervals[k - 1] is not None else []
        above = [intervals[k + 1][0]] if k + 1 < self.n and intervals[k + 1] is not None else []
        lower = -math.inf if k == 0 else self.gap_end(counter, own[0], below, -spacing, k)
        upper = self.gap_end(counter, own[1], above, spacing, k + 1)
        if lower is None or upper is None or not lower < rho - slack <= rho + slack < upper:
            return None
        return enclosure.kato_temple(rho, eps + slack, lower, upper, slack)

    @staticmethod
    def gap_end(
        counter: GaussShooting, edge: float, candidates: list[float], spacing: float, count: int
    ) -> float | None:
        """The farthest of the candidates (then of ``edge + spacing / 2**j``) whose count is ``count``."""
        tries = [c for c in candidates if (c - edge) * spacing > 0]
        tries += [edge + spacing / 2**j for j in range(6)]
        for energy in tries:
            try:
                if counter.count_below(energy) == count:
                    return energy
            except (RuntimeError, ValueError, FloatingPointError):
                return None
        return None

    def index(self, k: int, interval: tuple[float, float], counter: GaussShooting | None) -> tuple[str, str]:
        """Who checked state k's index, and what is wrong with it ("" if nothing)."""
        lo, hi = interval
        if self.problem.dim == 1:
            if counter is None:
                return "", "no Sturm count (shooting on V failed)"
            below, up_to = counter.count_below(lo), counter.count_below(hi)
            if below <= k < up_to:
                return "sturm count", ""
            return "sturm count", (
                f"Sturm count: {below} eigenvalues below {lo:.6g} and {up_to} below {hi:.6g}, "
                f"so the interval does not hold state {k}"
            )
        if self.reference is None:
            return "", "no index check"
        levels = np.unique(np.round(np.asarray(self.reference, dtype=float), 9))
        centre = 0.5 * (lo + hi)
        nearest = levels[np.argmin(np.abs(levels - centre))]
        own = np.round(float(self.reference[k]), 9)
        if nearest == own:
            return "reference numbering", ""
        return (
            "reference numbering",
            f"the interval's centre {centre:.6g} is nearest level {nearest:.6g}, not state {k}'s",
        )

    # -- the verdict ---------------------------------------------------------------------------
    def verdict(
        self,
        k: int,
        eta: float,
        rho: float,
        interval: tuple[float, float],
        agreement: tuple[float, float],
        verified_by: str,
        checked_by: str,
        index_error: str,
    ) -> StateCertificate:
        """The state's certificate; ``agreement`` is where E must lie to agree with psi (Weinstein's)."""
        lo, hi = interval
        energy = float(self.energies[k])
        failures = []
        # E agrees with its psi when it lies in psi's interval widened by the tolerance: an
        # extrapolated E may be less accurate than its psi's Rayleigh quotient and still be right.
        allowance = self.tolerance * max(abs(agreement[0]), abs(agreement[1]))
        if not agreement[0] - allowance <= energy <= agreement[1] + allowance:
            failures.append(
                f"energy: E={energy:.10g} disagrees with psi, whose eigenvalue lies in "
                f"[{agreement[0]:.10g}, {agreement[1]:.10g}] (+- the tolerance)"
            )
        smallest = min(abs(lo), abs(hi)) if lo * hi > 0 else 0.0
        # The eigenvalue is in [lo, hi]; E need not be (an extrapolated E can beat its psi), so
        # the error bound of E is its distance to the far end.
        half_width = max(abs(energy - lo), abs(hi - energy))
        relative = half_width / smallest if smallest > 0 else math.inf
        if not relative <= self.tolerance:
            failures.append(
                f"width: certified relative half-width {relative:.1e} > tolerance {self.tolerance:.1e}"
            )
        if index_error:
            failures.append(f"index: {index_error}")
        status = Status.FAILED if failures else None
        return StateCertificate(
            eta,
            rho,
            lo,
            hi,
            verified_by,
            checked_by,
            status,
            "not certified: " + "; ".join(failures) if failures else "",
        )


def _unverified(eta: float, rho: float, message: str) -> StateCertificate:
    """The certificate of a state whose residual was computed but cannot be trusted, and why."""
    return StateCertificate(float(eta), float(rho), status=Status.UNVERIFIED, message=message)


def _sampled_norm(values: np.ndarray, psi_norm: np.ndarray, volume: float) -> np.ndarray:
    """Per state, the L2 norm of ``values`` over the box estimated from its random points, over ||psi||."""
    with np.errstate(all="ignore"):
        return np.sqrt(np.mean(values**2, axis=1) * volume) / psi_norm


def _rayleigh(
    psi: np.ndarray, lap: np.ndarray, potential: np.ndarray, weights: np.ndarray, norms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rayleigh quotient and residual norm (relative to ||psi||) of each state, and H psi."""
    h_psi = -lap + potential[None, :] * psi
    rho = np.einsum("kn,kn,n->k", psi, h_psi, weights) / norms**2
    eps = np.sqrt(((h_psi - rho[:, None] * psi) ** 2) @ weights) / norms
    return rho, eps, h_psi


def certified_rows(
    rows: list[dict[str, object]],
    states: list[tuple[Status, str]],
    solution: Solution,
    problem: Problem,
    tolerance: float,
) -> tuple[list[dict[str, object]], list[tuple[Status, str]], float]:
    """The graded rows with the certificate's columns, the states' statuses after it, and its time.

    A state the solver marked not ok keeps its status; an ok one takes the certificate's verdict.
    A certificate that raises leaves every ok state ``unverified``, saying why.
    """
    started = time.perf_counter()
    reference = np.array([row["energy_ref"] for row in rows], dtype=float)
    try:
        certificates = certify(solution, problem, tolerance, reference)
    except Exception as exc:  # a solver's psi that breaks the certificate is unverified, not a crash
        certificates = [
            StateCertificate(
                status=Status.UNVERIFIED, message=f"certificate failed: {type(exc).__name__}: {exc}"
            )
        ] * len(rows)
    elapsed = time.perf_counter() - started
    trained = (
        np.full(len(rows), math.nan)
        if solution.trained_energies is None
        else np.asarray(solution.trained_energies, dtype=float)
    )
    out_rows, out_states = [], []
    for row, (status, message), certificate, trained_energy in zip(rows, states, certificates, trained):
        exact = abs(float(row["energy_ref"]))
        extra = {
            "tolerance": tolerance,
            **certificate.columns(),
            "rq_rel_error": abs(certificate.rayleigh_quotient - float(row["energy_ref"])) / exact,
            "trained_energy": float(trained_energy),
            "trained_rel_error": abs(float(trained_energy) - float(row["energy_ref"])) / exact,
        }
        out_rows.append({**row, **extra})
        if Status(status) == Status.OK and certificate.status is not None:
            status, message = certificate.status, certificate.message
        out_states.append((Status(status), message))
    return out_rows, out_states, elapsed


class _SampledCertifier(_Certifier):
    """Above ``MAX_DIM``: Weinstein's interval from randomized quasi-Monte Carlo, at a stated confidence.

    The problem's :meth:`~qbench.problems.Problem.sampled_rule` gives :data:`SAMPLED_REPLICATES`
    independent rules (seeds no solver sees). On each, rho_r and eps_r of every state; the pooled
    rho and eps come from all of them, and their standard errors from the replicates' spread.
    With t the Student quantile at 1 - alpha / 4 (two quantities, two sides; alpha = 1 -
    :data:`SAMPLED_CONFIDENCE`), the eigenvalue lies in rho +- (eps + t se(eps) + t se(rho) + the
    Laplacian's slack) with probability at least the stated confidence: a statistical interval,
    which ``verified_by`` says.
    """

    def fresh_points(self, count: int) -> np.ndarray:
        """Points drawn from the sampled rule's distribution (uniform ones miss the state in high d)."""
        nodes, _ = self.problem.sampled_rule(count, CHECK_SEED + SAMPLED_REPLICATES)
        return nodes[:count]

    def run(self) -> list[StateCertificate]:
        from scipy.stats import t as student

        if self.problem.sampled_rule(2, CHECK_SEED) is None:
            message = f"no certificate in d = {self.problem.dim}: {self.problem.name} has no sampled rule"
            return [StateCertificate(status=Status.UNVERIFIED, message=message) for _ in range(self.n)]
        slack, unverified = self.checked_laplacian()
        walls = self.wall_values()
        replicates = []
        for r in range(SAMPLED_REPLICATES):
            nodes, weights = self.problem.sampled_rule(SAMPLED_POINTS // SAMPLED_REPLICATES, CHECK_SEED + r)
            replicates.append(self.replicate(nodes, weights))
        sums = np.sum([rep[0] for rep in replicates], axis=0)  # (3, states): psi^2, psi H psi, (H psi)^2
        rho_r = np.array([rep[1] for rep in replicates])
        eps_r = np.array([rep[2] for rep in replicates])
        eta_sums = np.sum([rep[3] for rep in replicates], axis=0)
        with np.errstate(all="ignore"):
            rho = sums[1] / sums[0]
            eps = np.sqrt(np.maximum(sums[2] / sums[0] - rho**2, 0.0))
            eps = np.maximum(eps, np.sqrt(np.mean(eps_r**2, axis=0)))
            eta = np.sqrt(eta_sums / sums[0]) / np.abs(self.energies)
        quantile = float(student.ppf(1.0 - (1.0 - SAMPLED_CONFIDENCE) / 4.0, SAMPLED_REPLICATES - 1))
        spread = (
            quantile * (rho_r.std(axis=0, ddof=1) + eps_r.std(axis=0, ddof=1)) / math.sqrt(SAMPLED_REPLICATES)
        )
        label = (
            f"weinstein (statistical: {SAMPLED_CONFIDENCE:.0%} confidence, randomized QMC, "
            f"{SAMPLED_REPLICATES} x {SAMPLED_POINTS // SAMPLED_REPLICATES} points)"
        )
        certificates = []
        inside = np.max(np.abs(self.solution.wavefunctions(self.fresh_points(64))), axis=1)
        for k in range(self.n):
            if not walls[k] <= WALL_TOL * inside[k]:
                unverified[k] = (
                    unverified[k] or f"psi does not vanish on the walls (|psi| up to {walls[k]:.1e})"
                )
            if not np.isfinite(rho[k] + eps[k] + spread[k] + slack[k]) or unverified[k]:
                certificates.append(
                    _unverified(eta[k], rho[k], unverified[k] or "psi or its residual is not finite")
                )
                continue
            radius = float(eps[k] + spread[k] + slack[k])
            interval = (float(rho[k]) - radius, float(rho[k]) + radius)
            interval = self.floored(interval, float(rho[k]))
            checked_by, index_error = self.index(k, interval, None)
            certificates.append(
                self.verdict(
                    k, float(eta[k]), float(rho[k]), interval, interval, label, checked_by, index_error
                )
            )
        return certificates

    def replicate(
        self, nodes: np.ndarray, weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """On one rule: the sums of w psi^2, w psi H psi and w (H psi)^2, rho, eps, and the sums of
        w (H psi - E psi)^2 at the returned E."""
        psi = np.asarray(self.solution.wavefunctions(nodes), dtype=float)
        if self.solution.laplacian is not None:
            lap = np.asarray(self.solution.laplacians(nodes), dtype=float)
        else:
            lap = self.differences(nodes, 1.0)[0]
        potential = np.asarray(self.problem.potential(nodes), dtype=float)
        h_psi = -lap + potential[None, :] * psi
        sums = np.stack([(psi * psi) @ weights, (psi * h_psi) @ weights, (h_psi * h_psi) @ weights])
        with np.errstate(all="ignore"):
            rho = sums[1] / sums[0]
            eps = np.sqrt(((h_psi - rho[:, None] * psi) ** 2) @ weights / sums[0])
        residual = ((h_psi - self.energies[:, None] * psi) ** 2) @ weights
        return sums, rho, eps, residual

    def checked_laplacian(self) -> tuple[np.ndarray, list[str]]:
        """The Laplacian's slack (relative to ||psi||, an absolute energy) and unverified reasons.

        At fresh points from the rule's distribution: finite differences at steps h and 2h (their
        disagreement is their error), and a supplied Laplacian's disagreement with them, both as
        importance-weighted norms over ||psi||.
        """
        unverified = ["" for _ in range(self.n)]
        nodes, weights = self.problem.sampled_rule(CHECK_POINTS, CHECK_SEED + SAMPLED_REPLICATES)
        psi = np.asarray(self.solution.wavefunctions(nodes), dtype=float)
        with np.errstate(all="ignore"):
            norm = np.sqrt((psi * psi) @ weights)

            def relative(values: np.ndarray) -> np.ndarray:
                return np.sqrt((values * values) @ weights) / norm

            fd, doubled = self.differences(nodes, 1.0, 2.0)
            fd_error = relative(fd - doubled)
            rms = relative(fd)
            if self.solution.laplacian is None:
                for k in np.flatnonzero(~(fd_error <= SMOOTHNESS_RTOL * rms)):
                    unverified[k] = (
                        "no Laplacian supplied and psi is not smooth enough to difference "
                        f"(steps h and 2h disagree by {fd_error[k] / rms[k]:.1e})"
                    )
                return fd_error, unverified
            mismatch = relative(np.asarray(self.solution.laplacians(nodes), dtype=float) - fd)
        for k in np.flatnonzero(~(mismatch <= DERIVATIVE_RTOL * rms + fd_error)):
            unverified[k] = (
                f"the supplied Laplacian ({self.solution.derivatives_by or 'unnamed'}) disagrees with "
                f"finite differences of psi by {mismatch[k] / rms[k]:.1e} (relative)"
            )
        return mismatch + fd_error, unverified

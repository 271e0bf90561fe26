"""Shooting with Numerov's method from both walls to a matching point."""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import brentq

from .._validation import check_real
from ..numerics.bounds import energy_upper_bound
from ..numerics.grids import PiecewiseGrid, TensorGrid, build_grid
from ..numerics.quadrature import panel_edges
from ..numerics.sturm import isolate_state
from ..problems import Problem
from .base import Option, Solution, Solver, Status
from .nodal import DERIVATIVES_BY, SplineStates

# Numerov's energy error is about (k h)^4 / 240 relative; the first step is
# chosen from this, then refined on the measured h / 2h difference.
_NUMEROV_CONSTANT = 240.0
_SAFETY = 0.25
_MAX_REFINEMENTS = 4
_COARSE_KH = 0.3  # the coarse pass that isolates each state
_MAX_GROWTH = 300.0  # max kappa * width of one sweep piece, so no float overflow


def _check_tol(name: str, value: float) -> float:
    value = check_real(name, value)
    if not 1e-12 <= value <= 1e-2:
        raise ValueError(f"{name} must be in [1e-12, 1e-2], got {value!r}")
    return value


class _Sweeps:
    """Numerov integration of psi'' = (V - E) psi on one grid, from either wall.

    Inside each piece the recurrence runs on u = (1 - h^2 g / 12) psi with
    g = V - E. At a piece end psi' comes from a fourth-order one-sided formula
    and the next piece starts from (psi, psi') with the matching implicit
    formula, so a jump of V at a piece edge costs no order.
    """

    def __init__(self, problem: Problem, grid: PiecewiseGrid, match_piece: int, counts: np.ndarray):
        self.grid = grid
        self.counts = counts
        self.match_piece = match_piece  # pieces [0, match_piece) lie left of the matching node
        potentials = [_potential_along(problem, x) for x in grid.one_sided_nodes()]
        self.pieces = [
            (grid.nodes[first + 1] - grid.nodes[first], v) for (first, _), v in zip(grid.pieces, potentials)
        ]

    def _run(self, pieces, energy: float, count: bool = False, record: bool = False):
        y_start, dy_start = 0.0, 1.0
        zeros, log_scale, recorded = 0, 0.0, []
        for p, (h, v) in enumerate(pieces):
            a = (h * h / 12.0) * (v - energy)
            one_minus_a = 1.0 - a
            g = v - energy
            if p == 0:  # the wall: psi = 0 and any slope
                y0, y1 = 0.0, h * dy_start
            else:
                y0 = y_start
                lhs = 1.0 - h * h * g[1] / 4.0 + h * h * g[2] * (1.0 + 5.0 * a[1]) / (12.0 * one_minus_a[2])
                rhs = (
                    y_start
                    + h * dy_start
                    + h * h * (7.0 / 24.0) * g[0] * y_start
                    + h * h * g[2] * one_minus_a[0] * y_start / (24.0 * one_minus_a[2])
                )
                y1 = rhs / lhs
            # Summed form of u[i+1] = c[i] u[i] - u[i-1]: carry the difference
            # d = u[i] - u[i-1] and add (c[i] - 2) u[i], which is small, to it.
            # It keeps rounding far below the plain three-term recurrence.
            increments = 12.0 * a / one_minus_a
            u0, u = one_minus_a[0] * y0, one_minus_a[1] * y1
            d = u - u0
            steps = increments[1:-1].tolist()
            if record:
                values = [u0, u]
                for e in steps:
                    d += e * u
                    u += d
                    values.append(u)
                recorded.append((np.array(values) / one_minus_a, log_scale))
            elif count:
                negative = u < 0.0
                zeros += (u0 < 0.0) != negative and u0 != 0.0
                for e in steps:
                    d += e * u
                    u += d
                    if (u < 0.0) != negative:
                        zeros += 1
                        negative = not negative
            else:
                for e in steps:
                    d += e * u
                    u += d
            u_before = u - d
            u_before2 = u_before - (d - increments[-2] * u_before)
            y_end, y_before = u / one_minus_a[-1], u_before / one_minus_a[-2]
            y_before2 = u_before2 / one_minus_a[-3]
            dy_end = (y_end - y_before) / h + h * (
                (7.0 / 24.0) * g[-1] * y_end + 0.25 * g[-2] * y_before - g[-3] * y_before2 / 24.0
            )
            norm = math.hypot(y_end, dy_end)
            y_start, dy_start = y_end / norm, dy_end / norm
            log_scale += math.log(norm)
        return y_start, dy_start, zeros, recorded, log_scale

    def _mirrored(self, pieces):
        return [(h, v[::-1]) for h, v in reversed(pieces)]

    def count_below(self, energy: float) -> int:
        """Sign changes of the left solution across the whole box (Sturm count)."""
        return self._run(self.pieces, energy, count=True)[2]

    def mismatch(self, energy: float) -> float:
        """Wronskian of the unit left and right solutions at the matching node."""
        y_left, dy_left = self._run(self.pieces[: self.match_piece], energy)[:2]
        y_right, dy_right = self._run(self._mirrored(self.pieces[self.match_piece :]), energy)[:2]
        return y_left * (-dy_right) - y_right * dy_left

    def nodal_values(self, energy: float) -> np.ndarray:
        """psi at every node, left solution joined to the scaled right solution."""
        left = self._run(self.pieces[: self.match_piece], energy, record=True)
        right = self._run(self._mirrored(self.pieces[self.match_piece :]), energy, record=True)
        y_left, dy_left = left[0], left[1]
        y_right, dy_right = right[0], -right[1]
        factor = (y_left * y_right + dy_left * dy_right) / (y_right**2 + dy_right**2)

        def joined(record, log_end):
            # Rescale every piece to the unit vector at the matching node.
            return np.concatenate([vals[:-1] * math.exp(s - log_end) for vals, s in record])

        values_left = joined(left[3], left[4])
        values_right = factor * joined(right[3], right[4])[::-1]
        return np.concatenate([values_left, [y_left], values_right])


class Shooting(Solver):
    """Shooting: Numerov from both walls, ``brentq`` on the mismatch at an interior node.

    Steps end on every breakpoint. State n is isolated by bisection on the
    Sturm count (sign changes of the left solution) on a coarse grid; its
    energy is then found by ``brentq`` on two nested grids with steps h and 2h.
    Their difference estimates the error of the step-h energy (Numerov is
    fourth order), the step is refined until that estimate is below ``tol``,
    and the returned energy is the Richardson extrapolation
    ``E_h + (E_h - E_2h) / 15``, whose error is well below the estimate.

    Options
    -------
    tol : float, default 1e-10
        Target relative energy error, in [1e-12, 1e-2]. The first step is
        ``h = (60 * tol)^(1/4) / k`` with ``k^2 = max |E - V|``.
    """

    name = "shooting"
    options = {
        "tol": Option(1e-10, _check_tol, "target relative energy error, in [1e-12, 1e-2]"),
    }

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        probe = np.linspace(*problem.box[0], 2001)[1:-1]
        v_probe = _potential_along(problem, probe)
        setting = {
            "v_min": float(v_probe.min()),
            "v_max": float(v_probe.max()),
            "x_match": _matching_point(probe, v_probe),
        }
        kappa_max = math.sqrt(setting["v_max"] - setting["v_min"])
        setting["edges"] = self._sweep_edges(problem, setting["x_match"], kappa_max)
        setting["match_piece"] = int(np.argmin(np.abs(setting["edges"] - setting["x_match"])))
        energies, states, per_state = [], [], []
        status, message = Status.OK, ""
        for n in range(n_states):
            try:
                energy, state, details, problem_found = self._solve_state(problem, n, setting)
            except (RuntimeError, ValueError) as exc:  # no bracket or no separation: a failed state
                energy, state, problem_found = math.nan, None, f"state {n}: {exc}"
                details = {"steps": 0, "function_evaluations": 0, "error_estimate": math.nan, "nodes": -1}
            if problem_found and status is Status.OK:
                status, message = Status.FAILED, problem_found
            energies.append(energy)
            states.append(state)
            per_state.append(details)
        info = {
            "tol": self.tol,
            "x_match": setting["x_match"],
            "steps": [s["steps"] for s in per_state],
            "function_evaluations": sum(s["function_evaluations"] for s in per_state),
            "iterations": sum(s["function_evaluations"] for s in per_state),
            "nodes": [s["nodes"] for s in per_state],
            "rel_error_estimate": [s["error_estimate"] for s in per_state],
            "energy": "Richardson extrapolation of steps h and 2h",
        }

        def stacked(method: str):
            def evaluate(points: np.ndarray) -> np.ndarray:
                return np.vstack(
                    [
                        getattr(s, method)(points) if s is not None else np.full((1, len(points)), np.nan)
                        for s in states
                    ]
                )

            return evaluate

        return Solution(
            np.array(energies),
            stacked("__call__"),
            info,
            status,
            message,
            laplacian=stacked("laplacian"),
            derivatives_by=DERIVATIVES_BY,
        )

    def _solve_state(self, problem: Problem, n: int, setting: dict):
        """Energy, wavefunction, counters and a failure message ("" if none) of state n."""
        v_min, v_max = setting["v_min"], setting["v_max"]
        upper = energy_upper_bound(v_max, problem.length, n)
        coarse_step = _COARSE_KH / math.sqrt(upper - v_min + 1.0)
        coarse = self._sweeps(problem, setting, coarse_step)
        bracket = isolate_state(coarse.count_below, n, v_min, upper)
        e_coarse = brentq(coarse.mismatch, *bracket, xtol=1e-12 * upper)
        guess_error = abs(e_coarse) * _COARSE_KH**4 / _NUMEROV_CONSTANT + 1e-12 * upper
        k = math.sqrt(max(abs(e_coarse - v_min), abs(e_coarse - v_max)) + 1e-300)
        step = (_NUMEROV_CONSTANT * _SAFETY * self.tol) ** 0.25 / k
        evaluations = 0
        for _ in range(_MAX_REFINEMENTS):
            fine = self._sweeps(problem, setting, step, even=True)
            half = self._sweeps(problem, setting, 2 * step, counts=fine.counts // 2)
            e_half, calls_half = _polish(half, n, e_coarse, guess_error, self.tol, v_min, upper)
            e_fine, calls_fine = _polish(fine, n, e_half, guess_error / 8, self.tol, v_min, upper)
            evaluations += calls_half + calls_fine
            estimate = abs(e_fine - e_half) / 15.0
            # Relative to |E|, but never to less than the box's natural energy unit (E can be ~0).
            scale = max(abs(e_fine), (math.pi / problem.length) ** 2)
            if estimate <= self.tol * scale:
                break
            # Shrink by at most 4x a round: below ~1e-12 rounding, not h, sets the difference.
            step *= max(0.25, 0.9 * (self.tol * scale / estimate) ** 0.25)
        failure = ""
        if estimate > self.tol * scale:
            failure = f"state {n}: error estimate {estimate:.2e} above tol after refinement"
        values = fine.nodal_values(e_fine)
        nodes = int(np.count_nonzero(np.diff(np.signbit(values[1:-1]))))
        if nodes != n:
            failure = f"state {n}: eigenfunction has {nodes} nodes, expected {n}"
        state = SplineStates(TensorGrid((fine.grid,)), values[None, :], problem.potential)
        details = {
            "steps": fine.grid.n_intervals,
            "function_evaluations": evaluations,
            "error_estimate": estimate / scale,
            "nodes": nodes,
        }
        return e_fine + (e_fine - e_half) / 15.0, state, details, failure

    @staticmethod
    def _sweep_edges(problem: Problem, x_match: float, kappa_max: float) -> np.ndarray:
        """Piece edges of every sweep grid: walls, breakpoints, the matching node, and splits
        where the solution could grow past float range within one piece."""
        edges = np.unique(
            np.concatenate([panel_edges(problem.box[0], problem.axis_breakpoints[0]), [x_match]])
        )
        splits = [max(1, math.ceil(kappa_max * (b - a) / _MAX_GROWTH)) for a, b in zip(edges[:-1], edges[1:])]
        return build_grid(edges, splits).nodes

    @staticmethod
    def _sweeps(
        problem: Problem,
        setting: dict,
        step: float,
        even: bool = False,
        counts: np.ndarray | None = None,
    ) -> _Sweeps:
        edges = setting["edges"]
        if counts is None:
            # Numerov's restart at a piece edge needs >= 2 intervals (>= 4 on a grid that is halved).
            minimum, unit = (4, 2) if even else (2, 1)
            counts = np.array(
                [
                    max(minimum, unit * math.ceil((b - a) / (unit * step)))
                    for a, b in zip(edges[:-1], edges[1:])
                ]
            )
        grid = build_grid(edges, counts.tolist())
        return _Sweeps(problem, grid, setting["match_piece"], counts)


def _polish(sweeps, index, guess, width, tol, lower_bound, upper_bound) -> tuple[float, int]:
    """Root of the mismatch near ``guess``: widen a bracket until it changes sign, then brentq."""
    calls = 2
    lower, upper = guess - width, guess + width
    while sweeps.mismatch(lower) * sweeps.mismatch(upper) > 0.0:
        width *= 4.0
        calls += 2
        if width > upper_bound - lower_bound:
            lower, upper = isolate_state(sweeps.count_below, index, lower_bound, upper_bound)
            break
        lower, upper = guess - width, guess + width
    root, result = brentq(
        sweeps.mismatch,
        lower,
        upper,
        xtol=1e-3 * tol * max(abs(guess), 1e-3),
        rtol=4 * np.finfo(float).eps,
        full_output=True,
    )
    return root, calls + result.function_calls


def _potential_along(problem: Problem, x: np.ndarray) -> np.ndarray:
    """V at the positions ``x`` of a 1D problem (points of shape ``(n, 1)``), as floats."""
    return np.asarray(problem.potential(x[:, None]), dtype=float)


def _matching_point(x: np.ndarray, v: np.ndarray) -> float:
    """Middle of the first run of samples where V is lowest: deep in an allowed region."""
    lowest = np.flatnonzero(v <= v.min() + 1e-12 * max(1.0, abs(v.min())))
    breaks = np.flatnonzero(np.diff(lowest) > 1)
    run_end = lowest[breaks[0]] if breaks.size else lowest[-1]
    return float(x[(lowest[0] + run_end) // 2])

"""Each state's wavefunction beside the exact one on a line through the box, for the report's plots."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..cases import canonical_json
from ..metrics import WavefunctionGrades, grade_wavefunctions, sample_line, sorted_by_energy, state_groups
from ..problems import Problem
from ..solvers import Solution

#: Wavefunction samples per state kept for the report.
SAMPLE_POINTS = 201


def sample_wavefunctions(
    solution: Solution,
    problem: Problem,
    n_points: int = SAMPLE_POINTS,
    grades: WavefunctionGrades | None = None,
) -> list[dict[str, Any]]:
    """Each state's psi beside the exact one on a uniform grid, for plots.

    The samples lie on the line :func:`qbench.metrics.sample_line` gives, parallel to axis 0 from
    wall to wall (in 1D, the whole domain). States are in ascending energy, as in the results table.
    ``psi_ref`` is the exact function of the state's level nearest to psi (what ``l2_error``
    measures against, :func:`qbench.metrics.grade_wavefunctions`), so that a degenerate level,
    whose basis is any, is compared like with like; for a level of one state it is the exact state
    itself, and psi is sign-aligned with it.

    Parameters
    ----------
    solution, problem
        The computed states and their problem.
    n_points
        Samples per state.
    grades
        The solution's wavefunction grades, when the caller has them (they are not cheap).

    Returns
    -------
    list of dict
        One entry per state, ``{state, x, psi, psi_ref, line}``: ``x`` the coordinate along the
        line, ``psi`` and ``psi_ref`` lists of values, ``line`` the JSON of the line's
        ``{"axis": 0, "point": [...]}``. Where the solver gave no state ``psi`` is NaN, and so is
        ``psi_ref`` in a level of several states, which has no nearest function then.
    """
    solution = sorted_by_energy(solution, problem)
    x, points, line = sample_line(problem, n_points)
    exact = _exact_samples(problem, solution.n_states, n_points)
    values = solution.wavefunctions(points)
    nearest = (grades if grades is not None else grade_wavefunctions(solution, problem)).nearest
    level = {state: list(group) for group in state_groups(problem, solution.n_states) for state in group}
    rows = []
    for state in range(solution.n_states):
        reference, sign = nearest_exact(exact[level[state]], nearest[state])
        # Arrays, not a row per point: the store expands them into the long table.
        rows.append(
            {
                "state": state,
                "x": x.tolist(),
                "psi": (sign * values[state]).tolist(),
                "psi_ref": reference.tolist(),
                "line": canonical_json(line),
            }
        )
    return rows


def nearest_exact(exact: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, float]:
    """The exact function of a level nearest to a state, and the sign that aligns the state with it.

    Parameters
    ----------
    exact
        The level's exact states, sampled: ``(m, n)`` for a level of ``m`` states.
    beta
        The coefficients of the nearest normalized exact function,
        :attr:`qbench.metrics.WavefunctionGrades.nearest` (NaN where the state has none).

    Returns
    -------
    tuple of numpy.ndarray and float
        A level of one state has one exact function up to sign: the exact state itself, and the
        sign of the state's overlap with it (the state's sign is arbitrary, the exact state's is the
        problem's), 1 where there is no overlap. A larger level has no preferred basis: the nearest
        function ``beta @ exact``, which already has the state's sign (NaN where ``beta`` is), and 1.
    """
    finite = bool(np.isfinite(beta).all())
    if len(exact) == 1:
        return exact[0], float(np.sign(beta[0])) if finite and beta[0] != 0 else 1.0
    return (beta @ exact if finite else np.full(exact.shape[1], np.nan)), 1.0


@functools.lru_cache(maxsize=64)
def _exact_samples(problem: Problem, n_states: int, n_points: int) -> np.ndarray:
    # The same for every solver on a problem; problems hash by their parameters.
    points = sample_line(problem, n_points)[1]
    return problem.reference(n_states).wavefunctions(points)

"""A case's graded columns: one row per state, in the order of ascending energy (docs/results.md)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..metrics import (
    WavefunctionGrades,
    abs_energy_error,
    grade_wavefunctions,
    rel_energy_error,
    sorted_by_energy,
    state_groups,
)
from ..problems import Problem, Reference
from ..solvers import Solution


def grade(solution: Solution, problem: Problem) -> list[dict[str, Any]]:
    """One row per state: energy, reference energy and its kind, absolute, relative and L2 errors,
    the state's degenerate group and the group's subspace sine (docs/results.md).

    The rows follow ascending energy (NaN last, :func:`qbench.metrics.sorted_by_energy`), which is
    also the order of the statuses the harness records.
    """
    return graded(solution, problem)[0]


def graded(solution: Solution, problem: Problem) -> tuple[list[dict[str, Any]], WavefunctionGrades]:
    """:func:`grade`'s rows and the wavefunction grades behind them (the plot samples reuse them)."""
    solution = sorted_by_energy(solution, problem)
    reference = problem.reference(solution.n_states)
    grades = grade_wavefunctions(solution, problem)
    rows = state_rows(
        problem,
        reference,
        grades.group,
        energy=solution.energies,
        abs_error=abs_energy_error(solution.energies, reference.energies),
        rel_error=rel_energy_error(solution.energies, reference.energies),
        l2_error=grades.l2_error,
        subspace_sine=grades.subspace_sine,
    )
    return rows, grades


def ungraded_rows(problem: Problem, n_states: int) -> list[dict[str, Any]]:
    """The rows of a case that gave no solution: each state's group and exact energy, NaN grades."""
    reference = problem.reference(n_states)
    group = np.empty(n_states, dtype=int)
    for g, members in enumerate(state_groups(problem, n_states)):
        group[list(members)] = g
    nan = np.full(n_states, math.nan)
    return state_rows(
        problem, reference, group, energy=nan, abs_error=nan, rel_error=nan, l2_error=nan, subspace_sine=nan
    )


def state_rows(
    problem: Problem,
    reference: Reference,
    group: np.ndarray,
    *,
    energy: np.ndarray,
    abs_error: np.ndarray,
    rel_error: np.ndarray,
    l2_error: np.ndarray,
    subspace_sine: np.ndarray,
) -> list[dict[str, Any]]:
    """The graded columns of each state, in the results table's order.

    Parameters
    ----------
    problem, reference
        The problem and its reference for the case's states.
    group
        Each state's degenerate group.
    energy, abs_error, rel_error, l2_error, subspace_sine
        One value per state.
    """
    columns = reference_columns(problem, reference)
    n = len(group)
    spread = (
        np.full(n, np.nan) if reference.consensus_spread is None else np.asarray(reference.consensus_spread)
    )
    return [
        {
            "state": state,
            "group": int(group[state]),
            "energy": float(energy[state]),
            "energy_ref": float(reference.energies[state]),
            **columns,
            "abs_error": float(abs_error[state]),
            "rel_error": float(rel_error[state]),
            "l2_error": float(l2_error[state]),
            "subspace_sine": float(subspace_sine[state]),
            "consensus_spread": float(spread[state]),
        }
        for state in range(len(group))
    ]


def reference_columns(problem: Problem, reference: Reference) -> dict[str, Any]:
    """The results table's ``reference`` (exact, certified or approximate) and its stated bound."""
    return {"reference": problem.reference_kind, "reference_rel_bound": float(reference.rel_error_bound)}

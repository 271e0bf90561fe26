"""Grading a solution against the exact reference (docs/results.md).

Solvers never grade themselves; the harness calls these.
"""

from __future__ import annotations

import functools

import numpy as np

from .problems import Problem, Reference
from .quadrature import domain_rule
from .solvers.base import Solution


def abs_energy_error(energies: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``|E - E_ref|`` elementwise."""
    return np.abs(np.asarray(energies, dtype=float) - np.asarray(reference, dtype=float))


def rel_energy_error(energies: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``|E - E_ref| / |E_ref|`` elementwise."""
    reference = np.asarray(reference, dtype=float)
    return abs_energy_error(energies, reference) / np.abs(reference)


def l2_error(values: np.ndarray, reference_values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sign-aligned L2 distance between normalized states sampled at quadrature nodes.

    Parameters
    ----------
    values, reference_values
        Shape ``(n_states, n_nodes)``: the two sets of states at the nodes.
    weights
        Quadrature weights, shape ``(n_nodes,)``.

    Returns
    -------
    numpy.ndarray
        ``min over s in {+1, -1} of ||s psi - psi_ref||`` per state, after
        normalizing both on the same rule.
    """
    values = np.atleast_2d(values)
    reference_values = np.atleast_2d(reference_values)

    def normalized(f):
        return f / np.sqrt((f**2) @ weights)[:, None]

    psi, psi_ref = normalized(values), normalized(reference_values)
    plus = np.sqrt(((psi - psi_ref) ** 2) @ weights)
    minus = np.sqrt(((psi + psi_ref) ** 2) @ weights)
    return np.minimum(plus, minus)


def wavefunction_l2_error(
    solution: Solution, problem: Problem, reference: Reference | None = None, n_points: int = 4096
) -> np.ndarray:
    """L2 error of each state of ``solution`` by Gauss-Legendre panels ending at the breakpoints.

    Without an explicit ``reference`` the problem's exact one is used, and its
    values on the rule are computed once per problem and reused.
    """
    if reference is None:
        nodes, weights, reference_values = _exact_on_rule(problem, solution.n_states, n_points)
    else:
        nodes, weights = domain_rule(problem.domain, problem.breakpoints, n_points=n_points)
        reference_values = reference.wavefunctions(nodes)
    return l2_error(solution.wavefunctions(nodes), reference_values, weights)


@functools.lru_cache(maxsize=64)
def _exact_on_rule(problem: Problem, n_states: int, n_points: int):
    # Problems are immutable and hash by their parameters, so the cache key is the physics.
    nodes, weights = domain_rule(problem.domain, problem.breakpoints, n_points=n_points)
    values = problem.reference(n_states).wavefunctions(nodes)
    for array in (nodes, weights, values):
        array.setflags(write=False)
    return nodes, weights, values

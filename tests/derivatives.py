"""Checks of a solution's supplied Laplacian, shared by the classical solvers' tests.

* :func:`second_differences`: fourth-order central second differences summed over the axes;
* :func:`laplacian_mismatch`: the supplied Laplacian against fourth-order central differences
  of the solution's own ``wavefunctions`` (step 1e-3 of the box), at random points at least
  three steps from every wall and breakpoint, relative to max |Laplacian| per state;
* :func:`residual_norms`: ``||(-Laplacian + V - E) psi|| / ||psi||`` per state on the problem's
  own Gauss rule (its panels end at the breakpoints), with the supplied Laplacian.
"""

from __future__ import annotations

import numpy as np

#: The differencing step, relative to the longest side of the box.
STEP = 1e-3


def second_differences(evaluate, points: np.ndarray, h: float) -> np.ndarray:
    """Fourth-order central second differences of ``evaluate`` summed over the axes."""
    total = 0.0
    for axis in range(points.shape[1]):
        e = np.zeros(points.shape[1])
        e[axis] = h
        total = total + (
            -evaluate(points + 2 * e)
            + 16 * evaluate(points + e)
            - 30 * evaluate(points)
            + 16 * evaluate(points - e)
            - evaluate(points - 2 * e)
        ) / (12 * h * h)
    return total


def interior_points(problem, n: int, margin: float, seed: int = 0) -> np.ndarray:
    """``n`` uniform random points (at most), each at least ``margin`` from every wall and breakpoint."""
    box = np.array(problem.box, dtype=float)
    points = box[:, 0] + (box[:, 1] - box[:, 0]) * np.random.default_rng(seed).random((n, problem.dim))
    keep = np.all((points - box[:, 0] > margin) & (box[:, 1] - points > margin), axis=1)
    for axis, cuts in enumerate(problem.axis_breakpoints):
        for cut in cuts:
            keep &= np.abs(points[:, axis] - cut) > margin
    return points[keep]


def laplacian_mismatch(solution, problem, n: int = 2000, step: float = STEP) -> np.ndarray:
    """Per state: max |supplied - differenced Laplacian| / max |supplied Laplacian|.

    ``step`` is the differencing step relative to the longest side of the box.
    """
    h = step * max(hi - lo for lo, hi in problem.box)
    points = interior_points(problem, n, 3 * h)
    supplied = solution.laplacians(points)
    differenced = second_differences(solution.wavefunctions, points, h)
    return np.max(np.abs(supplied - differenced), axis=1) / np.max(np.abs(supplied), axis=1)


def residual_norms(solution, problem) -> np.ndarray:
    """Per state: the L2 norm of ``(-Laplacian + V - E) psi`` over that of psi (problem's rule)."""
    nodes, weights = problem.quadrature_rule()
    psi = solution.wavefunctions(nodes)
    residual = -solution.laplacians(nodes) + (problem.potential(nodes) - solution.energies[:, None]) * psi
    return np.sqrt((residual**2 @ weights) / (psi**2 @ weights))

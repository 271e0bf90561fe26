"""Solvers for the harness's tests: exact answers in a basis and an order that grading must see through."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from qbench import solvers
from qbench.solvers import Solution, Solver, Status

#: E = pi^2 (n1^2 + n2^2) in the unit square: states 1 and 2 are one level.
SQUARE = {"parts": ["infinite_well", "infinite_well"]}


class Rotates(Solver):
    """The exact states, the degenerate pair (1, 2) rotated and the states out of energy order, the
    level-2 state marked failed: every graded column must still see an exact answer."""

    name = "test-rotates"
    dimensions = (1, 2, 3, 4)
    takes_points = True

    def _solve(self, problem, n_states):
        reference = problem.reference(n_states)
        c, s = np.cos(0.6), np.sin(0.6)
        order = [0, 3, 1, 2]  # listed as the solver found them, not ascending

        def evaluate(points):
            values = reference.wavefunctions(points)
            pair = np.array([c * values[1] + s * values[2], -s * values[1] + c * values[2]])
            values[1], values[2] = pair[0], pair[1]
            return values[order]

        return Solution(
            reference.energies[order],
            evaluate,
            state_status=[Status.OK, Status.FAILED, Status.OK, Status.OK],
            state_messages=["", "listed second, level 2", "", ""],
        )


@contextmanager
def registered(cls: type[Solver]) -> Iterator[str]:
    """``cls`` in the solver registry for the block (cases name solvers); its name."""
    solvers.register(cls)
    try:
        yield cls.name
    finally:
        solvers.METHODS.pop(cls.name)

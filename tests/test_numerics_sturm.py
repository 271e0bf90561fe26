"""numerics.sturm and numerics.bounds: isolating one state by its Sturm count, from a bound above it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import qbench
from qbench.numerics.bounds import energy_upper_bound
from qbench.numerics.sturm import isolate_state

LEVELS = np.array([1.0, 1.5, 4.0, 4.0 + 1e-9, 9.0])


def count_below(energy: float) -> int:
    return int(np.count_nonzero(LEVELS < energy))


@pytest.mark.parametrize("index", range(5))
def test_the_bracket_holds_the_state_and_no_other(index):
    lower, upper = isolate_state(count_below, index, 0.0, 20.0)
    assert count_below(lower) == index and count_below(upper) == index + 1
    assert lower < LEVELS[index] <= upper


def test_a_bound_below_the_state_is_refused():
    with pytest.raises(RuntimeError, match=r"state 4 is not below E=8\.0"):
        isolate_state(count_below, 4, 0.0, 8.0)


def test_a_degenerate_pair_is_refused_not_split_at_random():
    levels = np.array([1.0, 2.0, 2.0])
    with pytest.raises(RuntimeError, match="degenerate to machine precision"):
        isolate_state(lambda e: int(np.count_nonzero(levels < e)), 1, 0.0, 3.0)


@pytest.mark.parametrize("name", ["infinite_well", "finite_well", "finite_barrier", "harmonic_oscillator"])
def test_energy_upper_bound_lies_above_every_level(name):
    """E_n <= max V + ((n + 1) pi / L)^2 by comparison with the flat box of depth max V."""
    problem = qbench.problems.get(name)
    (x0, x1), n_states = problem.box[0], 6
    x = np.linspace(x0, x1, 2001)[1:-1, None]
    v_max = float(np.max(problem.potential(x)))
    exact = problem.reference(n_states).energies
    bounds = np.array([energy_upper_bound(v_max, x1 - x0, n) for n in range(n_states)])
    assert np.all(exact < bounds)
    # The flat box is the tight case: the bound is only the margin above it.
    flat = (np.arange(1, n_states + 1) * math.pi / (x1 - x0)) ** 2
    assert np.all(bounds <= v_max + 1.05 * flat + 1.0)

"""Wavefunction samples for plots: one line along axis 0 in every d, each state beside the exact
function of its level nearest to it, a level of one state sign-aligned with the exact state."""

from __future__ import annotations

import json

import numpy as np
import pytest
from harness_doubles import SQUARE, Rotates

from qbench import problems, solvers
from qbench.harness.sampling import SAMPLE_POINTS, sample_wavefunctions
from qbench.metrics import LINE_OFFSET, sample_line
from qbench.solvers import Solution


def _exact_times(problem, n_states, signs):
    """The exact states times ``signs`` (NaN: a state without a wavefunction)."""
    reference = problem.reference(n_states)
    factors = np.asarray(signs, dtype=float)[:, None]
    return Solution(reference.energies, lambda points: factors * reference.wavefunctions(points))


@pytest.mark.parametrize(
    ("problem", "params", "point"),
    [
        ("finite_well", {}, [0.0]),  # 1D: no other coordinate, the line is the whole domain
        ("separable", SQUARE, [0.5, 0.5 + LINE_OFFSET]),  # off the centre's nodal line
        ("harmonic_oscillator", {"dim": 3}, [0.0, 1.0, 1.0]),
    ],
)
def test_the_line_runs_along_axis_0_wall_to_wall_in_every_d(problem, params, point):
    problem = problems.get(problem, **params)
    x, points, line = sample_line(problem, 11)
    assert line == {"axis": 0, "point": pytest.approx(point)} and len(point) == problem.dim
    assert (x[0], x[-1]) == problem.box[0] and points.shape == (11, problem.dim)
    assert np.array_equal(points[:, 0], x) and np.array_equal(
        points[:, 1:], np.tile(line["point"][1:], (11, 1))
    )


def test_1d_samples_are_sign_aligned_with_the_exact_states():
    problem = problems.get("finite_barrier")
    samples = sample_wavefunctions(solvers.get("fd").solve(problem, 2), problem)
    assert [s["state"] for s in samples] == [0, 1] and all(len(s["x"]) == SAMPLE_POINTS for s in samples)
    psi = np.array([s["psi"] for s in samples])
    exact = np.array([s["psi_ref"] for s in samples])
    assert np.max(np.abs(psi - exact)) < 1e-2  # the same sign, close to the exact one
    assert samples[0]["x"][0] == 0.0 and samples[0]["x"][-1] == 1.0
    assert {s["line"] for s in samples} == {'{"axis":0,"point":[0.5]}'}


@pytest.mark.parametrize(("problem", "params"), [("infinite_well", {}), ("separable", SQUARE)])
def test_a_flipped_state_alone_in_its_level_is_flipped_back_onto_the_exact_state(problem, params):
    problem = problems.get(problem, **params)
    samples = sample_wavefunctions(_exact_times(problem, 1, [-1.0]), problem)
    exact = problem.reference(1).wavefunctions(sample_line(problem, SAMPLE_POINTS)[1])[0]
    assert samples[0]["psi"] == samples[0]["psi_ref"] == exact.tolist()


def test_a_state_without_a_wavefunction_keeps_the_exact_curve_of_a_level_of_one_state():
    problem = problems.get("separable", **SQUARE)
    samples = sample_wavefunctions(_exact_times(problem, 3, [np.nan] * 3), problem)
    assert all(np.isnan(s["psi"]).all() for s in samples)
    assert np.isfinite(samples[0]["psi_ref"]).all()  # one state: the exact state itself
    assert all(np.isnan(s["psi_ref"]).all() for s in samples[1:])  # a pair: no nearest function


def test_2d_samples_compare_a_rotated_level_with_its_nearest_exact_functions():
    problem = problems.get("separable", **SQUARE)
    samples = sample_wavefunctions(Rotates().solve(problem, 4), problem)
    assert [s["state"] for s in samples] == [0, 1, 2, 3]
    assert json.loads(samples[0]["line"]) == {"axis": 0, "point": [0.5, 0.5625]} and samples[0]["x"][0] == 0.0
    for sample in samples:  # the rotated pair against the nearest function of its level: the same curve
        assert np.max(np.abs(np.array(sample["psi"]) - np.array(sample["psi_ref"]))) < 1e-12
    # The rotated state 1 is a mix: its nearest exact partner is not the (2, 1) state.
    assert np.max(np.abs(samples[1]["psi_ref"])) > 0.5

"""The scaling study's analysis: cost to reach a tolerance, fitted growth, crossing dimension."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from qbench import scaling
from qbench.report import dimensions


def _rows(series_of_cases, options_of=lambda solver: {}):
    """A results table from ``(case_id, problem, params, solver, family, dim, errors, time, memory, ok)``."""
    rows = []
    for case_id, problem, params, solver, family, dim, errors, time_s, memory, ok in series_of_cases:
        for state, error in enumerate(errors):
            rows.append(
                {
                    "case_id": case_id,
                    "problem": problem,
                    "problem_params": json.dumps(params, sort_keys=True),
                    "solver": solver,
                    "family": family,
                    "solver_options": json.dumps(options_of(solver)),
                    "seed": None,
                    "dim": dim,
                    "state": state,
                    "rel_error": error,
                    "status": "ok" if ok else "failed",
                    "case_status": "ok" if ok else "failed",
                    "wall_time_s": time_s,
                    "cpu_mem_increase_mb": memory,
                }
            )
    return pd.DataFrame(rows)


def _separable(d):
    return {"parts": ["finite_well"] * d}


# Classical time grows 10x per dimension (slope 1), pinn 2x (slope log10 2); pinn starts 100x dearer.
CASES = [
    ("c1", "finite_well", {}, "fd", "classical", 1, [1e-4, 2e-4], 0.01, 1.0, True),
    ("c2", "separable", _separable(2), "fd", "classical", 2, [1e-4, 2e-4], 0.1, 10.0, True),
    ("c3", "separable", _separable(3), "fd", "classical", 3, [1e-4, 2e-4], 1.0, 100.0, True),
    ("c3b", "separable", _separable(3), "fd", "classical", 3, [1e-2, 1e-2], 0.5, 50.0, True),
    ("p1", "finite_well", {}, "pinn", "pinn", 1, [5e-4], 1.0, 5.0, True),
    ("p2", "separable", _separable(2), "pinn", "pinn", 2, [5e-4], 2.0, 5.0, True),
    ("p3", "separable", _separable(3), "pinn", "pinn", 3, [5e-4], 4.0, 5.0, True),
    ("p3x", "separable", _separable(3), "pinn", "pinn", 3, [1e-5], 0.1, 1.0, False),  # not ok: ignored
]


def test_series_groups_a_1d_problem_with_its_separable_powers():
    assert scaling.series_label("finite_well", "{}") == "finite_well"
    assert scaling.series_label("separable", json.dumps(_separable(3))) == "finite_well"
    mixed = {"parts": ["finite_well", "infinite_well"]}
    assert scaling.series_label("separable", json.dumps(mixed)) == "separable"
    assert scaling.series_label("harmonic_oscillator", json.dumps({"dim": 3})) == "harmonic_oscillator"


def test_cost_to_reach_takes_the_cheapest_ok_case_that_reaches_the_tolerance():
    costs = scaling.cost_to_reach(_rows(CASES), tolerances=(1e-3, 1e-6))
    row = costs[(costs["family"] == "classical") & (costs["dim"] == 3) & (costs["tolerance"] == 1e-3)].iloc[0]
    assert row["wall_time_s"] == 1.0  # c3b is cheaper but its 1e-2 error misses 1e-3
    assert row["memory_mb"] == 100.0
    pinn3 = costs[(costs["family"] == "pinn") & (costs["dim"] == 3) & (costs["tolerance"] == 1e-3)].iloc[0]
    assert pinn3["wall_time_s"] == 4.0  # p3x reached 1e-5 but is not ok
    missed = costs[(costs["family"] == "pinn") & (costs["tolerance"] == 1e-6)]
    assert missed["wall_time_s"].isna().all() and len(missed) == 3  # the absence is kept as rows


def test_a_configuration_handed_the_exact_energy_reaches_nothing():
    # pinn-fixed's 1D energy is the exact one it was given: error 0 by construction, not a cost.
    held = [("h1", "finite_well", {}, "pinn-fixed", "pinn", 1, [0.0, 0.0], 0.001, 0.1, True)]
    options_of = lambda solver: {"energy": "fixed"} if solver == "pinn-fixed" else {}  # noqa: E731
    costs = scaling.cost_to_reach(_rows(CASES + held, options_of), tolerances=(1e-3, 1e-6))
    pinn1 = costs[(costs["family"] == "pinn") & (costs["dim"] == 1)].set_index("tolerance")
    assert pinn1.at[1e-3, "wall_time_s"] == 1.0  # p1, not the held case's 0.001 s
    assert math.isnan(pinn1.at[1e-6, "wall_time_s"])
    assert pinn1.at[1e-3, "cases"] == 1


def test_growth_slopes_and_crossing_dimension():
    costs = scaling.cost_to_reach(_rows(CASES), tolerances=(1e-3,))
    fits = scaling.fit_growth(costs).set_index("family")
    assert fits.at["classical", "slope"] == pytest.approx(1.0)
    assert fits.at["pinn", "slope"] == pytest.approx(math.log10(2.0))
    cross = scaling.crossovers(scaling.fit_growth(costs)).iloc[0]
    # log10 t = -3 + d (classical) and log10 t = -log10 2 + d log10 2 (pinn) meet here:
    expected = (-3 + math.log10(2)) / (math.log10(2) - 1)
    assert cross["crossing_d"] == pytest.approx(expected)
    assert cross["cheaper_beyond"] == "pinn"


def test_per_solver_lines_follow_fd_apart_from_the_family():
    # A cheap spectral case at d = 3 makes the classical family's cost there 0.01 s; fd's own
    # line keeps its 10x per dimension, and the pinn line crosses fd's where it crossed classical's.
    spectral = [("s3", "separable", _separable(3), "spectral", "classical", 3, [1e-5, 1e-5], 0.01, 1.0, True)]
    results = _rows(CASES + spectral)
    by_family = scaling.fit_growth(scaling.cost_to_reach(results, (1e-3,))).set_index("family")
    assert by_family.at["classical", "slope"] < 0.5
    by_solver = scaling.fit_growth(scaling.cost_to_reach(results, (1e-3,), by="solver")).set_index("family")
    assert by_solver.at["fd", "slope"] == pytest.approx(1.0)
    assert math.isnan(by_solver.at["spectral", "slope"])  # one dimension only
    cross = scaling.crossovers(scaling.fit_growth(scaling.cost_to_reach(results, (1e-3,), by="solver")), "fd")
    pinn = cross[cross["family"] == "pinn"].iloc[0]
    assert pinn["crossing_d"] == pytest.approx((-3 + math.log10(2)) / (math.log10(2) - 1))
    table = dimensions.growth_table(results, by="solver", against="fd")
    assert "crossing d (vs fd)" in table and set(table["solver"]) == {"fd", "pinn", "spectral"}
    with pytest.raises(ValueError, match="by must be one of family, solver"):
        scaling.cost_to_reach(results, by="seed")


def test_a_fit_needs_two_dimensions():
    only_3d = [c for c in CASES if c[5] == 3]
    fits = scaling.fit_growth(scaling.cost_to_reach(_rows(only_3d), tolerances=(1e-3,)))
    assert fits["slope"].isna().all()


def test_report_figure_and_tables_only_when_a_series_spans_dimensions():
    results = _rows(CASES)
    assert set(dimensions.cost_vs_dimension(results)) == {"dimensions_finite_well"}
    table = dimensions.growth_table(results)
    assert set(table["family"]) == {"classical", "pinn"}
    one_d = _rows([c for c in CASES if c[5] == 1])
    assert dimensions.cost_vs_dimension(one_d) == {} and dimensions.cost_table(one_d) is None

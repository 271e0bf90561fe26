"""The scaling study's analysis: cost to reach a tolerance, fitted growth, crossing dimension."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from qbench import scaling
from qbench.report import dimensions


def _rows(series_of_cases, options_of=lambda solver: {}, setting_of=lambda case_id: case_id):
    """A results table from ``(case_id, problem, params, solver, family, dim, errors, time, memory, ok)``.

    Each case is its own setting (a rung of a ladder), unless ``setting_of`` maps several case ids
    to one (seeds of one setting)."""
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
                    "solver_options": json.dumps({**options_of(solver), "rung": setting_of(case_id)}),
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


def test_growth_slopes_and_a_measured_crossing_only():
    costs = scaling.cost_to_reach(_rows(CASES), tolerances=(1e-3,))
    fits = scaling.fit_growth(costs).set_index("family")
    assert fits.at["classical", "slope"] == pytest.approx(1.0)
    assert fits.at["pinn", "slope"] == pytest.approx(math.log10(2.0))
    # d = 1..3: pinn is 100x, 20x, 4x dearer. The fitted lines would meet near d = 3.9, which is
    # an extrapolation: no crossing is stated.
    crossing = scaling.measured_crossings(costs).iloc[0]
    assert crossing["dims"] == "1,2,3" and crossing["neural_cheaper_at"] == ""
    assert math.isnan(crossing["crossing_d"])
    # Measured at d = 4, pinn is cheaper (8 s against 10 s): the crossing is interpolated in
    # log(ratio) between d = 3 (ratio 4) and d = 4 (ratio 0.8).
    measured = [
        *CASES,
        ("c4", "separable", _separable(4), "fd", "classical", 4, [1e-4], 10.0, 1.0, True),
        ("p4", "separable", _separable(4), "pinn", "pinn", 4, [5e-4], 8.0, 1.0, True),
    ]
    crossing = scaling.measured_crossings(scaling.cost_to_reach(_rows(measured), tolerances=(1e-3,))).iloc[0]
    assert crossing["neural_cheaper_at"] == "4"
    expected = 3 + math.log10(4) / (math.log10(4) - math.log10(0.8))
    assert crossing["crossing_d"] == pytest.approx(expected)


def test_expected_cost_per_success_counts_failed_seeds():
    seeded = [
        (f"v{seed}", "finite_well", {}, "vmc", "neural-variational", 1, [err], wall, 1.0, True)
        for seed, (err, wall) in enumerate([(1e-4, 1.0), (1e-4, 2.0), (1e-2, 4.0)])
    ]
    results = _rows(seeded, setting_of=lambda case_id: case_id[0])
    results["seed"] = results["case_id"].str[1].astype(int)
    cost = scaling.cost_to_reach(results, tolerances=(1e-3,)).iloc[0]
    # Two successes (1 s and 2 s) and a seed that missed after 4 s: 7 s spent per 2 successes.
    assert cost["wall_time_s"] == pytest.approx(3.5)
    assert (cost["successes"], cost["attempts"]) == (2, 3)
    assert (cost["spread_lo"], cost["spread_hi"]) == (1.0, 2.0)


def test_time_to_tolerance_is_read_from_the_history():
    results = _rows([("h", "finite_well", {}, "vmc", "neural-variational", 1, [1e-5], 10.0, 1.0, True)])
    results["energy_ref"] = 1.0
    energies = [1.1, 1.0001, 1.01, 1.0001, 1.00001]
    histories = pd.DataFrame(
        {
            "case_id": "h",
            "state": "0",
            "step": range(5),
            "time_s": [1.0, 2.0, 3.0, 4.0, 5.0],
            "energy": energies,
        }
    )
    times = scaling.history_times(results, histories, (1e-3, 1e-6))
    # Within 1e-3 from t = 4 on (t = 2 was, but t = 3 left it again); never within 1e-6.
    assert times.at["h", 1e-3] == 4.0 and math.isnan(times.at["h", 1e-6])
    cost = scaling.cost_to_reach(results, tolerances=(1e-3,), histories=histories).iloc[0]
    assert cost["wall_time_s"] == 4.0


def test_bootstrap_interval_over_seeds():
    cases = []
    for d, base in ((1, 1.0), (2, 2.0), (3, 4.0)):
        for seed, factor in enumerate((0.8, 1.0, 1.3)):
            params = {} if d == 1 else _separable(d)
            problem = "finite_well" if d == 1 else "separable"
            cases.append(
                (f"p{d}{seed}", problem, params, "pinn", "pinn", d, [5e-4], base * factor, 1.0, True)
            )
    results = _rows(CASES[:4] + cases, setting_of=lambda c: c[:2] if c.startswith("p") else c)
    results["seed"] = [int(c[2]) if c.startswith("p") else None for c in results["case_id"]]
    fits = scaling.bootstrap_growth(results, tolerances=(1e-3,), resamples=200).set_index("family")
    assert fits.at["pinn", "slope"] == pytest.approx(math.log10(2.0))
    assert fits.at["pinn", "slope_lo"] < fits.at["pinn", "slope"] < fits.at["pinn", "slope_hi"]
    # One attempt per setting: the classical cost was measured once, and the interval says so.
    assert fits.at["classical", "slope_lo"] == fits.at["classical", "slope_hi"] == pytest.approx(1.0)


def test_per_solver_lines_follow_fd_apart_from_the_family():
    # A cheap spectral case at d = 3 makes the classical family's cost there 0.01 s; fd's own
    # line keeps its 10x per dimension.
    spectral = [("s3", "separable", _separable(3), "spectral", "classical", 3, [1e-5, 1e-5], 0.01, 1.0, True)]
    results = _rows(CASES + spectral)
    by_family = scaling.fit_growth(scaling.cost_to_reach(results, (1e-3,))).set_index("family")
    assert by_family.at["classical", "slope"] < 0.5
    by_solver = scaling.fit_growth(scaling.cost_to_reach(results, (1e-3,), by="solver")).set_index("family")
    assert by_solver.at["fd", "slope"] == pytest.approx(1.0)
    assert math.isnan(by_solver.at["spectral", "slope"])  # one dimension only
    table = dimensions.growth_table(results, by="solver")
    assert set(table["solver"]) == {"fd", "pinn", "spectral"}
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

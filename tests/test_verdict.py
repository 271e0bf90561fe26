"""The verdict on hand-made tables: expected time per success, failures counted, the answer not read."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from qbench.report.tables import verdict_table
from qbench.verdict import answer_source, expected_cost, reads_the_answer, settings, verdict


def _case(case_id, solver, time, errors, seed=None, status="ok", options=None, problem="finite_well", **more):
    return [
        {
            "case_id": case_id,
            "problem": problem,
            "problem_params": "{}",
            "solver": solver,
            "solver_options": json.dumps(options or {}),
            "seed": seed,
            "state": k,
            "energy": 1.0,
            "rel_error": error,
            "wall_time_s": time,
            "status": status,
            **more,
        }
        for k, error in enumerate(errors)
    ]


def _table(rows):
    table = pd.DataFrame(rows)
    table["seed"] = table["seed"].astype("Int64")
    return table


def _classical():
    return _case("sp", "spectral", 0.01, [1e-14, 1e-13])


def test_expected_cost_is_the_mean_time_over_the_success_rate():
    assert expected_cost([1.0, 2.0, 3.0], [False, True, False]) == pytest.approx(6.0)
    assert expected_cost([1.0, 2.0, 3.0], [True, True, True]) == pytest.approx(2.0)
    assert expected_cost([1.0, 2.0], [False, False]) == math.inf
    assert math.isnan(expected_cost([], []))


def test_one_ok_seed_in_three_costs_three_attempts():
    """3 seeds taking 1, 2, 3 s, one ok within 1e-6: 2 s / (1/3) = 6 s, success 1/3 (not 2 s)."""
    rows = [
        *_classical(),
        *_case("g0", "nn-galerkin", 1.0, [1e-3], seed=0),  # ok but not within 1e-6
        *_case("g1", "nn-galerkin", 2.0, [1e-8], seed=1),
        *_case("g2", "nn-galerkin", 3.0, [1e-9], seed=2, status="failed"),  # within 1e-6, not ok
    ]
    row = verdict(_table(rows)).set_index("method").loc["nn-galerkin"]
    assert row["cost_1e-06"] == pytest.approx(6.0)
    assert (row["reached_1e-06"], row["attempts_1e-06"]) == (1, 3)
    assert (row["time_lo_1e-06"], row["time_hi_1e-06"]) == (1.0, 3.0)
    assert row["cost_0.01"] == pytest.approx(3.0)  # two of three reach 1e-2
    assert row["ratio_1e-06"] == pytest.approx(6.0 / 0.01)
    assert not row["few_seeds_1e-06"]
    table, notes = verdict_table(_table(rows))
    cell = table.set_index("method").loc["nn-galerkin", "expected time to 1e-06"]
    assert cell == "6 s (1/3; 1 s-3 s) [2]"
    assert "[2] nn-galerkin" in notes


def test_a_method_that_never_succeeds_shows_never_with_its_attempts():
    rows = [*_classical(), *(r for s in range(2) for r in _case(f"t{s}", "pinn", 1.0, [0.5], seed=s))]
    row = verdict(_table(rows)).set_index("method").loc["pinn"]
    assert row["cost_0.01"] == math.inf and row["attempts_0.01"] == 2 and row["few_seeds_0.01"]
    table, _ = verdict_table(_table(rows))
    assert table.set_index("method").loc["pinn", "expected time to 1e-02"] == "never (0/2†)"


def test_unverified_counts_as_not_ok():
    rows = [*_classical(), *_case("u", "nn-galerkin", 1.0, [1e-9], seed=0, status="unverified")]
    assert verdict(_table(rows)).set_index("method").loc["nn-galerkin", "cost_0.01"] == math.inf


def test_each_setting_is_its_own_family_and_the_cheapest_per_success_wins():
    """A fast budget ok in 1 seed of 3 costs more per success than a slower one ok in all 3."""
    rows = [*_classical()]
    for seed in range(3):
        rows += _case(
            f"a{seed}", "pinn", 1.0, [1e-3], seed, "ok" if seed == 0 else "failed", {"adam_steps": 10}
        )
        rows += _case(f"b{seed}", "pinn", 2.0, [1e-3], seed, options={"adam_steps": 100})
    table = settings(_table(rows)).set_index("solver_label")
    assert table.loc["pinn adam_steps=10", "cost_0.01"] == pytest.approx(3.0)
    assert table.loc["pinn adam_steps=100", "cost_0.01"] == pytest.approx(2.0)
    row = verdict(_table(rows)).set_index("method").loc["pinn"]
    assert row["setting_0.01"] == "pinn adam_steps=100" and row["cost_0.01"] == pytest.approx(2.0)
    # best error: the median over seeds, a failed seed infinitely wrong (1 ok of 3 has no median)
    assert row["best_error"] == pytest.approx(1e-3) and row["best_setting"] == "pinn adam_steps=100"


@pytest.mark.parametrize(
    ("solver", "options", "problem", "params", "reason"),
    [
        ("pinn-fixed", {"energy": "fixed"}, "finite_well", {}, "E held at the exact value"),
        ("pinn-fixed", {}, "finite_well", {}, "E held at the exact value"),
        (
            "pinn-trainable",
            {"energy": "trainable", "initial_energy": "box"},
            "infinite_well",
            {},
            "box start",
        ),
        ("pinn-trainable", {}, "infinite_well", {}, "box start"),
        (
            "pinn-trainable",
            {"initial_energy": "box"},
            "separable",
            {"parts": ["infinite_well"] * 2},
            "box start",
        ),
        ("pinn-trainable", {"initial_energy": "exact+5%"}, "finite_well", {}, "E started at exact+5%"),
        ("pinn-trainable", {"initial_energy": "exact - 10%"}, "finite_well", {}, "E started at exact-10%"),
        ("pinn-trainable", {"initial_energy": "exact"}, "finite_well", {}, "E started at exact"),
    ],
)
def test_configurations_that_read_the_answer(solver, options, problem, params, reason):
    source = answer_source(solver, json.dumps(options), problem, json.dumps(params))
    assert source is not None and source.startswith(reason)
    assert reads_the_answer(solver, options, problem, params)


@pytest.mark.parametrize(
    ("solver", "options", "problem", "params"),
    [
        ("pinn-trainable", {"initial_energy": "box"}, "finite_well", {}),  # min V + box level: not E
        ("pinn-trainable", {"initial_energy": 12.0}, "infinite_well", {}),  # a number: reads nothing
        ("pinn-trainable", {}, "separable", {"parts": ["infinite_well", "finite_well"]}),
        ("nn-galerkin", {"energy": "galerkin", "initial_energy": "exact"}, "finite_well", {}),  # unused
        ("pinn", {}, "infinite_well", {}),
        ("spectral", {"n_points": 50}, "infinite_well", {}),
    ],
)
def test_configurations_that_read_nothing_of_the_answer(solver, options, problem, params):
    assert answer_source(solver, options, problem, params) is None


def test_reading_the_answer_is_counted_not_ranked():
    rows = [
        *_classical(),
        *_case("pf", "pinn-fixed", 1.0, [0.0], seed=0, options={"energy": "fixed"}),
        *_case("pt", "pinn-trainable", 1.0, [1e-9], seed=0, options={"initial_energy": "exact+5%"}),
        *_case("pb", "pinn-trainable", 1.0, [1e-3], seed=0, options={"initial_energy": 5.0}),
    ]
    rows_by = verdict(_table(rows)).set_index("method")
    held = rows_by.loc["pinn-fixed"]
    assert held["reads_answer"] == "E held at the exact value" and math.isnan(held["cost_1e-06"])
    trainable = rows_by.loc["pinn-trainable"]  # one setting reads the answer, the other is ranked
    assert trainable["reads_answer_cases"] == 1 and trainable["best_error"] == pytest.approx(1e-3)
    assert trainable["cost_1e-06"] == math.inf  # the exact+5% start's 1e-9 does not count
    table, notes = verdict_table(_table(rows))
    assert (
        table.set_index("method")
        .loc["pinn-fixed", "best error (median over seeds)"]
        .startswith("reads the answer")
    )
    assert any("pinn-fixed on finite_well: 1 case(s)" in n for n in notes)


def test_certified_fraction_with_and_without_certificates():
    rows = _classical()
    table, notes = verdict_table(_table(rows))
    assert table["certified"].tolist() == ["n/a"] and any(
        "predates per-state certificates" in n for n in notes
    )
    certified = [
        *_case("a", "spectral", 0.01, [1e-14, 1e-13], verified_by="residual"),
        *_case("b", "fd", 0.01, [1e-5], verified_by=None),
    ]
    table, notes = verdict_table(_table(certified))
    assert table.set_index("method")["certified"].to_dict() == {"fd": "0/1", "spectral": "1/1"}
    assert not any("predates" in n for n in notes)

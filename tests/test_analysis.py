"""Summaries, run-to-run comparison and reproduction checks on hand-made tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from qbench.analysis import (
    CLASSICAL_RTOL,
    SEEDED_RTOL_ELSEWHERE,
    Tolerances,
    compare_runs,
    problem_label,
    reproduction_diff,
    sensitivity_grids,
    solver_label,
    summarize,
)


def _row(case_id, solver, seed, state, energy, status="ok", rel_error=1e-8, options="{}", **extra):
    return {
        "case_id": case_id,
        "problem": "finite_well",
        "problem_params": '{"V0":20.0}',
        "solver": solver,
        "solver_options": options,
        "seed": seed,
        "device": "cpu",
        "state": state,
        "energy": energy,
        "rel_error": rel_error,
        "l2_error": 1e-6,
        "wall_time_s": 1.0,
        "cpu_mem_increase_mb": 40.0,
        "peak_rss_mb": 400.0,
        "peak_gpu_mem_mb": math.nan,
        "status": status,
        **extra,
    }


def _table(rows):
    table = pd.DataFrame(rows)
    table["seed"] = table["seed"].astype("Int64")
    return table


def test_labels_show_only_what_differs_from_defaults():
    assert problem_label("finite_well", '{"V0":20.0,"half_width":1.0}') == "finite_well"
    assert problem_label("finite_well", '{"V0":50.0}') == "finite_well V0=50.0"
    assert solver_label("fd", '{"n_points":1000,"order":2}') == "fd"
    assert solver_label("fd", '{"n_points":2000,"order":2}') == "fd n_points=2000"


def test_summary_success_rate_counts_cases_with_every_state_ok():
    rows = []
    for seed in range(4):
        bad = "failed" if seed == 3 else "ok"
        rows += [
            _row(f"p{seed}", "nn-galerkin", seed, 0, 1.6, rel_error=10.0 ** -(seed + 5)),
            _row(
                f"p{seed}",
                "nn-galerkin",
                seed,
                1,
                6.4,
                status=bad,
                rel_error=math.nan if bad != "ok" else 1e-6,
            ),
        ]
    summary = summarize(_table(rows)).iloc[0]
    assert summary["cases"] == 4 and summary["ok_cases"] == 3 and summary["success_rate"] == 0.75
    assert summary["rel_error_min"] == 1e-8 and summary["rel_error_max"] == 1e-5  # NaN left out
    assert summary["states"] == 2 and summary["ok_by_state"] == [4, 3]
    assert summary["family"] == "neural-variational" and summary["cpu_mem_increase_mb"] == 40.0


def test_summary_puts_families_in_order_within_a_problem():
    rows = [
        _row("a", "pinn-fixed", 0, 0, 1.0),
        _row("b", "nn-galerkin", 0, 0, 1.0),
        _row("c", "fd", None, 0, 1.0),
    ]
    assert summarize(_table(rows))["family"].tolist() == ["classical", "pinn", "neural-variational"]


def test_a_case_is_ok_only_if_its_case_status_and_every_state_are():
    rows = [
        _row("c", "pinn-trainable", 0, 0, 1.0, case_status="failed"),
        _row("c", "pinn-trainable", 0, 1, 1.0, status="failed", case_status="failed"),
    ]
    summary = summarize(_table(rows)).iloc[0]
    assert summary["ok_cases"] == 0 and summary["ok_by_state"] == [1, 0]


def test_compare_flags_worse_errors_status_changes_and_missing_cases():
    a = _table(
        [
            _row("c1", "fd", None, 0, 1.0, rel_error=1e-6),
            _row("c2", "fd", None, 0, 1.0),
            _row("c3", "fd", None, 0, 1.0),
            _row("c4", "fd", None, 0, 1.0, rel_error=1e-15),
        ]
    )
    b = _table(
        [
            _row("c1", "fd", None, 0, 1.0, rel_error=1.05e-6),
            _row("c2", "fd", None, 0, 1.0, rel_error=2e-8),
            _row("c3", "fd", None, 0, 1.0, status="failed"),
            _row("c4", "fd", None, 0, 1.0, rel_error=5e-15),
        ]
    )
    deltas = compare_runs(a, b, Tolerances(rtol=0.1, atol=1e-12))
    worse = deltas[deltas["worse"]]
    assert set(zip(worse["case_id"], worse["metric"])) == {("c2", "rel_error"), ("c3", "status")}
    missing = compare_runs(a, b[b["case_id"] != "c1"])
    assert ("c1", "missing") in set(zip(missing["case_id"], missing["metric"]))
    # Wall time counts only when asked.
    slower = b.assign(wall_time_s=3.0)
    assert not compare_runs(a, slower).query("metric == 'wall_time_s'")["worse"].any()
    assert compare_runs(a, slower, Tolerances(time_rtol=0.5)).query("metric == 'wall_time_s'")["worse"].all()


@pytest.mark.parametrize(
    ("seed", "same_machine", "relative_change", "match"),
    [
        (None, True, 0.5 * CLASSICAL_RTOL, True),
        (None, True, 5 * CLASSICAL_RTOL, False),
        (0, True, 1e-16, False),  # seeded on the recorded machine: bit-identical or nothing
        (0, True, 0.0, True),
        (0, False, 0.5 * SEEDED_RTOL_ELSEWHERE, True),
        (0, False, 2 * SEEDED_RTOL_ELSEWHERE, False),
    ],
)
def test_reproduction_tolerances(seed, same_machine, relative_change, match):
    energy = 6.441881454362
    recorded = _table([_row("c", "nn-galerkin" if seed is not None else "fd", seed, 0, energy)])
    rerun = recorded.assign(energy=energy * (1 + relative_change))
    if relative_change == 1e-16:
        rerun = recorded.assign(energy=math.nextafter(energy, math.inf))
    assert reproduction_diff(recorded, rerun, same_machine)["match"].tolist() == [match]


def test_reproduction_sees_a_moved_wavefunction_when_the_energy_is_fixed():
    recorded = _table([_row("c", "pinn-fixed", 0, 1, 39.47841760435743)])
    moved = recorded.assign(l2_error=recorded["l2_error"] + 1e-9)
    diff = reproduction_diff(recorded, moved, same_machine=True)
    assert diff["rel_diff"].tolist() == [0.0] and not diff["match"].any()
    # Elsewhere a seeded solver may differ by up to SEEDED_RTOL_ELSEWHERE.
    assert reproduction_diff(recorded, moved, same_machine=False)["match"].all()


def test_reproduction_status_change_and_nan_energies():
    recorded = _table([_row("c", "fd", None, 0, math.nan, status="failed")])
    assert reproduction_diff(recorded, recorded.copy(), True)["match"].all()
    assert not reproduction_diff(recorded, recorded.assign(status="ok"), True)["match"].any()
    assert not reproduction_diff(recorded, recorded.assign(energy=1.0), True)["match"].any()


def test_compare_checks_each_state_status_and_the_case_memory_increase():
    a = _table([_row("c", "pinn-fixed", 0, 0, 1.0), _row("c", "pinn-fixed", 0, 1, 2.0)])
    b = a.assign(status=["ok", "failed"])
    worse = compare_runs(a, b).query("worse")
    assert list(zip(worse["state"], worse["metric"])) == [(1, "status")]
    grown = a.assign(cpu_mem_increase_mb=60.0, peak_rss_mb=900.0)
    deltas = compare_runs(a, grown, Tolerances(mem_rtol=0.2))
    assert set(deltas.query("worse")["metric"]) == {"cpu_mem_increase_mb"}  # the absolute peak never counts
    assert "peak_rss_mb" in set(deltas["metric"])
    tiny = _table([_row("t", "fd", None, 0, 1.0, cpu_mem_increase_mb=0.1)])
    noise = tiny.assign(cpu_mem_increase_mb=0.6)  # 6x, but under the 1 MB floor
    assert not compare_runs(tiny, noise, Tolerances(mem_rtol=0.1))["worse"].any()


def test_reproduction_compares_the_case_status_too():
    recorded = _table([_row("c", "fd", None, 0, 1.0, case_status="ok")])
    assert not reproduction_diff(recorded, recorded.assign(case_status="failed"), True)["match"].any()


def _case(case_id, solver, time, errors, seed=None, status="ok", options="{}"):
    return [
        _row(case_id, solver, seed, k, 1.0, rel_error=e, wall_time_s=time, status=status, options=options)
        for k, e in enumerate(errors)
    ]


def test_sensitivity_grids_need_exactly_two_varying_options():
    rows = []
    for seed in (0, 1):
        for weight in (1.0, 10.0):
            for energy in (5.0, 9.0):
                options = f'{{"norm_weight":{weight},"initial_energy":{energy},"adam_steps":50}}'
                ok = "ok" if weight == 10.0 and (seed == 0 or energy == 9.0) else "failed"
                error = 1e-3 * weight * energy * (seed + 1)
                rows += _case(f"c{seed}{weight}{energy}", "pinn-trainable", 1.0, [error], seed, ok, options)
    rows += _case("fd", "fd", 0.01, [1e-6])  # one configuration: no grid
    (grid,) = sensitivity_grids(_table(rows))
    assert (grid["solver"], grid["family"], grid["x"], grid["y"]) == (
        "pinn-trainable",
        "pinn",
        "norm_weight",
        "initial_energy",
    )
    assert grid["ok_fraction"].loc[9.0, 10.0] == 1.0 and grid["ok_fraction"].loc[5.0, 10.0] == 0.5
    assert grid["ok_fraction"].loc[5.0, 1.0] == 0.0
    assert grid["median_error"].loc[5.0, 1.0] == pytest.approx(1e-3 * 5 * 1.5)
    three = [
        {**r, "solver_options": r["solver_options"].replace('"adam_steps":50', f'"adam_steps":{i}')}
        for i, r in enumerate(rows)
    ]
    assert sensitivity_grids(_table(three)) == []  # three options vary: not a two-knob sweep


def test_a_grid_beside_one_knob_sweeps_of_the_same_solver_is_still_found():
    """As the sensitivity suite: weight x start grid, and learning-rate sweeps at one weight."""
    rows, n = [], 0
    for weight in (1.0, 100.0):
        for start in ("box", "exact-20%", "exact+20%"):
            options = f'{{"norm_weight":{weight},"initial_energy":"{start}","learning_rate":0.001}}'
            rows += _case(f"g{n}", "pinn-trainable", 1.0, [1e-3], 0, "ok", options)
            n += 1
    for rate in (3e-4, 3e-3):
        options = f'{{"norm_weight":100.0,"initial_energy":"box","learning_rate":{rate}}}'
        rows += _case(f"g{n}", "pinn-trainable", 1.0, [1e-3], 0, "failed", options)
        n += 1
    (grid,) = sensitivity_grids(_table(rows))
    assert (grid["x"], grid["y"], grid["fixed"]) == (
        "initial_energy",
        "norm_weight",
        {"learning_rate": 0.001},
    )
    assert list(grid["ok_fraction"].columns) == ["box", "exact-20%", "exact+20%"]  # the suite's order
    assert grid["ok_fraction"].to_numpy().tolist() == [[1.0] * 3, [1.0] * 3]

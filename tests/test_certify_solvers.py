"""The certificates are honest on every built-in problem and solver, in every dimension.

Every state a certificate calls ``ok`` must have the exact level inside its interval
(``bound_lo <= energy_ref <= bound_hi``) and a true relative error within the case's
tolerance. Small settings keep this cheap; the whole matrix runs with the slow tests and the
same check over every shipped run is ``benchmarks/certificate_honesty.py``.
"""

from __future__ import annotations

import math

import pytest

from qbench import solvers
from qbench.cases import Case
from qbench.harness.run import run_case

#: Small settings per solver: enough to train something, cheap enough for CI.
SMALL = {
    "fd": {"n_points": 200},
    "shooting": {"tol": 1e-8},
    "spectral": {"n_points": 81},
    "pyslise": {},
    "pinn": {"warm_steps": 100, "warm_lbfgs_iterations": 50, "lbfgs_iterations": 50, "n_points": 256},
    "pinn-residual-only": {"lbfgs_iterations": 100, "n_points": 256},
    "pinn-fixed": {"adam_steps": 200},
    "pinn-trainable": {"adam_steps": 200},
    "nn-galerkin": {"adam_steps": 100, "n_points": 256},
    "deepxde": {"adam_steps": 200, "lbfgs_steps": 50},
}

ONE_D = [
    ("infinite_well", {}),
    ("finite_well", {}),
    ("finite_barrier", {}),
    ("harmonic_oscillator", {}),
    ("poschl_teller", {}),
    ("double_well", {}),
    ("step_well", {}),
    ("kronig_penney", {}),
    ("potential", {"V": "x**2", "domain": [-8, 8]}),
]
MANY_D = [
    ("separable", {"parts": ["finite_well", "finite_well"]}, 3),
    ("harmonic_oscillator", {"dim": 2}, 3),
    ("circular_well", {}, 3),
    ("harmonic_oscillator", {"dim": 3}, 1),
]


def _options(solver: str) -> dict:
    spec = solvers.METHODS[solver].options
    return {k: v for k, v in SMALL.get(solver, {}).items() if k in spec}


def violations(rows: list[dict]) -> list[str]:
    """Every ``ok`` row whose interval misses the exact level or whose error exceeds its tolerance."""
    out = []
    for row in rows:
        if row["status"] != "ok":
            continue
        exact, lo, hi = row["energy_ref"], row["bound_lo"], row["bound_hi"]
        if not lo <= exact <= hi:
            out.append(f"state {row['state']}: exact {exact!r} outside [{lo!r}, {hi!r}]")
        if not row["rel_error"] <= row["tolerance"]:
            out.append(
                f"state {row['state']}: rel_error {row['rel_error']:.2e} > tolerance {row['tolerance']}"
            )
        if not row["verified_by"]:
            out.append(f"state {row['state']}: ok without verified_by")
    return out


def _run(problem: str, params: dict, solver: str, n_states: int = 3) -> list[dict]:
    if solver not in solvers.METHODS:
        pytest.skip(f"solver {solver} is not registered here")
    try:
        case = Case.resolve(problem, solver, params, _options(solver), n_states=n_states)
    except (ImportError, ValueError) as exc:
        pytest.skip(f"{solver} on {problem}: {exc}")
    return run_case(case, timing_budget_s=0.0)["rows"]


@pytest.mark.parametrize("solver", ["fd", "shooting", "spectral"])
@pytest.mark.parametrize("problem, params", ONE_D[:3])
def test_classical_1d_states_are_certified_ok_and_honest(problem, params, solver):
    rows = _run(problem, params, solver)
    assert violations(rows) == []
    assert [row["status"] for row in rows] == ["ok"] * 3, [row["message"] for row in rows]
    assert all(row["index_checked_by"] == "sturm count" for row in rows)


@pytest.mark.slow
@pytest.mark.parametrize(
    "solver",
    [
        "fd",
        "shooting",
        "spectral",
        "pyslise",
        "pinn",
        "pinn-residual-only",
        "pinn-fixed",
        "pinn-trainable",
        "nn-galerkin",
        "deepxde",
    ],
)
@pytest.mark.parametrize("problem, params", ONE_D)
def test_every_1d_ok_state_holds_the_exact_level(problem, params, solver):
    rows = _run(problem, params, solver)
    assert violations(rows) == []
    assert all(
        row["status"] != "ok"
        or not math.isnan(row["residual"])
        or row["verified_by"].startswith("a-posteriori")
        for row in rows
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "solver", ["fd", "spectral", "pinn", "pinn-residual-only", "nn-galerkin", "pinn-fixed", "pinn-trainable"]
)
@pytest.mark.parametrize("problem, params, n_states", MANY_D)
def test_every_many_d_ok_state_holds_the_exact_level(problem, params, n_states, solver):
    rows = _run(problem, params, solver, n_states)
    assert violations(rows) == []


@pytest.mark.slow
@pytest.mark.parametrize("solver, options", [("fd", {"n_points": 12}), ("spectral", {"n_points": 14})])
def test_4d_ok_states_hold_the_exact_level(solver, options):
    case = Case.resolve("harmonic_oscillator", solver, {"dim": 4}, options, n_states=1)
    rows = run_case(case, timing_budget_s=0.0)["rows"]
    assert violations(rows) == []
    # Coarse, so not ok at 1e-2; its interval must still hold the exact level.
    assert rows[0]["verified_by"] == "weinstein"
    assert rows[0]["bound_lo"] <= rows[0]["energy_ref"] <= rows[0]["bound_hi"]

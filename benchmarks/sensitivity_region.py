"""Where the reference paper's PINN converges: tables from a run of the ``sensitivity`` suite.

Run ``python benchmarks/sensitivity_region.py results/runs/<run_id> [more runs]``
after ``qbench run --suite sensitivity``. A run cut short (no results.parquet
yet) is read from its per-case records; several runs are merged (each case once).
For every grid cell (normalization weight x start of E for ``pinn-trainable``;
normalization weight for ``pinn-fixed``; learning rate; collocation points) it
prints, over seeds and per problem, the fraction of runs with status ``ok``, the
fraction that converged (status ok and relative ground-state energy error <=
``TOLERANCE``), and the median relative energy error and L2 wavefunction error.

asv imports every module here; all the work happens under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

TOLERANCE = 1e-2
KNOBS = ("norm_weight", "initial_energy", "learning_rate", "n_points")
E0_ORDER = ["box", "exact-50%", "exact-20%", "exact", "exact+20%", "exact+50%"]


def read_run(run: Path) -> pd.DataFrame:
    if (run / "results.parquet").exists():
        return pd.read_parquet(run / "results.parquet")
    records = [json.loads(path.read_text()) for path in sorted((run / "cases").glob("*.json"))]
    return pd.DataFrame([row for record in records for row in record["rows"]])


def load(runs: list[Path]) -> pd.DataFrame:
    import qbench

    rows = pd.concat([read_run(run) for run in runs], ignore_index=True)
    rows = rows.drop_duplicates(["case_id", "state"])
    rows = rows[rows.state == 0].copy()
    for solver in rows.solver.unique():
        defaults = qbench.solvers.get(solver).options
        mask = rows.solver == solver
        options = rows.loc[mask, "solver_options"].map(json.loads)
        for knob in KNOBS:
            rows.loc[mask, knob] = options.map(lambda o, k=knob, d=defaults: str(o.get(k, d.get(k, "-"))))
    rows["converged"] = (rows.status == "ok") & (rows.rel_error <= TOLERANCE)
    rows["ok"] = rows.status == "ok"
    return rows


def cells(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    table = rows.groupby(keys).agg(
        ok=("ok", "mean"),
        converged=("converged", "mean"),
        median_rel_err=("rel_error", "median"),
        median_l2=("l2_error", "median"),
        runs=("ok", "size"),
    )
    return table


def grid(rows: pd.DataFrame, value: str, problem: str | None = None) -> pd.DataFrame:
    if problem is not None:
        rows = rows[rows.problem == problem]
    table = rows.pivot_table(
        index="norm_weight",
        columns="initial_energy",
        values=value,
        aggfunc=("mean" if value in ("ok", "converged") else "median"),
    )
    table = table[[c for c in E0_ORDER if c in table.columns]]
    return table.sort_index(key=lambda s: s.astype(float))


def main() -> None:
    from bench_paper_pinn import show  # a sibling script; asv imports this module without running main

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("runs", type=Path, nargs="+", help="results/runs/<run_id> (one or more)")
    args = parser.parse_args()
    rows = load(args.runs)
    print(f"{len(rows)} ground-state rows; converged = status ok and rel. error <= {TOLERANCE:g}")
    seeds = rows.groupby("problem").seed.unique().map(lambda s: sorted(map(int, s)))
    print("seeds per problem:", seeds.to_dict())
    trainable = rows[rows.solver == "pinn-trainable"]
    default_lr = trainable.learning_rate.mode().iloc[0]
    default_points = trainable.n_points.mode().iloc[0]
    import qbench

    default_weight = str(qbench.solvers.get("pinn-trainable").options["norm_weight"])
    core = trainable[(trainable.learning_rate == default_lr) & (trainable.n_points == default_points)]
    for value in ("ok", "converged", "rel_error"):
        label = {
            "ok": "fraction status ok",
            "converged": "fraction converged",
            "rel_error": "median rel. error",
        }
        show(f"pinn-trainable, norm_weight x initial_energy, all problems: {label[value]}", grid(core, value))
    for problem in sorted(core.problem.unique()):
        show(f"pinn-trainable grid on {problem}: fraction converged", grid(core, "converged", problem))
        show(f"pinn-trainable grid on {problem}: median rel. error", grid(core, "rel_error", problem))
    show(
        "pinn-trainable grid cells per problem",
        cells(core, ["norm_weight", "initial_energy", "problem"]),
    )
    fixed = rows[rows.solver == "pinn-fixed"]
    if len(fixed):
        show(
            "pinn-fixed (E = exact E_0): by norm_weight and problem", cells(fixed, ["norm_weight", "problem"])
        )
    for knob in ("learning_rate", "n_points"):
        others = [k for k in ("learning_rate", "n_points") if k != knob]
        base = {"learning_rate": default_lr, "n_points": default_points}
        part = trainable[trainable[others[0]] == base[others[0]]]
        part = part[(part.initial_energy == "box") & (part.norm_weight == default_weight)]
        show(
            f"pinn-trainable, one-knob sweep of {knob} (E0 box rule, norm_weight {default_weight})",
            cells(part, [knob, "problem"]),
        )


if __name__ == "__main__":
    main()

"""Tables computed from stored runs: summaries, run-to-run deltas, reproduction checks.

Everything here reads DataFrames of the results schema and returns
DataFrames; nothing solves, prints or exits.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import problems, solvers

#: Relative energy tolerance of ``reproduce`` for deterministic (classical) solvers.
CLASSICAL_RTOL = 1e-12
#: Relative energy tolerance of ``reproduce`` for seeded solvers when the recorded machine or
#: libraries differ from this one, or the case ran on a GPU: different CPU kernels (AVX2 vs
#: AVX-512 paths of the same library) change the last bits of every step, and training carries
#: such differences forward. On the recorded CPU with the recorded libraries the check is exact.
SEEDED_RTOL_ELSEWHERE = 1e-6


def _non_defaults(params: str, defaults: dict[str, object]) -> str:
    values = json.loads(params) if isinstance(params, str) else dict(params)
    # Stored parameters went through JSON: a default tuple () comes back as the list [].
    defaults = {k: list(v) if isinstance(v, tuple) else v for k, v in defaults.items()}
    changed = [
        f"{k}={json.dumps(v, separators=(',', ':'))}"
        for k, v in values.items()
        if k not in defaults or defaults[k] is inspect.Parameter.empty or defaults[k] != v
    ]
    return " ".join(changed)


@functools.lru_cache(maxsize=4096)
def problem_label(name: str, params: str) -> str:
    """``finite_well`` or ``finite_well V0=50.0``: the name and the parameters that differ from defaults."""
    defaults = problems.parameters(name) if name in problems.PROBLEMS else {}
    return " ".join(filter(None, [name, _non_defaults(params, defaults)]))


@functools.lru_cache(maxsize=4096)
def solver_label(name: str, options: str) -> str:
    """``fd`` or ``fd n_points=2000``: the name and the options that differ from its defaults."""
    spec = solvers.METHODS[name].options if name in solvers.METHODS else {}
    return " ".join(filter(None, [name, _non_defaults(options, {k: o.default for k, o in spec.items()})]))


def with_family(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with a ``family`` and a ``case_status`` column, filled in where a table lacks them.

    Tables of this qbench have both; a hand-made or older table gets the family from the solver
    registry (``unknown`` for an unregistered name) and the state's status as the case's.
    """
    if "family" in results and "case_status" in results:
        return results
    out = results.copy()
    if "family" not in out:
        out["family"] = [solvers.family(n, unregistered="unknown") for n in out["solver"]]
    if "case_status" not in out:
        statuses = out.groupby("case_id", sort=False)["status"].agg(_case_status)
        out["case_status"] = out["case_id"].map(statuses)
    return out


def _case_status(statuses: pd.Series) -> str:
    bad = statuses[statuses != "ok"]
    return "ok" if bad.empty else str(bad.iloc[0])


def family_rank(family: str) -> int:
    """Order of a family in tables and figures: :data:`qbench.solvers.FAMILIES`, unknown ones last."""
    return solvers.FAMILIES.index(family) if family in solvers.FAMILIES else len(solvers.FAMILIES)


def with_labels(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with ``problem_label``, ``solver_label`` and ``family`` columns."""
    out = with_family(results).copy()
    out["problem_label"] = [problem_label(n, p) for n, p in zip(out["problem"], out["problem_params"])]
    out["solver_label"] = [solver_label(n, o) for n, o in zip(out["solver"], out["solver_options"])]
    return out


def per_case(results: pd.DataFrame, metric: str = "rel_error") -> pd.DataFrame:
    """One row per case: labels, family, seed, the worst ``metric`` over its states (NaN if any state
    has none), its wall time, ``states_ok`` (how many states are ok), ``n_states`` and ``ok`` (the
    case is ok: every state ok)."""
    labelled = with_labels(results)
    labelled["_state_ok"] = labelled["status"] == "ok"
    labelled["_case_ok"] = labelled["case_status"] == "ok"
    cases = labelled.groupby("case_id", sort=False).agg(
        problem_label=("problem_label", "first"),
        solver=("solver", "first"),
        family=("family", "first"),
        solver_label=("solver_label", "first"),
        solver_options=("solver_options", "first"),
        seed=("seed", "first"),
        worst=(metric, lambda s: s.max() if s.notna().all() else np.nan),
        wall_time_s=("wall_time_s", "first"),
        states_ok=("_state_ok", "sum"),
        n_states=("state", "size"),
        all_states_ok=("_state_ok", "all"),
        case_ok=("_case_ok", "all"),
    )
    cases["ok"] = cases["all_states_ok"] & cases["case_ok"]
    cases["states_ok"] = cases["states_ok"].astype(int)
    return cases.drop(columns=["all_states_ok", "case_ok"]).reset_index()


def memory_column(results: pd.DataFrame) -> str:
    """The headline CPU memory column: ``cpu_mem_increase_mb`` (hand-made old tables: ``peak_cpu_mem_mb``)."""
    return "cpu_mem_increase_mb" if "cpu_mem_increase_mb" in results else "peak_cpu_mem_mb"


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem x family x solver configuration: errors, time, memory and the success rates.

    A case succeeds when every one of its states has status ``ok`` (``ok_cases``,
    ``success_rate``); ``ok_by_state`` counts, for each state k, the cases whose state k is ok,
    so a PINN that learns state 0 in every seed but never all three states shows as such. Error
    statistics are over every graded state of every case (NaN energies of failed states are left
    out of them and counted as not ok instead); time and memory are per case, memory as the
    increase of the peak RSS over the case's start (``cpu_mem_increase_mb``) beside the absolute
    peak (``peak_rss_mb``).
    """
    if results.empty:
        return pd.DataFrame()
    labelled = with_labels(results)
    labelled["_ok"] = (labelled["status"] == "ok") & (labelled["case_status"] == "ok")
    mem = memory_column(labelled)
    rows = []
    groups = labelled.groupby(["problem_label", "family", "solver_label"], sort=False)
    for (problem, family, solver), group in groups:
        per_case_rows = group.groupby("case_id", sort=False)
        first = per_case_rows.first()
        ok = per_case_rows["_ok"].all()
        by_state = group.groupby("state")["status"].agg(lambda s: int((s == "ok").sum()))
        rows.append(
            {
                "problem": problem,
                "family": family,
                "solver": solver,
                "cases": len(first),
                "ok_cases": int(ok.sum()),
                "success_rate": float(ok.mean()),
                "ok_by_state": [int(v) for v in by_state.sort_index()],
                "states": int(group["state"].nunique()),
                "reference": _reference_kind(group),
                **_spread(group["rel_error"], "rel_error"),
                **_spread(group["l2_error"], "l2_error"),
                **_spread(first["wall_time_s"], "wall_time_s"),
                "cpu_mem_increase_mb": float(first[mem].median()),
                "peak_rss_mb": float(first["peak_rss_mb"].median()) if "peak_rss_mb" in first else math.nan,
                "peak_gpu_mem_mb": float(first["peak_gpu_mem_mb"].median()),
            }
        )
    summary = pd.DataFrame(rows)
    problem_order = {p: i for i, p in enumerate(dict.fromkeys(summary["problem"]))}
    order = sorted(
        range(len(summary)),
        key=lambda i: (problem_order[summary["problem"][i]], family_rank(summary["family"][i]), i),
    )
    return summary.iloc[order].reset_index(drop=True)


def _reference_kind(group: pd.DataFrame) -> str:
    """``exact``, or ``certified <= 2e-15`` with the largest stated bound: what graded these rows."""
    kinds = group["reference"].dropna().unique() if "reference" in group else ["exact"]
    kind = "/".join(sorted(kinds)) or "exact"
    if kind == "exact" or "reference_rel_bound" not in group:
        return kind
    return f"{kind} <= {group['reference_rel_bound'].max():.0e}"


def _spread(values: pd.Series, name: str) -> dict[str, float]:
    finite = values[np.isfinite(values.astype(float))]
    if finite.empty:
        return {f"{name}_median": math.nan, f"{name}_min": math.nan, f"{name}_max": math.nan}
    return {f"{name}_median": finite.median(), f"{name}_min": finite.min(), f"{name}_max": finite.max()}


#: Error levels drawn in the accuracy-versus-time figure and named in the findings (the verdict's
#: tolerances are :data:`qbench.verdict.TOLERANCES`).
THRESHOLDS = (1e-6, 1e-10)


#: At most this many heatmaps per problem and solver (the largest grids first).
MAX_GRIDS = 6


def sensitivity_grids(results: pd.DataFrame, metric: str = "rel_error") -> list[dict]:
    """Two-knob sweeps to draw as heatmaps, found in the data.

    For each problem and solver, the cases are split into configuration families: cases that
    agree on every option but two. A family whose two options, x and y, each take two values or
    more and cover their whole cross product (every x with every y) is a grid:
    ``{problem, solver, family, x, y, fixed, ok_fraction, median_error, cases}``. ``fixed`` holds
    the values of the solver's other options that vary elsewhere in the problem's cases (empty when
    nothing else varies); the two tables are indexed by y's values (rows) and x's (columns, the
    option with more values): the fraction of cases (seeds) whose every state is ok, and the median
    over cases of the worst ``metric`` over states (over graded cases; NaN where none was graded).
    Numeric values are sorted; others keep the order they first appear in (the suite's).
    """
    if results.empty:
        return []
    cases = per_case(results, metric=metric)
    grids = []
    for (problem, solver), group in cases.groupby(["problem_label", "solver"], sort=False):
        options = pd.DataFrame([json.loads(o) for o in group["solver_options"]], index=group.index)
        options = options.drop(columns=["seed"], errors="ignore").map(_hashable)
        varying = [c for c in options.columns if options[c].nunique(dropna=False) > 1]
        found = []
        for a, b in itertools.combinations(varying, 2):
            others = [c for c in varying if c not in (a, b)]
            subsets = options.groupby(others, sort=False, dropna=False) if others else [((), options)]
            for values, subset in subsets:
                pairs = set(zip(subset[a], subset[b]))
                n_a, n_b = subset[a].nunique(dropna=False), subset[b].nunique(dropna=False)
                if n_a < 2 or n_b < 2 or len(pairs) != n_a * n_b:
                    continue
                x, y = (a, b) if n_a >= n_b else (b, a)
                values = values if isinstance(values, tuple) else (values,)
                found.append(_grid(group.loc[subset.index], subset, x, y, dict(zip(others, values))))
        found.sort(key=lambda grid: -grid["ok_fraction"].size)
        for grid in found[:MAX_GRIDS]:
            grids.append({"problem": problem, "solver": solver, "family": group["family"].iloc[0], **grid})
    return grids


def _grid(cases: pd.DataFrame, options: pd.DataFrame, x: str, y: str, fixed: dict) -> dict:
    frame = cases.assign(_x=options[x], _y=options[y])
    columns, rows = _value_order(options[x]), _value_order(options[y])
    cells = frame.groupby(["_y", "_x"], sort=False)
    ok = cells["ok"].mean().unstack("_x").reindex(index=rows, columns=columns)
    error = cells["worst"].median().unstack("_x").reindex(index=rows, columns=columns)
    for table in (ok, error):
        table.index.name, table.columns.name = y, x
    return {"x": x, "y": y, "fixed": fixed, "ok_fraction": ok, "median_error": error, "cases": len(cases)}


def _value_order(values: pd.Series) -> list:
    unique = list(dict.fromkeys(values))
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in unique):
        return sorted(unique)
    return unique


def _hashable(value):
    return json.dumps(value) if isinstance(value, (list, dict)) else value


@dataclass(frozen=True)
class Tolerances:
    """When ``compare`` calls a metric worse: ``new > old * (1 + rtol) + atol``.

    Accuracy metrics (``rel_error``, ``l2_error``) use ``rtol`` and ``atol``
    (the floor keeps round-off-level errors, say 1e-14 vs 3e-14, from counting);
    wall time uses ``time_rtol``, and the case's CPU memory (``cpu_mem_increase_mb``, the increase
    of the peak RSS over the case's start) ``mem_rtol`` with a floor of ``mem_atol`` MB (a few
    pages of allocator noise in a case that allocates almost nothing do not count); ``None``:
    reported, never counted as worse. The absolute peak RSS is reported, never counted.
    """

    rtol: float = 0.1
    atol: float = 1e-12
    time_rtol: float | None = None
    mem_rtol: float | None = None
    mem_atol: float = 1.0


def compare_runs(a: pd.DataFrame, b: pd.DataFrame, tolerances: Tolerances = Tolerances()) -> pd.DataFrame:
    """Per case x state x metric: A's value, B's, the ratio, and whether B is worse beyond tolerance.

    Rows of A missing from B come back with metric ``missing`` and ``worse``
    True; a state whose status went from ok to anything else is metric
    ``status``, worse True (each state is compared on its own status).
    """
    keys = ["case_id", "state"]
    merged = with_labels(a).merge(b, on=keys, how="left", suffixes=("_a", "_b"), indicator=True)
    checks = {
        "rel_error": (tolerances.rtol, tolerances.atol),
        "l2_error": (tolerances.rtol, tolerances.atol),
        "wall_time_s": (tolerances.time_rtol, 0.0),
        "cpu_mem_increase_mb": (tolerances.mem_rtol, tolerances.mem_atol),
        "peak_rss_mb": (None, 0.0),
    }
    checks = {m: c for m, c in checks.items() if f"{m}_a" in merged and f"{m}_b" in merged}
    rows = []
    for _, row in merged.iterrows():
        base = {
            "case_id": row["case_id"],
            "problem": row["problem_label"],
            "solver": row["solver_label"],
            "seed": row["seed_a"],
            "state": row["state"],
        }
        if row["_merge"] == "left_only":
            rows.append(
                {**base, "metric": "missing", "a": math.nan, "b": math.nan, "ratio": math.nan, "worse": True}
            )
            continue
        if row["status_a"] != row["status_b"]:
            rows.append(
                {
                    **base,
                    "metric": "status",
                    "a": row["status_a"],
                    "b": row["status_b"],
                    "ratio": math.nan,
                    "worse": row["status_a"] == "ok",
                }
            )
        for metric, (rtol, atol) in checks.items():
            old, new = float(row[f"{metric}_a"]), float(row[f"{metric}_b"])
            worse = rtol is not None and _worse(old, new, rtol, atol)
            ratio = new / old if old not in (0.0,) and math.isfinite(old) else math.nan
            rows.append({**base, "metric": metric, "a": old, "b": new, "ratio": ratio, "worse": worse})
    return pd.DataFrame(rows)


def _worse(old: float, new: float, rtol: float, atol: float) -> bool:
    if math.isnan(new):
        return not math.isnan(old)
    if math.isnan(old):
        return False
    return new > old * (1.0 + rtol) + atol


def reproduction_diff(recorded: pd.DataFrame, rerun: pd.DataFrame, same_machine: bool) -> pd.DataFrame:
    """Recorded versus re-run energy, L2 error and status, one row per case x state, with ``match``.

    The status is the state's own and the case's: both must match.

    The energy is compared relative to itself, the L2 error of the
    wavefunction absolutely (it is measured in units of the normalized psi, so
    an absolute difference is already relative; and for a fixed-energy PINN
    it is the only number that training produces). Deterministic solvers must
    agree to :data:`CLASSICAL_RTOL`. Seeded solvers must be bit-identical on
    CPU when ``same_machine`` (same CPU model, torch and numpy), else agree to
    :data:`SEEDED_RTOL_ELSEWHERE`; GPU cases always use the latter.
    """
    recorded, rerun = with_family(recorded), with_family(rerun)
    merged = with_labels(recorded).merge(
        rerun[["case_id", "state", "energy", "l2_error", "status", "case_status"]],
        on=["case_id", "state"],
        how="left",
        suffixes=("_recorded", "_now"),
    )
    rows = []
    for _, row in merged.iterrows():
        seeded = not pd.isna(row["seed"])
        if not seeded:
            tolerance = CLASSICAL_RTOL
        elif same_machine and str(row["device"]).startswith("cpu"):
            tolerance = 0.0
        else:
            tolerance = SEEDED_RTOL_ELSEWHERE
        old, new = float(row["energy_recorded"]), float(row["energy_now"])
        rel_diff = _difference(old, new, scale=max(abs(old), np.finfo(float).tiny))
        l2_diff = _difference(float(row["l2_error_recorded"]), float(row["l2_error_now"]), scale=1.0)
        same_status = (
            row["status_recorded"] == row["status_now"]
            and row["case_status_recorded"] == row["case_status_now"]
        )
        rows.append(
            {
                "case_id": row["case_id"],
                "problem": row["problem_label"],
                "solver": row["solver_label"],
                "seed": row["seed"],
                "state": row["state"],
                "energy_recorded": old,
                "energy_now": new,
                "rel_diff": rel_diff,
                "l2_diff": l2_diff,
                "tolerance": tolerance,
                "status_recorded": row["status_recorded"],
                "status_now": row["status_now"],
                "match": bool(same_status and rel_diff <= tolerance and l2_diff <= tolerance),
            }
        )
    return pd.DataFrame(rows)


def _difference(old: float, new: float, scale: float) -> float:
    """``|new - old| / scale``; 0 when both are NaN, infinite when only one is."""
    if math.isnan(old) or math.isnan(new):
        return 0.0 if math.isnan(old) and math.isnan(new) else math.inf
    return abs(new - old) / scale

"""Tables computed from stored runs: summaries, run-to-run deltas, reproduction checks.

Everything here reads DataFrames of the results schema and returns
DataFrames; nothing solves, prints or exits.
"""

from __future__ import annotations

import inspect
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
    changed = [
        f"{k}={json.dumps(v, separators=(',', ':'))}"
        for k, v in values.items()
        if k not in defaults or defaults[k] is inspect.Parameter.empty or defaults[k] != v
    ]
    return " ".join(changed)


def problem_label(name: str, params: str) -> str:
    """``finite_well`` or ``finite_well V0=50.0``: the name and the parameters that differ from defaults."""
    defaults = problems.parameters(name) if name in problems.PROBLEMS else {}
    return " ".join(filter(None, [name, _non_defaults(params, defaults)]))


def solver_label(name: str, options: str) -> str:
    """``fd`` or ``fd n_points=2000``: the name and the options that differ from its defaults."""
    spec = solvers.METHODS[name].options if name in solvers.METHODS else {}
    return " ".join(filter(None, [name, _non_defaults(options, {k: o.default for k, o in spec.items()})]))


def with_labels(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with ``problem_label`` and ``solver_label`` columns."""
    out = results.copy()
    out["problem_label"] = [problem_label(n, p) for n, p in zip(out["problem"], out["problem_params"])]
    out["solver_label"] = [solver_label(n, o) for n, o in zip(out["solver"], out["solver_options"])]
    return out


def per_case(results: pd.DataFrame, metric: str = "rel_error") -> pd.DataFrame:
    """One row per case: labels, the worst ``metric`` over its states (NaN if any state has none),
    its wall time, and ``ok`` (every state has status ok)."""
    labelled = with_labels(results)
    cases = labelled.groupby("case_id", sort=False).agg(
        problem_label=("problem_label", "first"),
        solver=("solver", "first"),
        solver_label=("solver_label", "first"),
        worst=(metric, lambda s: s.max() if s.notna().all() else np.nan),
        wall_time_s=("wall_time_s", "first"),
        ok=("status", lambda s: bool((s == "ok").all())),
    )
    return cases.reset_index()


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem x solver configuration: spread of errors, time and memory, and the success rate.

    A case succeeds when every one of its states has status ``ok``; over
    seeds this is the success rate of a PINN variant. Error statistics are
    over every graded state of every case (NaN energies of failed states are
    left out of them and counted in ``ok_cases`` instead); time and memory are
    per case.
    """
    if results.empty:
        return pd.DataFrame()
    labelled = with_labels(results)
    rows = []
    for (problem, solver), group in labelled.groupby(["problem_label", "solver_label"], sort=False):
        per_case = group.groupby("case_id", sort=False)
        first = per_case.first()
        ok = per_case["status"].agg(lambda s: bool((s == "ok").all()))
        rows.append(
            {
                "problem": problem,
                "solver": solver,
                "cases": len(first),
                "ok_cases": int(ok.sum()),
                "success_rate": float(ok.mean()),
                "states": int(group["state"].nunique()),
                **_spread(group["rel_error"], "rel_error"),
                **_spread(group["l2_error"], "l2_error"),
                **_spread(first["wall_time_s"], "wall_time_s"),
                "peak_cpu_mem_mb": float(first["peak_cpu_mem_mb"].median()),
                "peak_gpu_mem_mb": float(first["peak_gpu_mem_mb"].median()),
            }
        )
    return pd.DataFrame(rows)


def _spread(values: pd.Series, name: str) -> dict[str, float]:
    finite = values[np.isfinite(values.astype(float))]
    if finite.empty:
        return {f"{name}_median": math.nan, f"{name}_min": math.nan, f"{name}_max": math.nan}
    return {f"{name}_median": finite.median(), f"{name}_min": finite.min(), f"{name}_max": finite.max()}


@dataclass(frozen=True)
class Tolerances:
    """When ``compare`` calls a metric worse: ``new > old * (1 + rtol) + atol``.

    Accuracy metrics (``rel_error``, ``l2_error``) use ``rtol`` and ``atol``
    (the floor keeps round-off-level errors, say 1e-14 vs 3e-14, from counting);
    wall time uses ``time_rtol`` and peak CPU memory ``mem_rtol`` (``None``:
    reported, never counted as worse).
    """

    rtol: float = 0.1
    atol: float = 1e-12
    time_rtol: float | None = None
    mem_rtol: float | None = None


def compare_runs(a: pd.DataFrame, b: pd.DataFrame, tolerances: Tolerances = Tolerances()) -> pd.DataFrame:
    """Per case x state x metric: A's value, B's, the ratio, and whether B is worse beyond tolerance.

    Rows of A missing from B come back with metric ``missing`` and ``worse``
    True; a status that went from ok to anything else is metric ``status``,
    worse True.
    """
    keys = ["case_id", "state"]
    merged = with_labels(a).merge(b, on=keys, how="left", suffixes=("_a", "_b"), indicator=True)
    checks = {
        "rel_error": (tolerances.rtol, tolerances.atol),
        "l2_error": (tolerances.rtol, tolerances.atol),
        "wall_time_s": (tolerances.time_rtol, 0.0),
        "peak_cpu_mem_mb": (tolerances.mem_rtol, 0.0),
    }
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

    The energy is compared relative to itself, the L2 error of the
    wavefunction absolutely (it is measured in units of the normalized psi, so
    an absolute difference is already relative; and for a fixed-energy PINN
    it is the only number that training produces). Deterministic solvers must
    agree to :data:`CLASSICAL_RTOL`. Seeded solvers must be bit-identical on
    CPU when ``same_machine`` (same CPU model, torch and numpy), else agree to
    :data:`SEEDED_RTOL_ELSEWHERE`; GPU cases always use the latter.
    """
    merged = with_labels(recorded).merge(
        rerun[["case_id", "state", "energy", "l2_error", "status"]],
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
        same_status = row["status_recorded"] == row["status_now"]
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

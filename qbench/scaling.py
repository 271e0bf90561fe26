"""The scaling study: what it costs each solver to reach a tolerance, against dimension.

A *series* is one problem followed across dimensions: ``harmonic_oscillator`` and
``coupled_oscillator`` (``dim`` = d), and a 1D problem next to ``separable`` problems whose
parts are all that problem (``finite_well`` in 1D, ``separable:parts=[finite_well] * d``).

**Time to a tolerance.** A case reaches a tolerance when every state is ``ok`` and its worst
relative energy error is at or below it. Its time to the tolerance is its wall time, or, for a
one-state case with a training history (``time_s`` and ``energy`` per row), the earliest
recorded time after which every recorded energy stays within the tolerance of the exact one
(:func:`history_times`): the history's timestamps, not a ladder of budgets.

**Expected cost per success.** Each setting (solver and options) is attempted once per seed; its
cost at a tolerance is the total time of its attempts (time to the tolerance for a success,
wall time for a failure) divided by its successes: the expected time spent per success. Per
series, dimension and family (or solver) the cheapest setting is kept; one that never succeeds
costs nothing finite, which the tables say. Configurations that read the exact answer
(:func:`qbench.verdict.reads_the_answer`) are left out.

**Growth** is fitted as ``log10(cost) = a + b d`` over the measured dimensions, with a bootstrap
interval over seeds (:func:`bootstrap_growth`). **Crossings** are only measured ones
(:func:`measured_crossings`): the dimensions at which the best neural method is cheaper than the
best classical one, and, between two measured dimensions where the order changes, the
dimension interpolated there. No fitted line is extended beyond the measured dimensions.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from .analysis import memory_column, per_case
from .verdict import reads_the_answer

#: The tolerances of the study's figure and tables (relative energy error).
TOLERANCES = (1e-3, 1e-6)
#: Cost metrics: column of the per-case table -> what it is.
METRICS = {"wall_time_s": "wall time (s)", "memory_mb": "memory increase (MB)"}


def series_label(problem: str, params: str | dict) -> str:
    """The series a case belongs to: the problem name, or for a ``separable`` problem whose parts
    are all one 1D problem (with the same parameters), that problem's name."""
    if problem != "separable":
        return problem
    parts = (json.loads(params) if isinstance(params, str) else params).get("parts", [])
    names = [p if isinstance(p, str) else json.dumps(p, sort_keys=True) for p in parts]
    if names and all(n == names[0] for n in names):
        return parts[0] if isinstance(parts[0], str) else parts[0].get("name", "separable")
    return "separable"


#: What a cost line follows: a solver family (``classical``, ``pinn``, ...) or one solver (``fd``).
GROUPINGS = ("family", "solver")


def history_times(
    results: pd.DataFrame, histories: pd.DataFrame | None, tolerances: tuple[float, ...] = TOLERANCES
) -> pd.DataFrame:
    """Per case (index) and tolerance (columns): when its training history reached the tolerance.

    Only one-state cases with ``time_s`` and ``energy`` in their history: the earliest recorded
    time after which every recorded energy is within the tolerance (relative) of the exact one,
    NaN where the history never settles there. Other cases have no row.
    """
    columns = list(tolerances)
    if histories is None or histories.empty or not {"time_s", "energy", "case_id"} <= set(histories):
        return pd.DataFrame(columns=columns, dtype=float)
    first = results.drop_duplicates("case_id").set_index("case_id")
    states = results.groupby("case_id")["state"].nunique()
    rows = {}
    for case_id, history in histories.groupby("case_id", sort=False):
        if case_id not in first.index or states.get(case_id, 0) != 1:
            continue
        history = history[history["time_s"].notna() & history["energy"].notna()].sort_values("time_s")
        if history.empty:
            continue
        exact = abs(float(first.at[case_id, "energy_ref"]))
        error = (history["energy"].to_numpy(float) - float(first.at[case_id, "energy_ref"])) / exact
        # The worst error from each row to the end: the row from which the history stays within.
        settled = np.maximum.accumulate(np.abs(error)[::-1])[::-1]
        times = history["time_s"].to_numpy(float)
        rows[case_id] = [
            float(times[np.argmax(settled <= tol)]) if np.any(settled <= tol) else math.nan
            for tol in tolerances
        ]
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns, dtype=float)


def case_costs(results: pd.DataFrame, by: str = "family") -> pd.DataFrame:
    """One row per case: series, dim, family, solver, worst relative error, ok, wall time, memory.

    With ``by="solver"`` the ``family`` column holds the solver's name instead, so that the
    functions below follow each solver (``fd`` apart from ``spectral``) rather than each family.
    Cases whose start or settings read the exact answer (:func:`~qbench.verdict.reads_the_answer`:
    ``pinn-fixed``, an ``exact+-P%`` start, the box start on an infinite well) are left out: they
    cannot say what it costs to *find* an energy to a tolerance."""
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}; got {by!r}")
    cases = per_case(results)
    if by == "solver":
        cases["family"] = cases["solver"]
    first = results.drop_duplicates("case_id").set_index("case_id")
    reads = [
        reads_the_answer(
            first.at[c, "solver"],
            first.at[c, "solver_options"],
            first.at[c, "problem"],
            first.at[c, "problem_params"],
        )
        for c in cases["case_id"]
    ]
    cases = cases[~np.asarray(reads, dtype=bool)].reset_index(drop=True)
    cases["dim"] = cases["case_id"].map(first["dim"] if "dim" in first else pd.Series(1, index=first.index))
    cases["dim"] = cases["dim"].fillna(1).astype(int)
    cases["series"] = [
        series_label(first.at[c, "problem"], first.at[c, "problem_params"]) for c in cases["case_id"]
    ]
    cases["memory_mb"] = cases["case_id"].map(first[memory_column(results)])
    return cases


def case_times(
    results: pd.DataFrame,
    histories: pd.DataFrame | None = None,
    tolerances: tuple[float, ...] = TOLERANCES,
    by: str = "family",
) -> pd.DataFrame:
    """:func:`case_costs` with, per tolerance, ``reached_<tol>`` and ``time_<tol>``: whether the case
    reached it, and its time to it (history time where there is one, else wall time)."""
    cases = case_costs(results, by)
    from_history = history_times(results, histories, tolerances)
    for tol in tolerances:
        reached = cases["ok"] & (cases["worst"] <= tol)
        recorded = cases["case_id"].map(from_history[tol]) if tol in from_history else np.nan
        time = np.fmin(pd.to_numeric(recorded, errors="coerce"), cases["wall_time_s"])
        cases[f"reached_{tol:g}"] = reached
        cases[f"time_{tol:g}"] = np.where(reached, time, np.nan)
    return cases


def expected_cost(times: np.ndarray, walls: np.ndarray, reached: np.ndarray) -> float:
    """Total time of the attempts (time to the tolerance where reached, else wall time) per success."""
    successes = int(np.sum(reached))
    if successes == 0:
        return math.inf
    return float(np.sum(np.where(reached, times, walls)) / successes)


def cost_to_reach(
    results: pd.DataFrame,
    tolerances: tuple[float, ...] = TOLERANCES,
    by: str = "family",
    histories: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per series, dim, family and tolerance: the expected time per success of the cheapest setting.

    Columns: ``wall_time_s`` (that cost; NaN where no setting succeeded), ``wall_time_s_by`` (the
    setting), ``attempts`` and ``successes`` of that setting, ``spread_lo``/``spread_hi`` (the
    least and largest time to the tolerance over its successful seeds), ``memory_mb`` (the least
    memory increase of a successful case) and ``memory_mb_by``, ``cases`` (attempts of the family
    there) and ``best_error`` (its least ok worst error). Families that never reach a tolerance
    at a dimension keep their rows, with NaN costs, so that the absence shows.
    """
    cases = case_times(results, histories, tolerances, by)
    rows = []
    for (series, dim, family), group in cases.groupby(["series", "dim", "family"], sort=True):
        for tol in tolerances:
            reached, times = group[f"reached_{tol:g}"], group[f"time_{tol:g}"]
            row: dict = {"series": series, "dim": dim, "family": family, "tolerance": tol}
            row.update(cases=len(group), wall_time_s=math.nan, wall_time_s_by="", attempts=0, successes=0)
            row.update(spread_lo=math.nan, spread_hi=math.nan, memory_mb=math.nan, memory_mb_by="")
            best = math.inf
            for label, setting in group.groupby("solver_label", sort=True):
                ok = reached[setting.index].to_numpy(bool)
                cost = expected_cost(
                    times[setting.index].to_numpy(float), setting["wall_time_s"].to_numpy(float), ok
                )
                if cost < best:
                    best = cost
                    done = times[setting.index][ok]
                    row.update(wall_time_s=cost, wall_time_s_by=str(label), attempts=len(setting))
                    row.update(
                        successes=int(ok.sum()), spread_lo=float(done.min()), spread_hi=float(done.max())
                    )
            memory = group[reached & group["memory_mb"].notna()]
            if not memory.empty:
                least = memory.loc[memory["memory_mb"].idxmin()]
                row.update(memory_mb=float(least["memory_mb"]), memory_mb_by=str(least["solver_label"]))
            row["best_error"] = (
                float(group.loc[group["ok"], "worst"].min()) if group["ok"].any() else math.nan
            )
            rows.append(row)
    return pd.DataFrame(rows)


def fit_growth(costs: pd.DataFrame, metric: str = "wall_time_s") -> pd.DataFrame:
    """Least-squares ``log10(cost) = intercept + slope * d`` per series, family and tolerance.

    Rows have ``slope`` (decades per dimension), ``intercept``, ``dims`` (the dimensions used)
    and ``points``; a fit needs costs at two dimensions at least (else NaN). Costs <= 0 (a memory
    increase too small to see) are left out of the fit."""
    rows = []
    for (series, family, tol), group in costs.groupby(["series", "family", "tolerance"], sort=True):
        usable = group[group[metric].notna() & (group[metric] > 0)]
        row = {"series": series, "family": family, "tolerance": tol, "metric": metric}
        row["dims"] = ",".join(str(d) for d in sorted(usable["dim"]))
        row["points"] = len(usable)
        if usable["dim"].nunique() >= 2:
            slope, intercept = np.polyfit(usable["dim"].astype(float), np.log10(usable[metric]), 1)
            row["slope"], row["intercept"] = float(slope), float(intercept)
        else:
            row["slope"], row["intercept"] = math.nan, math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def bootstrap_growth(
    results: pd.DataFrame,
    histories: pd.DataFrame | None = None,
    tolerances: tuple[float, ...] = TOLERANCES,
    by: str = "family",
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The growth slope of each series, family and tolerance with a bootstrap interval over seeds.

    Each resample draws, for every setting at every dimension, its attempts (seeds) with
    replacement, recomputes the expected cost per success and the cheapest setting per
    dimension, and refits the slope over the dimensions with a finite cost. The interval is the
    central ``confidence`` of the resampled slopes (``slope_lo``, ``slope_hi``); a family with one
    attempt per setting has an interval of zero width, which says its cost was measured once.
    """
    cases = case_times(results, histories, tolerances, by)
    rng = np.random.default_rng(seed)
    rows = []
    for (series, family), group in cases.groupby(["series", "family"], sort=True):
        for tol in tolerances:
            settings = [
                (
                    dim,
                    setting[f"time_{tol:g}"].to_numpy(float),
                    setting["wall_time_s"].to_numpy(float),
                    setting[f"reached_{tol:g}"].to_numpy(bool),
                )
                for (dim, _), setting in group.groupby(["dim", "solver_label"], sort=True)
            ]

            slope = _slope(settings, rng, draw=False)
            draws = (
                np.array([_slope(settings, rng, draw=True) for _ in range(resamples)])
                if math.isfinite(slope)
                else np.array([])
            )
            draws = draws[np.isfinite(draws)]
            tail = 50.0 * (1.0 - confidence)
            lo, hi = np.percentile(draws, [tail, 100.0 - tail]) if draws.size else (math.nan, math.nan)
            rows.append(
                {
                    "series": series,
                    "family": family,
                    "tolerance": tol,
                    "slope": slope,
                    "slope_lo": float(lo),
                    "slope_hi": float(hi),
                    "resamples": int(draws.size),
                }
            )
    return pd.DataFrame(rows)


def _slope(settings: list, rng: np.random.Generator, draw: bool) -> float:
    """The fitted slope of the cheapest setting's cost per dimension (attempts redrawn if ``draw``)."""
    best: dict[int, float] = {}
    for dim, times, walls, reached in settings:
        pick = rng.integers(0, len(times), len(times)) if draw else np.arange(len(times))
        best[dim] = min(best.get(dim, math.inf), expected_cost(times[pick], walls[pick], reached[pick]))
    finite = {d: c for d, c in best.items() if math.isfinite(c) and c > 0}
    if len(finite) < 2:
        return math.nan
    dims = sorted(finite)
    return float(np.polyfit(np.array(dims, dtype=float), np.log10([finite[d] for d in dims]), 1)[0])


#: Families on each side of a crossing.
NEURAL_FAMILIES = ("pinn", "neural-variational")
CLASSICAL_FAMILIES = ("classical",)


def measured_crossings(costs: pd.DataFrame) -> pd.DataFrame:
    """Per series and tolerance, where the best neural and the best classical cost change order.

    ``costs`` is :func:`cost_to_reach`'s table by family. At each measured dimension where
    either side has a finite cost: ``ratio`` = neural / classical (inf where only classical
    succeeded, 0 where only neural did). ``crossing_d`` is NaN unless the order changes between
    two consecutive measured dimensions, where it is interpolated in log(ratio) between them
    (never beyond the measured ones); ``neural_cheaper_at`` lists the dimensions where the neural
    side was cheaper.
    """
    rows = []
    for (series, tol), group in costs.groupby(["series", "tolerance"], sort=True):
        neural = group[group["family"].isin(NEURAL_FAMILIES)].groupby("dim")["wall_time_s"].min()
        classical = group[group["family"].isin(CLASSICAL_FAMILIES)].groupby("dim")["wall_time_s"].min()
        dims = sorted(set(neural.index) & set(classical.index))
        ratios = {}
        for d in dims:
            n, c = neural.get(d, math.nan), classical.get(d, math.nan)
            n = n if math.isfinite(n) else math.inf
            c = c if math.isfinite(c) else math.inf
            if math.isinf(n) and math.isinf(c):
                continue
            ratios[d] = 0.0 if math.isinf(c) else (math.inf if math.isinf(n) else n / c)
        measured = sorted(ratios)
        crossing = math.nan
        for d1, d2 in zip(measured[:-1], measured[1:]):
            r1, r2 = ratios[d1], ratios[d2]
            if (r1 < 1) != (r2 < 1):
                if 0 < r1 < math.inf and 0 < r2 < math.inf:
                    l1, l2 = math.log10(r1), math.log10(r2)
                    crossing = d1 + (d2 - d1) * l1 / (l1 - l2)
                else:  # one side never succeeded at one end: the crossing lies between them
                    crossing = 0.5 * (d1 + d2)
                break
        rows.append(
            {
                "series": series,
                "tolerance": tol,
                "dims": ",".join(str(d) for d in measured),
                "ratios": ",".join(
                    "inf" if math.isinf(r) else f"{r:.3g}" for r in (ratios[d] for d in measured)
                ),
                "neural_cheaper_at": ",".join(str(d) for d in measured if ratios[d] < 1),
                "crossing_d": crossing,
            }
        )
    return pd.DataFrame(rows)

"""The scaling study: what it costs each solver family to reach a tolerance, against dimension.

A *series* is one problem followed across dimensions: ``harmonic_oscillator``
(``dim`` = d), and a 1D problem next to ``separable`` problems whose parts are
all that problem (``finite_well`` in 1D, ``separable:parts=[finite_well] * d``).
For each series, dimension, family and tolerance, the cost is that of the
cheapest case of the family whose every state is ``ok`` with a relative energy
error at or below the tolerance (the worst over the case's states): the least
wall time and, separately, the least per-case memory increase. A family that
never reaches a tolerance at some d has no cost there, which the tables say.
Configurations that read the exact answer (``pinn-fixed``, ``energy="fixed"``; an
``exact+-P%`` start; the box start on an infinite well) are left out, as in the verdict
(:func:`qbench.verdict.reads_the_answer`): they were given the answer the tolerance measures.

Growth is fitted as ``log10(cost) = a + b d`` by least squares over the
dimensions where a family reached the tolerance; ``b`` is the growth exponent in
decades per dimension (a grid of n points per axis costs ~ n^d, so b ~ log10 n
for it). Two families' fitted lines cross at ``d* = (a1 - a2) / (b2 - b1)``.
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


def cost_to_reach(
    results: pd.DataFrame, tolerances: tuple[float, ...] = TOLERANCES, by: str = "family"
) -> pd.DataFrame:
    """Per series, dim, family and tolerance: the least wall time and least memory of an ok case
    reaching the tolerance, the solver label of each, and how many cases of the family were run.

    Families with no case reaching a tolerance at a dimension get NaN costs there (rows are kept
    so that the absence shows). ``by="solver"`` follows each solver instead of each family (the
    ``family`` column then holds solver names)."""
    cases = case_costs(results, by)
    rows = []
    for (series, dim, family), group in cases.groupby(["series", "dim", "family"], sort=True):
        for tol in tolerances:
            reached = group[group["ok"] & (group["worst"] <= tol)]
            row = {"series": series, "dim": dim, "family": family, "tolerance": tol, "cases": len(group)}
            for metric in METRICS:
                valid = reached[reached[metric].notna()]
                if valid.empty:
                    row[metric], row[f"{metric}_by"] = math.nan, ""
                else:
                    best = valid.loc[valid[metric].idxmin()]
                    row[metric], row[f"{metric}_by"] = float(best[metric]), str(best["solver_label"])
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


def crossovers(fits: pd.DataFrame, against: str = "classical") -> pd.DataFrame:
    """Where each family's fitted cost line meets the ``against`` family's, per series and tolerance.

    ``crossing_d`` is NaN for parallel lines; ``cheaper_beyond`` says which family the fits make
    cheaper for d above the crossing."""
    rows = []
    for (series, tol), group in fits.groupby(["series", "tolerance"], sort=True):
        base = group[group["family"] == against]
        if base.empty or base["slope"].isna().all():
            continue
        b = base.iloc[0]
        for _, other in group[group["family"] != against].iterrows():
            if math.isnan(other["slope"]):
                continue
            gap = other["slope"] - b["slope"]
            crossing = (b["intercept"] - other["intercept"]) / gap if gap != 0 else math.nan
            rows.append(
                {
                    "series": series,
                    "tolerance": tol,
                    "family": other["family"],
                    "slope": other["slope"],
                    f"{against}_slope": b["slope"],
                    "crossing_d": crossing,
                    "cheaper_beyond": other["family"] if gap < 0 else against,
                }
            )
    return pd.DataFrame(rows)

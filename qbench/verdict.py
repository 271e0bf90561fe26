"""The verdict of a stored run: expected cost per success to a tolerance, counting failures.

A *setting* is one problem, one solver and one set of options; its cases (one per seed, one for
a deterministic solver) are repeated *attempts*. An attempt *reaches* a tolerance tau when every
state of the case has status ``ok`` (``unverified`` and every other status count as not ok) and
its worst relative energy error over the states is <= tau. The expected cost per success of a
setting is the mean wall time per attempt divided by the fraction of attempts that reach tau
(McGreivy and Hakim, 2024: a lucky seed out of ten does not set the time; the nine others are
paid for). A method's entry on a problem is its setting of lowest expected cost.

A configuration whose settings read the exact answer (:func:`answer_source`) is counted
and kept out of the energy verdict. Everything here reads DataFrames of the results schema and
returns DataFrames; nothing solves or prints.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .analysis import family_rank, with_labels

#: Relative energy tolerances of the verdict.
TOLERANCES = (1e-2, 1e-6)
#: A seeded setting with fewer attempts than this is shown, flagged: its rate is barely a rate.
MIN_SEEDS = 3
#: Problems whose potential is zero inside the box: the ``"box"`` start of E is their exact energy.
EMPTY_BOX_PROBLEMS = ("infinite_well",)


def _options(options: str | Mapping | None) -> dict:
    if options is None or (isinstance(options, float) and math.isnan(options)):
        return {}
    return json.loads(options) if isinstance(options, str) else dict(options)


def _is_empty_box(problem: str, params: Mapping) -> bool:
    """True for the infinite well and for a separable problem all of whose parts are one."""
    if problem in EMPTY_BOX_PROBLEMS:
        return True
    if problem != "separable":
        return False
    parts = params.get("parts") or []
    names = [p if isinstance(p, str) else (p.get("name") or p.get("problem")) for p in parts]
    return bool(names) and all(str(n).split(":")[0] in EMPTY_BOX_PROBLEMS for n in names)


def answer_source(
    solver: str, options: str | Mapping | None, problem: str, problem_params: str | Mapping | None = None
) -> str | None:
    """How a configuration's start or settings read the exact answer, or ``None`` when they do not.

    Parameters
    ----------
    solver
        The solver's registered name (``pinn-trainable``).
    options
        Its options, as stored (a JSON object) or as a mapping; stored tables hold every option.
    problem
        The problem's registered name.
    problem_params
        The problem's parameters (JSON or mapping); needed for ``separable``.

    Returns
    -------
    str or None
        ``"E held at the exact value"`` for ``energy="fixed"`` (``pinn-fixed``);
        ``"E started at exact+5%"`` for an ``initial_energy`` ``"exact..."``;
        ``"box start = exact E"`` for a trainable E started at ``"box"`` on a problem whose
        potential is zero inside the box (the infinite well, and separable sums of it), where the
        box rule min V + ((k+1) pi / L)^2 is the exact level. ``None`` otherwise.
    """
    values = _options(options)
    energy = values.get("energy")
    if energy is None and solver == "pinn-fixed":
        energy = "fixed"
    if energy is None and solver == "pinn-trainable":
        energy = "trainable"
    if energy == "fixed":
        return "E held at the exact value"
    if energy != "trainable":
        return None
    start = values.get("initial_energy", "box")
    if isinstance(start, str) and start.replace(" ", "").startswith("exact"):
        return f"E started at {start.replace(' ', '')}"
    if start == "box" and _is_empty_box(problem, _options(problem_params)):
        return "box start = exact E"
    return None


def reads_the_answer(
    solver: str, options: str | Mapping | None, problem: str, problem_params: str | Mapping | None = None
) -> bool:
    """True when :func:`answer_source` finds that the configuration reads the exact answer."""
    return answer_source(solver, options, problem, problem_params) is not None


def expected_cost(times: np.ndarray | list[float], successes: np.ndarray | list[bool]) -> float:
    """Mean time per attempt over the fraction of attempts that succeed; ``inf`` when none does.

    Parameters
    ----------
    times
        Wall time of each attempt (s).
    successes
        Whether each attempt succeeded.

    Returns
    -------
    float
        ``mean(times) / (k / n)`` for k successes out of n attempts (``inf`` for k = 0, NaN for
        n = 0).
    """
    times = np.asarray(times, dtype=float)
    successes = np.asarray(successes, dtype=bool)
    if times.size == 0:
        return math.nan
    k = int(successes.sum())
    return math.inf if k == 0 else float(times.mean() / (k / times.size))


def attempts(results: pd.DataFrame) -> pd.DataFrame:
    """One row per case (an attempt): its setting, seed, time, worst error, ok and certification.

    ``ok`` is every state's status and the case's status ``ok``; ``worst`` the largest
    ``rel_error`` over the states (NaN if any state has none); ``certified`` True when every state
    is ok and names a certificate in ``verified_by``, NaN when the table has no such column (a run
    that predates certificates); ``time_lo``/``time_hi`` the timing repeats' extremes where the
    table has them.
    """
    labelled = with_labels(results)
    labelled["_ok"] = (labelled["status"] == "ok") & (labelled["case_status"] == "ok")
    has_certificates = "verified_by" in labelled
    if has_certificates:
        named = labelled["verified_by"].notna() & (labelled["verified_by"].astype(str).str.strip() != "")
        labelled["_certified"] = labelled["_ok"] & named
    grouped = labelled.groupby("case_id", sort=False)
    first = grouped.first()
    cases = pd.DataFrame(
        {
            "problem": first["problem"],
            "problem_params": first["problem_params"],
            "problem_label": first["problem_label"],
            "solver": first["solver"],
            "family": first["family"],
            "solver_label": first["solver_label"],
            "solver_options": first["solver_options"],
            "seed": first["seed"] if "seed" in first else pd.NA,
            "wall_time_s": first["wall_time_s"].astype(float),
            "time_lo": first["wall_time_min_s"] if "wall_time_min_s" in first else first["wall_time_s"],
            "time_hi": first["wall_time_max_s"] if "wall_time_max_s" in first else first["wall_time_s"],
            "worst": grouped["rel_error"].agg(lambda s: s.max() if s.notna().all() else np.nan),
            "ok": grouped["_ok"].all(),
            "certified": grouped["_certified"].all() if has_certificates else np.nan,
        }
    )
    columns = ("solver", "solver_options", "problem", "problem_params")
    cases["reads_answer"] = [answer_source(*values) for values in zip(*(cases[c] for c in columns))]
    return cases.reset_index()


def settings(results: pd.DataFrame, tolerances: tuple[float, ...] = TOLERANCES) -> pd.DataFrame:
    """Per problem x solver x options: the attempts and, for each tolerance, the expected cost.

    Columns: ``problem_label``, ``solver``, ``family``, ``solver_label``, ``reads_answer``,
    ``attempts`` (n), ``seeded``, ``ok``, ``certified`` (NaN without certificates),
    ``median_time_s``, ``time_lo``, ``time_hi`` (over seeds; a deterministic setting's one
    attempt: over its timing repeats), ``median_error`` (median over attempts of the worst-state
    error, an attempt not ok counting as infinite), and per tolerance ``reached_<t>`` (k) and
    ``cost_<t>`` (expected cost per success, ``inf`` for k = 0).
    """
    cases = attempts(results)
    rows = []
    keys = ["problem_label", "solver", "solver_label"]
    for (problem, solver, label), group in cases.groupby(keys, sort=False):
        graded = group["worst"].where(group["ok"], np.inf).fillna(np.inf)
        seeded = bool(group["seed"].notna().any())
        single = len(group) == 1
        row = {
            "problem_label": problem,
            "solver": solver,
            "family": group["family"].iloc[0],
            "solver_label": label,
            "reads_answer": group["reads_answer"].iloc[0],
            "attempts": len(group),
            "seeded": seeded,
            "ok": int(group["ok"].sum()),
            "certified": float(group["certified"].sum()) if group["certified"].notna().all() else np.nan,
            "median_time_s": float(group["wall_time_s"].median()),
            "time_lo": float(group["time_lo"].min() if single else group["wall_time_s"].min()),
            "time_hi": float(group["time_hi"].max() if single else group["wall_time_s"].max()),
            "median_error": float(np.median(graded)),
        }
        for t in tolerances:
            success = (graded <= t).to_numpy()
            row[f"reached_{t:g}"] = int(success.sum())
            row[f"cost_{t:g}"] = expected_cost(group["wall_time_s"].to_numpy(), success)
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(results: pd.DataFrame, tolerances: tuple[float, ...] = TOLERANCES) -> pd.DataFrame:
    """Per problem x method: best error and the expected cost per success to each tolerance.

    For each tolerance t the method's setting of lowest expected cost per success is chosen
    (ties: the higher success rate): ``cost_<t>`` (``inf``: no attempt of any setting reached t),
    ``reached_<t>`` and ``attempts_<t>`` (k of n, of that setting; for ``inf``, 0 of all the
    method's attempts), ``time_lo_<t>``/``time_hi_<t>`` (time per attempt over its seeds),
    ``few_seeds_<t>`` (a seeded setting of fewer than :data:`MIN_SEEDS` attempts),
    ``setting_<t>`` (its label) and ``ratio_<t>`` (its cost over the lowest classical cost to t
    on the problem; NaN when either is infinite). ``best_error`` is the lowest median over
    seeds of the worst-state error (an attempt not ok counts as infinite) over the settings,
    ``best_setting`` the setting; ``certified``/``cases``: the method's cases whose every state
    is certified (NaN without certificates). ``reads_answer`` names how a method reads the exact
    answer (its every setting does); such a method is counted, its costs and errors left NaN.
    """
    table = settings(results, tolerances) if not results.empty else pd.DataFrame()
    rows = []
    if table.empty:
        return pd.DataFrame(rows)
    for problem, by_problem in table.groupby("problem_label", sort=False):
        honest = by_problem[by_problem["reads_answer"].isna()]
        classical = {
            t: honest.loc[honest["family"] == "classical", f"cost_{t:g}"].min() if len(honest) else math.inf
            for t in tolerances
        }
        methods = sorted(
            by_problem["solver"].unique(),
            key=lambda s: (family_rank(by_problem.loc[by_problem["solver"] == s, "family"].iloc[0]),),
        )
        for solver in methods:
            group = by_problem[by_problem["solver"] == solver]
            ranked = group[group["reads_answer"].isna()]
            read = group.loc[group["reads_answer"].notna(), "reads_answer"]
            row = {
                "problem": problem,
                "method": solver,
                "family": group["family"].iloc[0],
                "settings": len(group),
                "cases": int(group["attempts"].sum()),
                "ok_cases": int(group["ok"].sum()),
                "certified": float(group["certified"].sum()) if group["certified"].notna().all() else np.nan,
                "reads_answer": "; ".join(dict.fromkeys(read)) if ranked.empty else None,
                "reads_answer_cases": int(group.loc[group["reads_answer"].notna(), "attempts"].sum()),
                "best_error": math.nan,
                "best_setting": None,
            }
            finite = ranked[np.isfinite(ranked["median_error"])]
            if not finite.empty:
                best = finite.sort_values(["median_error", "median_time_s"], kind="stable").iloc[0]
                row["best_error"], row["best_setting"] = float(best["median_error"]), best["solver_label"]
            for t in tolerances:
                row.update(_choice(ranked, t, classical[t]))
            rows.append(row)
    return pd.DataFrame(rows)


def _choice(ranked: pd.DataFrame, t: float, classical: float) -> dict:
    """The setting of lowest expected cost to ``t`` among ``ranked`` and its figures."""
    key = f"{t:g}"
    if ranked.empty:
        return {
            f"cost_{key}": math.nan,
            f"reached_{key}": 0,
            f"attempts_{key}": 0,
            f"time_lo_{key}": math.nan,
            f"time_hi_{key}": math.nan,
            f"few_seeds_{key}": False,
            f"setting_{key}": None,
            f"ratio_{key}": math.nan,
        }
    rate = ranked[f"reached_{key}"] / ranked["attempts"]
    order = ranked.assign(_rate=-rate).sort_values([f"cost_{key}", "_rate"], kind="stable")
    best = order.iloc[0]
    cost = float(best[f"cost_{key}"])
    if not np.isfinite(cost):
        seeded = bool(ranked["seeded"].any())
        return {
            f"cost_{key}": math.inf,
            f"reached_{key}": 0,
            f"attempts_{key}": int(ranked["attempts"].sum()),
            f"time_lo_{key}": math.nan,
            f"time_hi_{key}": math.nan,
            f"few_seeds_{key}": seeded and int(ranked["attempts"].max()) < MIN_SEEDS,
            f"setting_{key}": None,
            f"ratio_{key}": math.nan,
        }
    finite_classical = classical is not None and np.isfinite(classical) and classical > 0
    return {
        f"cost_{key}": cost,
        f"reached_{key}": int(best[f"reached_{key}"]),
        f"attempts_{key}": int(best["attempts"]),
        f"time_lo_{key}": float(best["time_lo"]),
        f"time_hi_{key}": float(best["time_hi"]),
        f"few_seeds_{key}": bool(best["seeded"]) and int(best["attempts"]) < MIN_SEEDS,
        f"setting_{key}": best["solver_label"],
        f"ratio_{key}": cost / classical if finite_classical else math.nan,
    }

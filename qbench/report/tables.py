"""The report's tables and findings, computed from a stored run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import THRESHOLDS, per_case, summarize, with_labels
from ..verdict import MIN_SEEDS, TOLERANCES, attempts, verdict

MISSING = "—"  # a cell with no number: the case failed or was never run


def _cell(value: float, digits: int = 1) -> str:
    return MISSING if value is None or not np.isfinite(value) else f"{value:.{digits}e}"


def _states_ok(counts: list[int], cases: int) -> str:
    """``10/10, 7/10, 0/10``: for each state, the cases (seeds) in which it is ok."""
    return ", ".join(f"{c}/{cases}" for c in counts)


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem (and its dimension) x family x solver: what graded it (``exact``, or ``certified``
    with its bound), cases ok (every state, and state by state), median [min, max] of the errors,
    median wall time, the case's CPU memory (increase over its start, and the absolute peak RSS) and
    peak GPU memory."""
    summary = summarize(results)
    if summary.empty:
        return summary

    def spread(name: str) -> list[str]:
        cells = []
        for median, low, high in summary[[f"{name}_median", f"{name}_min", f"{name}_max"]].to_numpy():
            cells.append(MISSING if not np.isfinite(median) else f"{median:.1e} [{low:.1e}, {high:.1e}]")
        return cells

    dims = problem_dims(results)
    return pd.DataFrame(
        {
            "problem": summary["problem"],
            "dim": [dims.get(p, 1) for p in summary["problem"]],
            "family": summary["family"],
            "solver": summary["solver"],
            "reference": summary["reference"],
            "cases ok (all states)": [f"{o}/{n}" for o, n in zip(summary["ok_cases"], summary["cases"])],
            "ok per state": [_states_ok(c, n) for c, n in zip(summary["ok_by_state"], summary["cases"])],
            "rel. energy error, median [min, max]": spread("rel_error"),
            "L2 error, median [min, max]": spread("l2_error"),
            "wall time (s), median": [_cell(v, 2) for v in summary["wall_time_s_median"]],
            "CPU memory increase (MB)": [_mb(v) for v in summary["cpu_mem_increase_mb"]],
            "peak RSS (MB)": [_mb(v, 0) for v in summary["peak_rss_mb"]],
            "peak GPU memory (MB)": [_cell(v) for v in summary["peak_gpu_mem_mb"]],
        }
    )


def problem_dims(results: pd.DataFrame) -> dict[str, int]:
    """Each problem label's dimension (``dim`` column; 1 for a table without one: 1D only then)."""
    if "dim" not in results:
        return {}
    labelled = with_labels(results).drop_duplicates("problem_label")
    return {label: int(dim) for label, dim in zip(labelled["problem_label"], labelled["dim"])}


def _mb(value: float, digits: int = 1) -> str:
    return MISSING if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


#: Families whose methods are trained from a seed: their success over seeds gets its own table.
TRAINED = ("pinn", "neural-variational")


def success_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per trained configuration (families ``pinn`` and ``neural-variational``) and problem: the seeds
    whose every state is ok, each state's success over seeds, and what went wrong otherwise."""
    cases = per_case(results)
    trained = cases[cases["family"].isin(TRAINED)]
    rows = []
    summary = summarize(results)
    summary = summary[summary["family"].isin(TRAINED)]
    for _, entry in summary.iterrows():
        group = trained[
            (trained["problem_label"] == entry["problem"]) & (trained["solver_label"] == entry["solver"])
        ]
        statuses = results.loc[results["case_id"].isin(group["case_id"])]
        case_status = statuses.drop_duplicates("case_id")[
            "case_status" if "case_status" in statuses else "status"
        ]
        counts = case_status.value_counts()
        n = int(entry["cases"])
        rows.append(
            {
                "problem": entry["problem"],
                "family": entry["family"],
                "variant": entry["solver"],
                "seeds": n,
                "success": success_sentence(entry["ok_by_state"], int(entry["ok_cases"]), n),
                "not ok": ", ".join(f"{k} {v}" for k, v in counts.items() if k != "ok") or "none",
            }
        )
    return pd.DataFrame(rows)


def success_sentence(ok_by_state: list[int], ok_cases: int, cases: int) -> str:
    """``state 0 ok in 10/10 seeds, state 1 in 7/10; all 3 states in 0/10``."""
    if not ok_by_state:
        return f"ok in {ok_cases}/{cases} seeds"
    parts = [f"state 0 ok in {ok_by_state[0]}/{cases} seeds"]
    parts += [f"state {k} in {c}/{cases}" for k, c in enumerate(ok_by_state[1:], start=1)]
    text = ", ".join(parts)
    if len(ok_by_state) > 1:
        text += f"; all {len(ok_by_state)} states in {ok_cases}/{cases}"
    return text


def not_ok_table(results: pd.DataFrame) -> pd.DataFrame:
    """Every case that is not ok, with its status, message and the states that are not ok."""
    labelled = with_labels(results)
    bad_ids = labelled.loc[
        (labelled["status"] != "ok") | (labelled["case_status"] != "ok"), "case_id"
    ].unique()
    rows = []
    for case_id in bad_ids:
        group = labelled[labelled["case_id"] == case_id]
        first = group.iloc[0]
        states = group[group["status"] != "ok"]
        rows.append(
            {
                "problem": first["problem_label"],
                "family": first["family"],
                "solver": first["solver_label"],
                "seed": MISSING if pd.isna(first["seed"]) else str(first["seed"]),
                "status": first["case_status"],
                "states not ok": ", ".join(f"{s['state']} ({s['status']})" for _, s in states.iterrows())
                or "none",
                "message": first.get("case_message", first["message"]),
            }
        )
    return pd.DataFrame(
        rows, columns=["problem", "family", "solver", "seed", "status", "states not ok", "message"]
    )


def _gpu_text(gpu: dict) -> str:
    if gpu.get("available") is None and "available" in gpu:  # recorded by a process without torch
        return "not inspected (torch not loaded)"
    return f"{gpu.get('name')} (CUDA {gpu.get('cuda_version')})" if gpu.get("available") else "none"


def provenance_table(provenance: dict) -> pd.DataFrame:
    env = provenance.get("environment", {})
    git = env.get("git", {})
    packages = env.get("packages", {})
    gpu = env.get("gpu", {})
    items = [
        ("run", provenance.get("run_id")),
        ("suite", (provenance.get("suite") or {}).get("name")),
        ("status", provenance.get("status")),
        ("command", " ".join(provenance.get("command_line", []))),
        ("started / ended (UTC)", f"{provenance.get('start_time')} / {provenance.get('end_time')}"),
        (
            "qbench, commit",
            f"{env.get('qbench_version')}, {git.get('commit')}{' (dirty)' if git.get('dirty') else ''}",
        ),
        (
            "Python, torch, numpy, scipy, pandas",
            ", ".join(
                str(v)
                for v in (
                    env.get("python"),
                    env.get("torch_build"),
                    packages.get("numpy"),
                    packages.get("scipy"),
                    packages.get("pandas"),
                )
            ),
        ),
        ("CPU", f"{env.get('cpu_model')} x {env.get('cpu_count')}"),
        ("GPU", _gpu_text(gpu)),
        ("seeds", ", ".join(map(str, provenance.get("seeds", []))) or "none (deterministic solvers only)"),
        ("CPU memory measure", env.get("cpu_memory_measure")),
    ]
    return pd.DataFrame(items, columns=["item", "value"])


def seconds_text(value: float) -> str:
    """A wall time in the unit that suits it: ``820 µs``, ``1.6 ms``, ``12 s``, ``1,234 s``."""
    for scale, unit in ((1e-3, "µs"), (1.0, "ms")):
        if value < scale:
            scaled = value / scale * 1e3
            return f"{scaled:.2g} {unit}" if scaled < 100 else f"{scaled:.0f} {unit}"
    return f"{value:.2g} s" if value < 100 else f"{value:,.0f} s"


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.2g}x"


def _cost_cell(row: pd.Series, t: float, refs: dict[str, int]) -> str:
    """``6.0 s (1/3; 1.0 s-3.0 s) [2]``, ``never (0/3)``, or ``—`` (reads the answer)."""
    key = f"{t:g}"
    flag = "†" if row[f"few_seeds_{key}"] else ""
    cost = row[f"cost_{key}"]
    if not isinstance(cost, float) or np.isnan(cost):
        return MISSING
    if not np.isfinite(cost):
        return f"never (0/{row[f'attempts_{key}']}{flag})"
    setting = row[f"setting_{key}"]
    ref = refs.setdefault(setting, len(refs) + 1)
    low, high = row[f"time_lo_{key}"], row[f"time_hi_{key}"]
    spread = f"; {seconds_text(low)}-{seconds_text(high)}" if np.isfinite(low) and high > low else ""
    return f"{seconds_text(cost)} ({row[f'reached_{key}']}/{row[f'attempts_{key}']}{flag}{spread}) [{ref}]"


def _versus_classical(row: pd.Series, t: float) -> str:
    ratio = row[f"ratio_{t:g}"]
    if row["family"] == "classical" or not np.isfinite(ratio):
        return MISSING
    return _ratio(ratio)


def verdict_table(
    results: pd.DataFrame, tolerances: tuple[float, ...] = TOLERANCES
) -> tuple[pd.DataFrame, list[str]]:
    """The verdict per problem and method, and its footnotes (definitions and settings).

    Returns
    -------
    table
        Per problem x method: the best median error, the expected cost per success to each
        tolerance with its success rate and seed spread, the ratio to the strongest classical
        method at the same tolerance, and the certified cases.
    notes
        What the numbers mean, the flags, the methods that read the answer, and the settings
        each cost refers to (``[n]``).
    """
    table = verdict(results, tolerances)
    if table.empty:
        return pd.DataFrame(), []
    refs: dict[str, int] = {}
    certificates = "verified_by" in results
    out = {
        "problem": table["problem"],
        "method": table["method"],
        "family": table["family"],
        "best error (median over seeds)": [
            f"reads the answer ({r['reads_answer']})"
            if isinstance(r["reads_answer"], str)
            else _cell(r["best_error"])
            for _, r in table.iterrows()
        ],
    }
    for t in tolerances:
        out[f"expected time to {t:.0e}"] = [_cost_cell(r, t, refs) for _, r in table.iterrows()]
        out[f"x strongest classical, {t:.0e}"] = [_versus_classical(r, t) for _, r in table.iterrows()]
    out["certified"] = [
        f"{int(c)}/{n}" if certificates and np.isfinite(c) else "n/a"
        for c, n in zip(table["certified"], table["cases"])
    ]
    notes = verdict_notes(table, certificates, tolerances)
    notes += [f"[{n}] {setting}" for setting, n in refs.items()]
    return pd.DataFrame(out), notes


def verdict_notes(
    table: pd.DataFrame, certificates: bool, tolerances: tuple[float, ...] = TOLERANCES
) -> list[str]:
    """The verdict's definitions, in the order a reader needs them, for the table of :func:`verdict`."""
    levels = " and ".join(f"{t:.0e}" for t in tolerances)
    notes = [
        "Estimator: the `energy` column, each solver's returned energy; error = |E - E_exact| / |E_exact|, "
        "the worst over a case's states (the Rayleigh quotient's error is the `rq_rel_error` column "
        "where a run has it).",
        f"An attempt (one seed; one run of a deterministic solver) reaches a tolerance ({levels}) when every "
        "state has status `ok` (`unverified` and every other status count as not ok) and the error is "
        "<= the tolerance.",
        "Expected time = mean wall time per attempt / fraction of attempts that reach the tolerance; "
        "(k/n; a-b): k of n attempts reached it, time per attempt from a to b over the seeds (a "
        "deterministic solver: over its timing repeats; no range where there is one time); never "
        "(0/n): no attempt reached it. Each setting (resolution, budget) of a method is its own "
        "family of attempts; a method's entry is its setting of lowest expected time, named by [n].",
        f"†: a seeded setting of fewer than {MIN_SEEDS} seeds; its success rate is shown, not established.",
        "x strongest classical: the expected time over that of the fastest classical method to the "
        "same tolerance on the same problem (equal accuracy).",
        "Best error: the lowest, over a method's settings, of the median over seeds of the error "
        "(a seed not ok counts as infinitely wrong).",
    ]
    read = table[table["reads_answer_cases"] > 0]
    if not read.empty:
        listed = "; ".join(
            f"{r['method']} on {r['problem']}: {r['reads_answer_cases']} case(s)" for _, r in read.iterrows()
        )
        notes.append(
            "Counted, not ranked by energy: settings that read the exact answer (E held at the exact "
            "value, E started at exact+-P%, or the box start where it equals the exact energy): "
            + listed
            + "."
        )
    if certificates:
        notes.append("Certified: cases whose every state is ok and names a certificate (`verified_by`).")
    else:
        notes.append(
            "Certified: n/a; this run predates per-state certificates (no `verified_by` column), so "
            "`ok` is the solver's own status."
        )
    return notes


def findings(results: pd.DataFrame, targets: tuple[float, ...] = THRESHOLDS) -> list[str]:
    """Short statements computed from the data, none said twice: per problem the targets no case
    reached and the most accurate case; then each trained family's cases ok over problems and
    seeds. Which method is fastest to a target is the verdict's to say (expected time per success
    over seeds, :mod:`qbench.verdict`), not one case's: a lucky seed must not set it."""
    cases_table = per_case(results).rename(
        columns={"problem_label": "problem", "solver_label": "label", "wall_time_s": "time"}
    )
    read = attempts(results).set_index("case_id")["reads_answer"].notna()
    cases_table["held"] = cases_table["case_id"].map(read)
    lines: list[str] = []
    for problem, cases in cases_table.groupby("problem", sort=False):
        ok = cases[cases["ok"] & cases["worst"].notna() & ~cases["held"]]
        missed = [target for target in targets if ok[ok["worst"] <= target].empty]
        if missed:
            levels = " or ".join(f"{t:.0e}" for t in missed)
            lines.append(f"{problem}: no case reached a relative energy error of {levels} in every state.")
        if not ok.empty:
            best = ok.sort_values(["worst", "time"], kind="stable").iloc[0]
            lines.append(
                f"{problem}: most accurate: {best['label']} ({best['family']}, worst relative error "
                f"{best['worst']:.1e}, {best['time']:.2g} s)."
            )
    trained = cases_table[cases_table["family"].isin(TRAINED)]
    for (family, solver), cases in trained.groupby(["family", "solver"], sort=False):
        configurations = cases.groupby("label", sort=False)["ok"].agg(["sum", "size"])
        if len(configurations) == 1:
            lines.append(
                f"{configurations.index[0]} ({family}): {int(cases['ok'].sum())} of {len(cases)} cases ok "
                "over problems and seeds."
            )
            continue
        rates = configurations["sum"] / configurations["size"]
        best = rates.idxmax()
        lines.append(
            f"{solver} ({family}): {int(cases['ok'].sum())} of {len(cases)} cases ok over "
            f"{len(configurations)} configurations, problems and seeds; most often ok: {best} "
            f"({int(configurations.loc[best, 'sum'])} of {int(configurations.loc[best, 'size'])})."
        )
    return list(dict.fromkeys(lines))

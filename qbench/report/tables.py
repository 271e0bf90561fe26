"""The report's tables and findings, computed from a stored run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import THRESHOLDS, energy_is_held, per_case, summarize, verdict, with_labels

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


def _seconds(value: float) -> str:
    return f"{value:.2g} s"


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.2g}x"


def verdict_lines(results: pd.DataFrame, thresholds: tuple[float, ...] = THRESHOLDS) -> list[str]:
    """One sentence per problem and family: the best accuracy reached, the time to each threshold
    (the fastest ok case whose worst state error is below it) and how that compares with the
    classical solvers."""
    table = verdict(results, thresholds)
    lines = []
    for problem, rows in table.groupby("problem", sort=False):
        classical = rows[rows["family"] == "classical"]
        classical = classical.iloc[0] if not classical.empty else None
        for _, row in rows.iterrows():
            lines.append(f"{problem}: {row['family']}: " + _verdict_text(row, classical, thresholds))
    return lines


def _verdict_text(row: pd.Series, classical: pd.Series | None, thresholds) -> str:
    parts = []
    if not np.isfinite(row["best_error"]):
        held = int(row["held_energy_cases"])
        if row["ok_cases"] == 0:
            parts.append(f"no case ok ({row['ok_cases']}/{row['cases']})")
        elif held == row["cases"]:
            parts.append("the energy is held at the exact value, so it is not ranked by energy error")
        else:
            parts.append("no ok case with a graded energy")
        return "; ".join(parts) + "."
    parts.append(f"best {row['best_error']:.1e} ({row['best_solver']})")
    reached: dict[tuple, list[float]] = {}
    never = []
    for t in thresholds:
        time_ = row[f"time_{t:g}"]
        if not np.isfinite(time_):
            never.append(t)
            continue
        reached.setdefault((row[f"solver_{t:g}"], time_), []).append(t)
    for (solver, time_), ts in reached.items():
        which = "same configuration" if solver == row["best_solver"] else solver
        text = f"{' and '.join(f'{t:.0e}' for t in ts)} in {_seconds(time_)} ({which})"
        if row["family"] != "classical" and classical is not None:
            comparisons = []
            for t in ts:
                ratio = row[f"ratio_{t:g}"]
                if np.isfinite(ratio):
                    comparisons.append(
                        f"{_ratio(ratio)} the time {classical[f'solver_{t:g}']} needs for {t:.0e}"
                    )
                else:
                    comparisons.append(f"no classical case reached {t:.0e}")
            text += ", " + ", ".join(comparisons)
        parts.append(text)
    if never:
        parts.append(f"never reaches {' or '.join(f'{t:.0e}' for t in never)}")
    if row["held_energy_cases"]:
        parts.append(f"{row['held_energy_cases']} case(s) with the energy held exact left out")
    return "; ".join(parts) + "."


def verdict_table(results: pd.DataFrame, thresholds: tuple[float, ...] = THRESHOLDS) -> pd.DataFrame:
    """The verdict as a table: per problem and family, the best error and the time to each threshold."""
    table = verdict(results, thresholds)
    out = pd.DataFrame(
        {
            "problem": table["problem"],
            "family": table["family"],
            "cases ok": [f"{o}/{n}" for o, n in zip(table["ok_cases"], table["cases"])],
            "best rel. energy error": [_cell(v) for v in table["best_error"]],
        }
    )
    for t in thresholds:
        cells = []
        for time_, ratio in zip(table[f"time_{t:g}"], table[f"ratio_{t:g}"]):
            if not np.isfinite(time_):
                cells.append("never")
            elif np.isfinite(ratio) and ratio != 1.0:
                cells.append(f"{_seconds(time_)} ({_ratio(ratio)} classical)")
            else:
                cells.append(_seconds(time_))
        out[f"time to {t:.0e}"] = cells
    return out


def findings(results: pd.DataFrame, targets: tuple[float, ...] = THRESHOLDS) -> list[str]:
    """Short statements computed from the data, none said twice: per problem the fastest case to each
    target error (targets reached by the same case share one sentence) and the most accurate case
    (unless it is that same case); then each trained family's cases ok over problems and seeds."""
    cases_table = per_case(results).rename(
        columns={"problem_label": "problem", "solver_label": "label", "wall_time_s": "time"}
    )
    cases_table["held"] = cases_table["solver_options"].map(energy_is_held)
    lines: list[str] = []
    for problem, cases in cases_table.groupby("problem", sort=False):
        ok = cases[cases["ok"] & cases["worst"].notna() & ~cases["held"]]
        by_case: dict[str, list[float]] = {}
        missed = []
        for target in targets:
            reached = ok[ok["worst"] <= target]
            if reached.empty:
                missed.append(target)
            else:
                by_case.setdefault(reached.sort_values("time", kind="stable").iloc[0]["case_id"], []).append(
                    target
                )
        for case_id, reached_targets in by_case.items():
            best = ok[ok["case_id"] == case_id].iloc[0]
            levels = " and ".join(f"{t:.0e}" for t in reached_targets)
            lines.append(
                f"{problem}: fastest to {levels} in every state: {best['label']} ({best['family']}, "
                f"{best['time']:.2g} s, worst error {best['worst']:.1e})."
            )
        if missed:
            levels = " or ".join(f"{t:.0e}" for t in missed)
            lines.append(f"{problem}: no case reached a relative energy error of {levels} in every state.")
        if not ok.empty:
            best = ok.sort_values(["worst", "time"], kind="stable").iloc[0]
            if best["case_id"] in by_case:
                continue
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

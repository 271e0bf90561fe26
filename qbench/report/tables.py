"""The report's tables and findings, computed from a stored run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis import per_case, summarize, with_labels

MISSING = "—"  # a cell with no number: the case failed or was never run


def _cell(value: float, digits: int = 1) -> str:
    return MISSING if value is None or not np.isfinite(value) else f"{value:.{digits}e}"


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per problem x solver: cases ok, median [min, max] of the errors, median wall time and peak memory."""
    summary = summarize(results)
    if summary.empty:
        return summary

    def spread(name: str) -> list[str]:
        cells = []
        for median, low, high in summary[[f"{name}_median", f"{name}_min", f"{name}_max"]].to_numpy():
            cells.append(MISSING if not np.isfinite(median) else f"{median:.1e} [{low:.1e}, {high:.1e}]")
        return cells

    return pd.DataFrame(
        {
            "problem": summary["problem"],
            "solver": summary["solver"],
            "cases ok": [f"{o}/{n}" for o, n in zip(summary["ok_cases"], summary["cases"])],
            "rel. energy error, median [min, max]": spread("rel_error"),
            "L2 error, median [min, max]": spread("l2_error"),
            "wall time (s), median": [_cell(v, 2) for v in summary["wall_time_s_median"]],
            "peak CPU memory (MB)": [
                MISSING if not np.isfinite(v) else f"{v:.0f}" for v in summary["peak_cpu_mem_mb"]
            ],
            "peak GPU memory (MB)": [_cell(v) for v in summary["peak_gpu_mem_mb"]],
        }
    )


def pinn_success_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per PINN variant and problem: seeds whose every state is ok, and what went wrong otherwise."""
    labelled = with_labels(results)
    pinn = labelled[labelled["solver"].str.startswith("pinn")]
    rows = []
    for (problem, variant), group in pinn.groupby(["problem_label", "solver_label"], sort=False):
        per_case = group.groupby("case_id")["status"].agg(_case_status)
        counts = per_case.value_counts()
        n_ok = int(counts.get("ok", 0))
        rows.append(
            {
                "problem": problem,
                "PINN variant": variant,
                "seeds": len(per_case),
                "ok": f"{n_ok}/{len(per_case)} ({100 * n_ok / len(per_case):.0f}%)",
                "not ok": ", ".join(f"{k} {v}" for k, v in counts.items() if k != "ok") or "none",
            }
        )
    return pd.DataFrame(rows)


def _case_status(statuses: pd.Series) -> str:
    """``ok`` when every state is ok, else the first other status."""
    bad = statuses[statuses != "ok"]
    return "ok" if bad.empty else str(bad.iloc[0])


def not_ok_table(results: pd.DataFrame) -> pd.DataFrame:
    """Every case that is not ok, with its status and message: missing numbers are explained here."""
    labelled = with_labels(results)
    bad = labelled[labelled["status"] != "ok"].drop_duplicates("case_id")
    return pd.DataFrame(
        {
            "problem": bad["problem_label"],
            "solver": bad["solver_label"],
            "seed": bad["seed"].astype("string").fillna(MISSING),
            "status": bad["status"],
            "message": bad["message"],
        }
    )


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
        ("GPU", f"{gpu.get('name')} (CUDA {gpu.get('cuda_version')})" if gpu.get("available") else "none"),
        ("seeds", ", ".join(map(str, provenance.get("seeds", []))) or "none (deterministic solvers only)"),
        ("CPU memory measure", env.get("cpu_memory_measure")),
    ]
    return pd.DataFrame(items, columns=["item", "value"])


def findings(results: pd.DataFrame, targets: tuple[float, ...] = (1e-6, 1e-10)) -> list[str]:
    """Short statements computed from the data: the fastest case to each target error, the most
    accurate solver, and how the PINN variants fared."""
    cases_table = per_case(results).rename(
        columns={"problem_label": "problem", "solver_label": "label", "wall_time_s": "time"}
    )
    lines = []
    for problem, cases in cases_table.groupby("problem", sort=False):
        ok = cases[cases["ok"] & cases["worst"].notna()]
        for target in targets:
            reached = ok[ok["worst"] <= target]
            if reached.empty:
                lines.append(
                    f"{problem}: no case reached a relative energy error of {target:.0e} in every state."
                )
            else:
                best = reached.sort_values("time").iloc[0]
                lines.append(
                    f"{problem}: fastest to {target:.0e} in every state: {best['label']} "
                    f"({best['time']:.2g} s, worst error {best['worst']:.1e})."
                )
        if not ok.empty:
            best = ok.sort_values("worst").iloc[0]
            lines.append(
                f"{problem}: most accurate: {best['label']} (worst relative error {best['worst']:.1e})."
            )
    pinn = cases_table[cases_table["solver"].str.startswith("pinn")]
    for variant, cases in pinn.groupby("label", sort=False):
        lines.append(
            f"{variant}: {int(cases['ok'].sum())} of {len(cases)} PINN cases ok over problems and seeds."
        )
    return lines

"""The scaling study's figure and table: cost to reach a tolerance against dimension, per family."""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure

from ..scaling import METRICS, TOLERANCES, bootstrap_growth, cost_to_reach, measured_crossings
from .style import FAMILY_MARKERS, new_figure

LINESTYLES = ("-", "--", ":", "-.")


def _with_dims(
    results: pd.DataFrame, by: str = "family", histories: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """The cost table when some series spans two dimensions or more, else None (nothing to draw)."""
    if results.empty or "dim" not in results or results["dim"].nunique() < 2:
        return None
    costs = cost_to_reach(results, by=by, histories=histories)
    spans = costs.groupby("series")["dim"].nunique()
    costs = costs[costs["series"].isin(spans[spans >= 2].index)]
    return costs if not costs.empty else None


def cost_vs_dimension(results: pd.DataFrame, histories: pd.DataFrame | None = None) -> dict[str, Figure]:
    """Per series: expected time per success and memory increase to reach each tolerance against d,
    one line per solver (solid 1e-3, dashed 1e-6; bars: the least and largest time over the
    successful seeds; a solver missing at some d did not reach the tolerance there)."""
    costs = _with_dims(results, "solver", histories)
    if costs is None:
        return {}
    figures = {}
    families = sorted(costs["family"].unique())
    for series, group in costs.groupby("series", sort=True):
        fig, axes = new_figure(1, len(METRICS), width=4.6)
        for ax, (metric, label) in zip(axes[0], METRICS.items()):
            for family in families:
                for style, tol in zip(LINESTYLES, TOLERANCES):
                    line = group[(group["family"] == family) & (group["tolerance"] == tol)].sort_values("dim")
                    line = line[line[metric].notna() & (line[metric] > 0)]
                    if line.empty:
                        continue
                    spread = None
                    if metric == "wall_time_s":
                        spread = [
                            (line[metric] - line["spread_lo"]).clip(lower=0).fillna(0),
                            (line["spread_hi"] - line[metric]).clip(lower=0).fillna(0),
                        ]
                    ax.errorbar(
                        line["dim"],
                        line[metric],
                        yerr=spread,
                        linestyle=style,
                        marker=FAMILY_MARKERS.get(family, "o"),
                        capsize=2,
                        label=f"{family}, {tol:.0e}",
                    )
            ax.set_yscale("log")
            ax.set_xlabel("dimension d")
            ax.set_ylabel(f"{label} to reach tolerance")
            ax.set_xticks(sorted(group["dim"].unique()))
            ax.set_title(series)
        handles, labels = axes[0][0].get_legend_handles_labels()
        if handles:
            axes[0][-1].legend(handles, labels, fontsize=7, loc="best")
        fig.tight_layout()
        figures[f"dimensions_{series}"] = fig
    return figures


def _cell(value: float) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3g}"


def cost_table(results: pd.DataFrame, histories: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Series x dim x solver x tolerance: expected time per success, its setting, successes over
    attempts, the seeds' spread, memory and the best error."""
    costs = _with_dims(results, "solver", histories)
    if costs is None:
        return None
    table = costs.sort_values(["series", "tolerance", "family", "dim"], ascending=[True, False, True, True])
    return pd.DataFrame(
        {
            "series": table["series"],
            "tolerance": table["tolerance"].map(lambda t: f"{t:.0e}"),
            "solver": table["family"],
            "d": table["dim"],
            "time per success (s)": table["wall_time_s"].map(_cell),
            "by": table["wall_time_s_by"],
            "successes": [f"{s}/{a}" if a else "" for s, a in zip(table["successes"], table["attempts"])],
            "seed spread (s)": [
                "" if math.isnan(lo) else f"{lo:.3g}-{hi:.3g}"
                for lo, hi in zip(table["spread_lo"], table["spread_hi"])
            ],
            "memory (MB)": table["memory_mb"].map(_cell),
            "best error": table["best_error"].map(_cell),
        }
    )


def growth_table(
    results: pd.DataFrame, by: str = "family", histories: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """Growth of the expected time per success (decades per dimension) with its 95% bootstrap
    interval over seeds, per series, tolerance and family (``by="solver"``: per solver). None when
    no series spans two dimensions."""
    if _with_dims(results, by, histories) is None:
        return None
    fits = bootstrap_growth(results, histories, by=by)
    table = fits[["series", "tolerance", "family"]].copy()
    table["tolerance"] = table["tolerance"].map(lambda t: f"{t:.0e}")
    table["decades per dimension"] = fits["slope"].map(_cell)
    table["95% interval (bootstrap over seeds)"] = [
        "—" if math.isnan(lo) else f"[{lo:.3g}, {hi:.3g}]"
        for lo, hi in zip(fits["slope_lo"], fits["slope_hi"])
    ]
    return table.rename(columns={"family": by})


def crossing_table(results: pd.DataFrame, histories: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Per series and tolerance: the best neural over the best classical expected time per success
    at each measured d, where the neural side was cheaper, and the crossing interpolated between
    measured dimensions (— where the order never changes). Never extrapolated."""
    costs = _with_dims(results, "family", histories)
    if costs is None:
        return None
    crossings = measured_crossings(costs)
    if crossings.empty:
        return None
    return pd.DataFrame(
        {
            "series": crossings["series"],
            "tolerance": crossings["tolerance"].map(lambda t: f"{t:.0e}"),
            "d measured": crossings["dims"],
            "neural / classical": crossings["ratios"],
            "neural cheaper at d": crossings["neural_cheaper_at"].replace("", "none"),
            "crossing d (interpolated)": crossings["crossing_d"].map(_cell),
        }
    )

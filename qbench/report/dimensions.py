"""The scaling study's figure and table: cost to reach a tolerance against dimension, per family."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..scaling import METRICS, TOLERANCES, cost_to_reach, crossovers, fit_growth
from .style import FAMILY_MARKERS, new_figure

LINESTYLES = ("-", "--", ":", "-.")


def _with_dims(results: pd.DataFrame, by: str = "family") -> pd.DataFrame | None:
    """The cost table when some series spans two dimensions or more, else None (nothing to draw)."""
    if results.empty or "dim" not in results or results["dim"].nunique() < 2:
        return None
    costs = cost_to_reach(results, by=by)
    spans = costs.groupby("series")["dim"].nunique()
    costs = costs[costs["series"].isin(spans[spans >= 2].index)]
    return costs if not costs.empty else None


def cost_vs_dimension(results: pd.DataFrame) -> dict[str, Figure]:
    """Per series: wall time and memory increase to reach each tolerance against d, one line per
    family (solid 1e-3, dashed 1e-6; a family missing at some d did not reach the tolerance there)."""
    costs = _with_dims(results)
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
                    ax.plot(
                        line["dim"],
                        line[metric],
                        linestyle=style,
                        marker=FAMILY_MARKERS.get(family, "o"),
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


def cost_table(results: pd.DataFrame) -> pd.DataFrame | None:
    """Series x dim x family x tolerance: time and memory to reach it and by which configuration."""
    costs = _with_dims(results)
    if costs is None:
        return None
    table = costs.sort_values(["series", "tolerance", "family", "dim"], ascending=[True, False, True, True])
    return pd.DataFrame(
        {
            "series": table["series"],
            "tolerance": table["tolerance"].map(lambda t: f"{t:.0e}"),
            "family": table["family"],
            "d": table["dim"],
            "time (s)": table["wall_time_s"].map(_cell),
            "by": table["wall_time_s_by"],
            "memory (MB)": table["memory_mb"].map(_cell),
            "best error": table["best_error"].map(_cell),
        }
    )


def growth_table(
    results: pd.DataFrame, by: str = "family", against: str = "classical"
) -> pd.DataFrame | None:
    """Fitted growth of the time to reach each tolerance (decades per dimension) and the d at which
    each family's fitted line crosses the ``against`` one (``by="solver"``: each solver's line,
    e.g. against ``fd``). None when no series spans two dimensions, or ``against`` is absent."""
    costs = _with_dims(results, by)
    if costs is None or against not in set(costs["family"]):
        return None
    fits = fit_growth(costs, "wall_time_s")
    cross = crossovers(fits, against)
    column = f"crossing d (vs {against})"
    table = fits[["series", "tolerance", "family", "dims", "slope"]].copy()
    table[column] = np.nan
    if not cross.empty:
        key = cross.set_index(["series", "tolerance", "family"])["crossing_d"]
        table[column] = [
            key.get((s, t, f), np.nan)
            for s, t, f in zip(table["series"], table["tolerance"], table["family"])
        ]
    table["tolerance"] = table["tolerance"].map(lambda t: f"{t:.0e}")
    table["slope"] = table["slope"].map(_cell)
    table[column] = table[column].map(_cell)
    return table.rename(columns={"slope": "decades per dimension", "dims": "d fitted", "family": by})

"""The work-precision diagram: relative energy error against wall time, one curve per method.

Each setting of a method (one problem, solver and set of options) is one point: the median over
its seeds of the wall time and of the worst-state relative energy error, a seed not ok counting
as infinitely wrong (a setting ok in fewer than half its seeds has no finite median and is not
drawn). A method's curve joins its Pareto front: the settings no other setting of the method
beats in both time and error. Settings that read the exact answer are left out.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..verdict import TOLERANCES, settings
from .style import FAMILY_MARKERS, new_figure, solver_colours

ERROR_FLOOR = 1e-17  # an error of exactly 0 is drawn here
COLUMNS = 3  # panels per row


def pareto_front(points: pd.DataFrame, x: str = "median_time_s", y: str = "median_error") -> pd.DataFrame:
    """The rows of ``points`` that no other row beats in both ``x`` and ``y``, by increasing ``x``.

    Rows with a NaN or infinite ``x`` or ``y`` are left out.
    """
    finite = points[np.isfinite(points[x].astype(float)) & np.isfinite(points[y].astype(float))]
    ordered = finite.sort_values([x, y], kind="stable")
    keep, best = [], math.inf
    for index, value in zip(ordered.index, ordered[y]):
        if value < best:
            keep.append(index)
            best = value
    return ordered.loc[keep]


def work_precision(results: pd.DataFrame, tolerances: tuple[float, ...] = TOLERANCES) -> dict[str, Figure]:
    """One panel per problem: each method's settings and its Pareto front, log-log.

    Parameters
    ----------
    results
        A run's results table.
    tolerances
        Drawn as dotted horizontal lines (the verdict's tolerances).

    Returns
    -------
    dict
        ``{"work_precision": Figure}``, or ``{}`` when no setting has a finite median.
    """
    table = settings(results, tolerances) if not results.empty else pd.DataFrame()
    if table.empty:
        return {}
    table = table[table["reads_answer"].isna()]
    drawable = table[np.isfinite(table["median_error"]) & np.isfinite(table["median_time_s"])]
    if drawable.empty:
        return {}
    problems = list(dict.fromkeys(table["problem_label"]))
    rows = math.ceil(len(problems) / COLUMNS)
    cols = min(len(problems), COLUMNS)
    colours = solver_colours(list(table["solver"].unique()))
    fig, axes = new_figure(rows, cols, width=4.6, height=3.8)
    drawn_methods: dict[str, str] = {}
    for ax, problem in zip(axes.flat, problems):
        by_problem = drawable[drawable["problem_label"] == problem]
        for solver, points in by_problem.groupby("solver", sort=False):
            colour, family = colours[solver], points["family"].iloc[0]
            marker = FAMILY_MARKERS.get(family, "o")
            ax.scatter(
                points["median_time_s"],
                points["median_error"].clip(lower=ERROR_FLOOR),
                color=colour,
                marker=marker,
                s=18,
                alpha=0.35,
            )
            front = pareto_front(points)
            ax.plot(
                front["median_time_s"],
                front["median_error"].clip(lower=ERROR_FLOOR),
                color=colour,
                marker=marker,
                markersize=5,
                linewidth=1.4,
            )
            drawn_methods[solver] = family
        for t in tolerances:
            ax.axhline(t, color="0.5", linestyle=":", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(problem, fontsize=9)
        ax.set_xlabel("wall time per attempt, median over seeds (s)")
        ax.set_ylabel("relative energy error, median")
    for ax in list(axes.flat)[len(problems) :]:
        ax.set_visible(False)
    handles = [
        Line2D([], [], color=colours[s], marker=FAMILY_MARKERS.get(f, "o"), label=f"{s} ({f})")
        for s, f in drawn_methods.items()
    ]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), fontsize=8)
    legend_rows = math.ceil(len(handles) / 4)
    fig.tight_layout(rect=(0, min(0.3, 0.05 * legend_rows / rows + 0.02), 1, 1))
    return {"work_precision": fig}

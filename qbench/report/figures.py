"""The report's figures, drawn from a stored run (never by solving anything).

Each function takes the run's tables and returns ``{name: Figure}``; the
caller saves them. Units: x in the problem's length unit, energies in units
with hbar^2 / 2m = 1, errors dimensionless, times in seconds.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from .. import problems
from ..analysis import THRESHOLDS, family_rank, per_case, sensitivity_grids, with_labels
from ..metrics import sample_line
from .style import EXACT_STYLE, FAMILY_MARKERS, new_figure, solver_colours

ERROR_FLOOR = 1e-17  # errors of exactly 0 (an energy held at the exact value) are drawn here


def representative_cases(results: pd.DataFrame) -> pd.DataFrame:
    """One case per problem x solver for wavefunction plots: the one nearest the defaults, lowest seed."""
    labelled = with_labels(results).drop_duplicates("case_id").copy()
    labelled["label_length"] = labelled["solver_label"].str.len()
    labelled["seed_order"] = labelled["seed"].fillna(-1)
    ordered = labelled.sort_values(["label_length", "seed_order"], kind="stable")
    return ordered.drop_duplicates(["problem_label", "solver"])


def _problem(results_row) -> problems.Problem | None:
    """The case's problem, or None when this process cannot build it (a plugin's problem whose
    plugin is not loaded): the report is made from stored tables and must not need it."""
    try:
        return problems.get(results_row["problem"], **json.loads(results_row["problem_params"]))
    except ValueError:
        return None


def wavefunctions(results: pd.DataFrame, samples: pd.DataFrame) -> dict[str, Figure]:
    """Per problem: each solver's wavefunctions over the exact ones, the potential on a second axis.

    The samples lie on a line parallel to axis 0 from wall to wall (the samples' ``line``; in 1D
    the whole domain), which names the x axis. A degenerate level has no single exact function:
    each case is compared with the exact function of the level nearest to it, drawn dotted in its
    colour where it differs from the one already drawn.
    """
    colours = solver_colours(list(results["solver"].unique()))
    figures = {}
    chosen = representative_cases(results)
    for problem_label, cases in chosen.groupby("problem_label", sort=False):
        n_states = int(results[results["case_id"].isin(cases["case_id"])]["n_states"].max())
        fig, axes = new_figure(1, n_states, width=4.0)
        problem = _problem(cases.iloc[0])
        # The line the curves lie on, as stored: a problem this process cannot build still has it.
        stored = samples.loc[samples["case_id"].isin(cases["case_id"]), "line"]
        line = json.loads(stored.iloc[0]) if len(stored) else None
        if problem is not None:
            x, points, sampled = sample_line(problem, 400)
            line = line or sampled
            v = problem.potential(points)
            levels = results.loc[results["case_id"].isin(cases["case_id"]), "energy_ref"].dropna()
            # Walls of a smooth potential can rise 1000x above the states; show V up to a few times
            # the highest level above min V, so the well's shape stays visible.
            v_top = float(v.max())
            if len(levels) and levels.max() > v.min():
                v_top = min(v_top, float(v.min() + 3.0 * (levels.max() - v.min())))
        for state in range(n_states):
            ax = axes[0, state]
            drawn: list[np.ndarray] = []  # exact curves drawn in this panel
            for _, case in cases.iterrows():
                rows = samples[(samples["case_id"] == case["case_id"]) & (samples["state"] == state)]
                if rows.empty or rows["psi"].isna().all():
                    continue
                reference = rows["psi_ref"].to_numpy(dtype=float)
                if not drawn:
                    ax.plot(rows["x"], reference, label="exact", zorder=5, **EXACT_STYLE)
                    drawn.append(reference)
                elif not any(_same_curve(reference, other) for other in drawn):
                    # A degenerate level (d >= 2): the exact function nearest to this case's state.
                    ax.plot(rows["x"], reference, ":", color=colours[case["solver"]], linewidth=1.5, zorder=4)
                    drawn.append(reference)
                # The state's own status: a PINN may learn state 0 and lose state 1.
                status = results.loc[
                    (results["case_id"] == case["case_id"]) & (results["state"] == state), "status"
                ].iloc[0]
                label = case["solver_label"] + ("" if status == "ok" else f" ({status})")
                ax.plot(rows["x"], rows["psi"], color=colours[case["solver"]], label=label, alpha=0.85)
            if problem is not None:
                potential = ax.twinx()
                potential.fill_between(x, np.minimum(v, v_top), color="0.5", alpha=0.12, linewidth=0)
                clipped = " (clipped)" if v_top < v.max() else ""
                potential.set_ylabel(f"V (hbar^2/2m = 1){clipped}", color="0.4")
                potential.grid(False)
                ax.set_zorder(potential.get_zorder() + 1)
                ax.patch.set_visible(False)
            ax.set_title(f"{problem_label}: state {state}")
            ax.set_xlabel(_line_label(line))
            ax.set_ylabel("psi (normalized)")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="lower center", ncol=min(len(handles), 4), fontsize=8)
        else:
            axes[0, 0].text(
                0.5,
                0.5,
                "no wavefunction samples stored in this run",
                ha="center",
                transform=axes[0, 0].transAxes,
            )
        fig.tight_layout(rect=(0, 0.14, 1, 1))
        figures[f"wavefunctions_{_slug(problem_label)}"] = fig
    return figures


def _same_curve(a: np.ndarray, b: np.ndarray) -> bool:
    scale = max(float(np.nanmax(np.abs(b), initial=0.0)), 1e-300)
    return bool(np.nanmax(np.abs(a - b), initial=0.0) <= 1e-6 * scale)


def _line_label(line: dict | None) -> str:
    """The x axis: the coordinate along the sampled line, naming the other coordinates it holds fixed
    (a 1D problem has none: its line is the whole domain)."""
    fixed = [f"x{k} = {c:.3g}" for k, c in enumerate(line["point"]) if k != line["axis"]] if line else []
    if not fixed:
        return "x (length units)"
    return f"x{line['axis']} (length units; {', '.join(fixed)})"


def pinn_histories(results: pd.DataFrame, histories: pd.DataFrame) -> dict[str, Figure]:
    """PINN energy of the first trained state versus step and versus wall time, one line per seed."""
    if histories.empty:
        return {}
    labelled = per_case(results).set_index("case_id")
    history = histories[histories["case_id"].isin(labelled.index)]
    history = history[history["state"].astype(str).isin(["0", "all"])]
    trained = labelled.loc[history["case_id"].unique()]
    trained = trained.iloc[sorted(range(len(trained)), key=lambda i: family_rank(trained["family"].iloc[i]))]
    variants = list(dict.fromkeys(trained["solver_label"]))
    problem_labels = list(dict.fromkeys(labelled.loc[history["case_id"].unique(), "problem_label"]))
    colours = solver_colours(list(results["solver"].unique()))
    figures = {}
    for axis, column, xlabel in (
        ("step", "step", "optimizer step"),
        ("time", "time_s", "wall time in training (s)"),
    ):
        fig, axes = new_figure(len(variants), len(problem_labels), width=4.0, height=2.8)
        for i, variant in enumerate(variants):
            for j, problem_label in enumerate(problem_labels):
                ax = axes[i, j]
                cases = labelled[
                    (labelled["solver_label"] == variant) & (labelled["problem_label"] == problem_label)
                ]
                exact = None
                finals = []
                for case_id, case in cases.iterrows():
                    rows = history[history["case_id"] == case_id]
                    if rows.empty:
                        continue
                    exact = float(
                        results.loc[
                            (results["case_id"] == case_id) & (results["state"] == 0), "energy_ref"
                        ].iloc[0]
                    )
                    ok = bool(case["ok"])
                    ax.plot(
                        rows[column],
                        rows["energy"],
                        color=colours[case["solver"]],
                        alpha=0.85,
                        linestyle="-" if ok else ":",
                        linewidth=1.4,
                    )
                    if not ok:
                        ax.plot(rows[column].iloc[-1], rows["energy"].iloc[-1], "x", color="crimson")
                    finals.extend(rows["energy"].iloc[len(rows) // 10 :].tolist())  # past the first 10 %
                if exact is None:
                    ax.set_visible(False)
                    continue
                ax.axhline(exact, **EXACT_STYLE)
                seen = np.array([exact, *[f for f in finals if np.isfinite(f)]])
                low, high = np.percentile(seen, [2, 98])
                pad = 0.1 * (high - low) + 1e-6 * abs(exact) + 1e-9
                ax.set_ylim(min(low, exact) - pad, max(high, exact) + pad)
                ax.set_title(f"{_wrap(variant, 60)} ({cases['family'].iloc[0]})\n{problem_label}", fontsize=8)
                ax.set_xlabel(xlabel)
                ax.set_ylabel("energy (hbar^2/2m = 1)")
        handles = [
            Line2D([], [], **EXACT_STYLE, label="exact E0"),
            Line2D([], [], color="0.3", label="seed, ok"),
            Line2D([], [], color="0.3", linestyle=":", label="seed, not ok (x = end)"),
        ]
        fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        figures[f"pinn_energy_vs_{axis}"] = fig
    return figures


def accuracy_vs_time(results: pd.DataFrame) -> dict[str, Figure]:
    """Worst-state relative energy error versus wall time, log-log, every case, Pareto front marked.

    Colour: the solver; marker: its family (x: the case is not ok); dotted: the findings' error levels.
    """
    cases_table = per_case(results)
    problem_labels = list(dict.fromkeys(cases_table["problem_label"]))
    colours = solver_colours(list(results["solver"].unique()))
    fig, axes = new_figure(1, len(problem_labels), width=4.6, height=3.8)
    for ax, problem_label in zip(axes[0], problem_labels):
        cases = cases_table[cases_table["problem_label"] == problem_label]
        for _, case in cases.iterrows():
            if not np.isfinite(case["worst"]) or not np.isfinite(case["wall_time_s"]):
                continue
            ax.scatter(
                case["wall_time_s"],
                max(case["worst"], ERROR_FLOOR),
                color=colours[case["solver"]],
                marker=FAMILY_MARKERS.get(case["family"], "o") if case["ok"] else "x",
                s=30,
            )
        for threshold in THRESHOLDS:
            ax.axhline(threshold, color="0.6", linestyle=":", linewidth=0.8)
        front = _pareto(cases[cases["ok"]])
        if len(front) > 1:
            ax.step(
                front["wall_time_s"],
                front["worst"].clip(lower=ERROR_FLOOR),
                where="post",
                color="0.2",
                linewidth=1.0,
                label="Pareto front (ok cases)",
            )
            ax.legend(fontsize=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(problem_label)
        ax.set_xlabel("wall time per solve (s)")
        ax.set_ylabel("worst relative energy error over states")
    _solver_legend(fig, colours, cases_table, extra=[("x", "status not ok")])
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return {"accuracy_vs_time": fig}


def _pareto(cases: pd.DataFrame) -> pd.DataFrame:
    """Cases no other case beats in both time and error, by increasing time."""
    ordered = cases.dropna(subset=["worst", "wall_time_s"]).sort_values("wall_time_s")
    front, best = [], np.inf
    for _, case in ordered.iterrows():
        if case["worst"] < best:
            front.append(case)
            best = case["worst"]
    return pd.DataFrame(front)


def convergence(results: pd.DataFrame) -> dict[str, Figure]:
    """Ground-state error of fd versus N and of shooting versus its tolerance, with reference slopes."""
    labelled = with_labels(results)
    ground = labelled[labelled["state"] == 0].copy()
    options = ground["solver_options"].map(json.loads)
    ground["n_points"] = options.map(lambda o: o.get("n_points"))
    ground["order"] = options.map(lambda o: o.get("order"))
    ground["tol"] = options.map(lambda o: o.get("tol"))
    problem_labels = list(dict.fromkeys(ground["problem_label"]))
    colours = solver_colours(list(results["solver"].unique()))
    fig, axes = new_figure(2, len(problem_labels), width=4.2, height=3.2)
    for j, problem_label in enumerate(problem_labels):
        rows = ground[ground["problem_label"] == problem_label]
        ax = axes[0, j]
        fd = rows[rows["solver"] == "fd"]
        for order, group in fd.groupby("order"):
            order = int(order)
            group = group.sort_values("n_points")
            ax.loglog(
                group["n_points"],
                group["rel_error"].clip(lower=ERROR_FLOOR),
                "o-",
                color=colours["fd"],
                alpha=1.0 if order == 2 else 0.6,
                label=f"fd order {order}",
            )
            n0, e0 = group["n_points"].iloc[0], group["rel_error"].iloc[0]
            slope_n = np.array([n0, group["n_points"].iloc[-1] if len(group) > 1 else 4 * n0], dtype=float)
            ax.loglog(
                slope_n,
                0.3 * e0 * (slope_n / n0) ** (-order),  # offset so the data stay visible
                color="0.5",
                linestyle=":",
                linewidth=1,
                label=f"N^-{order}",
            )
        ax.xaxis.set_minor_formatter(NullFormatter())
        _note_if_single(ax, fd["n_points"].nunique(), "fd")
        ax.set_title(f"{problem_label}: fd")
        ax.set_xlabel("grid points N")
        ax.set_ylabel("relative error of E0")
        if not fd.empty:
            ax.legend(fontsize=7)
        ax = axes[1, j]
        shooting = rows[rows["solver"] == "shooting"].sort_values("tol")
        if not shooting.empty:
            ax.loglog(
                shooting["tol"],
                shooting["rel_error"].clip(lower=ERROR_FLOOR),
                "o-",
                color=colours["shooting"],
                label="shooting",
            )
            tol = np.array([shooting["tol"].min(), shooting["tol"].max()], dtype=float)
            ax.loglog(tol, tol, color="0.5", linestyle=":", linewidth=1, label="error = tol")
            ax.legend(fontsize=7)
        _note_if_single(ax, shooting["tol"].nunique(), "shooting")
        ax.set_title(f"{problem_label}: shooting")
        ax.set_xlabel("tolerance tol")
        ax.set_ylabel("relative error of E0")
    fig.tight_layout()
    return {"convergence": fig}


def _note_if_single(ax, count: int, solver: str) -> None:
    if count == 0:
        ax.text(0.5, 0.5, f"no {solver} cases in this run", ha="center", va="center", transform=ax.transAxes)
    elif count == 1:
        ax.text(
            0.5,
            0.92,
            "one resolution only: no sweep in this run",
            ha="center",
            fontsize=7,
            transform=ax.transAxes,
        )


#: Families trained from a seed: their outcome over seeds is drawn.
TRAINED = ("pinn", "neural-variational")


def pinn_outcomes(results: pd.DataFrame) -> dict[str, Figure]:
    """Per trained variant (families ``pinn`` and ``neural-variational``) and problem: worst-state L2
    error of psi for every seed, and the fraction ok.

    The L2 error, not the energy error, because ``pinn-fixed`` holds E at the
    exact value: psi is the only thing every variant learns.
    """
    cases_table = per_case(results, metric="l2_error")
    pinn = cases_table[cases_table["family"].isin(TRAINED)]
    if pinn.empty:
        return {}
    problem_labels = list(dict.fromkeys(pinn["problem_label"]))
    ordered = pinn.drop_duplicates("solver_label")
    variants = sorted(
        ordered["solver_label"], key=lambda v: family_rank(ordered.set_index("solver_label").loc[v, "family"])
    )
    families = ordered.set_index("solver_label")["family"]
    colours = solver_colours(list(results["solver"].unique()))
    fig, axes = new_figure(1, len(problem_labels), width=max(4.0, 1.6 * len(variants)), height=4.6)
    for ax, problem_label in zip(axes[0], problem_labels):
        for k, variant in enumerate(variants):
            cases = pinn[(pinn["problem_label"] == problem_label) & (pinn["solver_label"] == variant)]
            if cases.empty:
                continue
            errors = cases["worst"].fillna(1.0).clip(lower=ERROR_FLOOR)
            jitter = np.linspace(-0.15, 0.15, len(cases)) if len(cases) > 1 else np.zeros(1)
            ax.scatter(
                k + jitter, errors, color=colours[cases["solver"].iloc[0]], marker="o", s=22, alpha=0.8
            )
            ax.scatter(
                (k + jitter)[~cases["ok"].to_numpy()],
                errors[~cases["ok"].to_numpy()],
                marker="x",
                color="crimson",
                s=30,
            )
            ax.annotate(
                f"{int(cases['ok'].sum())}/{len(cases)} ok",
                (k, 1.0),
                xycoords=("data", "axes fraction"),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_yscale("log")
        ax.set_xticks(range(len(variants)), [f"{_wrap(v)}\n({families[v]})" for v in variants], fontsize=6)
        ax.set_title(problem_label, pad=16)
        ax.set_ylabel("worst L2 error of psi (failed = 1)")
    fig.tight_layout()
    return {"pinn_outcomes": fig}


def _solver_legend(fig, colours, cases: pd.DataFrame, extra=()) -> None:
    """One entry per solver, grouped by family (``family: solver``), with the family's marker."""
    pairs = cases[["family", "solver"]].drop_duplicates()
    pairs = pairs.iloc[sorted(range(len(pairs)), key=lambda i: (family_rank(pairs["family"].iloc[i]), i))]
    handles = [
        Line2D([], [], marker=FAMILY_MARKERS.get(f, "o"), linestyle="", color=colours[n], label=f"{f}: {n}")
        for f, n in zip(pairs["family"], pairs["solver"])
    ]
    handles += [Line2D([], [], marker=m, linestyle="", color="0.3", label=text) for m, text in extra]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4), fontsize=8)


def sensitivity(results: pd.DataFrame) -> dict[str, Figure]:
    """Heatmaps of two-knob sweeps (``qbench.analysis.sensitivity_grids``): for each problem and
    solver whose cases vary exactly two options, the fraction of seeds ok and the median over
    seeds of the worst relative energy error (log10), each over the two options."""
    import seaborn as sns

    figures = {}
    for grid in sensitivity_grids(results):
        ok, error = grid["ok_fraction"], grid["median_error"]
        fixed = ", ".join(f"{k}={v}" for k, v in grid["fixed"].items())
        where = f"{grid['solver']} on {grid['problem']}" + (f"\n({fixed})" if fixed else "")
        fig, axes = new_figure(
            1, 2, width=max(4.2, 0.9 * ok.shape[1] + 2.2), height=max(3.2, 0.6 * ok.shape[0] + 1.8)
        )
        sns.heatmap(
            ok,
            ax=axes[0, 0],
            vmin=0,
            vmax=1,
            cmap="RdYlGn",
            annot=True,
            fmt=".0%",
            cbar_kws={"label": "seeds ok"},
        )
        axes[0, 0].set_title(f"{where}: fraction of seeds ok", fontsize=9)
        logged = np.log10(error.astype(float).clip(lower=ERROR_FLOOR))
        finite = logged.to_numpy()[np.isfinite(logged.to_numpy())]
        low, high = (np.floor(finite.min()), np.ceil(finite.max())) if finite.size else (-16.0, 0.0)
        labels = error.map(lambda v: "—" if not np.isfinite(v) else f"{v:.0e}")
        sns.heatmap(
            logged,
            ax=axes[0, 1],
            cmap="viridis_r",
            vmin=low,
            vmax=high if high > low else low + 1,
            annot=labels.to_numpy(),
            fmt="",
            cbar_kws={"label": "log10 median worst rel. error"},
        )
        axes[0, 1].set_title(f"{where}: median error over seeds", fontsize=9)
        for ax in axes[0]:
            ax.set_xlabel(grid["x"])
            ax.set_ylabel(grid["y"])
        fig.tight_layout()
        name = "_".join(
            [grid["problem"], grid["solver"], grid["y"], grid["x"], *map(str, grid["fixed"].values())]
        )
        figures[f"sensitivity_{_slug(name)}"] = fig
    return figures


def _wrap(label: str, width: int = 24, lines: int = 4) -> str:
    """A solver label broken at spaces into at most ``lines`` lines of ``width`` characters."""
    import textwrap

    return "\n".join(textwrap.wrap(label, width, max_lines=lines, placeholder=" ...")) or label


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")[:60]

"""``qbench report``: a stored run as a self-contained HTML page and a Markdown file, with figures.

Everything is generated from the run's tables (``qbench.store.load``); the
report never solves. It leads with the verdict (per problem and method: the
best median error, the expected time per success to 1e-2 and 1e-6 with the
success rate over seeds, the ratio to the strongest classical method at the
same tolerance, the certified cases; :mod:`qbench.verdict`), then the
work-precision diagram, then the accuracy-versus-time figure of every case,
then sensitivity heatmaps of two-option sweeps, then the details. Layout of
the output directory::

    index.html          self-contained: figures embedded as PNG data URIs, no network
    report.md           the same tables, figures linked from figures/
    figures/<name>.png, figures/<name>.svg
"""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..store import RunData, write_atomic
from . import tables

FORMATS = ("html", "md")

#: Figure kinds: title and what the reader should look at.
KINDS = {
    "work_precision": (
        "Work-precision diagram",
        "Relative energy error (each solver's returned energy, worst over the states) against wall "
        "time per attempt, log-log, one curve per method: each point a setting (median over its "
        "seeds; a seed not ok counts as infinitely wrong, so a setting ok in fewer than half its "
        "seeds is not drawn), the line the method's Pareto front over its settings; dotted: the "
        "verdict's tolerances. Settings that read the exact answer are left out; the settings "
        "behind each point are in the tables below.",
    ),
    "accuracy_vs_time": (
        "Accuracy versus cost",
        "Worst relative energy error over the states of each case versus "
        "its wall time; colour: solver, marker: family (x: status not ok); the line is the Pareto "
        "front of the ok cases, dotted lines the error levels 1e-6 and 1e-10 of the findings. "
        "An error of exactly 0 (pinn-fixed holds E at the exact value) is drawn at 1e-17.",
    ),
    "sensitivity": (
        "Sensitivity",
        "For a solver whose cases on a problem vary exactly two options: the fraction of seeds "
        "whose every state is ok, and the median over seeds of the worst relative energy error "
        "(— where no seed was graded).",
    ),
    "wavefunctions": (
        "Wavefunctions",
        "Each solver's states over the exact ones (dashed); the potential is shaded.",
    ),
    "pinn_energy": (
        "PINN training",
        "Energy of the first trained state per seed versus step and wall time; dashed: "
        "exact E0; dotted lines ending in x: runs whose status is not ok.",
    ),
    "convergence": (
        "Convergence",
        "fd error versus grid size and shooting error versus tolerance, with reference slopes (dotted).",
    ),
    "dimensions": (
        "Cost against dimension",
        "Per problem series (one problem followed across d): the least wall time and the least "
        "per-case memory increase of an ok case of each family whose every state reaches the "
        "relative energy error 1e-3 (solid) or 1e-6 (dashed); a family absent at some d did not "
        "reach it there. pinn-fixed is left out: it is handed the exact energy. The tables below "
        "give the configurations and the fitted growth.",
    ),
    "pinn_outcomes": (
        "Trained solvers: outcome over seeds",
        "Families pinn and neural-variational: worst L2 error of psi over the states of each seed "
        "(x: not ok; a failed state counts as 1) and the fraction of seeds ok.",
    ),
}


@dataclass
class Report:
    """Where a report was written."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    figures: dict[str, list[str]] = field(default_factory=dict)


def build(run: RunData, out: Path, formats: tuple[str, ...] = FORMATS) -> Report:
    """Write the report of ``run`` into ``out`` (created if needed)."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise ValueError(
            f"formats must be a non-empty subset of {', '.join(FORMATS)}; got {', '.join(formats)}"
        )
    # matplotlib and seaborn cost a second to import: only building a report needs them, not
    # the tables that ``qbench show`` prints (qbench.report.tables).
    import matplotlib.pyplot as plt

    from . import dimensions, figures, work_precision

    out = Path(out)
    figure_dir = out / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    report = Report(out)
    results = run.results
    drawn = {
        "work_precision": work_precision.work_precision(results) if not results.empty else {},
        "accuracy_vs_time": figures.accuracy_vs_time(results) if not results.empty else {},
        "sensitivity": figures.sensitivity(results) if not results.empty else {},
        "wavefunctions": figures.wavefunctions(results, run.wavefunctions) if not results.empty else {},
        "pinn_energy": figures.pinn_histories(results, run.histories) if not results.empty else {},
        "convergence": figures.convergence(results) if not results.empty else {},
        "pinn_outcomes": figures.pinn_outcomes(results) if not results.empty else {},
        "dimensions": dimensions.cost_vs_dimension(results, run.histories),
    }
    for kind, named in drawn.items():
        report.figures[kind] = []
        for name, fig in named.items():
            for suffix in ("png", "svg"):
                path = figure_dir / f"{name}.{suffix}"
                fig.savefig(path, dpi=110 if suffix == "png" else None, bbox_inches="tight")
                report.files.append(path)
            plt.close(fig)
            report.figures[kind].append(name)
    sections = _sections(run)
    if "md" in formats:
        path = out / "report.md"
        write_atomic(path, _markdown(run, sections, report.figures))
        report.files.append(path)
    if "html" in formats:
        path = out / "index.html"
        write_atomic(path, _html(run, sections, report.figures, figure_dir))
        report.files.append(path)
    return report


def _sections(run: RunData) -> list[tuple[str, object]]:
    """The report in order: ``(title, body)`` for a section of text and tables, ``(kind, None)``
    for a kind of figure. A body is a list of sentences, a table, ``None`` (none), or a tuple of
    these."""
    from . import dimensions  # its figures need matplotlib: see build

    results = run.results
    empty = results.empty
    total = len(run.provenance.get("cases", []))
    finished = results["case_id"].nunique() if not empty else 0
    notes = []
    if finished < total:
        notes.append(
            f"{total - finished} of {total} cases of this run have no results (not run or not finished); "
            "they are missing from every table and figure."
        )
    if empty:
        verdict = notes or ["No finished cases."]
    else:
        table, footnotes = tables.verdict_table(results)
        verdict = (table, footnotes + notes)
    return [
        ("Verdict", verdict),
        ("work_precision", None),
        ("accuracy_vs_time", None),
        ("sensitivity", None),
        ("Findings", tables.findings(results) if not empty else None),
        ("Summary per problem and solver", tables.summary_table(results) if not empty else None),
        ("Success over seeds", tables.success_table(results) if not empty else None),
        ("Cases not ok", tables.not_ok_table(results) if not empty else None),
        ("wavefunctions", None),
        ("pinn_energy", None),
        ("convergence", None),
        ("pinn_outcomes", None),
        ("dimensions", None),
        (
            "Cost to reach a tolerance against dimension (expected time per success)",
            dimensions.cost_table(results, run.histories),
        ),
        (
            "Growth with dimension per family (bootstrap over seeds)",
            dimensions.growth_table(results, histories=run.histories),
        ),
        (
            "Growth with dimension per solver (bootstrap over seeds)",
            dimensions.growth_table(results, by="solver", histories=run.histories),
        ),
        (
            "Neural against classical, measured (no extrapolation)",
            dimensions.crossing_table(results, run.histories),
        ),
        ("Provenance", tables.provenance_table(run.provenance)),
    ]


def _parts(body) -> list:
    return list(body) if isinstance(body, tuple) else [body]


def _is_empty(body) -> bool:
    return body is None or (hasattr(body, "empty") and body.empty) or (isinstance(body, list) and not body)


def _markdown(run: RunData, sections, drawn) -> str:
    lines = [f"# qbench report: {run.run_id}", ""]
    for title, body in sections:
        if title in KINDS:
            heading, caption = KINDS[title]
            lines += [f"## {heading}", "", caption, ""]
            if not drawn.get(title):
                lines += ["(nothing to draw in this run)", ""]
            for name in drawn.get(title, []):
                lines += [f"![{name}](figures/{name}.png)  ", f"[SVG](figures/{name}.svg)", ""]
            continue
        lines += [f"## {title}", ""]
        parts = [p for p in _parts(body) if not _is_empty(p)]
        for part in parts or [None]:
            lines += _markdown_body(part)
            lines.append("")
    return "\n".join(lines) + "\n"


def _markdown_body(body) -> list[str]:
    if _is_empty(body):
        return ["(none)"]
    if isinstance(body, list):
        return [f"- {line}" for line in body]
    return [body.to_markdown(index=False)]


def _html(run: RunData, sections, drawn, figure_dir: Path) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>qbench report: {html.escape(run.run_id)}</title>",
        "<style>body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;font-size:13px;margin:0.5em 0}td,th{border:1px solid #ccc;"
        "padding:3px 6px;text-align:left}th{background:#f3f3f3}img{max-width:100%;display:block;"
        "margin:0.5em 0}figcaption{font-size:13px;color:#555}</style>",
        "</head><body>",
        f"<h1>qbench report: {html.escape(run.run_id)}</h1>",
    ]
    for title, body in sections:
        if title in KINDS:
            heading, caption = KINDS[title]
            parts.append(f"<h2>{html.escape(heading)}</h2><p>{html.escape(caption)}</p>")
            if not drawn.get(title):
                parts.append("<p>(nothing to draw in this run)</p>")
            for name in drawn.get(title, []):
                data = base64.b64encode((figure_dir / f"{name}.png").read_bytes()).decode("ascii")
                parts.append(
                    f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(name)}</figcaption></figure>"
                )
            continue
        parts.append(f"<h2>{html.escape(title)}</h2>")
        pieces = [p for p in _parts(body) if not _is_empty(p)]
        if not pieces:
            parts.append("<p>(none)</p>")
        for piece in pieces:
            if isinstance(piece, list):
                parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in piece) + "</ul>")
            else:
                parts.append(piece.to_html(index=False, escape=True, border=0))
    parts.append("</body></html>")
    return os.linesep.join(parts) + os.linesep

"""``qbench report``: a stored run as a self-contained HTML page and a Markdown file, with figures.

Everything is generated from the run's tables (``qbench.store.load``); the
report never solves. Layout of the output directory::

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

import matplotlib.pyplot as plt

from ..store import RunData, write_atomic
from . import figures, tables

FORMATS = ("html", "md")

#: Figure kinds in report order: title and what the reader should look at.
KINDS = {
    "wavefunctions": (
        "Wavefunctions",
        "Each solver's states over the exact ones (dashed); the potential is shaded.",
    ),
    "pinn_energy": (
        "PINN training",
        "Energy of the first trained state per seed versus step and wall time; dashed: "
        "exact E0; dotted lines ending in x: runs whose status is not ok.",
    ),
    "accuracy_vs_time": (
        "Accuracy versus cost",
        "Worst relative energy error over the states of each case versus "
        "its wall time; x: status not ok; the line is the Pareto front of the ok cases. "
        "An error of exactly 0 (pinn-fixed holds E at the exact value) is drawn at 1e-17.",
    ),
    "convergence": (
        "Convergence",
        "fd error versus grid size and shooting error versus tolerance, with reference slopes (dotted).",
    ),
    "pinn_outcomes": (
        "PINN outcome over seeds",
        "Worst L2 error of psi over the states of each seed (x: not ok; a failed "
        "state counts as 1) and the fraction of seeds ok.",
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
    out = Path(out)
    figure_dir = out / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    report = Report(out)
    results = run.results
    drawn = {
        "wavefunctions": figures.wavefunctions(results, run.wavefunctions) if not results.empty else {},
        "pinn_energy": figures.pinn_histories(results, run.histories) if not results.empty else {},
        "accuracy_vs_time": figures.accuracy_vs_time(results) if not results.empty else {},
        "convergence": figures.convergence(results) if not results.empty else {},
        "pinn_outcomes": figures.pinn_outcomes(results) if not results.empty else {},
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
    results = run.results
    not_ok = tables.not_ok_table(results) if not results.empty else None
    total = len(run.provenance.get("cases", []))
    finished = results["case_id"].nunique() if not results.empty else 0
    notes = []
    if finished < total:
        notes.append(
            f"{total - finished} of {total} cases of this run have no results (not run or not finished); "
            "they are missing from every table and figure."
        )
    return [
        (
            "Findings",
            tables.findings(results) + notes if not results.empty else notes or ["No finished cases."],
        ),
        ("Summary per problem and solver", tables.summary_table(results) if not results.empty else None),
        ("PINN success over seeds", tables.pinn_success_table(results) if not results.empty else None),
        ("Cases not ok", not_ok),
        ("Provenance", tables.provenance_table(run.provenance)),
    ]


def _markdown(run: RunData, sections, drawn) -> str:
    lines = [f"# qbench report: {run.run_id}", ""]
    for title, body in sections:
        lines += [f"## {title}", ""]
        lines += _markdown_body(body)
        lines.append("")
    for kind, names in drawn.items():
        title, caption = KINDS[kind]
        lines += [f"## {title}", "", caption, ""]
        if not names:
            lines += ["(nothing to draw in this run)", ""]
        for name in names:
            lines += [f"![{name}](figures/{name}.png)  ", f"[SVG](figures/{name}.svg)", ""]
    return "\n".join(lines) + "\n"


def _markdown_body(body) -> list[str]:
    if body is None or (hasattr(body, "empty") and body.empty):
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
        parts.append(f"<h2>{html.escape(title)}</h2>")
        if body is None or (hasattr(body, "empty") and body.empty):
            parts.append("<p>(none)</p>")
        elif isinstance(body, list):
            parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in body) + "</ul>")
        else:
            parts.append(body.to_html(index=False, escape=True, border=0))
    for kind, names in drawn.items():
        title, caption = KINDS[kind]
        parts.append(f"<h2>{html.escape(title)}</h2><p>{html.escape(caption)}</p>")
        if not names:
            parts.append("<p>(nothing to draw in this run)</p>")
        for name in names:
            data = base64.b64encode((figure_dir / f"{name}.png").read_bytes()).decode("ascii")
            parts.append(
                f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(name)}</figcaption></figure>"
            )
    parts.append("</body></html>")
    return os.linesep.join(parts) + os.linesep

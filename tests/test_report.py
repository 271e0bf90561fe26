"""The report as a reader gets it: files, figures, tables, marked failures, and a real browser."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from headless import CHROMIUM, chromium_command, dump_dom, title

from qbench import report, runner, store
from qbench.cases import Case
from qbench.cli import main
from qbench.executors import InProcess
from qbench.report import dimensions, figures  # noqa: F401 - build imports both; its timing below is of drawing

# Every test here builds a report (matplotlib figures, seconds each) or renders one in a browser.
pytestmark = pytest.mark.slow

BASELINE = Path(__file__).resolve().parents[1] / "results" / "baseline"


@pytest.fixture(scope="module")
def baseline_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    written = report.build(store.load(BASELINE), out)
    return out, written


def test_report_of_the_baseline_has_every_figure_kind_and_table(baseline_report):
    out, written = baseline_report
    assert set(written.figures) == set(report.KINDS)
    for kind, names in written.figures.items():
        # quick sweeps no two options at once, and its problems are all 1D (nothing across dimensions)
        assert names or kind in {"sensitivity", "dimensions"}, f"no {kind} figure"
        for name in names:
            assert (out / "figures" / f"{name}.png").stat().st_size > 1000
            assert (out / "figures" / f"{name}.svg").read_text().lstrip().startswith("<?xml")
    markdown = (out / "report.md").read_text()
    headings = [
        "## Verdict",
        "## Work-precision diagram",
        "## Accuracy versus cost",
        "## Sensitivity",
        "## Findings",
        "## Summary per problem and solver",
        "## Success over seeds",
        "## Cases not ok",
        "## Convergence",
        "## Provenance",
    ]
    positions = [markdown.index(heading) for heading in headings]
    assert positions == sorted(positions)  # the verdict first, then the figure, then the details
    assert "](figures/convergence.png)" in markdown and "| problem" in markdown
    verdict = markdown.split("## Verdict", 1)[1].split("##", 1)[0]
    # the verdict opens with its table, then the definitions; the figure follows at once
    assert verdict.strip().startswith("| problem ") and "expected time to 1e-06" in verdict
    assert "| finite_well    | spectral " in verdict and "never (0/4)" in verdict  # fd misses 1e-6
    assert "reads the answer (box start = exact E)" in verdict  # pinn-trainable on the infinite well
    assert "Certified: cases whose every state is ok and names a certificate" in verdict
    assert "predates per-state certificates" not in verdict  # the baseline has certificates
    figure = markdown.split("## Work-precision diagram", 1)[1].split("##", 1)[0]
    assert "](figures/work_precision.png)" in figure
    findings = [line for line in markdown.split("## Findings", 1)[1].split("##", 1)[0].splitlines() if line]
    assert len(findings) == len(set(findings))  # nothing said twice
    for problem in ("infinite_well", "finite_well", "finite_barrier"):  # the baseline's stored errors
        line = f"- {problem}: most accurate: spectral n_points="
        assert any(finding.startswith(line) for finding in findings), findings
    assert not any("fastest" in finding for finding in findings)  # the verdict's to say, over seeds


def test_html_is_self_contained(baseline_report):
    out, _ = baseline_report
    page = (out / "index.html").read_text()
    assert page.count('src="data:image/png;base64,') >= len(report.KINDS)
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert "<table" in page and "collapsed" in page  # the failed PINN cases and their message


def test_missing_and_failed_cases_are_marked_not_dropped(tmp_path):
    cases = [
        Case.resolve("infinite_well", "fd", solver_options={"n_points": 100}, n_states=2),
        Case.resolve("finite_well", "fd", solver_options={"n_points": 120}, n_states=2),
        Case.resolve("finite_well", "pinn-trainable", solver_options={"adam_steps": 5}, seed=0, n_states=1),
    ]
    run = runner.create(cases, suite={"name": "partial"}, out=tmp_path / "run")
    runner.execute(run, InProcess(timing_budget_s=0.0))
    (tmp_path / "run" / "cases" / f"{cases[1].case_id}.json").unlink()  # as if it never finished
    run.write_tables()
    report.build(store.load(tmp_path / "run"), tmp_path / "report", formats=("md",))
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "1 of 3 cases of this run have no results" in markdown
    assert "fd n_points=120" not in markdown  # the unfinished case is in no table
    assert "pinn-trainable" in markdown
    summary = markdown.split("## Summary per problem and solver", 1)[1].split("##", 1)[0]
    (fd_row,) = [row for row in summary.splitlines() if row.startswith("| infinite_well ")]
    assert fd_row.split("|")[-2].strip() == "—"  # no GPU memory for a CPU case: a marked cell, not nan


def test_the_verdict_compares_each_family_with_the_classical_solvers_and_heatmaps_show_two_knobs(tmp_path):
    cases = [Case.resolve("infinite_well", "spectral", solver_options={"n_points": 40}, n_states=1)]
    cases += [
        Case.resolve(
            "infinite_well",
            "nn-galerkin",
            solver_options={"adam_steps": steps, "learning_rate": rate, "width": 8},
            seed=seed,
            n_states=1,
        )
        for steps in (5, 40)
        for rate in (1e-3, 1e-2)
        for seed in (0, 1)
    ]
    run = runner.create(cases, suite={"name": "verdict"}, out=tmp_path / "run")
    runner.execute(run, InProcess(timing_budget_s=0.0))
    written = report.build(store.load(tmp_path / "run"), tmp_path / "report", formats=("md",))
    (heatmap,) = written.figures["sensitivity"]
    assert heatmap.startswith("sensitivity_infinite_well_nn_galerkin_") and "learning_rate" in heatmap
    markdown = (tmp_path / "report" / "report.md").read_text()
    verdict = markdown.split("## Verdict", 1)[1].split("##", 1)[0]
    rows = [line for line in verdict.splitlines() if line.startswith("| infinite_well")]
    assert rows[0].startswith("| infinite_well | spectral ") and "[1]" in rows[0]
    assert rows[1].startswith("| infinite_well | nn-galerkin ")
    cell = rows[1].split("|")[5].strip()  # expected time to 1e-2: over 4 settings of 2 seeds each
    assert cell.startswith("never (0/8†)") or "/2†" in cell, cell
    assert "- [1] spectral n_points=40" in verdict and "state 0 ok in" in markdown


def test_the_wavefunction_axis_is_named_by_the_stored_line_in_every_d():
    """One code path: the stored line names the x axis, also for a problem this process cannot build."""
    run = store.load(BASELINE)
    case = run.results[run.results["problem"] == "finite_well"].iloc[:1]
    results = run.results[run.results["case_id"] == case["case_id"].iloc[0]]
    samples = run.wavefunctions[run.wavefunctions["case_id"] == case["case_id"].iloc[0]]
    figure = next(iter(figures.wavefunctions(results, samples).values()))
    assert figure.axes[0].get_xlabel() == "x (length units)"  # 1D: the line is the whole domain
    unbuildable = results.assign(problem="not-loaded-plugin-problem")
    moved = samples.assign(line='{"axis":0,"point":[0.0,0.5625]}')
    figure = next(iter(figures.wavefunctions(unbuildable, moved).values()))
    assert figure.axes[0].get_xlabel() == "x0 (length units; x1 = 0.562)"


def test_report_command_and_bad_format(tmp_path, capsys):
    run = tmp_path / "run"
    assert (
        main(
            [
                "run",
                "--problem",
                "infinite_well",
                "--solver",
                "fd:n_points=60",
                "--states",
                "1",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    assert (run / "report" / "index.html").exists()  # qbench run writes it unless --no-report
    assert main(["report", str(run), "--out", str(tmp_path / "r"), "--format", "md"]) == 0
    assert (tmp_path / "r" / "report.md").exists() and not (tmp_path / "r" / "index.html").exists()
    assert main(["report", str(run), "--format", "pdf"]) == 2
    assert "--format takes html and/or md" in capsys.readouterr().err


CHECK = """<script>
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  const decoded = images.filter(img => img.complete && img.naturalWidth > 0).length;
  document.title = 'IMAGES ' + decoded + '/' + images.length;
});
</script></body>"""


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
def test_page_renders_in_headless_chromium(baseline_report, tmp_path):
    out, _ = baseline_report
    page = tmp_path / "index.html"
    page.write_text((out / "index.html").read_text().replace("</body>", CHECK))
    dom = dump_dom(page.as_uri(), tmp_path / "profile")
    images = title(dom.stdout)
    decoded, total = images.removeprefix("IMAGES ").split("/")
    assert int(total) >= len(report.KINDS) and decoded == total, images
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert console == [], console
    screenshot = Path(os.environ.get("QBENCH_SCREENSHOT", tmp_path / "report.png"))
    flags = chromium_command(tmp_path / "profile", "--window-size=1280,2400", f"--screenshot={screenshot}")
    shot = subprocess.run(
        [*flags, (out / "index.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert screenshot.exists() and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]

"""The asv benchmarks: ``asv check`` passes, and a real asv run records the harness's numbers.

asv runs here in the current environment (``-E existing``) with its machine
file and results in a temporary directory, so a developer's checkout and
home directory are left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from headless import CHROMIUM, DEBIAN_SCRIPTS_MISSING, dump_dom, offline, title

asv_util = pytest.importorskip("asv.util")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks import common  # noqa: E402


def _git_head() -> str | None:
    result = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else None


@pytest.fixture(scope="module")
def asv_sandbox(tmp_path_factory):
    """A copy of asv.conf.json whose results, html, environments and machine file live in a temp dir."""
    if _git_head() is None or shutil.which("git") is None:
        pytest.skip("asv needs the git checkout")
    sandbox = tmp_path_factory.mktemp("asv")
    config = asv_util.load_json(str(ROOT / "asv.conf.json"), js_comments=True)
    config.update(
        repo=str(ROOT),
        benchmark_dir=str(ROOT / "benchmarks"),
        results_dir=str(sandbox / "results"),
        html_dir=str(sandbox / "html"),
        env_dir=str(sandbox / "env"),
    )
    (sandbox / "asv.conf.json").write_text(json.dumps(config))
    env = {**os.environ, "HOME": str(sandbox)}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "asv",
            "machine",
            "--yes",
            "--machine",
            "qbench-test",
            "--config",
            str(sandbox / "asv.conf.json"),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return sandbox, env


def _asv(sandbox, env, *args) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "asv", *args, "--config", str(sandbox / "asv.conf.json")]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_asv_check_is_clean(asv_sandbox):
    result = _asv(*asv_sandbox, "check", "-E", "existing")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No problems found" in result.stdout


def test_benchmark_settings_follow_the_quick_suite():
    """The pinned solvers and options are the quick suite's; where the suite changes, decide whether the
    tracks follow (their history then jumps at that commit) and update ``common.SOLVER_OPTIONS``."""
    import qbench
    from qbench import suite

    # A ground-state-only solver (vmc) cannot run the quick suite's 3 states; its own benchmark
    # script (benchmarks/bench_vmc.py) measures it.
    assert set(common.SOLVERS) == {
        n
        for n in qbench.solvers.available()
        if not qbench.solvers.install_hint(n) and qbench.solvers.METHODS[n].max_states != 1
    }
    quick = [(c.solver, c.solver_options) for c in suite.load("quick").cases]
    for solver in common.SOLVERS:
        assert (solver, common.case("finite_well", solver).solver_options) in quick


def test_benchmarks_know_each_solver_family_without_importing_qbench():
    import qbench

    for name in qbench.solvers.available():
        assert common.FAMILY.get(name) == qbench.solvers.family(name), name
    assert common.TRAINED_SOLVERS == common.solvers_of("pinn", "neural-variational")


def test_benchmark_classes_are_grouped_by_family():
    from benchmarks import accuracy, gpu, neural_variational, pinn

    classes = {"classical": "Classical", "pinn": "Pinn", "neural-variational": "NeuralVariational"}
    for family, name in classes.items():
        if common.solvers_of(family):
            tracks = getattr(accuracy, name)
            assert tracks.params == [common.PROBLEMS, common.solvers_of(family)]
            assert tracks.setup_cache is not accuracy._Tracks.__dict__.get("setup_cache")
    import qbench

    for module, family in ((pinn, "pinn"), (neural_variational, "neural-variational")):
        (solvers,) = module.ShortTraining.params
        assert solvers and {qbench.solvers.family(s) for s in solvers} == {family}
    on_cuda = [getattr(gpu, n, None) for n in ("PinnTraining", "NeuralVariationalTraining")]
    assert {s for cls in on_cuda if cls is not None for s in cls.params[1]} == set(common.TRAINED_SOLVERS)


@pytest.mark.slow
def test_asv_tracks_hold_the_errors_the_harness_reports(asv_sandbox):
    """The tracks go through the public runner and store; the numbers are the harness's own."""
    from qbench.harness import run_case

    sandbox, env = asv_sandbox
    head = _git_head()
    result = _asv(
        sandbox,
        env,
        "run",
        "-E",
        "existing",
        "--quick",
        "--set-commit-hash",
        head,
        "--machine",
        "qbench-test",
        "--bench",
        r"accuracy\.Classical\.track_(rel|l2)_error",  # the other families train; CI runs them (.ci/run)
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (results_file,) = [
        p for p in (sandbox / "results" / "qbench-test").glob("*.json") if p.name != "machine.json"
    ]
    stored = json.loads(results_file.read_text())
    assert stored["commit_hash"] == head
    columns = stored["result_columns"]
    rows = {}
    for metric in ("rel_error", "l2_error"):
        entry = dict(zip(columns, stored["results"][f"accuracy.Classical.track_{metric}"]))
        problems, solvers = entry["params"]
        values = iter(entry["result"])
        for problem in problems:
            for solver in solvers:
                key = (problem.strip("'"), solver.strip("'"))
                rows[key] = rows.get(key) or run_case(common.case(*key), timing_budget_s=0.0)["rows"][0]
                recorded = next(values)
                assert recorded is not None, f"{key} {metric} failed in asv"
                assert recorded == rows[key][metric], (key, metric)  # bit for bit
    assert len(rows) == len(common.PROBLEMS) * len(common.solvers_of("classical"))


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """``asv publish`` of the committed ``results/asv`` into a temporary html folder."""
    tmp_path = tmp_path_factory.mktemp("publish")
    committed = ROOT / "results" / "asv"
    machines = [p.name for p in committed.iterdir() if (p / "machine.json").exists()]
    assert machines, "results/asv holds no machine's results"
    config = asv_util.load_json(str(ROOT / "asv.conf.json"), js_comments=True)
    config.update(
        repo=str(ROOT),
        benchmark_dir=str(ROOT / "benchmarks"),
        results_dir=str(committed),
        html_dir=str(tmp_path / "html"),
        env_dir=str(tmp_path / "env"),
    )
    (tmp_path / "asv.conf.json").write_text(json.dumps(config))
    result = _asv(tmp_path, {**os.environ, "HOME": str(tmp_path)}, "publish")
    assert result.returncode == 0, result.stdout + result.stderr
    return tmp_path / "html", machines


def _points(graph: Path) -> int:
    """How many commits of an asv graph file have a value (for any parameter combination)."""
    values = [value for _, value in json.loads(graph.read_text())]
    present = [v if isinstance(v, list) else [v] for v in values]
    return sum(any(x is not None for x in v) for v in present)


@pytest.mark.slow
def test_asv_publish_renders_the_committed_results(published):
    html, machines = published
    index = json.loads((html / "index.json").read_text())
    assert (html / "index.html").exists()
    tracked = {
        "classical.FiniteDifference.time_solve",
        "pinn.ShortTraining.time_training",
        *(f"accuracy.Classical.{track}" for track in ("track_rel_error", "track_l2_error", "track_not_ok")),
        "accuracy.Pinn.track_rel_error",
        "accuracy.NeuralVariational.track_rel_error",
    }
    assert tracked <= set(index["benchmarks"])
    assert set(machines) <= set(index["params"]["machine"])
    for name in ("accuracy.Classical.track_rel_error", "classical.Shooting.time_solve"):
        points = max(_points(graph) for graph in (html / "graphs").rglob(f"{name}.json"))
        assert points >= 20, (name, points)  # the history spans the project (docs/asv.md)


#: Injected into the published index.html: the title becomes the number of points of the main graph.
GRAPH_CHECK = """<script>
setInterval(() => {
  const plot = window.$ && $('#main-graph').data('plot');
  if (!plot) { return; }
  const counts = plot.getData().map(series => series.data.filter(point => point[1] !== null).length);
  document.title = 'POINTS ' + Math.max(0, ...counts);
}, 200);
</script></body>"""


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
@pytest.mark.skipif(bool(DEBIAN_SCRIPTS_MISSING), reason=f"Debian's javascript: {DEBIAN_SCRIPTS_MISSING}")
def test_a_published_graph_renders_more_than_one_point_in_headless_chromium(published, tmp_path):
    html, _ = published
    site = tmp_path / "html"
    shutil.copytree(html, site)
    page = offline((html / "index.html").read_text())  # no network: Debian's copies of its scripts
    (site / "index.html").write_text(page.replace("</body>", GRAPH_CHECK))
    url = (site / "index.html").as_uri() + "#accuracy.Classical.track_rel_error?"
    dom = dump_dom(url, tmp_path / "profile", "--allow-file-access-from-files")  # the site reads its JSON
    shown = title(dom.stdout)
    assert shown.startswith("POINTS "), (shown, dom.stderr[-2000:])
    assert int(shown.removeprefix("POINTS ")) > 1, shown

"""Plugins: a solver and a problem of the user's own, from a file outside the repository, a suite's
``plugins`` or an installed entry point, give the same table in this process, in a worker pool,
on Dask workers and in a subprocess; provenance records them, reproduce and resume refuse a changed
one, and bad plugins are one-line errors that write nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qbench import plugins, problems, runner, solvers, store
from qbench.cases import Case
from qbench.cli import main
from qbench.executors import DaskCluster, ExecutorSetupError, InProcess

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "example_plugin.py"
BIN = Path(sys.executable).parent
GRADED = ["case_id", "state", "problem", "solver", "energy", "energy_ref", "abs_error", "rel_error",
          "l2_error", "status", "case_status"]  # fmt: skip

PLUGIN = '''
"""A test plugin: a dense finite-difference solver and a tilted-free box with an offset."""

import numpy as np

from qbench.problems import Problem, Reference
from qbench.problems import register as register_problem
from qbench.solvers import Option, Solution, Solver
from qbench.solvers import register as register_solver

__version__ = "0.3"


def check_points(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 3 <= value <= 1000:
        raise ValueError(f"{name} must be an integer in [3, 1000], got {value!r}")
    return value


@register_solver
class TinyDense(Solver):
    name = "tp-dense"
    options = {"n_points": Option(200, check_points, "interior points")}

    def _solve(self, problem, n_states):
        x = np.linspace(*problem.domain, self.n_points + 2)
        h = x[1] - x[0]
        off = np.full(self.n_points - 1, -1 / h**2)
        matrix = np.diag(2 / h**2 + problem.potential(x[1:-1])) + np.diag(off, 1) + np.diag(off, -1)
        energies, vectors = np.linalg.eigh(matrix)
        psi = np.zeros((n_states, len(x)))
        psi[:, 1:-1] = vectors[:, :n_states].T / np.sqrt(h)
        return Solution(energies[:n_states], lambda p: np.array([np.interp(p, x, s) for s in psi]))


@register_problem
class OffsetBox(Problem):
    name = "tp_box"
    has_exact_reference = True

    def __init__(self, length=2.0, offset=3.0):
        super().__init__()
        if not length > 0:
            raise ValueError(f"length must be > 0, got {length!r}")
        self._length, self._offset = float(length), float(offset)

    domain = property(lambda self: (0.0, self._length))
    breakpoints = property(lambda self: ())
    params = property(lambda self: {"length": self._length, "offset": self._offset})

    def potential(self, x):
        x = np.asarray(x, dtype=float)
        return np.where((x >= 0) & (x <= self._length), self._offset, np.inf)

    def _compute_reference(self, n_states):
        k = np.arange(1, n_states + 1) * np.pi / self._length
        length = self._length
        return Reference(self._offset + k**2, lambda x: np.sqrt(2 / length) * np.sin(np.outer(k, x)))
'''

CASES = ["--problem", "tp_box", "--problem", "finite_well", "--solver", "tp-dense:n_points=150",
         "--solver", "fd:n_points=150", "--states", "2", "--no-report"]  # fmt: skip


@pytest.fixture(autouse=True)
def isolated_registries():
    """Each test starts and ends with the registries, loaded plugins and entry points it found."""
    saved = {name: dict.copy(registry) for name, registry in plugins._registries().items()}
    loaded, ensured = dict(plugins._LOADED), set(plugins._ENSURED)
    plugins.reset_entry_points()
    yield
    plugins.reset_entry_points()
    for name, registry in plugins._registries().items():
        dict.clear(registry)
        dict.update(registry, saved[name])
    plugins._LOADED.clear()
    plugins._LOADED.update(loaded)
    plugins._ENSURED.clear()
    plugins._ENSURED.update(ensured)
    for name in [m for m in sys.modules if m.startswith("tp_")]:  # the test's own modules and packages
        del sys.modules[name]


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory) -> Path:
    """A folder outside the repository with the plugin file (shared: its module name follows its path)."""
    folder = tmp_path_factory.mktemp("user-code")
    (folder / "my_plugin.py").write_text(PLUGIN)
    return folder


@pytest.fixture
def plugin_file(plugin_dir) -> Path:
    path = plugin_dir / "my_plugin.py"
    yield path
    path.write_text(PLUGIN)  # a test that edited it leaves it as it was


def graded(path: Path) -> pd.DataFrame:
    results = store.load(path).results
    return results[GRADED].sort_values(["case_id", "state"]).reset_index(drop=True)


def statuses_as_expected(table: pd.DataFrame) -> bool:
    """fd's states are certified ok; the plugin's (a piecewise-linear interpolant, no Laplacian, as
    plugins written before certificates are) are honestly ``unverified``, never ok."""
    plugin = table["solver"].str.startswith("tp-")
    ok = (table.loc[~plugin, "status"] == "ok").all()
    unverified = (table.loc[plugin, "status"] == "unverified").all()
    return bool(ok and unverified and plugin.any())


# -- one table, wherever it runs -------------------------------------------------------------------
@pytest.mark.slow
def test_cli_in_process_worker_pool_dask_and_python_api_give_the_same_table(plugin_file, tmp_path, capsys):
    plugin = ["--plugin", str(plugin_file)]
    tables = {}
    executors = {"in-process": [], "pool": ["--jobs", "2"], "dask": ["--executor", "dask", "--jobs", "1"]}
    for name, extra in executors.items():
        code = main(["run", *plugin, *CASES, *extra, "--out", str(tmp_path / name)])
        assert code == 0, capsys.readouterr().err
        tables[name] = graded(tmp_path / name)
    # The Python API: load the plugin, build the cases, run them.
    record = plugins.load(str(plugin_file))
    cases = [
        Case.resolve(problem, solver, solver_options={"n_points": 150}, n_states=2)
        for problem in ("tp_box", "finite_well")
        for solver in ("tp-dense", "fd")
    ]
    run = runner.create(
        cases, suite={"name": "api", "source": "test", "description": ""}, out=tmp_path / "api"
    )
    runner.execute(run, InProcess(timing_budget_s=0.0, plugins=[record]))
    tables["api"] = graded(tmp_path / "api")
    reference = tables["in-process"]
    assert len(reference) == 8 and statuses_as_expected(reference)
    assert (reference[reference["problem"] == "tp_box"]["rel_error"] < 1e-3).all()
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, reference, check_exact=True, obj=name)

    (recorded,) = store.load(tmp_path / "dask").provenance["plugins"]
    sha = hashlib.sha256(plugin_file.read_bytes()).hexdigest()
    assert recorded == {
        "origin": "cli",
        "kind": "file",
        "spec": str(plugin_file),
        "module": plugins.file_module_name(plugin_file),
        "file": str(plugin_file),
        "sha256": sha,
        "version": "0.3",
        "distribution": None,
        "entry_point": None,
        "solvers": ["tp-dense"],
        "problems": ["tp_box"],
    }
    assert store.load(tmp_path / "api").provenance["plugins"][0]["sha256"] == sha


@pytest.mark.slow
def test_a_real_subprocess_loads_the_plugin_file(plugin_file, tmp_path):
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "qbench", "run", "--plugin", str(plugin_file), *CASES, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    table = graded(out)
    assert len(table) == 8 and statuses_as_expected(table)
    assert "tp_box" in result.stdout and "tp-dense n_points=150" in result.stdout


# -- Dask workers on another "machine": no shared disk, a worker that restarts ----------------------
DIES_ONCE = """

import os
import signal
from pathlib import Path


@register_solver
class DiesOnce(TinyDense):
    \"\"\"Kills its worker process (as the OOM killer would) unless ``marker`` exists, which it creates.\"\"\"

    name = "tp-dies-once"
    options = {**TinyDense.options, "marker": Option("", lambda key, value: str(value), "a file")}

    def _solve(self, problem, n_states):
        if not Path(self.marker).exists():
            Path(self.marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return super()._solve(problem, n_states)
"""


@pytest.mark.slow
def test_dask_workers_without_the_file_and_a_restarted_worker_load_the_plugin(tmp_path):
    """A scheduler and a worker as separate processes, as on other machines: the worker has no copy of
    the plugin file (deleted after the client loaded it), and the process that replaces a killed worker
    has not seen the executor's start, so each task must bring the plugin."""
    pytest.importorskip("distributed")
    private = tmp_path / "client-only"
    private.mkdir()
    (private / "client_plugin.py").write_text(PLUGIN.replace('"tp-dense"', '"tp-dense-2"') + DIES_ONCE)
    record = plugins.load(str(private / "client_plugin.py"))
    (private / "client_plugin.py").unlink()  # the workers can only have it from the client
    marker = str(tmp_path / "died")
    cases = [
        Case.resolve("tp_box", "tp-dies-once", solver_options={"marker": marker}, n_states=2),
        Case.resolve("finite_well", "tp-dense-2", n_states=2),
    ]
    same = [Case.resolve(problem, "tp-dense-2", n_states=2) for problem in ("tp_box", "finite_well")]
    expected = {
        r["case"]["problem"]: r["rows"][0]["energy"] for r in InProcess(timing_budget_s=0.0).run(same)
    }

    scheduler_file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    elsewhere = tmp_path / "worker-cwd"
    elsewhere.mkdir()
    scheduler = [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
    processes = [subprocess.Popen([*scheduler, "--scheduler-file", scheduler_file], **quiet)]
    try:
        end = time.monotonic() + 30
        while not scheduler_file.exists() and time.monotonic() < end:
            time.sleep(0.05)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = [BIN / "dask", "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"]
        processes.append(subprocess.Popen(worker, cwd=elsewhere, **quiet))
        # A plugin the worker cannot load stops the start, in one line naming the worker and the plugin.
        ghost = plugins.Plugin("cli", "module", "tp_not_installed_anywhere", "tp_not_installed_anywhere")
        with pytest.raises(
            ExecutorSetupError, match=r"Dask worker tcp://\S+ cannot load the plugins: plugin tp_not_"
        ):
            DaskCluster(scheduler=address, plugins=[ghost]).start()
        with DaskCluster(scheduler=address, timing_budget_s=0.0, plugins=[record]) as cluster:
            records = list(cluster.run(cases))
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=30)
    assert Path(marker).exists()  # the worker did die once, on the plugin's solver
    # tp-dense-2 supplies no Laplacian and interpolates linearly: unverified, on the cluster as here.
    assert [r["rows"][0]["status"] for r in records] == ["unverified", "unverified"], records[0]["rows"][0][
        "message"
    ]
    assert {r["case"]["problem"]: r["rows"][0]["energy"] for r in records} == expected


# -- suite files and entry points -----------------------------------------------------------------------
@pytest.mark.slow
def test_a_suite_names_its_plugins_relative_to_its_folder_or_by_module(
    plugin_dir, tmp_path, monkeypatch, capsys
):
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "tp_module_plugin.py").write_text(PLUGIN.replace('"tp-dense"', '"tp-mod"').replace(
        '"tp_box"', '"tp_mod_box"').replace('"0.3"', '"2.5"'))  # fmt: skip
    monkeypatch.syspath_prepend(str(modules))
    suite_dir = plugin_dir / "suites"
    suite_dir.mkdir(exist_ok=True)
    suite_file = suite_dir / "mine.toml"
    suite_file.write_text(
        'plugins = ["../my_plugin.py", "tp_module_plugin"]\nn_states = 1\n'
        '[[block]]\nproblems = ["tp_box", "tp_mod_box"]\nsolvers = ["tp-dense", "tp-mod"]\n'
    )
    monkeypatch.chdir(tmp_path)  # the relative path is the suite's, not the working directory's
    out = tmp_path / "run"
    assert main(["run", "--suite", str(suite_file), "--no-report", "--out", str(out)]) == 0
    data = store.load(out)
    assert len(data.results) == 4 and (data.results["status"] == "unverified").all()  # plugins' psi
    by_module = {p["module"]: p for p in data.provenance["plugins"]}
    file_plugin = by_module[plugins.file_module_name(plugin_dir / "my_plugin.py")]
    assert file_plugin["origin"] == "suite" and file_plugin["file"] == str(plugin_dir / "my_plugin.py")
    module_plugin = by_module["tp_module_plugin"]
    assert module_plugin["origin"] == "suite" and module_plugin["kind"] == "module"
    assert module_plugin["file"] == str(modules / "tp_module_plugin.py") and module_plugin["version"] == "2.5"
    assert module_plugin["solvers"] == ["tp-mod"] and module_plugin["problems"] == ["tp_mod_box"]


def fake_distribution(site: Path, entry_points: str) -> None:
    """An installed distribution ``tp-mypkg 1.0`` with package ``tp_mypkg`` and these entry points."""
    info = site / "tp_mypkg-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tp-mypkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    package = site / "tp_mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    # The solver module does not register: its entry point names the class, qbench registers it.
    solver_source = PLUGIN.replace('"tp-dense"', '"tp-ep"').replace("@register_solver\n", "")
    (package / "solvers.py").write_text(solver_source.split("@register_problem")[0])
    # The problems module registers on import: its entry point names the module.
    problem_source = PLUGIN.replace('"tp_box"', '"tp_ep_box"').replace('"tp-dense"', '"tp-ep-unused"')
    (package / "problems.py").write_text(problem_source.replace("@register_solver\n", ""))


@pytest.mark.slow
def test_entry_points_load_lazily_from_the_registries_and_are_recorded(tmp_path, monkeypatch, capsys):
    site = tmp_path / "site"
    fake_distribution(
        site,
        """
        [qbench.solvers]
        tp-ep = tp_mypkg.solvers:TinyDense
        [qbench.problems]
        tp-problems = tp_mypkg.problems
        """,
    )
    monkeypatch.syspath_prepend(str(site))
    assert "tp_mypkg.solvers" not in sys.modules
    # The Python API sees them at the first lookup, with no call to qbench.plugins.
    assert "tp-ep" in solvers.available() and "tp_ep_box" in problems.available()
    energies = solvers.get("tp-ep").solve(problems.get("tp_ep_box"), 2).energies
    np.testing.assert_allclose(energies, 3.0 + (np.arange(1, 3) * np.pi / 2.0) ** 2, rtol=1e-3)

    out = tmp_path / "run"
    argv = ["run", "--problem", "tp_ep_box", "--solver", "tp-ep", "--states", "1", "--no-report"]
    assert main([*argv, "--out", str(out)]) == 0
    recorded = {p["entry_point"]: p for p in store.load(out).provenance["plugins"]}
    solver_plugin = recorded["qbench.solvers:tp-ep"]
    assert solver_plugin["origin"] == "entry-point" and solver_plugin["distribution"] == "tp-mypkg"
    assert solver_plugin["version"] == "1.0" and solver_plugin["module"] == "tp_mypkg.solvers"
    assert (
        solver_plugin["file"] == str(site / "tp_mypkg" / "solvers.py") and len(solver_plugin["sha256"]) == 64
    )
    assert recorded["qbench.problems:tp-problems"]["problems"] == ["tp_ep_box"]
    capsys.readouterr()
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "tp-ep [classical] dim 1  (plugin: entry point qbench.solvers:tp-ep of tp-mypkg 1.0)" in listing
    assert "(plugin: entry point qbench.problems:tp-problems of tp-mypkg 1.0)" in listing
    assert main(["reproduce", str(out)]) == 0


def test_a_broken_entry_point_warns_in_python_and_is_an_error_on_the_command_line(
    tmp_path, monkeypatch, capsys
):
    fake_distribution(tmp_path / "site", "[qbench.solvers]\nbroken = tp_missing_module:Thing\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.warns(plugins.PluginWarning, match=r"entry point broken = tp_missing_module:Thing"):
        assert "fd" in solvers.available()  # unrelated lookups go on
    assert solvers.get("fd", n_points=50).name == "fd"
    with pytest.raises(ValueError, match=r"unknown solver 'broken'.*entry point broken.*ModuleNotFoundError"):
        solvers.get("broken")
    out = tmp_path / "never"
    assert main(["run", "--solver", "fd", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "entry point broken = tp_missing_module:Thing" in err
    assert "tp-mypkg 1.0" in err and "No module named 'tp_missing_module'" in err and not out.exists()


# -- provenance, reproduce and resume -----------------------------------------------------------------
@pytest.mark.slow
def test_reproduce_and_resume_load_the_recorded_plugin_and_refuse_a_changed_file(
    plugin_file, tmp_path, capsys
):
    out = tmp_path / "run"
    assert main(["run", "--plugin", str(plugin_file), *CASES, "--out", str(out)]) == 0
    # A run that was interrupted before any case: --resume has all four to do.
    pending = runner.create(
        store.load(out).cases,
        suite={"name": "pending", "source": "test", "description": ""},
        out=tmp_path / "pending",
        plugins=[plugins.load(str(plugin_file))],
    )
    pending.provenance["status"] = "interrupted"  # as a run killed before its first case leaves it
    pending.save_provenance()
    assert main(["reproduce", str(out)]) == 0  # no --plugin: the recorded one is loaded
    capsys.readouterr()

    plugin_file.write_text(PLUGIN + "\n# an edit\n")
    rerun = tmp_path / "rerun"
    assert main(["reproduce", str(out), "--out", str(rerun)]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and "plugin my_plugin.py changed since run" in err and "--allow-changed" in err
    )
    assert not rerun.exists()
    assert main(["run", "--resume", str(pending.path), "--no-report"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "plugin my_plugin.py changed since run pending-" in err
    assert not list((pending.path / "cases").iterdir())

    assert main(["reproduce", str(out), "--out", str(rerun), "--allow-changed-plugins"]) == 0
    new_sha = hashlib.sha256(plugin_file.read_bytes()).hexdigest()
    assert store.load(rerun).provenance["plugins"][0]["sha256"] == new_sha
    assert main(["run", "--resume", str(pending.path), "--no-report", "--allow-changed-plugins"]) == 0
    resumed = store.load(pending.path)
    assert resumed.provenance["status"] == "complete" and len(resumed.results) == 8
    assert resumed.provenance["plugins"][0]["sha256"] != new_sha  # as first recorded
    assert resumed.provenance["resumed"][0]["plugins"][0]["sha256"] == new_sha  # the code that finished it
    capsys.readouterr()
    assert main(["run", *CASES, "--allow-changed-plugins", "--out", str(tmp_path / "x")]) == 2
    assert "--allow-changed-plugins needs --resume" in capsys.readouterr().err


@pytest.mark.slow
def test_reproduce_finds_a_moved_plugin_file_given_with_plugin(plugin_dir, tmp_path, capsys):
    first = tmp_path / "first"
    first.mkdir()
    (first / "moving.py").write_text(PLUGIN.replace('"tp-dense"', '"tp-moving"'))
    out = tmp_path / "run"
    argv = ["run", "--plugin", str(first / "moving.py"), "--problem", "tp_box", "--solver", "tp-moving"]
    assert main([*argv, "--states", "1", "--no-report", "--out", str(out)]) == 0
    second = tmp_path / "second"
    first.rename(second)
    plugins._LOADED.clear()  # as a new process would be
    dict.pop(solvers.METHODS, "tp-moving")
    dict.pop(problems.PROBLEMS, "tp_box")
    assert main(["reproduce", str(out)]) == 2
    assert "is missing; give its new path with --plugin" in capsys.readouterr().err
    assert main(["reproduce", str(out), "--plugin", str(second / "moving.py")]) == 0


@pytest.mark.slow
def test_report_of_a_run_whose_plugin_is_gone_still_writes_with_a_warning(plugin_dir, tmp_path, capsys):
    folder = tmp_path / "gone"
    folder.mkdir()
    source = PLUGIN.replace('"tp-dense"', '"tp-gone"').replace('"tp_box"', '"tp_gone"')
    (folder / "gone.py").write_text(source)
    out = tmp_path / "run"
    argv = ["run", "--plugin", str(folder / "gone.py"), "--problem", "tp_gone", "--solver", "tp-gone"]
    assert main([*argv, "--states", "1", "--no-report", "--out", str(out)]) == 0
    (folder / "gone.py").unlink()
    plugins._LOADED.clear()  # as a new process would be
    dict.pop(solvers.METHODS, "tp-gone")
    dict.pop(problems.PROBLEMS, "tp_gone")
    capsys.readouterr()
    assert main(["report", str(out)]) == 0  # the report reads stored tables; it solves nothing
    assert "gone.py" in capsys.readouterr().err
    assert (out / "report" / "index.html").exists()


# -- bad plugins -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "message"),
    [
        (None, "cannot read {path}: no such file"),
        ("def broken(:\n", "failed to load: SyntaxError"),
        ("raise RuntimeError('no licence server')\n", "failed to load: RuntimeError: no licence server"),
        ("import tp_no_such_dependency\n", "failed to load: ModuleNotFoundError: No module named"),
        (
            PLUGIN.replace('"tp-dense"', '"fd"'),
            "solver name 'fd' is taken: qbench.solvers.fd.FiniteDifference is registered under it",
        ),
        (  # half-way through: the solver registered before the problem clashed is undone too
            PLUGIN.replace('"tp-dense"', '"tp-half"').replace('"tp_box"', '"finite_well"'),
            "problem name 'finite_well' is taken",
        ),
    ],
)
def test_a_bad_plugin_file_is_one_line_exit_2_writes_nothing_and_registers_nothing(
    source, message, tmp_path, capsys
):
    path = tmp_path / "bad_plugin.py"
    if source is not None:
        path.write_text(source)
    before = {kind: registry.raw() for kind, registry in plugins._registries().items()}
    out = tmp_path / "never"
    for argv in (["run", "--solver", "fd", "--out", str(out)], ["list"], ["reproduce", str(tmp_path)]):
        assert main([*argv, "--plugin", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.err.count("\n") == 1 and captured.out == ""
        assert f"plugin {path}" in captured.err and message.format(path=path) in captured.err, captured.err
    assert not out.exists()
    assert {kind: registry.raw() for kind, registry in plugins._registries().items()} == before


def test_a_missing_module_and_a_name_defined_by_two_plugins_exit_2(plugin_file, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["run", "--plugin", "tp_no_such_module", "--solver", "fd", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "plugin tp_no_such_module failed to import: ModuleNotFoundError" in err and err.count("\n") == 1
    twin = tmp_path / "twin.py"
    twin.write_text(PLUGIN.replace('"tp_box"', '"tp_twin_box"'))  # tp-dense again, another class
    assert main(["run", "--plugin", str(plugin_file), "--plugin", str(twin), "--solver", "fd",
                 "--out", str(out)]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"plugin {twin} failed to load: ValueError: solver name 'tp-dense'" in err
    assert f"(from {plugin_file})" in err and f"(from {twin})" in err and not out.exists()
    assert "tp_twin_box" not in problems.PROBLEMS


def test_register_refuses_a_taken_name_but_takes_the_same_class_again():
    class Mine(solvers.Solver):
        name = "fd"

        def _solve(self, problem, n_states):
            raise NotImplementedError

    with pytest.raises(
        ValueError, match=r"solver name 'fd' is taken: qbench.solvers.fd.FiniteDifference .*Mine"
    ):
        solvers.register(Mine)
    assert solvers.register(solvers.FiniteDifference) is solvers.FiniteDifference
    with pytest.raises(ValueError, match="problem name 'finite_well' is taken"):
        problems.register(type("FiniteWell", (problems.InfiniteWell,), {"name": "finite_well"}))
    # The same plugin executed again defines a new class with the same module and qualname: allowed.
    again = type("FiniteDifference", (solvers.FiniteDifference,), {"__module__": "qbench.solvers.fd"})
    assert solvers.register(again) is again and solvers.METHODS["fd"] is again


@pytest.mark.slow
def test_a_plugin_that_registers_nothing_is_fine_and_listed_as_such(tmp_path, capsys):
    quiet = tmp_path / "quiet.py"
    quiet.write_text("ANSWER = 42\n")
    assert main(["list", "--plugin", str(quiet)]) == 0
    out = capsys.readouterr().out
    assert f"quiet.py  [cli] {quiet}" in out and "adds nothing" in out


# -- the documented example plugin -----------------------------------------------------------------------
@pytest.mark.slow
def test_the_documented_example_plugin_runs_and_converges_at_second_order(tmp_path, monkeypatch, capsys):
    assert main(["list", "--plugin", str(EXAMPLE)]) == 0
    listing = capsys.readouterr().out
    assert "shifted_well         [dim 1] length=1.0, offset=10.0  (plugin: example_plugin.py)" in listing
    assert "dense-fd [classical] dim 1  (plugin: example_plugin.py)" in listing
    assert "n_points=400" in listing and "adds solvers dense-fd; problems shifted_well" in listing

    out = tmp_path / "run"
    argv = ["run", "--plugin", str(EXAMPLE.relative_to(ROOT)), "--problem", "shifted_well:length=2,offset=-3",
            "--solver", "dense-fd:n_points=100", "--solver", "dense-fd:n_points=200", "--solver", "fd",
            "--states", "3", "--no-report", "--out", str(out)]  # fmt: skip
    monkeypatch.chdir(ROOT)  # the path as the docs give it, relative to the repository
    assert main(argv) == 0
    results = store.load(out).results
    assert (results["status"] == "ok").all()
    exact = -3.0 + (np.arange(1, 4) * np.pi / 2.0) ** 2
    np.testing.assert_allclose(results.groupby("state")["energy_ref"].first(), exact, rtol=1e-14)
    dense = results[results["solver"] == "dense-fd"]
    coarse, fine = (
        dense[dense["solver_options"].str.contains(f'"n_points":{n}')]
        .sort_values("state")["abs_error"]
        .to_numpy()
        for n in (100, 200)
    )
    np.testing.assert_allclose(coarse / fine, 4.0, rtol=0.03)  # halving h quarters the error
    assert (results[results["solver"] == "fd"]["rel_error"] < 1e-5).all()

    with pytest.raises(ValueError, match=r"n_points must be an integer in \[3, 4000\], got 2"):
        solvers.get("dense-fd", n_points=2)
    with pytest.raises(ValueError, match="length must be > 0"):
        problems.get("shifted_well", length=0)

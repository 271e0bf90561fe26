"""The command line: run, list, show, compare, reproduce; bad input exits 2 and writes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from qbench import solvers, store
from qbench.cli import main, parse_seeds, parse_spec
from qbench.cli.specs import UsageError

SMALL_RUN = [
    "--problem",
    "finite_barrier:V0=50",
    "--solver",
    "fd:n_points=200",
    "--solver",
    "shooting",
    "--states",
    "2",
]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "small"
    assert main(["run", *SMALL_RUN, "--out", str(out)]) == 0
    return out


@pytest.mark.slow
def test_list_shows_problems_solvers_suites_and_parameters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for text in (
        "finite_well",
        "V0=20.0",
        "piecewise_constant",
        "fd",
        "n_points",
        "shooting",
        "tol",
        "pinn-trainable",
        "Suites",
        "quick",
        "paper",
        "full",
    ):
        assert text in out


@pytest.mark.slow
def test_run_stores_a_run_and_prints_the_summary(small_run, capsys):
    data = store.load(small_run)
    assert len(data.results) == 4 and (data.results["status"] == "ok").all()
    assert set(data.results["solver"]) == {"fd", "shooting"}
    assert data.provenance["command_line"][-2:] == ["--out", str(small_run)]
    assert main(["show", str(small_run)]) == 0
    out = capsys.readouterr().out
    assert "finite_barrier V0=50.0" in out and "fd n_points=200" in out and "1/1" in out


@pytest.mark.slow
def test_run_defaults_to_results_runs_under_the_working_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--problem", "infinite_well", "--solver", "fd:n_points=50", "--states", "1"]) == 0
    (run,) = (tmp_path / "results" / "runs").iterdir()
    assert run.name.startswith("custom-") and (run / "results.parquet").exists()
    assert main(["show", run.name]) == 0  # a run id is found under results/runs


@pytest.fixture
def collapsing_solver():
    """A solver whose answer is a result with status failed (as a PINN that collapsed), whatever PINNs do."""

    class Collapses(solvers.Solver):
        name = "test-collapses"

        def _solve(self, problem, n_states):
            reference = problem.reference(n_states)
            return solvers.Solution(
                reference.energies * 0, reference.wavefunctions, status="failed", message="psi collapsed"
            )

    solvers.register(Collapses)
    yield Collapses.name
    solvers.METHODS.pop(Collapses.name)


def test_failed_cases_are_results_exit_0_and_listed_and_strict_makes_them_exit_1(
    collapsing_solver, tmp_path, capsys
):
    argv = ["run", "--problem", "finite_well", "--solver", collapsing_solver, "--states", "1"]
    code = main([*argv, "--no-report", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 0 and "collapsed" in err and "1 of 1 cases not ok" in err and "--strict" in err
    results = store.load(tmp_path / "r").results
    assert results["status"].tolist() == ["failed"] and results["case_status"].tolist() == ["failed"]
    assert main([*argv, "--no-report", "--strict", "--out", str(tmp_path / "s")]) == 1
    assert "1 of 1 cases not ok" in capsys.readouterr().err
    # --strict with every case ok is 0; resuming a complete run answers with the run's own verdict.
    assert main(["run", "--resume", str(tmp_path / "s"), "--strict"]) == 1
    assert main(["run", "--resume", str(tmp_path / "r")]) == 0


@pytest.mark.slow
def test_family_keeps_only_the_solvers_of_those_families(tmp_path, capsys):
    out = tmp_path / "classical"
    argv = ["run", "--problem", "infinite_well", "--solver", "fd:n_points=60", "--solver"]
    argv += ["pinn-fixed:adam_steps=2", "--states", "1", "--no-report", "--family", "classical"]
    assert main([*argv, "--out", str(out)]) == 0
    data = store.load(out)
    assert set(data.results["solver"]) == {"fd"} and data.provenance["settings"]["families"] == ["classical"]
    capsys.readouterr()
    assert main([*argv, "--family", "reference", "--out", str(tmp_path / "none")]) == 0  # fd still there
    assert main(["list", "--family", "pinn", "--family", "neural-variational"]) == 0
    listed = capsys.readouterr().out.split("Suites")[0]
    assert "pinn-fixed [pinn]" in listed and "nn-galerkin [neural-variational]" in listed
    assert "  fd" not in listed and "shooting" not in listed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--solver", "nope"], "unknown solver 'nope'"),
        (["run", "--problem", "nope"], "unknown problem 'nope'"),
        (["run", "--suite", "nope"], "unknown suite 'nope'"),
        (["run", "--problem", "finite_well:V0=-3"], "V0 must be >= 0"),
        (["run", "--problem", "finite_well:deep=3"], "unknown parameter"),
        (["run", "--solver", "fd:n_points"], "expected key=value"),
        (["run", "--solver", "fd:n_points=3"], "n_points must be >= 5"),
        (["run", "--states", "0"], "--states must be >= 1"),
        (["run", "--solver", "fd:n_points=10", "--states", "5"], "n_points must be >= 20"),
        (["run", "--seeds", "5-2"], "--seeds must be"),
        (["run", "--timeout", "0"], "--timeout must be > 0"),
        (["run", "--tolerance", "0"], "--tolerance must be in (0, 1)"),
        (["run", "--tolerance=-1e-3"], "--tolerance must be in (0, 1)"),
        (["run", "--resume", ".", "--tolerance", "1e-3"], "drop --tolerance"),
        (["run", "--jobs", "0"], "--jobs must be >= 1"),
        (["run", "--suite", "quick", "--solver", "fd"], "either --suite or --problem/--solver"),
        (["run", "--resume", "no-such-run"], "not found"),
        (["run", "--resume", ".", "--suite", "quick"], "drop --suite"),
        (["run", "--resume", ".", "--family", "pinn"], "drop --family"),
        (
            ["run", "--family", "pinn", "--family", "quantum"],
            "--family quantum: unknown family; allowed: classical, pinn, neural-variational, reference",
        ),
        (["list", "--family", "classic"], "--family classic: unknown family; allowed: classical"),
        (["run", "--solver", "fd", "--family", "reference"], "has no solver of family reference"),
        (["show", "no-such-run"], "not found"),
        (["reproduce", "no-such-run"], "not found"),
        (["compare", "no-such-run", "other"], "not found"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


SWEEP_SUITE = '[[block]]\nproblems = ["infinite_well"]\nsolvers = [{{ name = "fd", sweep = {sweep} }}]\n'


@pytest.mark.parametrize(
    ("sweep", "message"),
    [
        ("{ n_points = [100, 3] }", "n_points must be >= 5"),  # a value out of range
        ("{ n_points = 100 }", "must map names to non-empty lists"),  # not a list
        ("{ n_points = [] }", "must map names to non-empty lists"),
        ("[100, 200]", "must map names to non-empty lists"),  # not a table
        ("{ n_points = [100, 200], bogus = [1] }", "unknown option(s) bogus"),
        ("{ n_points = [100, \n 200 }", "malformed TOML"),  # a grid the TOML parser rejects
    ],
)
def test_a_bad_sweep_in_a_suite_file_is_one_line_exit_2_and_writes_nothing(
    sweep, message, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    suite_file = tmp_path / "sweep.toml"
    suite_file.write_text(SWEEP_SUITE.format(sweep=sweep))
    assert main(["run", "--suite", str(suite_file), "--out", str(tmp_path / "run")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("qbench: error: suite ") and message in captured.err, captured.err
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.toml"]


@pytest.mark.slow
def test_bad_suite_file_and_bad_output_directories_exit_2(tmp_path, small_run, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[block]\n")
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "mine.txt").write_text("keep me")
    cases = [
        (["run", "--suite", str(bad)], "malformed TOML"),
        (["run", *SMALL_RUN, "--out", str(occupied)], "is not empty and is not a qbench run"),
        (["run", *SMALL_RUN, "--out", str(small_run)], "already holds a run; use --resume"),
        (["run", *SMALL_RUN, "--out", str(bad / "run")], "not writable"),
        (["reproduce", str(occupied)], "has no provenance.json"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, (argv, err)
    assert [p.name for p in occupied.iterdir()] == ["mine.txt"]


@pytest.mark.slow
def test_compare_passes_against_itself_and_fails_when_an_error_grew(small_run, tmp_path, capsys):
    assert main(["compare", str(small_run), str(small_run)]) == 0
    assert "no regressions" in capsys.readouterr().out
    worse = tmp_path / "worse"
    shutil.copytree(small_run, worse)
    table = pd.read_parquet(worse / "results.parquet")
    table.loc[0, "rel_error"] *= 2
    table.to_parquet(worse / "results.parquet", index=False)
    assert main(["compare", str(small_run), str(worse)]) == 1
    out = capsys.readouterr().out
    assert "rel_error" in out and "True" in out
    assert main(["compare", str(small_run), str(worse), "--rtol", "1.5"]) == 0


@pytest.mark.slow
def test_reproduce_passes_on_a_fresh_run(small_run, capsys):
    assert main(["reproduce", str(small_run)]) == 0
    assert "reproduced: all 4 energies, L2 errors" in capsys.readouterr().out


@pytest.mark.slow
def test_reproduce_fails_when_a_recorded_energy_moved(small_run, tmp_path, capsys):
    edited = tmp_path / "edited"
    shutil.copytree(small_run, edited)
    # Edit the number consistently everywhere (case record, Parquet, CSV): only re-running can tell.
    record_file = next((edited / "cases").glob("*.json"))
    record = json.loads(record_file.read_text())
    record["rows"][0]["energy"] *= 1 + 1e-9
    record_file.write_text(json.dumps(record))
    store.RunDirectory.open(edited).write_tables()
    assert store.consistency_problems(store.load(edited)) == []
    assert main(["reproduce", str(edited)]) == 1
    captured = capsys.readouterr()
    assert "1 of 4 states moved" in captured.err and "False" in captured.out


@pytest.mark.slow
def test_reproduce_compares_the_status_of_each_state(small_run, tmp_path, capsys):
    edited = tmp_path / "edited_status"
    shutil.copytree(small_run, edited)
    record_file = next((edited / "cases").glob("*.json"))
    record = json.loads(record_file.read_text())
    record["rows"][1]["status"] = "failed"  # one state, consistently in every copy
    record_file.write_text(json.dumps(record))
    store.RunDirectory.open(edited).write_tables()
    assert main(["reproduce", str(edited)]) == 1
    assert "1 of 4 states moved" in capsys.readouterr().err


@pytest.mark.slow
def test_reproduce_fails_on_a_hand_edited_table(small_run, tmp_path, capsys):
    edited = tmp_path / "edited_csv"
    shutil.copytree(small_run, edited)
    table = pd.read_csv(edited / "results.csv")
    table.loc[2, "energy"] += 1e-6
    table.to_csv(edited / "results.csv", index=False)
    assert main(["reproduce", str(edited)]) == 1
    assert "does not agree with itself" in capsys.readouterr().err


def test_parse_spec_and_seeds():
    assert parse_spec("piecewise_constant:edges=[0, 0.5, 1],values=[0,3.5]") == (
        "piecewise_constant",
        {"edges": [0, 0.5, 1], "values": [0, 3.5]},
    )
    assert parse_spec("fd") == ("fd", {})
    assert parse_seeds("3") == [0, 1, 2] and parse_seeds("4-6") == [4, 5, 6]
    for bad in ("0", "x", "3-1", "-2"):
        with pytest.raises(UsageError):
            parse_seeds(bad)


@pytest.mark.slow
def test_the_installed_module_answers_help():
    result = subprocess.run([sys.executable, "-m", "qbench", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "usage: qbench" in result.stdout


@pytest.mark.parametrize("command", [["run"], ["list"], ["show"], ["compare"], ["reproduce"], ["report"]])
def test_every_command_answers_help(command, capsys):
    with pytest.raises(SystemExit) as exited:  # argparse exits after printing help
        main([*command, "--help"])
    assert exited.value.code == 0 and f"usage: qbench {command[0]}" in capsys.readouterr().out


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    from qbench.cli import listing

    def broken(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(listing, "command_list", broken)
    assert main(["list"]) == 1
    assert capsys.readouterr().err == (
        "qbench: internal error: RuntimeError: boom second line (run again with --debug for the traceback)\n"
    )
    for argv in (["--debug", "list"], ["list", "--debug"]):
        with pytest.raises(RuntimeError, match="boom"):
            main(argv)


def test_a_failed_write_is_one_line_with_exit_74(monkeypatch, capsys):
    from qbench.cli import listing

    def full(args):
        raise OSError(28, "No space left on device", "/data/run/x.json")

    monkeypatch.setattr(listing, "command_list", full)
    assert main(["list"]) == 74
    assert capsys.readouterr().err == "qbench: cannot access /data/run/x.json: No space left on device\n"


def test_a_solver_registered_by_hand_runs_in_this_process_and_is_refused_for_workers(
    collapsing_solver, tmp_path, capsys
):
    argv = ["run", "--problem", "finite_well", "--solver", collapsing_solver, "--states", "1", "--no-report"]
    with pytest.warns(UserWarning, match="registered in this process only"):
        assert main([*argv, "--out", str(tmp_path / "here")]) == 0
    assert store.load(tmp_path / "here").provenance["executor"]["name"] == "in-process"
    assert main([*argv, "--jobs", "2", "--out", str(tmp_path / "pool")]) == 2
    assert "load it with --plugin" in capsys.readouterr().err
    assert not (tmp_path / "pool").exists()


@pytest.mark.slow  # two CLI runs
def test_tolerance_reaches_every_row_and_decides_ok(tmp_path, capsys):
    """fd at 50 points is certified to about 1e-2 on the infinite well: ok at 0.5, not ok at 1e-9."""
    for tolerance, expected in (("0.5", {"ok"}), ("1e-9", {"failed"})):
        out = tmp_path / tolerance
        argv = ["run", "--problem", "infinite_well", "--solver", "fd:n_points=50", "--states", "2"]
        assert main([*argv, "--tolerance", tolerance, "--no-report", "--out", str(out)]) == 0
        results = store.load(out).results
        assert set(results["tolerance"]) == {float(tolerance)}
        assert set(results["status"]) == expected
        if expected == {"failed"}:
            assert results["message"].str.contains("width: certified relative half-width").all()
    capsys.readouterr()

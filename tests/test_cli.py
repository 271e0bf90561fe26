"""The command line: list, run, bad input exits 2, python -m qbench."""

from __future__ import annotations

import subprocess
import sys

import pytest

from qbench.cli import main, parse_spec


def test_list_shows_problems_solvers_and_parameters(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for text in (
        "finite_well",
        "V0=20.0",
        "infinite_well",
        "piecewise_constant",
        "fd",
        "n_points",
        "shooting",
        "tol",
    ):
        assert text in out


def test_run_prints_a_graded_table(capsys):
    code = main(
        [
            "run",
            "--problem",
            "finite_barrier:V0=50",
            "--solver",
            "fd:n_points=200",
            "--states",
            "2",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = [line for line in out.splitlines() if line.strip().startswith("finite_barrier")]
    assert len(lines) == 2 and all(line.split()[-1] == "ok" for line in lines)
    assert "rel_error" in out and "wall_time_s" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--solver", "nope"], "unknown solver 'nope'"),
        (["run", "--problem", "nope"], "unknown problem 'nope'"),
        (["run", "--problem", "finite_well:V0=-3"], "V0 must be >= 0"),
        (["run", "--problem", "finite_well:deep=3"], "unknown parameter"),
        (["run", "--solver", "fd:n_points"], "expected key=value"),
        (["run", "--solver", "fd:n_points=3"], "n_points must be >= 5"),
        (["run", "--states", "0"], "--states must be >= 1"),
        (["run", "--solver", "fd:n_points=10", "--states", "5"], "n_points must be >= 20"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(argv, message, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err and captured.err.count("\n") == 1


def test_parse_spec_handles_lists_and_numbers():
    name, kwargs = parse_spec("piecewise_constant:edges=[0, 0.5, 1],values=[0,3.5]")
    assert name == "piecewise_constant"
    assert kwargs == {"edges": [0, 0.5, 1], "values": [0, 3.5]}
    assert parse_spec("fd") == ("fd", {})


def test_python_dash_m_answers_help():
    result = subprocess.run([sys.executable, "-m", "qbench", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "run" in result.stdout and "list" in result.stdout

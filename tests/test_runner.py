"""Runs as a user has them: killed, interrupted, resumed, spread over worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from qbench import runner, store, suite
from qbench.cli import main
from qbench.executors import InProcess, LocalPool
from qbench.store import SCHEMA

# Every test here runs qbench in subprocesses or worker pools (seconds to a minute each).
pytestmark = pytest.mark.slow

# What resume and --jobs must reproduce exactly: every schema column but the run's id and the
# measurements of time and memory.
MEASURED = {"run_id", "wall_time_s", "cpu_mem_increase_mb", "peak_gpu_mem_mb"}
COMPUTED = [column for column in SCHEMA if column not in MEASURED]

SUITE = """
description = "resume test"
n_states = 1
seeds = [0]
[[block]]
problems = ["infinite_well", "finite_well", "finite_barrier"]
solvers = [{ name = "fd", options = { n_points = 200 } },
           { name = "nn-galerkin", options = { adam_steps = 300 } }]
"""


@pytest.fixture
def suite_file(tmp_path):
    path = tmp_path / "resume.toml"
    path.write_text(SUITE)
    return path


def _start(suite_file: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "qbench", "run", "--suite", str(suite_file), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_cases(out: Path, count: int, process: subprocess.Popen, limit_s: float = 60) -> None:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if len(list((out / "cases").glob("*.json"))) >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"run ended before {count} cases finished: {process.stderr.read()}")
        time.sleep(0.01)
    pytest.fail("no progress")


def _computed(table: pd.DataFrame) -> pd.DataFrame:
    return table[COMPUTED].reset_index(drop=True)


def test_sigkill_keeps_finished_cases_and_resume_ends_with_the_clean_table(suite_file, tmp_path):
    killed = tmp_path / "killed"
    process = _start(suite_file, killed)
    _wait_for_cases(killed, 2, process)
    process.send_signal(signal.SIGKILL)
    process.wait()

    partial = store.load(killed)
    finished = partial.results["case_id"].nunique()
    assert 2 <= finished < 6, "the kill must land mid-suite"
    assert partial.provenance["status"] == "running"  # it never got to say otherwise
    # A write cut short can only leave a hidden temporary file, which nothing reads.
    assert all(p.name.endswith(".json") for p in (killed / "cases").iterdir() if not p.name.startswith("."))
    for record in (killed / "cases").glob("*.json"):
        json.loads(record.read_text())  # every visible record is whole

    assert main(["run", "--resume", str(killed)]) == 0
    resumed = store.load(killed)
    assert resumed.provenance["status"] == "complete"
    assert resumed.provenance["resumed"][0]["pending_cases"] == 6 - finished

    clean = tmp_path / "clean"
    assert main(["run", "--suite", str(suite_file), "--out", str(clean)]) == 0
    pd.testing.assert_frame_equal(_computed(resumed.results), _computed(store.load(clean).results))


def test_ctrl_c_stops_cleanly_with_tables_of_the_finished_cases(suite_file, tmp_path):
    out = tmp_path / "interrupted"
    process = _start(suite_file, out)
    _wait_for_cases(out, 2, process)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "--resume" in err
    data = store.load(out)
    assert data.provenance["status"] == "interrupted"
    stored = pd.read_parquet(out / "results.parquet")
    assert 2 <= stored["case_id"].nunique() < 6
    assert stored["case_id"].nunique() == len(list((out / "cases").glob("*.json")))


def test_jobs_give_the_same_table_as_one_process(tmp_path):
    chosen = suite.cross_product(
        ["infinite_well", "finite_barrier"],
        [
            {"name": "fd", "options": {"n_points": 150}},
            {"name": "nn-galerkin", "options": {"adam_steps": 30}},
        ],
        overrides={"n_states": 2},
    )
    tables = []
    for name, executor in (
        ("one", InProcess(timing_budget_s=0.0)),
        ("two", LocalPool(2, timing_budget_s=0.0)),
    ):
        run = runner.create(chosen.cases, suite={"name": name}, out=tmp_path / name)
        tables.append(runner.execute(run, executor).results)
    pd.testing.assert_frame_equal(_computed(tables[0]), _computed(tables[1]))
    assert os.getpid() not in set(
        json.loads(p.read_text())["pid"] for p in (tmp_path / "two" / "cases").glob("*")
    )


def test_resume_refuses_a_run_that_another_process_is_writing(tmp_path, capsys):
    cases = suite.cross_product(["infinite_well"], [{"name": "fd", "options": {"n_points": 50}}]).cases
    run = runner.create(cases, suite={"name": "locked"}, out=tmp_path / "run")
    with run.writer_lock():  # stands in for a live `qbench run` on the same directory
        assert main(["run", "--resume", str(run.path)]) == 2
    assert "being written by another qbench process" in capsys.readouterr().err
    assert run.finished_ids() == set()
    assert main(["run", "--resume", str(run.path)]) == 0

"""The Dask executor on real clusters: a LocalCluster on loopback, killed workers, a lost scheduler.

Skipped where dask[distributed] is not installed; the test extra installs it, so CI runs them.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("distributed")
import cloudpickle  # comes with distributed

import qbench
from qbench import runner, store
from qbench.cases import Case
from qbench.cli import main
from qbench.executors import DaskCluster, ExecutorSetupError, InProcess
from qbench.harness import run_case
from qbench.store import SCHEMA

# Workers cannot import this test module: send its worker functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

MEASURED = {"run_id", "wall_time_s", "cpu_mem_increase_mb", "peak_gpu_mem_mb"}
COMPUTED = [column for column in SCHEMA if column not in MEASURED]
BIN = Path(sys.executable).parent


def small_suite() -> list[Case]:
    classical = [
        Case.resolve(problem, solver, solver_options=options, n_states=2)
        for problem in ("finite_well", "finite_barrier")
        for solver, options in (("fd", {"n_points": 300}), ("shooting", {}), ("spectral", {"n_points": 80}))
    ]
    pinns = [
        Case.resolve("finite_well", "nn-galerkin", solver_options={"adam_steps": 60}, seed=seed, n_states=2)
        for seed in (0, 1)
    ]
    # Too long for its timeout: the deadline must hold in a Dask worker's task thread too.
    too_long = Case.resolve(
        "finite_well", "nn-galerkin", solver_options={"adam_steps": 10**6}, seed=0, n_states=1, timeout_s=1.0
    )
    return [*classical, *pinns, too_long]


def computed_table(out: Path, executor, cases) -> pd.DataFrame:
    run = runner.create(cases, suite={"name": "cluster-test", "source": "test", "description": ""}, out=out)
    with executor:
        data = runner.execute(run, executor)
    return data.results[COMPUTED].sort_values(["case_id", "state"]).reset_index(drop=True)


@pytest.mark.slow
def test_a_two_worker_local_cluster_gives_the_in_process_table(tmp_path):
    cases = small_suite()
    local = computed_table(tmp_path / "local", InProcess(timing_budget_s=0.0), cases)
    on_cluster = computed_table(tmp_path / "dask", DaskCluster(n_workers=2, timing_budget_s=0.0), cases)
    # Exactly equal: one BLAS thread per case everywhere, PINNs seeded from the case.
    pd.testing.assert_frame_equal(local, on_cluster, check_exact=True)
    timed_out = local[local["status"] == "timeout"]
    assert len(timed_out) == 1 and "exceeded its timeout of 1 s" in timed_out["message"].iloc[0]
    assert (local["status"] == "ok").sum() == len(local) - 1

    provenance = json.loads((tmp_path / "dask" / "provenance.json").read_text())
    described = provenance["executor"]
    assert described["name"] == "dask" and described["local_cluster"] is True
    assert described["scheduler"].startswith("tcp://127.0.0.1:")
    assert described["n_workers"] == 2 and len(described["workers"]) == 2
    for versions in described["workers"].values():
        assert versions["qbench"] == qbench.__version__ == described["client"]["qbench"]
        assert versions["torch"] == described["client"]["torch"]
    assert len(list((tmp_path / "dask" / "cases").glob("*.json"))) == len(cases)


def killed_on_the_barrier(case, *settings):
    """Kills its own worker process (SIGKILL, as the OOM killer would) on every barrier case."""
    if case.problem == "finite_barrier":
        os.kill(os.getpid(), signal.SIGKILL)
    return run_case(case, *settings)


def killed_once_on_the_barrier(marker_dir, case, *settings):
    """Kills its worker the first time it meets a barrier case, then runs it normally."""
    marker = Path(marker_dir) / case.case_id
    if case.problem == "finite_barrier" and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return run_case(case, *settings)


def classical_cases() -> list[Case]:
    return [
        Case.resolve(problem, "fd", solver_options={"n_points": n}, n_states=1)
        for problem in ("infinite_well", "finite_well", "finite_barrier")
        for n in (400, 800)  # certified to 1e-2 (the finite well at 100 or 200 points is not)
    ]


@pytest.mark.slow
def test_a_case_that_keeps_killing_its_worker_is_failed_after_its_retries():
    cases, retries = classical_cases(), 1
    cluster = DaskCluster(n_workers=2, retries=retries, worker=killed_on_the_barrier, timing_budget_s=0.0)
    with cluster:
        records = list(cluster.run(cases))
    assert sorted(r["case_id"] for r in records) == sorted(c.case_id for c in cases)  # each once
    for record in records:
        row = record["rows"][0]
        if record["case"]["problem"] == "finite_barrier":
            assert row["status"] == "failed" and "Dask worker died" in row["message"]
            assert record["attempts"] == retries + 1
            assert row["energy"] != row["energy"] and row["energy_ref"] > 0  # NaN beside the exact value
        else:
            assert row["status"] == "ok", row["message"]


@pytest.mark.slow
def test_a_worker_killed_during_a_case_gets_the_case_retried(tmp_path):
    cases = classical_cases()
    worker = functools.partial(killed_once_on_the_barrier, str(tmp_path))
    with DaskCluster(n_workers=2, retries=1, worker=worker, timing_budget_s=0.0) as cluster:
        records = {r["case_id"]: r for r in cluster.run(cases)}
    assert len(records) == len(cases)
    barrier = [r for r in records.values() if r["case"]["problem"] == "finite_barrier"]
    assert all(r["attempts"] == 2 and r["rows"][0]["status"] == "ok" for r in barrier)
    assert all(r["rows"][0]["status"] == "ok" for r in records.values())
    expected = {r["case_id"]: r["rows"][0]["energy"] for r in InProcess(timing_budget_s=0.0).run(cases)}
    assert {cid: r["rows"][0]["energy"] for cid, r in records.items()} == expected


# -- a scheduler and a worker as separate processes, as on two machines ------------------------


def start_scheduler_and_worker(folder: Path) -> tuple[str, list[subprocess.Popen]]:
    folder.mkdir(parents=True, exist_ok=True)
    scheduler_file = folder / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", scheduler_file],
        **quiet,
    )  # fmt: skip
    end = time.monotonic() + 30
    while not scheduler_file.exists() and time.monotonic() < end:
        time.sleep(0.05)
    address = json.loads(scheduler_file.read_text())["address"]
    worker = subprocess.Popen(
        [BIN / "dask", "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
         "--death-timeout", "5"],
        **quiet,
    )  # fmt: skip
    return address, [scheduler, worker]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


@pytest.mark.slow
def test_losing_the_scheduler_keeps_finished_cases_and_resume_finishes_on_a_new_one(tmp_path):
    out = tmp_path / "run"
    address, processes = start_scheduler_and_worker(tmp_path / "first")
    command = [sys.executable, "-m", "qbench", "run", "--no-report", "--executor", "dask"]
    cases = ["--problem", "finite_well", "--solver", "nn-galerkin:adam_steps=100"]
    cases += ["--seeds", "8", "--states", "1"]
    try:
        run = subprocess.Popen(
            [*command, "--scheduler", address, *cases, "--out", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        end = time.monotonic() + 90
        while len(list((out / "cases").glob("*.json"))) < 2 and time.monotonic() < end:
            assert run.poll() is None, run.stderr.read()
            time.sleep(0.02)
        processes[0].kill()  # the scheduler goes away mid-run
        _, stderr = run.communicate(timeout=60)
    finally:
        stop(processes)
    assert run.returncode == 1, stderr
    assert "lost the Dask scheduler" in stderr and f"qbench run --resume {out}" in stderr
    kept = store.load(out)
    assert kept.provenance["status"] == "interrupted"
    finished = len(list((out / "cases").glob("*.json")))
    assert 2 <= finished < 8 and kept.results["case_id"].nunique() == finished

    address, processes = start_scheduler_and_worker(tmp_path / "second")
    try:
        resumed = subprocess.run(
            [*command[:4], "--resume", str(out), "--no-report", "--executor", "dask", "--scheduler", address],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        stop(processes)
    assert resumed.returncode == 0, resumed.stderr
    done = store.load(out)
    assert done.provenance["status"] == "complete"
    assert done.provenance["resumed"][0]["pending_cases"] == 8 - finished
    assert done.provenance["executor"]["scheduler"] == address
    assert len(list((out / "cases").glob("*.json"))) == 8 and done.results["case_id"].nunique() == 8
    assert not store.consistency_problems(done)


# -- refusing to start -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_version_mismatch_stops_the_run_before_anything_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(qbench, "__version__", "9.9.9")  # this client only; the workers import theirs
    out = tmp_path / "never"
    code = main(["run", "--executor", "dask", "--jobs", "1", "--solver", "fd", "--out", str(out)])
    message = capsys.readouterr().err
    assert code == 2 and "Dask workers differ from this client (qbench 9.9.9" in message
    assert "has qbench 0.1.0" in message and not out.exists()


@pytest.mark.slow
def test_an_unreachable_scheduler_is_a_setup_error():
    """The CLI turns a setup error into exit 2 before writing (the version test above shows it)."""
    cluster = DaskCluster(scheduler="tcp://127.0.0.1:9", connect_timeout_s=1.0)
    with pytest.raises(ExecutorSetupError, match=r"cannot use the Dask scheduler at tcp://127\.0\.0\.1:9"):
        cluster.start()


@pytest.mark.parametrize(
    "args, match",
    [
        (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler needs --executor dask"),
        (["--retries", "2"], "--retries needs --executor dask"),
        (["--executor", "dask", "--scheduler", "127.0.0.1:8786"], "scheduler must be an address like tcp://"),
        (["--executor", "dask", "--scheduler", "tcp://h:1", "--jobs", "2"], "--jobs sizes the LocalCluster"),
        (["--executor", "dask", "--retries", "-1"], "--retries must be >= 0"),
    ],
)
def test_bad_executor_options_exit_2_and_write_nothing(args, match, tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["run", "--solver", "fd", "--out", str(out), *args]) == 2
    assert match in capsys.readouterr().err and not out.exists()


def test_without_dask_the_error_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)
    out = tmp_path / "never"
    assert main(["run", "--executor", "dask", "--solver", "fd", "--out", str(out)]) == 2
    assert "pip install 'qbench[dask]'" in capsys.readouterr().err and not out.exists()

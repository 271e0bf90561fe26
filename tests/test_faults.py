"""Fault injection: signals at seeded random points, a full disk, corrupted records and tables,
concurrent writers and a killed parent. Each test checks that no finished case is lost and that
``--resume`` (or ``reproduce``) ends in the state docs/running.md documents.

The cases run ``c-sleep`` (tests/data/fault_plugin.py): a three-point solver that first spends a
set time in a C call holding the GIL, as a long LAPACK or CUDA call would. Every ``qbench`` here is
a real process (tests/data/fault_launcher.py adds hooks where a fault needs a precise moment), and
every fault is counted in the ledger that the session's summary prints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from qbench import store
from qbench.store import SCHEMA

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="signals and mounts of Linux"),
]
psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
PLUGIN = DATA / "fault_plugin.py"
LAUNCHER = DATA / "fault_launcher.py"
PROBLEMS = ("infinite_well", "finite_well", "finite_barrier")
#: Six cases of under half a second each.
CASES = ["--plugin", str(PLUGIN), *(f"--problem={p}" for p in PROBLEMS), "--states", "1"]
SOLVERS = ["--solver", "c-sleep:seconds=0.2", "--solver", "c-sleep:seconds=0.4"]
N_CASES = 6
MEASURED = {"run_id", "wall_time_s", "cpu_mem_increase_mb", "peak_gpu_mem_mb"}
COMPUTED = [column for column in SCHEMA if column not in MEASURED]
STOP = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGHUP": signal.SIGHUP}


# -- running qbench as a user does -------------------------------------------------------
def start(args: list[str], hooks: str = "-") -> subprocess.Popen:
    """``qbench ARGS`` in a new process (with fault hooks), importing this checkout's qbench."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(LAUNCHER), hooks, "--", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def qbench(args: list[str], hooks: str = "-", timeout: float = 180) -> subprocess.CompletedProcess:
    process = start(args, hooks)
    out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def run_args(out: Path, *more: str) -> list[str]:
    return ["run", *CASES, *SOLVERS, "--out", str(out), "--no-report", *more]


def records(out: Path) -> dict[str, str]:
    """Each finished case record: its name and the sha256 of its bytes."""
    folder = out / "cases"
    if not folder.is_dir():
        return {}
    found = {}
    for file in folder.glob("*.json"):
        with contextlib.suppress(FileNotFoundError):
            found[file.name] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


def wait_for(condition, process: subprocess.Popen, limit_s: float = 120, what: str = "") -> None:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if condition():
            return
        if process.poll() is not None:
            pytest.fail(f"qbench ended before {what}: {process.stderr.read()}")
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"timed out waiting for {what}")


def started(out: Path) -> bool:
    """Whether the run's executor has started (its workers bound) and its cases are submitted."""
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
        return json.loads((out / "provenance.json").read_text())["status"] == "running"
    return False


def stop_with_sigterm(process: subprocess.Popen) -> tuple[float, str]:
    """Send SIGTERM; the seconds until the process exited, and its stderr."""
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    return time.monotonic() - sent, err


def lost(before: dict[str, str], out: Path) -> int:
    """How many records finished before the fault are missing or changed after it."""
    after = records(out)
    return sum(1 for name, digest in before.items() if after.get(name) != digest)


def computed(table: pd.DataFrame) -> pd.DataFrame:
    return table[COMPUTED].sort_values(["case_id", "state"]).reset_index(drop=True)


def one_line_error(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.strip(), "an error must say what happened"


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> pd.DataFrame:
    """The table of an undisturbed run of the same cases."""
    out = tmp_path_factory.mktemp("clean") / "run"
    result = qbench(run_args(out))
    assert result.returncode == 0, result.stderr
    return computed(store.load(out).results)


def resume_ends_clean(out: Path, clean: pd.DataFrame) -> subprocess.CompletedProcess:
    """``--resume`` exits 0 with a complete run whose tables agree with its records and a clean run."""
    result = qbench(["run", "--resume", str(out), "--no-report"])
    assert result.returncode == 0, result.stderr
    run = store.RunDirectory.open(out)
    assert run.provenance["status"] == "complete"
    assert run.tables_agree()
    pd.testing.assert_frame_equal(computed(store.load(out).results), clean)
    return result


def children(pid: int) -> list:
    with contextlib.suppress(psutil.NoSuchProcess):
        return psutil.Process(pid).children(recursive=True)
    return []


def alive(processes: list) -> list:
    """The processes still running (a zombie waiting for its reaper has ended)."""
    running = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
    return running


# -- signals -------------------------------------------------------------------------------
@pytest.mark.parametrize(("seed", "name"), list(enumerate(["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP"])))
def test_a_signal_at_a_seeded_random_point_loses_no_finished_case(seed, name, tmp_path, clean, fault_ledger):
    rng = random.Random(seed)  # where the signal lands: after how many cases, how long after, jobs
    after_cases, delay, jobs = rng.randint(0, N_CASES - 2), rng.uniform(0, 0.6), rng.choice(["1", "2"])
    out = tmp_path / "run"
    process = start(run_args(out, "--jobs", jobs))
    # From the moment the run exists (a signal during start-up finds nothing written to keep).
    begun = lambda: (out / "provenance.json").exists() and len(records(out)) >= after_cases  # noqa: E731
    wait_for(begun, process, what=f"{after_cases} cases")
    time.sleep(delay)
    before = records(out)
    process.send_signal(signal.SIGKILL if name == "SIGKILL" else STOP[name])
    _, err = process.communicate(timeout=60)
    fault_ledger(f"{name} after {len(before)} cases, --jobs {jobs}", lost(before, out))

    assert lost(before, out) == 0
    if len(records(out)) == N_CASES and process.returncode == 0:
        pytest.skip("the run finished before the signal landed")  # counted above; nothing to resume
    provenance = json.loads((out / "provenance.json").read_text())
    if name == "SIGKILL":
        assert process.returncode == -signal.SIGKILL
        assert provenance["status"] == "running"  # it never got to say otherwise
    else:
        assert process.returncode == 128 + STOP[name], err
        assert provenance["status"] == "interrupted"
        assert provenance["interruption"]["signal"] == name
        assert f"interrupted ({name})" in err and "--resume" in err
        one_line_error(err)
        tables = pd.read_parquet(out / "results.parquet")
        assert set(tables["case_id"] + ".json") == set(records(out))  # the tables hold every finished case
    resume_ends_clean(out, clean)


def test_sigterm_during_a_long_c_call_exits_at_once_and_resume_reruns_the_case(tmp_path, fault_ledger):
    out = tmp_path / "run"
    args = ["run", *CASES, "--solver", "c-sleep:seconds=12", "--out", str(out), "--no-report"]
    process = start(args)
    worker = []

    wait_for(lambda: started(out), process, what="the run to start")
    time.sleep(2.0)  # the first case is inside its call into C, holding its worker's GIL
    worker = [p for p in children(process.pid) if "resource_tracker" not in " ".join(p.cmdline())]
    elapsed, err = stop_with_sigterm(process)
    fault_ledger("SIGTERM inside a 12 s GIL-holding C call", 0)

    assert process.returncode == 143, err
    assert elapsed < 5.0, f"took {elapsed:.1f} s: it waited for the C call"  # the call had > 8 s left
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["status"] == "interrupted" and provenance["interruption"]["signal"] == "SIGTERM"
    in_flight = provenance["interruption"]["cases_in_flight"]
    assert len(in_flight) == 1 and not records(out)  # interrupted, not recorded
    assert not alive(worker)

    result = qbench(["run", "--resume", str(out), "--no-report"], timeout=300)
    assert result.returncode == 0, result.stderr
    resumed = store.load(out)
    assert resumed.provenance["status"] == "complete"
    assert resumed.provenance["resumed"][0]["after_interruption"]["cases_in_flight"] == in_flight
    # The code that finished the run is named beside the first start's.
    from qbench.numerics import NUMERICS_VERSION

    code = resumed.provenance["resumed"][0]["code"]
    assert code["numerics_version"] == NUMERICS_VERSION and set(code["git"]) == {"commit", "dirty"}
    assert set(resumed.results["case_id"]) >= set(in_flight)
    # Every case solved and graded (c-sleep's three-point answer is certified on the infinite well
    # only; its statuses elsewhere are its own, not the fault's).
    assert resumed.results["energy"].notna().all()
    assert (resumed.results.query("problem == 'infinite_well'")["status"] == "ok").all()


def test_sigterm_stops_a_dask_run_within_slurms_grace_period(tmp_path, fault_ledger):
    pytest.importorskip("distributed")
    out = tmp_path / "run"
    args = ["run", *CASES, "--solver", "c-sleep:seconds=60", "--executor", "dask", "--jobs", "2"]
    process = start([*args, "--out", str(out), "--no-report"])

    wait_for(lambda: started(out), process, what="the run to start")
    time.sleep(2.0)  # both workers inside their 60 s calls into C
    tree = children(process.pid)
    elapsed, err = stop_with_sigterm(process)
    fault_ledger("SIGTERM of a Dask run inside 60 s C calls", 0)
    assert process.returncode == 143, err
    assert elapsed < 30, f"{elapsed:.1f} s: past Slurm's 30 s grace period"
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["status"] == "interrupted" and provenance["interruption"]["signal"] == "SIGTERM"
    assert len(provenance["interruption"]["cases_in_flight"]) >= 2
    assert not alive(tree)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT", "SIGKILL"])
def test_a_signal_while_the_tables_are_written(name, tmp_path, clean, fault_ledger):
    out, marks = tmp_path / "run", tmp_path / "marks"
    marks.mkdir()
    process = start(run_args(out), hooks=f"pause-tables={marks}")
    wait_for((marks / "tables").exists, process, what="the tables")
    before = records(out)
    assert len(before) == N_CASES
    process.send_signal(signal.SIGKILL if name == "SIGKILL" else STOP[name])
    time.sleep(0.3)
    (marks / "go").touch()
    _, err = process.communicate(timeout=60)
    fault_ledger(f"{name} while the tables are written", lost(before, out))
    assert lost(before, out) == 0

    run = store.RunDirectory.open(out)
    if name == "SIGKILL":
        assert run.provenance["status"] == "running"
        pd.testing.assert_frame_equal(computed(store.load(out).results), clean)  # read from the records
        resume_ends_clean(out, clean)
    else:
        # Held back until the tables and the provenance were written, then obeyed.
        assert process.returncode == 128 + STOP[name], err
        assert run.provenance["status"] == "complete" and run.tables_agree()
        pd.testing.assert_frame_equal(computed(store.load(out).results), clean)


@pytest.mark.parametrize("executor", [["--jobs", "2"], ["--executor", "dask", "--jobs", "2"]])
def test_killing_the_parent_leaves_no_worker(executor, tmp_path, fault_ledger):
    if executor[1] == "dask":
        pytest.importorskip("distributed")
    out = tmp_path / "run"
    process = start(["run", *CASES, "--solver", "c-sleep:seconds=30", "--out", str(out), "--no-report",
                     *executor])  # fmt: skip

    wait_for(lambda: started(out), process, limit_s=180, what="the run to start")
    wait_for(lambda: len(children(process.pid)) >= 3, process, what="the workers")
    time.sleep(1.5)  # into their 30 s calls into C
    tree = children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    end = time.monotonic() + 10
    while alive(tree) and time.monotonic() < end:
        time.sleep(0.1)
    survivors = alive(tree)
    for survivor in survivors:  # leave nothing behind, whatever the verdict
        survivor.kill()
    fault_ledger(f"SIGKILL of the parent, {' '.join(executor)}", 0)
    assert not survivors, [" ".join(p.cmdline())[:100] for p in survivors]


# -- I/O failures -----------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs (root on Linux); None where none can be mounted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)]
    made = subprocess.run(command, capture_output=True)
    if made.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Fill ``disk`` to the last byte; the filler file, to delete to free the space."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as stream:  # unbuffered: nothing left to fail at close
        for block in (65536, 1):
            with contextlib.suppress(OSError):
                while stream.write(b"\0" * block):
                    pass
    return filler


def test_a_full_disk_mid_run_is_one_line_keeps_the_finished_cases_and_resume_completes(
    small_disk, tmp_path, clean, fault_ledger
):
    if small_disk is None:  # no tmpfs here: the store's writes fail after two records
        out = tmp_path / "run"
        result = qbench(run_args(out), hooks="enospc-after=3")  # provenance, then two records
        before, filler = records(out), None
    else:
        out = small_disk / "run"
        process = start(run_args(out))
        wait_for(lambda: len(records(out)) >= 2, process, what="two cases")
        filler = fill(small_disk)
        before = records(out)
        out_text, err_text = process.communicate(timeout=120)
        result = subprocess.CompletedProcess([], process.returncode, out_text, err_text)
    fault_ledger(f"full disk after {len(before)} cases", lost(before, out))

    assert result.returncode == 74, result.stderr
    one_line_error(result.stderr)
    assert "No space left on device" in result.stderr and str(out) in result.stderr
    assert f"{len(before)} of {N_CASES} cases are kept" in result.stderr
    assert lost(before, out) == 0
    assert not list((out / "cases").glob(".*.tmp"))  # no half-written record left behind
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["status"] in ("failed", "running")  # "failed" wherever the disk still took it
    if filler is not None:
        filler.unlink()
    resume_ends_clean(out, clean)


def test_a_read_only_results_folder(small_disk, tmp_path, clean, fault_ledger):
    if small_disk is None:
        pytest.skip("needs mounts (root on Linux)")
    out = small_disk / "run"
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    refused = qbench(run_args(out))
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert refused.returncode == 2 and "not writable" in refused.stderr, refused.stderr
    one_line_error(refused.stderr)
    assert not out.exists()  # nothing written

    # Mid-run, the records' folder turns read-only (a read-only bind mount over it).
    process = start(run_args(out))
    wait_for(lambda: len(records(out)) >= 2, process, what="two cases")
    cases = out / "cases"
    subprocess.run(["mount", "--bind", str(cases), str(cases)], check=True)
    subprocess.run(["mount", "-o", "remount,ro,bind", str(cases)], check=True)
    before = records(out)
    _, err = process.communicate(timeout=120)
    subprocess.run(["umount", str(cases)], check=True)
    fault_ledger(f"records folder made read-only after {len(before)} cases", lost(before, out))
    assert process.returncode == 74, err
    one_line_error(err)
    assert "Read-only file system" in err and f"{len(before)} of {N_CASES} cases are kept" in err
    assert lost(before, out) == 0
    assert json.loads((out / "provenance.json").read_text())["status"] == "failed"  # it could say so
    resume_ends_clean(out, clean)


def test_a_full_disk_at_the_report_leaves_the_run_complete(small_disk, tmp_path, fault_ledger):
    if small_disk is None:
        pytest.skip("needs a small tmpfs (root on Linux)")
    out, marks = small_disk / "run", tmp_path / "marks"
    marks.mkdir()
    args = ["run", *CASES, "--solver", "c-sleep:seconds=0", "--out", str(out)]
    process = start(args, hooks=f"pause-report={marks}")
    wait_for((marks / "report").exists, process, what="the report")
    before = records(out)
    filler = fill(small_disk)
    (marks / "go").touch()
    _, err = process.communicate(timeout=120)
    fault_ledger("full disk while the report is written", lost(before, out))

    assert process.returncode == 74, err
    one_line_error(err)
    assert "run complete, report not written" in err and f"qbench report {out}" in err
    assert json.loads((out / "provenance.json").read_text())["status"] == "complete"
    assert lost(before, out) == 0
    filler.unlink()
    rebuilt = qbench(["report", str(out)])
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (out / "report" / "index.html").exists()


# -- damaged runs -----------------------------------------------------------------------------
@pytest.fixture
def finished(tmp_path) -> Path:
    out = tmp_path / "run"
    result = qbench(run_args(out))
    assert result.returncode == 0, result.stderr
    return out


def test_a_corrupted_case_record_is_named_then_set_aside_and_run_again(finished, clean, fault_ledger):
    victim = sorted((finished / "cases").glob("*.json"))[2]
    before = {n: d for n, d in records(finished).items() if n != victim.name}
    victim.write_text(victim.read_text()[: len(victim.read_text()) // 2])  # a torn write

    assert qbench(["show", str(finished)]).returncode == 0  # from its tables, which are whole
    result = qbench(["reproduce", str(finished)])  # which checks the tables against the records
    assert result.returncode == 2, result.stderr
    one_line_error(result.stderr)
    assert f"{victim} is corrupt" in result.stderr and "--resume" in result.stderr
    resume_ends_clean(finished, clean)
    fault_ledger("a corrupted case record", lost(before, finished))
    assert lost(before, finished) == 0
    assert (finished / "cases" / f".{victim.name}.corrupt").exists()  # kept as evidence
    provenance = json.loads((finished / "provenance.json").read_text())
    assert provenance["resumed"][-1]["corrupt_records_set_aside"] == [victim.name]
    assert qbench(["reproduce", str(finished)]).returncode == 0


def test_a_corrupted_parquet_table_is_read_around_then_rebuilt(finished, clean, fault_ledger):
    before = records(finished)
    table = finished / "results.parquet"
    table.write_bytes(b"PAR1" + os.urandom(200) + b"PAR1")

    shown = qbench(["show", str(finished)])
    assert shown.returncode == 0, shown.stderr
    assert "cannot be read" in shown.stderr and "Traceback" not in shown.stderr
    reproduced = qbench(["reproduce", str(finished)])
    assert reproduced.returncode == 1 and "results.parquet cannot be read" in reproduced.stderr
    assert "rebuilt its tables from the case records" in resume_ends_clean(finished, clean).stderr
    assert qbench(["reproduce", str(finished)]).returncode == 0
    fault_ledger("a corrupted Parquet table", lost(before, finished))
    assert lost(before, finished) == 0


def test_concurrent_writers_one_wins_the_other_writes_nothing(tmp_path, clean, fault_ledger):
    out = tmp_path / "run"
    first, second = start(run_args(out)), start(run_args(out))
    results = [(p.returncode, err) for p in (first, second) for _, err in [p.communicate(timeout=180)]]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    one_line_error(loser)
    assert "already holds a run" in loser or "being written by another" in loser
    assert len(records(out)) == N_CASES
    pd.testing.assert_frame_equal(computed(store.load(out).results), clean)

    # Two resumes at once: one finishes, the other names the lock.
    for file in sorted((out / "cases").glob("*.json"))[:3]:
        file.unlink()
    before = records(out)
    resumes = [start(["run", "--resume", str(out), "--no-report"]) for _ in range(2)]
    for process in resumes:
        process.communicate(timeout=180)
    fault_ledger("two writers of one run, then two resumes", lost(before, out))
    assert sorted(p.returncode for p in resumes) == [0, 2]
    assert lost(before, out) == 0
    pd.testing.assert_frame_equal(computed(store.load(out).results), clean)

"""Acceptance figures of the Dask issue: per-case scheduling overhead, and a suite's wall time
in-process versus on a 2-worker LocalCluster (and the local 2-process pool beside them).

Run with ``python benchmarks/bench_cluster.py`` (``--suite NAME``, ``--seeds N|a-b``,
``--overhead-only``). Needs ``pip install 'qbench[dask]'``. asv imports every module here; this
one defines no asv benchmark, and all the work happens under ``if __name__ == "__main__":``.

* Overhead per case: the same many tiny ``fd`` cases through the runner in-process and on a
  1-worker LocalCluster (cluster start excluded); the difference per case is what Dask adds
  (pickling the case, scheduling, sending the record back).
* Suite wall time: ``qbench run --no-report`` as a user runs it, a new process each time, so
  cluster start-up and worker imports are included.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd


def overhead_per_case(n_cases: int) -> None:
    from qbench import runner
    from qbench.cases import Case
    from qbench.executors import DaskCluster, InProcess

    cases = [
        Case.resolve("infinite_well", "fd", solver_options={"n_points": 100 + k}, n_states=1)
        for k in range(n_cases)
    ]
    seconds = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, executor in (
            ("in-process", InProcess(timing_budget_s=0.0)),
            ("dask, 1 worker", DaskCluster(n_workers=1, timing_budget_s=0.0)),
            ("dask, 2 workers", DaskCluster(n_workers=2, timing_budget_s=0.0)),
        ):
            suite = {"name": "overhead", "source": "bench", "description": ""}
            run = runner.create(cases, suite=suite, out=Path(folder) / label)
            with executor:  # the cluster starts here, outside the timed part
                start = time.perf_counter()
                runner.execute(run, executor)
                seconds[label] = time.perf_counter() - start
    base = seconds["in-process"]
    print(f"\n### {n_cases} tiny fd cases through the runner (cluster start excluded)\n")
    print("| executor | wall time | per case | added per case vs in-process |")
    print("|---|---|---|---|")
    for label, value in seconds.items():
        print(
            f"| {label} | {value:.2f} s | {1e3 * value / n_cases:.1f} ms | "
            f"{1e3 * (value - base) / n_cases:+.1f} ms |"
        )


def suite_wall_times(suite: str, seeds: str | None) -> None:
    extra = ["--seeds", seeds] if seeds else []
    variants = {
        "in-process": [],
        "local pool, --jobs 2": ["--jobs", "2"],
        "dask LocalCluster, 2 workers": ["--executor", "dask", "--jobs", "2"],
    }
    print(f"\n### qbench run --suite {suite} {' '.join(extra)} --no-report (new process each)\n")
    print("| executor | wall time | cases | not ok |")
    print("|---|---|---|---|")
    for label, options in variants.items():
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "run"
            command = [sys.executable, "-m", "qbench", "run", "--suite", suite, *extra, "--no-report"]
            start = time.perf_counter()
            done = subprocess.run([*command, *options, "--out", str(out)], capture_output=True, text=True)
            wall = time.perf_counter() - start
            if done.returncode not in (0, 1):
                print(f"| {label} | error {done.returncode}: {done.stderr.strip()[-300:]} | | |")
                continue
            results = pd.read_parquet(out / "results.parquet")
            n_cases = results["case_id"].nunique()
            not_ok = results[results["status"] != "ok"]["case_id"].nunique()
            print(f"| {label} | {wall:.1f} s ({wall / 60:.1f} min) | {n_cases} | {not_ok} |")
        sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="quick")
    parser.add_argument("--seeds", help="seed override passed to qbench run")
    parser.add_argument("--cases", type=int, default=200, help="tiny cases for the overhead figure")
    parser.add_argument("--overhead-only", action="store_true")
    args = parser.parse_args()
    overhead_per_case(args.cases)
    if not args.overhead_only:
        suite_wall_times(args.suite, args.seeds)


if __name__ == "__main__":
    main()

"""Acceptance figures of the harness issue: overhead per classical case, and the quick suite's wall time.

Run with ``python benchmarks/bench_harness.py`` (``--repeats N``, ``--skip-quick``).
asv imports every module here; this one defines no asv benchmark, and all the
work happens under ``if __name__ == "__main__":``.

Overhead of a case = everything the harness and the store spend beyond the
solver's own ``solve()`` calls: building the case, the exact reference,
peak-memory bookkeeping, grading, the atomic write of the case record, and the
case's share of the final Parquet/CSV tables.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def classical_overhead(repeats: int) -> None:
    from qbench import runner, suite
    from qbench.executors import InProcess
    from qbench.store import RunDirectory

    cases = [c for c in suite.load("quick").cases if c.solver in ("fd", "shooting")]
    per_case_total, in_case, writes, fixed = [], [], [], []
    original_write = RunDirectory.write_case

    def timed_write(self, record):
        start = time.perf_counter()
        original_write(self, record)
        writes.append(time.perf_counter() - start)

    RunDirectory.write_case = timed_write
    try:
        with tempfile.TemporaryDirectory() as folder:
            for repeat in range(repeats + 1):  # the first pass warms imports and caches
                run = runner.create(cases, suite={"name": "bench"}, out=Path(folder) / f"r{repeat}")
                start = time.perf_counter()
                data = runner.execute(run, InProcess())
                elapsed = time.perf_counter() - start
                first = data.results.drop_duplicates("case_id")
                if repeat == 0:
                    writes.clear()
                    continue
                solving = first["solve_time_total_s"].sum()
                per_case_total.append((elapsed - solving) / len(cases))
                fixed.append(elapsed - first["case_time_s"].sum() - sum(writes[-len(cases) :]))
                in_case.extend(first["case_time_s"] - first["solve_time_total_s"])
    finally:
        RunDirectory.write_case = original_write
    print(f"classical cases of quick ({len(cases)} cases, states 0-2), {repeats} runs:")
    marginal = statistics.median(in_case) + statistics.median(writes)
    print(f"  marginal overhead per case (run_case beyond solve() + record write): {1e3 * marginal:.2f} ms")
    print(f"  fixed cost per run (provenance, final tables): {1e3 * statistics.median(fixed):.1f} ms")
    print(f"  all in, this {len(cases)}-case run: {1e3 * statistics.median(per_case_total):.2f} ms per case")
    print(
        f"    inside run_case (build, reference, memory, grading): median "
        f"{1e3 * statistics.median(in_case):.2f} ms, max {1e3 * max(in_case):.2f} ms"
    )
    print(
        f"    atomic write of the case record (fsync): median {1e3 * statistics.median(writes):.2f} ms, "
        f"max {1e3 * max(writes):.2f} ms"
    )


def quick_suite_wall_time(repeats: int) -> None:
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(repeats):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "qbench", "run", "--out", str(Path(folder) / f"q{repeat}")],
                check=False,
                capture_output=True,
            )
            times.append(time.perf_counter() - start)
    print(
        f"`qbench run` (quick suite, new process each time), {repeats} runs: "
        f"median {statistics.median(times):.1f} s (min {min(times):.1f}, max {max(times):.1f})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-quick", action="store_true", help="skip the quick suite's wall time")
    args = parser.parse_args()
    classical_overhead(args.repeats)
    if not args.skip_quick:
        quick_suite_wall_time(min(args.repeats, 3))

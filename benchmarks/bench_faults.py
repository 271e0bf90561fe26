"""How fast a stopped ``qbench run`` lets go: SIGTERM to exit, and the workers left after SIGKILL.

Every case of the measured runs sits in a 60 s call into C that holds the GIL
(``c-sleep`` of tests/data/fault_plugin.py), the worst case for a Python
process that must act on a signal. For ``--jobs 1``, ``--jobs 2`` and a Dask
``LocalCluster`` of 2 workers, the script prints, as the median (and range)
of ``--repeats`` runs (default 3):

* seconds from SIGTERM to the exit of ``qbench run`` (target: within 30 s,
  Slurm's default grace period before SIGKILL), with its exit code and the
  provenance status it left;
* seconds from SIGKILL of ``qbench run`` until none of its worker processes
  is running, and how many still run 10 s after (target: none).

Run from the repository root::

    python benchmarks/bench_faults.py [--repeats 3]

asv imports every module of ``benchmarks/``; this one defines no benchmark and
works only as a script.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "tests" / "data" / "fault_plugin.py"
EXECUTORS = {
    "--jobs 1": ["--jobs", "1"],
    "--jobs 2": ["--jobs", "2"],
    "dask, 2 workers": ["--executor", "dask", "--jobs", "2"],
}
#: How long the SIGKILL measurement waits for the workers to go.
ORPHAN_LIMIT_S = 10.0


def _start(out: Path, executor: list[str]) -> subprocess.Popen:
    args = ["run", "--plugin", str(PLUGIN), "--problem", "finite_well", "--problem", "infinite_well"]
    args += ["--solver", "c-sleep:seconds=60", "--states", "1", "--no-report", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "qbench", *args, *executor],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _status(out: Path) -> str | None:
    try:
        return json.loads((out / "provenance.json").read_text())["status"]
    except (OSError, ValueError, KeyError):
        return None


def _until_cases_run(process: subprocess.Popen, out: Path) -> None:
    end = time.monotonic() + 120
    while _status(out) != "running":
        if process.poll() is not None or time.monotonic() > end:
            raise RuntimeError(f"qbench run did not start (exit {process.returncode})")
        time.sleep(0.05)
    time.sleep(2.0)  # the workers are inside their calls into C


def sigterm_to_exit(executor: list[str]) -> tuple[float, int, str | None]:
    """Seconds from SIGTERM to exit, the exit code, and the provenance status left."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "run"
        process = _start(out, executor)
        _until_cases_run(process, out)
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=120)
        return time.monotonic() - sent, code, _status(out)


def sigkill_orphans(executor: list[str]) -> tuple[float, int]:
    """Seconds from SIGKILL until no worker runs (the limit if some still do), and how many still do."""
    import psutil  # installed with dask[distributed]

    def running(processes):
        alive = []
        for p in processes:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        return alive

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "run"
        process = _start(out, executor)
        _until_cases_run(process, out)
        tree = psutil.Process(process.pid).children(recursive=True)
        sent = time.monotonic()
        process.send_signal(signal.SIGKILL)
        process.wait()
        while running(tree) and time.monotonic() - sent < ORPHAN_LIMIT_S:
            time.sleep(0.02)
        elapsed, left = time.monotonic() - sent, running(tree)
        for p in left:
            p.kill()
        return elapsed, len(left)


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}, {max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (default 3)")
    repeats = parser.parse_args().repeats
    print(f"median [min, max] of {repeats} runs; every case in a 60 s GIL-holding call into C")
    print(f"{'executor':<18} {'SIGTERM -> exit (s)':<24} {'exit codes':<12} {'status':<14} "
          f"{'SIGKILL -> no worker (s)':<26} workers left after {ORPHAN_LIMIT_S:g} s")  # fmt: skip
    for label, executor in EXECUTORS.items():
        terms = [sigterm_to_exit(executor) for _ in range(repeats)]
        kills = [sigkill_orphans(executor) for _ in range(repeats)]
        codes = sorted({code for _, code, _ in terms})
        statuses = sorted({str(status) for _, _, status in terms})
        print(
            f"{label:<18} {_median([t for t, _, _ in terms]):<24} {','.join(map(str, codes)):<12} "
            f"{','.join(statuses):<14} {_median([t for t, _ in kills]):<26} {max(n for _, n in kills)}"
        )


if __name__ == "__main__":
    main()

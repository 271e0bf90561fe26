"""Memory of one case as the harness measures it: the increase of the peak RSS over the case's start.

For ``fd`` at N = 10^4 (states 0-2) and one training of each trained solver
family (nn-galerkin, pinn-fixed, pinn-trainable, and ``pinn`` where it is
registered; quick-suite budget of 500 Adam steps, states 0-2, seed 0), each on
the finite well, through ``qbench.harness.run_case``. Each run is a fresh
Python process that runs the case twice: the first is what the first case of a
``qbench run`` process sees (lazy imports and first-use allocations of torch
land in it), the second what every later case of the same kind sees. Printed:
the median over the runs of ``cpu_mem_increase_mb`` for the first and the
repeated case, and of the absolute ``peak_rss_mb`` and the RSS at the start.

    python benchmarks/bench_memory.py [--runs 5] [--steps 500]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

TARGETS = [
    ("fd", {"n_points": 10_000}),
    ("nn-galerkin", {}),
    ("pinn-fixed", {}),
    ("pinn-trainable", {}),
    ("pinn", {}),
]
PROBLEM = "finite_well"
N_STATES = 3


def child(solver: str, options: dict) -> None:
    """Run the case twice in this process; print one JSON line of the two rows' memory figures."""
    from qbench.cases import Case, solver_takes
    from qbench.harness import run_case

    seed = 0 if solver_takes(solver, "seed") else None
    case = Case.resolve(PROBLEM, solver, solver_options=options, seed=seed, n_states=N_STATES)
    rows = [run_case(case, timing_budget_s=0.0)["rows"][0] for _ in range(2)]
    keys = ("cpu_mem_increase_mb", "peak_rss_mb", "cpu_mem_at_start_mb", "case_status", "wall_time_s")
    print(json.dumps([{k: row[k] for k in keys} for row in rows]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per case (default 5)")
    parser.add_argument("--steps", type=int, default=500, help="Adam steps of each training (default 500)")
    parser.add_argument("--child", nargs=2, metavar=("SOLVER", "OPTIONS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]))
        return

    import qbench

    print(
        f"{PROBLEM}, states 0-{N_STATES - 1}; median of {args.runs} fresh processes, each running the case "
        "twice"
    )
    header = (
        f"{'case':<32} {'family':<19} {'increase, 1st (MB)':>19} {'increase, 2nd (MB)':>19} "
        f"{'peak RSS (MB)':>14} {'RSS at start (MB)':>18}"
    )
    print(header)
    for solver, options in TARGETS:
        if solver not in qbench.solvers.available():
            print(f"{solver:<32} not registered in this qbench: skipped")
            continue
        if solver != "fd":
            options = {**options, "adam_steps": args.steps}
        runs = []
        for _ in range(args.runs):
            out = subprocess.run(
                [sys.executable, __file__, "--child", solver, json.dumps(options)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))

        def median(index: int, key: str, runs=runs) -> float:
            return statistics.median(run[index][key] for run in runs)

        label = f"{solver} " + " ".join(f"{k}={v}" for k, v in options.items())
        statuses = sorted({run[i]["case_status"] for run in runs for i in (0, 1)})
        print(
            f"{label:<32} {qbench.solvers.family(solver):<19} {median(0, 'cpu_mem_increase_mb'):>19.1f} "
            f"{median(1, 'cpu_mem_increase_mb'):>19.1f} {median(1, 'peak_rss_mb'):>14.0f} "
            f"{median(1, 'cpu_mem_at_start_mb'):>18.0f}   status {', '.join(statuses)}"
        )


if __name__ == "__main__":
    main()

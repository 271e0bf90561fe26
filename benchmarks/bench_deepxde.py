"""DeepXDE (``--solver deepxde``) on the canonical three problems, with its default options.

Run ``python benchmarks/bench_deepxde.py`` (needs ``pip install 'qbench[peers]'``). Options:

* ``--seeds N`` (N seeds, default 10) from ``--first-seed S`` (default 0; to split a run);
* ``--n-states K`` (default 3, states 0-2; a state trains for about 15-20 s of one core with the
  default budget, so the default run, 30 cases, takes about 25 minutes of one core);
* ``--csv FILE`` keeps every row as it finishes; ``--from-csv FILE [FILE ...]`` prints the tables
  of rows kept earlier (several runs together) and trains nothing.

Cases run one after another in this process, each on one torch thread; wall time depends on
what else the machine runs, so CPU time (``time.process_time``) is printed too.

Printed per problem and state: median and worst relative energy error over the seeds, the
fraction of seeds whose state has status ok, the median L2 wavefunction error, and the median
wall and CPU time per case (a case trains all its states).

The defaults were chosen on validation problems only (``step_well``, ``harmonic_oscillator`` and
the asymmetric well ``piecewise_constant`` edges [0, 0.37, 0.81, 1], values [30, 0, 12]; seed 0,
states 0-2), never on these three; see the ``DeepXDE`` class docstring.
asv imports every module in ``benchmarks/``; all the work happens under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

CANONICAL = ("infinite_well", "finite_well", "finite_barrier")


def run_case(problem_name: str, seed: int, n_states: int) -> list[dict]:
    """One solve, graded by the harness's own ``grade``: a row per state."""
    import qbench
    from qbench.harness import grade

    problem = qbench.problems.get(problem_name)
    solver = qbench.solvers.get("deepxde", seed=seed)
    wall, cpu = time.perf_counter(), time.process_time()
    solution = solver.solve(problem, n_states)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return [
        {
            "problem": problem_name,
            "seed": seed,
            "state": row["state"],
            "status": status.value,
            "message": message,
            "rel_error": row["rel_error"],
            "l2_error": row["l2_error"],
            "energy": row["energy"],
            "exact": row["energy_ref"],
            "wall_s": wall,
            "cpu_s": cpu,
        }
        for row, (status, message) in zip(grade(solution, problem), solution.statuses())
    ]


def report(rows) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows)
    for problem, group in frame.groupby("problem", sort=False):
        cases = group.drop_duplicates("seed")
        print(
            f"\n### {problem} (seeds {len(cases)}; per case: median wall {cases.wall_s.median():.1f} s, "
            f"median CPU {cases.cpu_s.median():.1f} s)\n"
        )
        table = group.groupby("state").agg(
            median_rel_error=("rel_error", "median"),
            worst_rel_error=("rel_error", "max"),
            ok_fraction=("status", lambda s: (s == "ok").mean()),
            median_l2_error=("l2_error", "median"),
        )
        print(table.to_markdown(floatfmt=".3g"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--from-csv", type=Path, nargs="+", default=None)
    parser.add_argument("--n-states", type=int, default=3)
    parser.add_argument("--problems", nargs="+", default=list(CANONICAL))
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args()

    import pandas as pd
    import torch

    if args.from_csv:
        report(pd.concat([pd.read_csv(path) for path in args.from_csv]).to_dict("records"))
        return

    import qbench

    solver = qbench.solvers.get("deepxde")
    print(
        f"deepxde defaults: {solver.options}\nn_states={args.n_states}, "
        f"seeds {args.first_seed}..{args.first_seed + args.seeds - 1}, "
        f"torch {torch.__version__}"
    )
    rows = []
    for problem in args.problems:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            result = run_case(problem, seed, args.n_states)
            rows.extend(result)
            if args.csv:
                pd.DataFrame(result).to_csv(args.csv, mode="a", header=not args.csv.exists(), index=False)
            print(
                f"{problem} seed {seed}: "
                + ", ".join(f"{r['status']} {r['rel_error']:.2g}" for r in result)
                + f" ({result[0]['wall_s']:.0f} s wall, {result[0]['cpu_s']:.0f} s CPU)",
                flush=True,
            )
    report(rows)


if __name__ == "__main__":
    main()

"""PINN variants side by side, over seeds, against the exact references.

Run with ``python benchmarks/bench_pinn.py`` (``--seeds 3`` for a shorter run,
``--csv FILE`` to keep every row). It prints, per variant and problem: median
and worst relative ground-state error, median L2 error, fraction of seeds that
reach 1e-3, that land on the right state, that collapse or diverge, and the
median wall time of one training. Then the excited states of ``nn-galerkin``.
(The reference paper's presets are tuned and reported by ``bench_paper_pinn.py``.)

asv imports every module here; this one defines no asv benchmark, and all the
work happens under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import qbench
from qbench.metrics import rel_energy_error, wavefunction_l2_error

PROBLEMS = {
    "infinite_well": lambda: qbench.problems.InfiniteWell(),
    "finite_well": lambda: qbench.problems.FiniteWell(),
    "finite_barrier": lambda: qbench.problems.FiniteBarrier(),
    "asymmetric_well": lambda: qbench.problems.PiecewiseConstant(
        [0.0, 0.2718, 0.7071, 1.0], [40.0, 0.0, 15.0]
    ),
    "double_barrier": lambda: qbench.problems.PiecewiseConstant(
        [0.0, 0.3141, 0.3641, 0.6931, 0.7731, 1.0], [0.0, 120.0, 0.0, 80.0, 0.0]
    ),
}

# name -> (registered solver, options); every variant gets the same 2000 Adam steps
# unless it is one of the paper's presets, which keep the paper's own budget.
VARIANTS = {
    "nn-galerkin: galerkin + kink inputs": ("nn-galerkin", {}),
    "galerkin + plain inputs": ("nn-galerkin", {"kink_features": False}),
    "ritz (Rayleigh-quotient loss)": ("nn-galerkin", {"energy": "ritz"}),
    "pinn-fixed (paper)": ("pinn-fixed", {}),
    "pinn-trainable (paper)": ("pinn-trainable", {}),
}


def run(solver_name, options, problem, n_states, seed):
    solver = qbench.solvers.get(solver_name, seed=seed, **options)
    start = time.perf_counter()
    solution = solver.solve(problem, n_states)
    wall = time.perf_counter() - start
    reference = problem.reference(n_states + 1)
    errors = rel_energy_error(solution.energies, reference.energies[:n_states])
    l2 = wavefunction_l2_error(solution, problem, problem.reference(n_states))
    # The state it found: the exact level nearest to its energy.
    nearest = np.abs(solution.energies[:, None] - reference.energies[None, :]).argmin(axis=1)
    collapsed = "collapsed" in solution.message
    return [
        {
            "state": k,
            "rel_error": errors[k],
            "l2_error": l2[k],
            "right_state": nearest[k] == k,
            "status": solution.status.value,
            "collapsed": collapsed,
            "wall_time_s": wall,
        }
        for k in range(n_states)
    ]


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    def stats(g):
        return pd.Series(
            {
                "median rel err": g.rel_error.median(),
                "worst rel err": g.rel_error.max(),
                "median L2": g.l2_error.median(),
                "reach 1e-3": (g.rel_error <= 1e-3).mean(),
                "right state": g.right_state.mean(),
                "collapsed": g.collapsed.mean(),
                "diverged": (g.status == "diverged").mean(),
                "median s": g.wall_time_s.median(),
                "seeds": len(g),
            }
        )

    return rows.groupby(["variant", "problem", "state"], sort=False).apply(stats, include_groups=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 (default 10)")
    parser.add_argument("--csv", help="also write every row here")
    parser.add_argument("--variants", help="comma-separated subset of the variant names")
    parser.add_argument("--no-excited", action="store_true", help="skip the n_states=3 runs of nn-galerkin")
    args = parser.parse_args()
    chosen = VARIANTS if not args.variants else {k: VARIANTS[k] for k in args.variants.split(",")}
    rows = []
    for variant, (solver_name, options) in chosen.items():
        for problem_name, build in PROBLEMS.items():
            for seed in range(args.seeds):
                for row in run(solver_name, options, build(), 1, seed):
                    rows.append({"variant": variant, "problem": problem_name, "seed": seed, **row})
            print(f"done: {variant} / {problem_name}", flush=True)
    for problem_name in () if args.no_excited else ("infinite_well", "finite_well", "finite_barrier"):
        for seed in range(args.seeds):
            for row in run("nn-galerkin", {}, PROBLEMS[problem_name](), 3, seed):
                variant = "nn-galerkin n_states=3"
                rows.append({"variant": variant, "problem": problem_name, "seed": seed, **row})
        print(f"done: nn-galerkin n_states=3 / {problem_name}", flush=True)
    table = pd.DataFrame(rows)
    if args.csv:
        table.to_csv(args.csv, index=False)
    with pd.option_context(
        "display.width", 220, "display.max_rows", 500, "display.float_format", "{:.2e}".format
    ):
        print(summarize(table).to_string())


if __name__ == "__main__":
    main()

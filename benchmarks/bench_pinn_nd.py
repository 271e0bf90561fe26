"""The neural solvers in 2D, 3D and above: the oscillator's ground state in a fixed time budget.

Targets. Issue 15: each PINN family (``pinn``, ``nn-galerkin``, ``pinn-fixed``,
``pinn-trainable``) on ``harmonic_oscillator:dim=3`` (V = |x|^2 in [-8, 8]^3, exact
E0 = 3 omega = 3) reaches a relative error of 1e-4 or better within 5 minutes of CPU
training, or the table records what it reaches; the same in 2D (E0 = 2). The issue that took
``pinn`` and ``nn-galerkin`` to d = 10: with resampled training points no training energy goes
below the lower bound on E0 (min V + the empty box's ground level), and the 3D ground state
reaches 1e-3 or better within 5 minutes for ``pinn`` and ``nn-galerkin`` (the ``<= 1e-3`` and
``train E >= bound`` columns). ``--high-dims 6 10`` adds ``coupled_oscillator:dim=d`` (V = x^T A
x, normal-mode frequencies 0.7 .. 1.9, a random rotation, exact E0 = sum of the frequencies),
with ``--high-budget`` seconds (60): data, not a target.

Protocol (the settings never see the target's answer, nor an affine copy of it: a rescaled,
rotated or shifted oscillator is one, since the omega = 2 oscillator is the omega = 1 one with
x -> x / sqrt(2); so validation problems are finite wells):

1. **Tune** on a validation problem in the same dimension: up to d = 4 the separable finite
   well V0 = 20, half-width 1 per axis in the oscillator's box [-8, 8]^d (exact E0 = 4.918 in
   3D; no suite grades it); above d = 4 rotated finite wells V0 = 40, half-width 0.8, rotation
   ``seed=1``, box [-10, 10]^d (the suites grade V0 = 20, half-width 1). Every candidate of
   :data:`CANDIDATES` (above d = 4 :data:`HIGH_CANDIDATES`) for that solver trains for
   ``--tune-budget`` seconds (``--high-tune-budget`` above d = 4) at the first of ``--seeds``;
   the candidate with the smallest relative error of E0 there wins (ties: the earlier
   candidate).
2. **Run** the winner on the target (omega = 1; above d = 4 the default coupled oscillator)
   once per seed of ``--seeds`` for ``--budget`` seconds (``time_limit_s``; the iteration
   counts are set high so the budget is what stops training, hence status ``timeout``),
   graded against the exact E0. The table gives the median over the seeds and every seed's
   error.

The candidates differ in points, width, dtype and schedule only; every one uses the
solver's own formulation. Training runs on one thread (``threads=1``), one case at a
time; the table gives wall and CPU seconds, since a loaded machine gives a wall budget
less CPU (the load average is printed with it).

Run with ``python benchmarks/bench_pinn_nd.py`` (``--dims 3``, ``--solvers pinn``,
``--budget 60`` for shorter runs, ``--seeds 0 1 2`` for the median of three, ``--high-dims 6
10``, ``--json results.json`` keeps every row).

asv imports every module here; this one defines no asv benchmark, and all the
work happens under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import qbench

SOLVERS = ("pinn", "nn-galerkin", "pinn-fixed", "pinn-trainable")
TARGET_OMEGA = 1.0
TARGET_REL_ERROR = 1e-4
#: The 3D target of the issue that took pinn and nn-galerkin to d = 10 (5 minutes).
RESAMPLED_TARGET_REL_ERROR = 1e-3
#: The solvers that take d > 4 (on draws of the problem's sampled rule).
HIGH_SOLVERS = ("pinn", "nn-galerkin")
HIGH_DIMS = tuple(range(5, 11))
UNTIL_THE_BUDGET = 10**6  # iteration counts no budget here reaches: the time limit stops training

# pinn: Adam warm start at lr 1e-2 (the box is 8 wide, the state ~1: the first layer's weights
# must grow), then L-BFGS on the Rayleigh quotient, then L-BFGS on the residual.
_PINN = dict(warm_steps=100, learning_rate=1e-2, lbfgs_iterations=UNTIL_THE_BUDGET)
# nn-galerkin: fixed points with Adam then L-BFGS, or fresh random points every Adam step
# (no fixed set to overfit; the final Ritz solve on the fine rule picks the state in the basis).
_GALERKIN_LBFGS = dict(
    optimizer="adam+lbfgs", adam_steps=200, learning_rate=1e-2, lbfgs_iterations=UNTIL_THE_BUDGET
)
_GALERKIN_RESAMPLED = dict(
    sampling="random", resample_every=1, adam_steps=UNTIL_THE_BUDGET, learning_rate=1e-2
)
# pinn-fixed / pinn-trainable: the reference paper's preset (float32, Adam at 1e-3), or float64
# with Adam then L-BFGS on the same loss.
_PAPER = dict(adam_steps=UNTIL_THE_BUDGET)
_RESIDUAL_LBFGS = dict(
    dtype="float64",
    optimizer="adam+lbfgs",
    adam_steps=500,
    learning_rate=1e-2,
    lbfgs_iterations=UNTIL_THE_BUDGET,
)

# pinn and nn-galerkin up to d = 4 (the defaults' adaptive points, drawn afresh every step and
# every L-BFGS chunk): Adam with a decaying rate, then L-BFGS; with or without the Gaussian
# envelope exp(-8 |t|^2) set by the box (vmc's).
_PINN_ADAPTIVE = dict(
    warm_steps=4000, learning_rate=3e-2, learning_rate_decay=0.01, warm_lbfgs_iterations=0,
    lbfgs_iterations=UNTIL_THE_BUDGET,
)  # fmt: skip
_GALERKIN_ADAPTIVE = dict(
    optimizer="adam+lbfgs", adam_steps=8000, learning_rate=3e-2, learning_rate_decay=0.01,
    lbfgs_iterations=UNTIL_THE_BUDGET,
)  # fmt: skip
BOX_ENVELOPE = 8.0

#: (solver, d) -> {label: options}: what the protocol chooses among.
CANDIDATES: dict[tuple[str, int], dict[str, dict]] = {
    ("pinn", 2): {
        "gauss4k-w32": dict(_PINN, n_points=4096, width=32, warm_lbfgs_iterations=1000, sampling="gauss"),
        "adaptive2k-w32": dict(_PINN_ADAPTIVE, n_points=2048, width=32),
        "adaptive2k-w32-env8": dict(_PINN_ADAPTIVE, n_points=2048, width=32, envelope_decay=BOX_ENVELOPE),
    },
    ("pinn", 3): {
        "adaptive2k-w32": dict(_PINN_ADAPTIVE, n_points=2048, width=32),
        "adaptive2k-w32-env8": dict(_PINN_ADAPTIVE, n_points=2048, width=32, envelope_decay=BOX_ENVELOPE),
    },
    ("nn-galerkin", 2): {
        "gauss4k-w32-lbfgs": dict(_GALERKIN_LBFGS, n_points=4096, width=32, sampling="gauss"),
        "adaptive1k-w32": dict(_GALERKIN_ADAPTIVE, n_points=1024, width=32),
        "adaptive1k-w32-env8": dict(_GALERKIN_ADAPTIVE, n_points=1024, width=32, envelope_decay=BOX_ENVELOPE),
    },
    ("nn-galerkin", 3): {
        "adaptive1k-w32": dict(_GALERKIN_ADAPTIVE, n_points=1024, width=32),
        "adaptive1k-w32-env8": dict(_GALERKIN_ADAPTIVE, n_points=1024, width=32, envelope_decay=BOX_ENVELOPE),
        # Adam alone, its rate decaying over 12000 steps: L-BFGS on each 1024-point draw fits that
        # draw (the output layer is solved on it exactly), and its last fit is what is reported.
        "adaptive1k-w32-env8-adam": dict(
            adam_steps=12000,
            learning_rate=3e-2,
            learning_rate_decay=0.01,
            n_points=1024,
            width=32,
            envelope_decay=BOX_ENVELOPE,
        ),
    },
}
for _name in ("pinn-fixed", "pinn-trainable"):
    CANDIDATES[(_name, 2)] = {
        "paper-grid4k": dict(_PAPER, n_points=4096),
        "f64-lbfgs-gauss4k": dict(_RESIDUAL_LBFGS, sampling="gauss", n_points=4096, width=32),
    }
    CANDIDATES[(_name, 3)] = {
        "paper-sobol8k": dict(_PAPER, n_points=8192),
        "f64-lbfgs-sobol8k": dict(_RESIDUAL_LBFGS, n_points=8192, width=32),
    }


#: solver -> {label: options} above d = 4 (the same for every d there): the defaults' adaptive
#: points, fresh every Adam step and every L-BFGS chunk, or draws of the problem's own sampled rule
#: (``sampling="gauss"`` there), which sits where its low states live.
_HIGH_PINN = dict(
    warm_steps=2000, learning_rate=1e-2, warm_lbfgs_iterations=400, lbfgs_iterations=UNTIL_THE_BUDGET,
    n_points=1024, width=32,
)  # fmt: skip
_HIGH_GALERKIN = dict(adam_steps=UNTIL_THE_BUDGET, learning_rate=1e-2, n_points=1024, width=32)
HIGH_CANDIDATES: dict[str, dict[str, dict]] = {
    "pinn": {
        "adaptive1k-w32-env8": dict(_HIGH_PINN, envelope_decay=BOX_ENVELOPE),
        "sampled1k-w32": dict(_HIGH_PINN, sampling="gauss"),
    },
    "nn-galerkin": {
        "adaptive1k-w32-env8": dict(_HIGH_GALERKIN, envelope_decay=BOX_ENVELOPE),
        "sampled1k-w32": dict(_HIGH_GALERKIN, sampling="gauss"),
    },
}


def validation_well(d: int):
    """The validation problem: finite wells that are no affine copy of any graded problem (see
    the protocol), separable up to d = 4, rotated above; and its exact E0."""
    if d <= 4:
        part = {"name": "finite_well", "V0": 20.0, "half_width": 1.0, "box_half_width": 8.0}
        problem = qbench.problems.get("separable", parts=[part] * d)
    else:
        part = {"name": "finite_well", "V0": 40.0, "half_width": 0.8}
        problem = qbench.problems.get("rotated", parts=[part] * d, seed=1, box_half_width=10.0)
    return problem, float(problem.reference(1).energies[0])


def oscillator(d: int, omega: float):
    """The isotropic oscillator in d <= 3, its exact E0 = d omega (the box's shift is below 1e-14)."""
    return qbench.problems.get("harmonic_oscillator", dim=d, omega=omega), d * omega


def coupled(d: int):
    """The target above d = 4: the default coupled oscillator (frequencies 0.7 .. 1.9, rotation seed 0)."""
    problem = qbench.problems.get("coupled_oscillator", dim=d)
    return problem, float(problem.level_energies(1)[0])


def run_case(name: str, problem, exact: float, options: dict, budget: float, seed: int) -> dict:
    """One ground-state solve, graded against ``exact``; with the lowest training energy and the bound."""
    solver = qbench.solvers.get(name, threads=1, time_limit_s=budget, seed=seed, **options)
    wall, cpu = time.perf_counter(), time.process_time()
    solution = solver.solve(problem, 1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    info = solution.info
    energies = [row["energy"] for row in info["history"]]
    return {
        "solver": name,
        "problem": problem.name,
        "d": problem.dim,
        "params": problem.params,
        "seed": seed,
        "exact": exact,
        "energy": float(solution.energies[0]),
        "rel_error": float(abs(solution.energies[0] - exact) / exact),
        "wall_s": wall,
        "cpu_s": cpu,
        "train_s": info["wall_time_s"],
        "points": info["n_training_points"],
        "collocation": info["collocation"].split(":")[0],
        "point_sets": info.get("training_point_sets", 1),
        "parameters": info["n_parameters"],
        "iterations": info["iterations"],
        # pinn-fixed and pinn-trainable train E as a parameter: their history's E has no bound.
        "min_train_energy": min(energies) if energies else float("nan"),
        "energy_lower_bound": info["energy_lower_bound"],
        "status": str(solution.status.value),
        "message": solution.message,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solvers", nargs="+", default=list(SOLVERS), choices=SOLVERS)
    parser.add_argument(
        "--candidates", nargs="+", help="tune among these candidate labels only (default: every candidate)"
    )
    parser.add_argument("--dims", nargs="*", type=int, default=[3, 2], choices=[2, 3])
    parser.add_argument("--high-dims", nargs="*", type=int, default=[], choices=HIGH_DIMS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="target runs, one per seed")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds of training on the target")
    parser.add_argument("--tune-budget", type=float, default=90.0, help="seconds per candidate when tuning")
    parser.add_argument("--high-budget", type=float, default=60.0, help="seconds on the target, d > 4")
    parser.add_argument("--high-tune-budget", type=float, default=30.0, help="seconds per candidate, d > 4")
    parser.add_argument("--json", help="write every row (tuning and target) to this file")
    args = parser.parse_args()

    rows = []

    def save() -> None:
        if args.json:
            with open(args.json, "w") as handle:
                json.dump(rows, handle, indent=1)

    settings = []  # (name, d, candidates, validation, target, tune budget, budget)

    def chosen(candidates: dict[str, dict]) -> dict[str, dict]:
        kept = {k: v for k, v in candidates.items() if not args.candidates or k in args.candidates}
        return kept or candidates

    for d in args.dims:
        for name in args.solvers:
            settings.append(
                (name, d, chosen(CANDIDATES[(name, d)]), validation_well(d), oscillator(d, TARGET_OMEGA),
                 args.tune_budget, args.budget)
            )  # fmt: skip
    for d in args.high_dims:
        for name in args.solvers:
            if name in HIGH_SOLVERS:
                settings.append(
                    (name, d, chosen(HIGH_CANDIDATES[name]), validation_well(d), coupled(d),
                     args.high_tune_budget, args.high_budget)
                )  # fmt: skip

    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)", flush=True)
    for name, d, candidates, (validation, validation_e0), (
        target,
        target_e0,
    ), tune_budget, budget in settings:
        tuned = {}
        for label, options in candidates.items():
            if len(candidates) == 1:
                break
            row = run_case(name, validation, validation_e0, options, tune_budget, args.seeds[0])
            rows.append({**row, "phase": "tune", "config": label, "load": os.getloadavg()[0]})
            tuned[label] = row["rel_error"]
            print(
                f"  tune {name} {validation.name} d={d} {label}: rel error {row['rel_error']:.2e} "
                f"({row['status']})",
                flush=True,
            )
            save()
        best = min(tuned, key=tuned.get) if tuned else next(iter(candidates))
        for seed in args.seeds:
            row = run_case(name, target, target_e0, candidates[best], budget, seed)
            row.update(phase="target", config=best, load=os.getloadavg()[0])
            rows.append(row)
            print(
                f"target {name} {target.name} d={d} seed={seed} {best}: rel error {row['rel_error']:.2e} "
                f"({row['status']}; lowest training E {row['min_train_energy']:.4g}, bound "
                f"{row['energy_lower_bound']:.4g}; load {row['load']:.2f})",
                flush=True,
            )
            save()

    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")
    print(table(rows))


def table(rows: list[dict]) -> str:
    """The targets' rows as a Markdown table, one line per solver and problem: the median over seeds."""
    lines = [
        f"| solver | problem | d | rel. error E0 (median of seeds) | every seed | <= {TARGET_REL_ERROR:g} "
        f"| <= {RESAMPLED_TARGET_REL_ERROR:g} | train E >= bound | wall s | CPU s | points per set "
        "| sets | parameters | iterations | status | load | config (tuned on the validation problem) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["phase"] == "target":
            groups.setdefault((row["solver"], row["problem"], row["d"]), []).append(row)
    for (solver, problem, d), group in groups.items():
        median = statistics.median(r["rel_error"] for r in group)
        errors = ", ".join(f"{r['rel_error']:.1e}" for r in group)
        first = group[0]
        # A residual mode's E is a trained parameter, not a Rayleigh quotient: no bound applies.
        bounded = solver in ("pinn", "nn-galerkin")
        above = all(r["min_train_energy"] >= r["energy_lower_bound"] for r in group)
        lines.append(
            f"| {solver} | {problem} | {d} | {median:.2e} | "
            f"{errors} | "
            f"{sum(r['rel_error'] <= TARGET_REL_ERROR for r in group)}/{len(group)} | "
            f"{sum(r['rel_error'] <= RESAMPLED_TARGET_REL_ERROR for r in group)}/{len(group)} | "
            f"{('yes' if above else 'NO') if bounded else 'n/a'} | "
            f"{statistics.median(r['wall_s'] for r in group):.0f} | "
            f"{statistics.median(r['cpu_s'] for r in group):.0f} | "
            f"{first['points']} {first['collocation']} | "
            f"{statistics.median(r['point_sets'] for r in group):.0f} | {first['parameters']} | "
            f"{statistics.median(r['iterations'] for r in group):.0f} | "
            f"{', '.join(r['status'] for r in group)} | "
            f"{statistics.median(r['load'] for r in group):.1f} | {first['config']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

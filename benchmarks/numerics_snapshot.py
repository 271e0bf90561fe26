"""Energies and wavefunction samples of every built-in solver on every built-in problem.

A guard for refactors: the numbers each method gives at fixed small settings, in d = 1, 2
and 3, are written to a JSON file before a change and compared after it.

    python benchmarks/numerics_snapshot.py --out before.json
    python benchmarks/numerics_snapshot.py --out after.json --compare before.json

``--compare`` prints, per case, the largest relative change of an energy and the largest
change of a wavefunction sample (up to each state's sign, relative to the state's largest
sample), and exits 1 when any exceeds ``--rtol`` (default 1e-9). The settings are small so
that the whole set runs in a few minutes on two cores; they say nothing about accuracy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import numpy as np

#: (problem name, params, states) in d = 1, 2, 3; the states end where a degenerate level does.
PROBLEMS: list[tuple[str, dict, int]] = [
    ("infinite_well", {}, 2),
    ("finite_well", {}, 2),
    ("finite_barrier", {}, 2),
    ("step_well", {}, 2),
    ("kronig_penney", {"n_wells": 2}, 2),
    ("double_well", {}, 2),
    ("poschl_teller", {}, 2),
    ("harmonic_oscillator", {}, 2),
    ("piecewise_constant", {"edges": [0.0, 0.3137, 1.0], "values": [0.0, 37.0]}, 2),
    ("potential", {"V": "10*x**2", "domain": [-3.0, 3.0]}, 2),
    ("harmonic_oscillator", {"dim": 2}, 3),
    ("separable", {"parts": ["finite_well", "infinite_well"]}, 2),
    ("circular_well", {}, 3),
    ("harmonic_oscillator", {"dim": 3}, 4),
    ("separable", {"parts": ["finite_well", "finite_well", "finite_well"]}, 4),
]

_NEURAL_1D = {"adam_steps": 60, "n_points": 64, "log_every": 10}
_NEURAL_ND = {"adam_steps": 30, "n_points": 256, "log_every": 10}
#: solver -> (options in 1D, options in d >= 2); None = that dimension is not run.
SOLVERS: dict[str, tuple[dict | None, dict | None]] = {
    "fd": ({"n_points": 300}, {"n_points": 24}),
    "shooting": ({"tol": 1e-8}, None),
    "spectral": ({"n_points": 80}, {"n_points": 28}),
    "pyslise": ({"tolerance": 1e-10}, None),
    "nn-galerkin": ({**_NEURAL_1D, "width": 16}, {**_NEURAL_ND, "width": 16}),
    "pinn": (
        {"width": 16, "n_points": 64, "warm_steps": 40, "warm_lbfgs_iterations": 10, "lbfgs_iterations": 10},
        {"width": 16, "n_points": 256, "warm_steps": 20, "warm_lbfgs_iterations": 5, "lbfgs_iterations": 5},
    ),
    "pinn-fixed": ({**_NEURAL_1D, "width": 16}, {**_NEURAL_ND, "width": 16}),
    "pinn-trainable": ({**_NEURAL_1D, "width": 16}, {**_NEURAL_ND, "width": 16}),
    "deepxde": ({"adam_steps": 40, "lbfgs_steps": 0, "n_collocation": 64, "width": 16}, None),
}


def _samples(problem) -> np.ndarray:
    """A grid of interior points: 7 per axis in d <= 2, 3 per axis above."""
    per_axis = 7 if problem.dim <= 2 else 3
    axes = [np.linspace(lo, hi, per_axis + 2)[1:-1] for lo, hi in problem.box]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, problem.dim)
    return grid[:, 0] if problem.dim == 1 else grid


def snapshot(only: str | None = None) -> dict[str, dict]:
    """Run every (solver, problem) pair; key ``"solver|problem|params"``."""
    import qbench

    out: dict[str, dict] = {}
    for name, params, n_states in PROBLEMS:
        problem = qbench.problems.get(name, **params)
        points = _samples(problem)
        for solver_name, (opts_1d, opts_nd) in SOLVERS.items():
            if only and only not in solver_name:
                continue
            opts = opts_1d if problem.dim == 1 else opts_nd
            key = f"{solver_name}|{name}|{json.dumps(params, sort_keys=True)}"
            if opts is None:
                continue
            t0 = time.perf_counter()
            try:
                solver = qbench.solvers.get(solver_name, **opts)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sol = solver.solve(problem, n_states)
                    psi = sol.wavefunctions(points)
                entry = {
                    "energies": [float(e) for e in sol.energies],
                    "psi": np.asarray(psi, dtype=float).tolist(),
                    "status": [str(s.value) for s, _ in sol.statuses()],
                }
            except Exception as exc:  # a refusal or a crash is part of the snapshot
                entry = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
            entry["seconds"] = round(time.perf_counter() - t0, 2)
            out[key] = entry
            print(f"{key}: {entry.get('energies', entry.get('error'))} ({entry['seconds']} s)", flush=True)
    return out


def compare(before: dict, after: dict, rtol: float) -> int:
    """Print the cases that moved; return the number beyond ``rtol``."""
    moved = 0
    for key in sorted(set(before) | set(after)):
        b, a = before.get(key), after.get(key)
        if b is None or a is None:
            print(f"{key}: only in {'after' if b is None else 'before'}")
            moved += 1
            continue
        if "error" in b or "error" in a:
            if b.get("error") != a.get("error"):
                print(f"{key}: error {b.get('error')!r} -> {a.get('error')!r}")
                moved += 1
            continue
        eb, ea = np.array(b["energies"]), np.array(a["energies"])
        with np.errstate(invalid="ignore", divide="ignore"):
            de = np.nanmax(np.abs(ea - eb) / np.maximum(np.abs(eb), 1e-300)) if np.isfinite(eb).any() else 0.0
        nan_moved = not np.array_equal(np.isnan(eb), np.isnan(ea))
        pb, pa = np.array(b["psi"]), np.array(a["psi"])
        scale = np.maximum(np.nanmax(np.abs(pb), axis=1, keepdims=True), 1e-300)
        dpsi = np.minimum(np.abs(pa - pb), np.abs(pa + pb)) / scale
        dp = float(np.nanmax(dpsi)) if np.isfinite(dpsi).any() else 0.0
        status_moved = b["status"] != a["status"]
        if de > rtol or dp > rtol or nan_moved or status_moved:
            moved += 1
            print(
                f"{key}: energy rel change {de:.2e}, wavefunction change {dp:.2e}"
                + (f", status {b['status']} -> {a['status']}" if status_moved else "")
            )
    print(f"{moved} of {len(set(before) | set(after))} cases moved beyond rtol={rtol:g}")
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write the snapshot to this JSON file")
    parser.add_argument("--compare", help="a snapshot JSON written before; exit 1 if a number moved")
    parser.add_argument("--rtol", type=float, default=1e-9)
    parser.add_argument("--only", help="run only solvers whose name contains this")
    args = parser.parse_args(argv)
    result = snapshot(args.only)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1, sort_keys=True)
    if args.compare:
        with open(args.compare) as fh:
            before = json.load(fh)
        if args.only:
            before = {k: v for k, v in before.items() if args.only in k.split("|")[0]}
        return 1 if compare(before, result, args.rtol) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

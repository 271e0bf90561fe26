"""Acceptance figures of the gold-standard issue: spectral accuracy and time per solve, pyslise.

Run with ``python benchmarks/bench_spectral.py`` (``--repeats N`` for the timing median).
asv imports every module here; this one defines no asv benchmark, and all the
work happens under ``if __name__ == "__main__":``.

Every error is against the problem's exact reference (analytic, or transfer-matrix roots),
never against another solver.
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import qbench
from qbench.metrics import rel_energy_error, wavefunction_l2_error

CANONICAL = ("infinite_well", "finite_well", "finite_barrier")
NEW = ("step_well", "kronig_penney", "harmonic_oscillator", "poschl_teller", "double_well")


def median_time(func, repeats: int) -> float:
    """Median seconds of ``repeats`` calls (the first call's one-off costs land in one sample only)."""
    return statistics.median(timeit.repeat(func, number=1, repeat=repeats))


def graded(problem, solver, n_states, repeats):
    solution = solver.solve(problem, n_states)
    errors = rel_energy_error(solution.energies, problem.reference(n_states).energies)
    l2 = wavefunction_l2_error(solution, problem)
    seconds = median_time(lambda: solver.solve(problem, n_states), repeats)
    return errors, l2, seconds, solution


def spectral_sweep(names, sizes, n_states, repeats):
    last = n_states - 1
    print(f"\n### spectral: max relative energy error of states 0-{last}, max L2 error, median time\n")
    print("| problem | " + " | ".join(f"N={n}" for n in sizes) + " | smallest N with <= 1e-12 |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for name in names:
        problem = qbench.problems.get(name)
        cells, first_ok = [], None
        for n in sizes:
            solver = qbench.solvers.get("spectral", n_points=n)
            try:
                solver.check_problem(problem, n_states)
            except ValueError:
                cells.append("—")
                continue
            errors, l2, seconds, _ = graded(problem, solver, n_states, repeats)
            if first_ok is None and errors.max() <= 1e-12:
                first_ok = n
            cells.append(f"{errors.max():.1e} / {l2.max():.0e} / {seconds * 1e3:.1f} ms")
        print(f"| {name} | " + " | ".join(cells) + f" | {first_ok or '—'} |")


def spectral_convergence(name, sizes):
    problem = qbench.problems.get(name)
    exact = problem.reference(3).energies
    print(f"\n### spectral convergence on {name} (states 0-2, max relative error)\n")
    print("| N | " + " | ".join(str(n) for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    errors = [
        rel_energy_error(qbench.solvers.get("spectral", n_points=n).solve(problem, 3).energies, exact).max()
        for n in sizes
    ]
    print("| error | " + " | ".join(f"{e:.1e}" for e in errors) + " |")


def collocation_versus_rayleigh(names, n_points):
    print(f"\n### spectral at N={n_points}: raw collocation eigenvalue vs reported Rayleigh quotient\n")
    print("| problem | collocation eigenvalue | Rayleigh quotient |")
    print("|---|---|---|")
    for name in names:
        problem = qbench.problems.get(name)
        exact = problem.reference(5).energies
        solution = qbench.solvers.get("spectral", n_points=n_points).solve(problem, 5)
        raw = rel_energy_error(solution.info["collocation_energies"], exact).max()
        print(f"| {name} | {raw:.1e} | {rel_energy_error(solution.energies, exact).max():.1e} |")


def pyslise_table(names, n_states, repeats):
    try:
        solver = qbench.solvers.get("pyslise")
    except ValueError as exc:
        print(f"\n(pyslise skipped: {exc})")
        return
    print(f"\n### pyslise (tolerance 1e-12, jumps passed), states 0-{n_states - 1}\n")
    print("| problem | max rel. error | max L2 error | its own max error estimate | median time |")
    print("|---|---|---|---|---|")
    for name in names:
        problem = qbench.problems.get(name)
        states = min(n_states, getattr(problem, "max_states", None) or n_states)
        errors, l2, seconds, solution = graded(problem, solver, states, repeats)
        estimate = max(solution.info["error_estimate"])
        print(f"| {name} | {errors.max():.1e} | {l2.max():.0e} | {estimate:.0e} | {seconds * 1e3:.2f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="timed solves per figure (median)")
    args = parser.parse_args()
    sizes = [50, 100, 150, 200, 300, 400]
    spectral_sweep(CANONICAL, sizes, 5, args.repeats)
    spectral_convergence("finite_well", [27, 30, 33, 36, 39, 42, 45, 48])
    collocation_versus_rayleigh(CANONICAL, 200)
    spectral_sweep(NEW, [100, 200, 300, 400], 3, args.repeats)
    pyslise_table(CANONICAL + NEW, 4, args.repeats)


if __name__ == "__main__":
    main()

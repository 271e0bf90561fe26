"""``spectral`` in 2 and 3 dimensions: error and time against points per axis.

Run with ``python benchmarks/bench_spectral_nd.py`` (``--repeats N`` for the timing median,
``--quick`` for a shorter ladder). asv imports every module here; this one defines no asv
benchmark, and all the work happens under ``if __name__ == "__main__":``.

Problems: the separable finite well (jumps on axis-aligned planes, which the pieces follow), the
isotropic oscillator (smooth; ``harmonic_oscillator:dim=d``) and the circular well (a jump on a
circle, which no tensor grid follows). Every error is against the problem's exact reference (the
circular well's is the free-space well's, whose stated bound on what the box walls change is 7e-8
for the ground state and 7e-4 for state 5). Each row shows the interior unknowns N, the
eigensolver path taken, the relative error of the Rayleigh-Ritz energies (what the solver
reports; the max over the states, and the ground state's), the raw collocation eigenvalues' max
relative error (``info``), the max L2 error of the states (``qbench.metrics``, per degenerate
level) and the median wall time of a solve.
"""

from __future__ import annotations

import argparse
import os
import statistics
import timeit

import numpy as np

import qbench
from qbench.metrics import rel_energy_error, wavefunction_l2_error


def problems(quick: bool):
    """(label, problem, n_states, points per axis) of each table; n_states ends on a level boundary."""
    ladder = {
        "fw2": [27, 33, 39, 45, 51, 60],
        "ho2": [30, 40, 50, 60, 70],
        "fw3": [27, 33, 39, 45],
        "ho3": [30, 40, 50, 60],
        "circle": [20, 30, 40, 60, 80, 120, 160, 240],
    }
    if quick:
        ladder = {key: sizes[:3] for key, sizes in ladder.items()}
    return [
        (
            "separable finite well, 2D",
            qbench.problems.get("separable", parts=["finite_well"] * 2),
            6,
            ladder["fw2"],
        ),
        ("isotropic oscillator, 2D", qbench.problems.get("harmonic_oscillator", dim=2), 6, ladder["ho2"]),
        (
            "separable finite well, 3D",
            qbench.problems.get("separable", parts=["finite_well"] * 3),
            7,
            ladder["fw3"],
        ),
        ("isotropic oscillator, 3D", qbench.problems.get("harmonic_oscillator", dim=3), 10, ladder["ho3"]),
        (
            "circular well (V0=20, radius 1, box 3), 2D",
            qbench.problems.get("circular_well"),
            6,
            ladder["circle"],
        ),
    ]


def table(label, problem, n_states, sizes, repeats):
    exact = problem.reference(n_states).energies
    bound = problem.reference(n_states).rel_error_bound
    print(f"\n### {label}: states 0-{n_states - 1}\n")
    print(f"(reference: {problem.reference(n_states).method}, stated rel. error bound {bound:.0e})\n")
    print("| points/axis | N | eigensolver | energy error | ground state | collocation | L2 error | time |")
    print("|---|---|---|---|---|---|---|---|")
    for n in sizes:
        solver = qbench.solvers.get("spectral", n_points=n)
        solver.check_problem(problem, n_states)
        solution = solver.solve(problem, n_states)
        info = solution.info
        energies = rel_energy_error(solution.energies, exact)
        collocation = rel_energy_error(np.array(info["collocation_energies"]), exact).max()
        l2 = wavefunction_l2_error(solution, problem).max()
        seconds = statistics.median(
            timeit.repeat(lambda s=solver: s.solve(problem, n_states), number=1, repeat=repeats)
        )
        path = info["eigensolver"].split(":")[0]
        if path == "iterative":
            path += f" ({info['shift_invert_solves']} solves, {info['gmres_iterations']} GMRES its)"
        print(
            f"| {n} | {info['matrix_size']} | {path} | {energies.max():.1e} | {energies[0]:.1e} "
            f"| {collocation:.1e} | {l2:.1e} | {seconds:.3g} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed solves per row (median)")
    parser.add_argument("--quick", action="store_true", help="the first three sizes of each ladder only")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    for label, problem, n_states, sizes in problems(args.quick):
        table(label, problem, n_states, sizes, args.repeats)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

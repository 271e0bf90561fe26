"""Acceptance figures of the core issue: fd convergence and speed, shooting accuracy and speed.

Run with ``python benchmarks/bench_core.py`` (add ``--quick`` for fewer repeats).
asv imports every module here; this one defines no asv benchmark, and all the
work happens under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np
import scipy.sparse
import scipy.sparse.linalg

import qbench
from qbench.metrics import rel_energy_error

CANONICAL = ("infinite_well", "finite_well", "finite_barrier")


def irregular_problems(seed: int = 2026, count: int = 4) -> dict[str, qbench.problems.Problem]:
    """Piecewise-constant problems with jumps at random positions (fixed seed)."""
    rng = np.random.default_rng(seed)
    problems = {}
    for i in range(count):
        n_pieces = int(rng.integers(2, 6))
        inner = np.sort(rng.uniform(0.05, 0.95, n_pieces - 1))
        edges = [0.0, *inner.tolist(), 1.0]
        values = rng.uniform(-20, 150, n_pieces).round(3).tolist()
        problems[f"random_{i}"] = qbench.problems.PiecewiseConstant(edges, values)
    return problems


def median_time(func, repeats: int) -> float:
    """Median seconds of ``repeats`` calls (the first call's one-off costs land in one sample only)."""
    return statistics.median(timeit.repeat(func, number=1, repeat=repeats))


def convergence_row(labels, errors, error_format):
    """A Markdown row: the labels, each error, and the error ratio of each doubling of N."""
    ratios = [a / b for a, b in zip(errors[:-1], errors[1:])]
    cells = [*labels, *(error_format.format(e) for e in errors), ", ".join(f"{r:.2f}" for r in ratios)]
    return "| " + " | ".join(cells) + " |"


def fd_convergence(problems, sizes, order):
    print(f"\n### fd order {order}: ground-state relative error and ratio N -> 2N\n")
    print("| problem | " + " | ".join(f"N={n}" for n in sizes) + " | ratios |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for name, problem in problems.items():
        exact = problem.reference(1).energies
        errors = [
            rel_energy_error(
                qbench.solvers.get("fd", n_points=n, order=order).solve(problem, 1).energies, exact
            )[0]
            for n in sizes
        ]
        print(convergence_row([name], errors, "{:.2e}"))


def fd_speed(repeats):
    print(f"\n### fd, N=1000: ground-state error and wall time of solve() (median of {repeats})\n")
    print("| problem | order | rel. error | median ms |")
    print("|---|---|---|---|")
    for name in CANONICAL:
        problem = qbench.problems.get(name)
        exact = problem.reference(1).energies
        for order in (2, 4):
            solver = qbench.solvers.get("fd", n_points=1000, order=order)
            error = rel_energy_error(solver.solve(problem, 1).energies, exact)[0]
            ms = 1e3 * median_time(lambda solver=solver, problem=problem: solver.solve(problem, 1), repeats)
            print(f"| {name} | {order} | {error:.2e} | {ms:.2f} |")


def uniform_grid_energy(problem, n_points: int, sampling: str) -> float:
    """Ground state of the three-point stencil on a uniform grid that ignores where V jumps.

    ``sampling="nodal"`` takes V at the nodes; ``"cell"`` averages V exactly over each
    node's cell (the same finite-volume V the ``fd`` solver uses, but with the jump
    somewhere inside a cell). A baseline for the node-aligned grid of ``fd``, built
    here because qbench ships no solver that ignores the jumps.
    """
    x0, x1 = problem.domain
    nodes = np.linspace(x0, x1, n_points + 2)
    h = nodes[1] - nodes[0]
    inner = nodes[1:-1]
    if sampling == "nodal":
        potential = problem.potential(inner)
    else:  # exact average of the piecewise-constant V over [x - h/2, x + h/2]
        left, right = inner - h / 2, inner + h / 2
        edges, values = np.asarray(problem.edges), np.asarray(problem.values)
        overlap = np.clip(
            np.minimum(right[:, None], edges[None, 1:]) - np.maximum(left[:, None], edges[None, :-1]), 0, None
        )
        # Cells at the walls reach past the box; V beyond a wall is taken as the edge piece's value.
        overlap[:, 0] += np.clip(edges[0] - left, 0, None)
        overlap[:, -1] += np.clip(right - edges[-1], 0, None)
        potential = overlap @ values / h
    matrix = scipy.sparse.diags(
        [np.full(n_points - 1, -1 / h**2), 2 / h**2 + potential, np.full(n_points - 1, -1 / h**2)],
        [-1, 0, 1],
        format="csc",
    )
    energies = scipy.sparse.linalg.eigsh(matrix, k=1, sigma=float(np.min(potential)) - 1.0)[0]
    return float(np.sort(energies)[0])


def node_aligned_versus_uniform(names, sizes):
    print("\n### fd order 2, ground state: node-aligned grid (qbench fd) vs uniform grids blind to jumps\n")
    print("| problem | grid | " + " | ".join(f"N={n}" for n in sizes) + " | ratios |")
    print("|---|---|" + "---|" * (len(sizes) + 1))
    for name in names:
        problem = qbench.problems.get(name)
        exact = problem.reference(1).energies[0]
        rows = {
            "node-aligned (fd)": [
                qbench.solvers.get("fd", n_points=n).solve(problem, 1).energies[0] for n in sizes
            ],
            "uniform, nodal V": [uniform_grid_energy(problem, n, "nodal") for n in sizes],
            "uniform, cell-averaged V": [uniform_grid_energy(problem, n, "cell") for n in sizes],
        }
        for label, energies in rows.items():
            errors = [abs(e - exact) / abs(exact) for e in energies]
            print(convergence_row([name, label], errors, "{:.1e}"))


def shooting_table(problems, repeats):
    print(f"\n### shooting (default tol): states 0-2, relative error, ms per state (median of {repeats})\n")
    print(
        "| problem | E0 error | E1 error | E2 error | ms per state (solve of 3 / 3) | ms for state 0 alone |"
    )
    print("|---|---|---|---|---|---|")
    solver = qbench.solvers.get("shooting")
    for name, problem in problems.items():
        exact = problem.reference(3).energies
        errors = rel_energy_error(solver.solve(problem, 3).energies, exact)
        per_state = 1e3 * median_time(lambda problem=problem: solver.solve(problem, 3), repeats) / 3
        alone = 1e3 * median_time(lambda solver=solver, problem=problem: solver.solve(problem, 1), repeats)
        print(f"| {name} | " + " | ".join(f"{e:.1e}" for e in errors) + f" | {per_state:.2f} | {alone:.2f} |")


def reference_cross_check():
    try:
        import mpmath as mp
    except ImportError:
        print("\n(mpmath not installed: skipping the independent reference check)")
        return
    mp.mp.dps = 50

    def wall(edges, values, energy):
        psi, dpsi = mp.mpf(0), mp.mpf(1)
        for a, b, v in zip(edges[:-1], edges[1:], values):
            k, w = mp.sqrt(mp.mpf(energy) - v), mp.mpf(b) - mp.mpf(a)
            if k == 0:
                psi, dpsi = psi + dpsi * w, dpsi
            else:
                psi, dpsi = (
                    psi * mp.cos(k * w) + dpsi * mp.sin(k * w) / k,
                    -psi * k * mp.sin(k * w) + dpsi * mp.cos(k * w),
                )
        return mp.re(psi)

    print("\n### exact references vs. an independent mpmath transfer product (50 digits), states 0-4\n")
    print("| problem | max relative difference |")
    print("|---|---|")
    for name, problem in {
        **{n: qbench.problems.get(n) for n in CANONICAL},
        **irregular_problems(),
    }.items():
        energies = problem.reference(5).energies
        worst = 0.0
        for energy in energies:
            root = mp.findroot(
                lambda e, problem=problem: wall(problem.edges, problem.values, e), mp.mpf(energy)
            )
            worst = max(worst, float(abs(energy - root) / abs(root)))
        print(f"| {name} | {worst:.1e} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeats = 5 if args.quick else 51
    problems = {name: qbench.problems.get(name) for name in CANONICAL} | irregular_problems()
    fd_convergence(problems, [250, 500, 1000, 2000, 4000], order=2)
    fd_convergence({"infinite_well": qbench.problems.InfiniteWell()}, [25, 50, 100, 200], order=4)
    fd_convergence(problems, [50, 100, 200, 400], order=4)
    node_aligned_versus_uniform(["finite_well", "finite_barrier"], [250, 500, 1000, 2000, 4000])
    fd_speed(repeats)
    shooting_table(problems, repeats)
    reference_cross_check()


if __name__ == "__main__":
    main()

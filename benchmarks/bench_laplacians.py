"""What the classical states cost to evaluate, psi and its Laplacian, on a certificate's points.

Run with ``python benchmarks/bench_laplacians.py`` (``--repeats N`` for the timing median).
asv imports every module here; this one defines no asv benchmark, and all the work happens under
``if __name__ == "__main__":``.

The points are tensor Gauss-Legendre rules on the problem's panels (6144 in 1D, 112^2 in 2D, 56^3
in 3D), then uniform random points (scattered: no shared coordinates), as many but at most
12544: a 3D Chebyshev series costs about 0.2 ms a scattered point, where the tensor path shares
each coordinate's basis values. The
solvers run at the finest resolution the dimensions suite ships (``qbench/suites/dimensions-long.toml``).
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import qbench
from qbench.numerics.quadrature import gauss_legendre_rule

CASES = [
    (1, {"name": "harmonic_oscillator"}, [("fd", {"n_points": 3200}), ("spectral", {"n_points": 64})], 2),
    (
        2,
        {"name": "harmonic_oscillator", "dim": 2},
        [("fd", {"n_points": 512}), ("spectral", {"n_points": 60})],
        3,
    ),
    (
        3,
        {"name": "harmonic_oscillator", "dim": 3},
        [("fd", {"n_points": 96}), ("spectral", {"n_points": 60})],
        4,
    ),
]
POINTS_PER_AXIS = {1: 6144, 2: 112, 3: 56}
SCATTERED_MAX = 12544


def median_time(func, repeats: int) -> float:
    """Median seconds of ``repeats`` calls."""
    return statistics.median(timeit.repeat(func, number=1, repeat=repeats))


def tensor_rule(problem, per_axis: int) -> np.ndarray:
    """Tensor Gauss-Legendre points, ``per_axis`` per axis on the problem's panels."""
    axes = [gauss_legendre_rule([lo, hi], 1, order=per_axis)[0] for lo, hi in problem.box]
    return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{'d':>2} {'solver':<9} {'options':<18} {'points':>8} {'layout':<9} {'psi s':>8} {'Laplacian s':>12}"
    )
    for dim, params, solvers, n_states in CASES:
        problem = qbench.problems.get(**params)
        tensor = tensor_rule(problem, POINTS_PER_AXIS[dim])
        box = np.array(problem.box)
        shape = (min(len(tensor), SCATTERED_MAX), dim)
        scattered = box[:, 0] + (box[:, 1] - box[:, 0]) * np.random.default_rng(0).random(shape)
        for name, options in solvers:
            solution = qbench.solvers.get(name, **options).solve(problem, n_states)
            for layout, points in (("tensor", tensor), ("scattered", scattered)):
                psi = median_time(lambda s=solution, p=points: s.wavefunctions(p), args.repeats)
                laplacian = median_time(lambda s=solution, p=points: s.laplacians(p), args.repeats)
                setting = f"{dim:>2} {name:<9} {options!s:<18} {len(points):>8} {layout:<9}"
                print(f"{setting} {psi:>8.3f} {laplacian:>12.3f}")


if __name__ == "__main__":
    main()

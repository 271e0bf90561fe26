"""Cost and quality of the ``potential`` problem's certified reference.

Run ``python benchmarks/bench_potential.py``: for a few smooth potentials and
one with a declared jump, states 0-4, it prints the certified relative bound,
the true relative error where the answer is known (harmonic oscillator:
2n + 1; the jump: the transfer-matrix roots of the same ``piecewise_constant``
problem), and the median wall time of 5 reference computations, each on a
fresh problem with the certificate computed from scratch (not the cache).
The target is a bound <= 1e-12 within 1 s on 2 CPU cores.

asv imports every module here, so the work is under ``__main__`` only.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

N_STATES = 5
REPEATS = 5

CASES = [
    ("quartic", {"V": "x**4", "domain": [-6, 6]}),
    ("harmonic", {"V": "x**2", "domain": [-10, 10]}),
    ("morse", {"V": "20*(1 - exp(-1.2*(x - 1)))**2", "domain": [-1, 8]}),
    # abs(x) has a (tiny) kink at 0: without breakpoints=[0] the methods disagree by ~5e-6 and it is refused.
    ("woods-saxon", {"V": "-50/(1 + exp((abs(x) - 3)/0.5))", "domain": [-10, 10], "breakpoints": [0]}),
    ("cos lattice", {"V": "10*cos(2*x)", "domain": [0, float(np.pi)]}),
    ("jump + breakpoint", {"V": "where(x > 0, 20, 0)", "domain": [-2, 2], "breakpoints": [0]}),
]


def _known(label: str) -> np.ndarray | None:
    import qbench

    if label == "harmonic":
        return 2.0 * np.arange(N_STATES) + 1.0
    if label == "jump + breakpoint":
        return (
            qbench.problems.get("piecewise_constant", edges=[-2, 0, 2], values=[0, 20])
            .reference(N_STATES)
            .energies
        )
    return None


def main() -> None:
    import qbench
    from qbench.problems.certified import certify

    certify(qbench.problems.get("potential", V="x**2", domain=[-5, 5]), 2)  # imports and lru caches
    header = (
        f"{'potential':<18} {'methods':<28} {'max bound':>10} {'true error':>10} {'median s':>9}  energies"
    )
    print(header)
    print("-" * len(header))
    for label, params in CASES:
        times = []
        for _ in range(REPEATS):
            problem = qbench.problems.get("potential", **params)  # fresh: nothing cached on it
            start = time.perf_counter()
            certificate = certify(problem, N_STATES)  # uncached: the problem's cache is not used
            times.append(time.perf_counter() - start)
        known = _known(label)
        true_error = (
            "—" if known is None else f"{np.max(np.abs(certificate.energies - known) / np.abs(known)):.1e}"
        )
        energies = " ".join(f"{e:.10g}" for e in certificate.energies)
        print(
            f"{label:<18} {'+'.join(certificate.by_method):<28} {certificate.bound:>10.1e} {true_error:>10} "
            f"{statistics.median(times):>9.3f}  {energies}"
        )
        print(f"{'':<18} per-state bounds: {' '.join(f'{b:.1e}' for b in certificate.state_bounds)}")


if __name__ == "__main__":
    main()

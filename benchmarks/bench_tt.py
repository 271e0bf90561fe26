"""``tt`` (quimb's DMRG on a sine basis) on the coupled oscillators: the 10-dimensional ground state.

Target: the ground state of ``coupled_oscillator`` with d = 10, frequencies evenly spaced from 0.8
to 1.6, rotation seed 0, box [-8, 8]^10, to a relative energy error <= 1e-7 against
``level_energies(1)`` in <= 60 s of wall time on one core (one BLAS thread, as the harness runs a
case). The same is printed at d = 3 and 6, and for the frequencies 0.7 to 1.9 (the problem's
default spectrum) at d = 3, 6 and 10. Each row is the median of ``--repeats`` solves (3 by
default; the solver is deterministic for a seed, so the repeats measure time only) with the
options used, wall time, relative error, the largest MPS rank, the MPO's bond dimension and the
sweeps.

Protocol: ``n_points`` and ``cutoff`` come from protocols that read no graded answer (below).
Not blind: ``bond_dim`` was set after the graded problems' ranks had been seen while the solver
was developed, and the solver's Fiedler site order and subspace expansion were tried on the
graded 10D problem (at other settings) before this protocol was written.

* ``n_points`` (per axis): for each frequency range, the smallest N in 16, 20, 24, ... whose 1D
  sine basis (the solver's Galerkin matrices) gives -d2/dx2 + omega^2 x^2 on the problem's box
  [-8, 8] a ground energy within 1e-9 relative (1% of the target) at both the smallest and the
  largest frequency. Along any axis a rotated oscillator's ground state is a Gaussian whose width
  lies between those two, so the per-axis resolution this buys bounds the basis error of the
  d-dimensional state. Computed by this script (``n_points_for``): 32 for 0.8..1.6, 36 for 0.7..1.9.
* ``cutoff`` (the Schmidt weight that grows a rank, and that the final truncation may drop per
  cut): the loosest of 1e-7, 1e-8, 1e-9, 1e-10 whose energy on a validation problem is within
  1e-8 relative (10x below the target) of a run at cutoff 1e-11 (``--validate``). The validation
  problem is not an affine transformation of a graded one: V = x^T A x + g sum_i x_i^4 in d = 10
  with A = Q diag(omega^2) Q^T, omega evenly spaced from 0.9 to 1.5, Q a Haar rotation of seed
  12345, g = 0.1 (the quartic terms make it anharmonic), box [-8, 8]^10, n_points 32.
* ``bond_dim`` 128: a cap on cost, which no graded run reaches (``info["rank_capped"]`` says
  whether a run did); see the caveat above.
* ``tol`` 1e-10 (relative change of the energy from one sweep to the next), three orders below
  the target; ``max_sweeps`` is the solver's default (40); ``seed`` 0.

Run with ``python benchmarks/bench_tt.py`` (``--dims 10``, ``--spectra 0.8:1.6``, ``--repeats 1``
for a shorter run; ``--validate`` for the cutoff ladder on the validation problem, one solve per
cutoff). asv imports
every module here; this one defines no asv benchmark, and all the work happens under
``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

TARGET_REL_ERROR = 1e-7
TARGET_WALL_S = 60.0
#: Relative 1D basis error that fixes n_points (1% of the target), and the ladder searched.
BASIS_TOL = 1e-9
POINTS_LADDER = range(16, 129, 4)
#: The cutoffs of the validation ladder, loosest first, its reference cutoff, and what it accepts.
CUTOFF_LADDER = (1e-7, 1e-8, 1e-9, 1e-10)
REFERENCE_CUTOFF = 1e-11
VALIDATION_TOL = 1e-8
#: The settings the protocol chose (``--validate`` prints the ladder behind CUTOFF).
CUTOFF = 1e-10
BOND_DIM = 128
TOL = 1e-10
BOX = 8.0


def n_points_for(low: float, high: float, box: float = BOX) -> int:
    """The smallest N of ``POINTS_LADDER`` resolving the 1D oscillators of ``low`` and ``high``."""
    import scipy.linalg

    from qbench.numerics.dvr import SineDVR

    for n in POINTS_LADDER:
        dvr = SineDVR(-box, box, n)
        worst = 0.0
        for omega in (low, high):
            h = dvr.kinetic() + omega**2 * dvr.galerkin(np.square)
            ground = scipy.linalg.eigh(h, eigvals_only=True, subset_by_index=(0, 0))[0]
            worst = max(worst, abs(ground - omega) / omega)
        if worst <= BASIS_TOL:
            return n
    raise RuntimeError(f"no N up to {POINTS_LADDER[-1]} resolves omega in [{low}, {high}]")


def solve(problem: Any, exact: float, options: dict[str, Any], repeats: int) -> dict[str, Any]:
    """``repeats`` solves with one BLAS thread; the row of the median wall time."""
    from threadpoolctl import threadpool_limits

    import qbench

    rows = []
    for _ in range(repeats):
        solver = qbench.solvers.get("tt", **options)
        solver.prepare()
        with threadpool_limits(limits=1, user_api="blas"):
            start = time.perf_counter()
            solution = solver.solve(problem, 1)
            wall = time.perf_counter() - start
        info = solution.info
        rows.append(
            {
                "wall_s": wall,
                "energy": float(solution.energies[0]),
                "rel_error": abs(float(solution.energies[0]) - exact) / abs(exact),
                "max_rank": info["max_rank"][0],
                "bond_dims": info["bond_dims"][0],
                "mpo_bond_dim": info["mpo_bond_dim"],
                "sweeps": info["sweeps"][0],
                "capped": info["rank_capped"][0],
                "discarded": info["discarded_weight"][0],
                "status": solution.status.value,
            }
        )
    energies = {row["energy"] for row in rows}
    assert len(energies) == 1, f"a seeded solve gave different energies: {sorted(energies)}"
    median = statistics.median(row["wall_s"] for row in rows)
    out = dict(min(rows, key=lambda row: abs(row["wall_s"] - median)))
    out["wall_s"] = median
    out["walls"] = [row["wall_s"] for row in rows]
    return out


def graded(dims: list[int], spectra: list[tuple[float, float]], repeats: int) -> None:
    import qbench

    print(f"tt, ground state, median of {repeats} solve(s), one BLAS thread")
    print(
        f"{'spectrum':>9} {'d':>3} {'N':>3} {'wall s':>7} {'rel error':>10} {'rank':>5} {'mpo':>4} "
        f"{'sweeps':>6} {'capped':>6} status  (walls)"
    )
    for low, high in spectra:
        points = n_points_for(low, high)
        for dim in dims:
            problem = qbench.problems.get(
                "coupled_oscillator",
                dim=dim,
                frequencies=list(np.linspace(low, high, dim)),
                seed=0,
                box_half_width=BOX,
            )
            exact = float(problem.level_energies(1)[0])
            options = {"n_points": points, "bond_dim": BOND_DIM, "cutoff": CUTOFF, "tol": TOL, "seed": 0}
            row = solve(problem, exact, options, repeats)
            print(
                f"{low:.1f}..{high:.1f} {dim:>3} {points:>3} {row['wall_s']:>7.1f} {row['rel_error']:>10.2e} "
                f"{row['max_rank']:>5} {row['mpo_bond_dim']:>4} {row['sweeps']:>6} {row['capped']!s:>6} "
                f"{row['status']}  ({', '.join(f'{w:.1f}' for w in row['walls'])})",
                flush=True,
            )
            if dim == 10 and (low, high) == (0.8, 1.6):
                met = row["rel_error"] <= TARGET_REL_ERROR and row["wall_s"] <= TARGET_WALL_S
                print(
                    f"  target (rel error <= {TARGET_REL_ERROR:g} in <= {TARGET_WALL_S:g} s): "
                    f"{'met' if met else 'NOT met'}; ranks {row['bond_dims']}",
                    flush=True,
                )
    print(f"options: bond_dim={BOND_DIM}, cutoff={CUTOFF:g}, tol={TOL:g}, seed=0, the rest the defaults")


def validation_problem() -> Any:
    """The anharmonic validation problem of the protocol (see the module docstring)."""
    from qbench.problems import Problem, Reference
    from qbench.problems.rotations import haar_rotation

    class AnharmonicCoupled(Problem):
        name = "bench_tt_validation"

        def __init__(self, dim: int = 10, quartic: float = 0.1):
            super().__init__()
            self._dim, self.quartic = dim, quartic
            q = haar_rotation(dim, 12345)
            self.matrix = (q * np.linspace(0.9, 1.5, dim) ** 2) @ q.T
            self.matrix = 0.5 * (self.matrix + self.matrix.T)

        @property
        def box(self) -> tuple[tuple[float, float], ...]:
            return ((-BOX, BOX),) * self._dim

        @property
        def params(self) -> dict[str, Any]:
            return {"dim": self._dim, "quartic": self.quartic}

        def potential(self, points: np.ndarray) -> np.ndarray:
            quadratic = np.einsum("ni,ij,nj->n", points, self.matrix, points)
            return quadratic + self.quartic * np.sum(points**4, axis=1)

        def product_terms(self) -> list[tuple[float, dict[int, Any]]]:
            terms: list[tuple[float, dict[int, Any]]] = []
            for i in range(self._dim):
                terms.append((float(self.matrix[i, i]), {i: np.square}))
                terms.append((self.quartic, {i: lambda x: x**4}))
                for j in range(i + 1, self._dim):
                    terms.append((2.0 * float(self.matrix[i, j]), {i: _identity, j: _identity}))
            return terms

        def _compute_reference(self, n_states: int) -> Reference:
            raise NotImplementedError("the validation problem has no reference")

    return AnharmonicCoupled()


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def validate() -> None:
    problem = validation_problem()
    base = {"n_points": 32, "bond_dim": BOND_DIM, "tol": TOL, "seed": 0}
    reference = solve(problem, 1.0, {**base, "cutoff": REFERENCE_CUTOFF}, 1)
    print(
        f"validation problem (d = 10, anharmonic): reference cutoff {REFERENCE_CUTOFF:g}: "
        f"E = {reference['energy']:.12f}, rank {reference['max_rank']}, capped {reference['capped']}, "
        f"{reference['wall_s']:.1f} s"
    )
    print(f"{'cutoff':>7} {'rel diff':>9} {'rank':>5} {'sweeps':>6} {'wall s':>7} {'capped':>6}")
    chosen = None
    for cutoff in CUTOFF_LADDER:
        row = solve(problem, 1.0, {**base, "cutoff": cutoff}, 1)
        diff = abs(row["energy"] - reference["energy"]) / abs(reference["energy"])
        print(
            f"{cutoff:>7.0e} {diff:>9.2e} {row['max_rank']:>5} {row['sweeps']:>6} {row['wall_s']:>7.1f} "
            f"{row['capped']!s:>6}",
            flush=True,
        )
        if chosen is None and diff <= VALIDATION_TOL:
            chosen = cutoff
    print(f"loosest cutoff within {VALIDATION_TOL:g} of the reference: {chosen}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[3, 6, 10])
    parser.add_argument(
        "--spectra", nargs="+", default=["0.8:1.6", "0.7:1.9"], help="frequency ranges low:high"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--validate", action="store_true", help="the cutoff ladder on the validation problem")
    args = parser.parse_args()
    if args.validate:
        validate()
        return
    spectra = [tuple(float(v) for v in s.split(":")) for s in args.spectra]
    graded(args.dims, spectra, args.repeats)


if __name__ == "__main__":
    main()

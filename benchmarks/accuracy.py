"""asv: accuracy and cost as regression history, graded as ``qbench run`` grades, one class per solver family.

Every benchmarked solver of a family (``common.FAMILIES``; options pinned in
``common.SOLVER_OPTIONS``, ground state, seed 0) on every canonical problem is
run once, in one run of qbench's runner, in the family's ``setup_cache``
(shared by the tracks of that class); the ``track_`` benchmarks return what
the run stored. Benchmark names carry the family:
``accuracy.Classical.track_rel_error``, ``accuracy.Pinn.track_rel_error``,
``accuracy.NeuralVariational.track_rel_error``, each over ``[problem, solver]``.
asv treats every track as lower-is-better, which holds for errors, times,
memory and failures. A case the measured commit cannot build, or a column its
store lacks, is ``n/a`` there.
"""

from __future__ import annotations

import math

from .common import FAMILIES, PROBLEMS, family_rows

PARAM_NAMES = ["problem", "solver"]


def _value(rows: dict, problem: str, solver: str, column: str) -> float:
    """The stored value, or NaN (asv's ``n/a``) where this commit's store has no such column."""
    value = rows[(problem, solver)].get(column)
    return math.nan if value is None else float(value)


def _not_ok(rows: dict, problem: str, solver: str) -> float:
    """1.0 unless the case's status is ``ok``; the column was ``status`` before states had their own."""
    row = rows[(problem, solver)]
    status = row.get("case_status", row.get("status"))
    return math.nan if status is None else float(status != "ok")


def _require(rows: dict, problem: str, solver: str) -> None:
    if (problem, solver) not in rows:
        raise NotImplementedError(f"{solver} on {problem}: not in this commit's qbench")  # asv: n/a


class _Tracks:
    """The tracks of one family; a subclass sets ``params`` and ``setup_cache`` (asv keys a cache by
    the line of its ``setup_cache``, so each family defines its own)."""

    param_names = PARAM_NAMES
    timeout = 600  # covers setup_cache's trainings

    def setup(self, rows, problem, solver):
        _require(rows, problem, solver)

    def track_rel_error(self, rows, problem, solver):
        """Relative energy error of the ground state."""
        return _value(rows, problem, solver, "rel_error")

    track_rel_error.unit = "relative"

    def track_l2_error(self, rows, problem, solver):
        """L2 error of the ground state's normalized wavefunction."""
        return _value(rows, problem, solver, "l2_error")

    track_l2_error.unit = "relative"

    def track_wall_time(self, rows, problem, solver):
        """Wall time of one solve (for a trained solver, one training), as the harness measured it."""
        return _value(rows, problem, solver, "wall_time_s")

    track_wall_time.unit = "seconds"

    def track_cpu_memory_increase(self, rows, problem, solver):
        """What the case added to the process's peak RSS over its start (``cpu_mem_increase_mb``)."""
        return _value(rows, problem, solver, "cpu_mem_increase_mb")

    track_cpu_memory_increase.unit = "MiB"

    def track_not_ok(self, rows, problem, solver):
        """1 when the case's status is not ``ok`` (failed, diverged, timeout), else 0."""
        return _not_ok(rows, problem, solver)

    track_not_ok.unit = "cases not ok"


class Classical(_Tracks):
    """Family ``classical``: fd, shooting, spectral."""

    params = [PROBLEMS, FAMILIES["classical"]]

    def setup_cache(self):
        return family_rows("classical")

    setup_cache.timeout = 600


class Pinn(_Tracks):
    """Family ``pinn``: networks trained on the residual of the equation."""

    params = [PROBLEMS, FAMILIES["pinn"]]

    def setup_cache(self):
        return family_rows("pinn")

    setup_cache.timeout = 600


class NeuralVariational(_Tracks):
    """Family ``neural-variational``: networks trained on an energy functional (Ritz, Galerkin)."""

    params = [PROBLEMS, FAMILIES["neural-variational"]]

    def setup_cache(self):
        return family_rows("neural-variational")

    setup_cache.timeout = 600

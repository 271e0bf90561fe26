"""asv: accuracy and cost as regression history, graded by the harness, one class per solver family.

Every solver of the quick suite (its options, ground state, seed 0) on every
canonical problem is run once through ``qbench.harness.run_case`` in its
family's ``setup_cache`` (shared by the tracks of that class); the ``track_``
benchmarks return what the harness recorded. Benchmark names carry the family:
``accuracy.Classical.track_rel_error``, ``accuracy.Pinn.track_rel_error``,
``accuracy.NeuralVariational.track_rel_error``, each over ``[problem, solver]``.
asv treats every track as lower-is-better, which holds for errors, times,
memory and failures.
"""

from __future__ import annotations

from .common import PROBLEMS, graded_row, solvers_of

PARAM_NAMES = ["problem", "solver"]


def _rows(family: str) -> dict:
    return {
        (problem, solver): graded_row(problem, solver)
        for problem in PROBLEMS
        for solver in solvers_of(family)
    }


class _Tracks:
    """The tracks of one family; a subclass sets ``params`` and ``setup_cache`` (asv keys a cache by
    the line of its ``setup_cache``, so each family defines its own)."""

    param_names = PARAM_NAMES
    timeout = 600  # covers setup_cache's trainings

    def track_rel_error(self, rows, problem, solver):
        """Relative energy error of the ground state."""
        return rows[(problem, solver)]["rel_error"]

    track_rel_error.unit = "relative"

    def track_l2_error(self, rows, problem, solver):
        """L2 error of the ground state's normalized wavefunction."""
        return rows[(problem, solver)]["l2_error"]

    track_l2_error.unit = "relative"

    def track_wall_time(self, rows, problem, solver):
        """Wall time of one solve (for a trained solver, one training), as the harness measured it."""
        return rows[(problem, solver)]["wall_time_s"]

    track_wall_time.unit = "seconds"

    def track_cpu_memory_increase(self, rows, problem, solver):
        """What the case added to the process's peak RSS over its start (``cpu_mem_increase_mb``)."""
        return rows[(problem, solver)]["cpu_mem_increase_mb"]

    track_cpu_memory_increase.unit = "MiB"

    def track_not_ok(self, rows, problem, solver):
        """1 when the case's status is not ``ok`` (failed, diverged, timeout), else 0."""
        return float(rows[(problem, solver)]["case_status"] != "ok")

    track_not_ok.unit = "cases not ok"


if solvers_of("classical"):

    class Classical(_Tracks):
        """Family ``classical``: fd, shooting, spectral."""

        params = [PROBLEMS, solvers_of("classical")]

        def setup_cache(self):
            return _rows("classical")

        setup_cache.timeout = 600


if solvers_of("pinn"):

    class Pinn(_Tracks):
        """Family ``pinn``: networks trained on the residual of the equation."""

        params = [PROBLEMS, solvers_of("pinn")]

        def setup_cache(self):
            return _rows("pinn")

        setup_cache.timeout = 600


if solvers_of("neural-variational"):

    class NeuralVariational(_Tracks):
        """Family ``neural-variational``: networks trained on an energy functional (Ritz, Galerkin)."""

        params = [PROBLEMS, solvers_of("neural-variational")]

        def setup_cache(self):
            return _rows("neural-variational")

        setup_cache.timeout = 600

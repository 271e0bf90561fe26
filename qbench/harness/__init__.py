"""Run one case: build it, solve it (timed, within its timeout), measure memory, grade every state.

The harness owns timing, memory and grading so that every solver is measured the same way;
solvers never grade themselves. :func:`run_case` never raises for a solver's sake: an exception,
a timeout or a solver's own verdict all become the ``status`` and ``message`` of the case's rows.

One module per job:

- :mod:`~qbench.harness.timing`: repeated timed solves (:func:`time_solve`), :func:`utc_now`;
- :mod:`~qbench.harness.timeout`: the case's wall-clock limit (:func:`deadline`,
  :class:`CaseTimeout`) and the torch state it may spoil (:func:`torch_state_kept`);
- :mod:`~qbench.harness.grading`: a row of graded columns per state (:func:`grade`);
- :mod:`~qbench.harness.sampling`: wavefunction samples for plots (:func:`sample_wavefunctions`);
- :mod:`~qbench.harness.records`: the persisted record (:func:`case_record`,
  :func:`unfinished_record`, :func:`case_status`);
- :mod:`~qbench.harness.run`: :func:`run_case`, which puts them together (memory:
  :mod:`qbench.memory`).
"""

from __future__ import annotations

from .grading import grade, reference_columns
from .records import Measured, case_record, case_status, unfinished_record
from .run import BLAS_THREADS, run_case
from .sampling import SAMPLE_POINTS, sample_wavefunctions
from .timeout import CaseTimeout, deadline, torch_state_kept
from .timing import MAX_REPEATS, TIMING_BUDGET_S, Timing, time_solve, utc_now

__all__ = [
    "BLAS_THREADS",
    "MAX_REPEATS",
    "SAMPLE_POINTS",
    "TIMING_BUDGET_S",
    "CaseTimeout",
    "Measured",
    "Timing",
    "case_record",
    "case_status",
    "deadline",
    "grade",
    "reference_columns",
    "run_case",
    "sample_wavefunctions",
    "time_solve",
    "torch_state_kept",
    "unfinished_record",
    "utc_now",
]

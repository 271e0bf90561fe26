"""Executors: where a run's cases are executed. Each yields case records as cases finish.

* :class:`InProcess` (``--jobs 1``): one case after another in this process,
  progress of the steps inside a case included;
* :class:`LocalPool` (``--jobs N``): N worker processes on this machine,
  started with ``spawn`` (safe with CUDA and with torch's threads);
* :class:`DaskCluster` (``--executor dask``): the workers of a Dask
  distributed scheduler, or of a ``LocalCluster`` started for the run.

All run the same :func:`qbench.harness.run_case`, which seeds every random
thing from the case, so a case gives the same numbers whichever executor ran
it. Executors never write: the runner, on this machine, persists what they yield.
"""

from __future__ import annotations

from .base import Executor, ExecutorError, ExecutorSetupError
from .cluster import DaskCluster
from .local import InProcess, LocalPool

__all__ = ["DaskCluster", "Executor", "ExecutorError", "ExecutorSetupError", "InProcess", "LocalPool"]

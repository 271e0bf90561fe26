"""Executors: where a run's cases are executed. Each yields case records as cases finish.

* :class:`InProcess` (``--jobs 1``): one case after another in this process,
  progress of the steps inside a case included;
* :class:`LocalPool` (``--jobs N``): N worker processes on this machine,
  started with ``spawn`` (safe with CUDA and with torch's threads).

Both run the same :func:`qbench.harness.run_case`, which seeds every random
thing from the case, so a case gives the same numbers whichever executor ran
it. Executors never write: the runner persists what they yield.
"""

from __future__ import annotations

import multiprocessing
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from . import progress
from .cases import Case
from .harness import MAX_REPEATS, TIMING_BUDGET_S, run_case


class ExecutorError(RuntimeError):
    """The executor itself broke (not a case): the run stops, finished cases are kept."""


class Executor(ABC):
    """Runs cases and yields their records in the order they finish."""

    name: str

    def __init__(self, timing_budget_s: float = TIMING_BUDGET_S, max_repeats: int = MAX_REPEATS):
        self.timing_budget_s = timing_budget_s
        self.max_repeats = max_repeats

    @abstractmethod
    def run(
        self, cases: Iterable[Case], on_step: Callable[[int, int], None] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield one record per case; ``on_step(done, total)`` gets progress inside a case where visible."""

    def describe(self) -> dict[str, Any]:
        """What provenance records about this executor."""
        return {"name": self.name, "timing_budget_s": self.timing_budget_s, "max_repeats": self.max_repeats}


class InProcess(Executor):
    """Run cases one after another in this process."""

    name = "in-process"

    def run(self, cases, on_step=None):
        for case in cases:
            with progress.listening(on_step):
                yield run_case(case, self.timing_budget_s, self.max_repeats)


class LocalPool(Executor):
    """Run cases in ``jobs`` local worker processes (at most ``jobs`` cases at a time)."""

    name = "local-pool"

    def __init__(self, jobs: int, **settings: Any):
        super().__init__(**settings)
        self.jobs = jobs

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "jobs": self.jobs, "start_method": "spawn"}

    def run(self, cases, on_step=None):
        queue = list(cases)
        pool = ProcessPoolExecutor(max_workers=self.jobs, mp_context=multiprocessing.get_context("spawn"))
        running: dict[Any, Case] = {}
        try:
            while queue or running:
                # Submit only as many as can run, so an interrupted run has little in flight.
                while queue and len(running) < self.jobs:
                    case = queue.pop(0)
                    running[pool.submit(run_case, case, self.timing_budget_s, self.max_repeats)] = case
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    case = running.pop(future)
                    try:
                        record = future.result()
                    except BrokenProcessPool:
                        raise ExecutorError(
                            f"a worker process died while running {case.label()} ({case.case_id}); "
                            "finished cases are kept, --resume runs the rest"
                        ) from None
                    yield record
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

"""The executors of one machine: in this process (``--jobs 1``) or a local worker pool (``--jobs N``)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .. import progress
from ..cases import Case
from ..harness import run_case, unfinished_record
from ..solvers import Status
from .base import Executor


class InProcess(Executor):
    """Run cases one after another in this process."""

    name = "in-process"

    def run(self, cases, on_step=None):
        for case in cases:
            with progress.listening(on_step):
                yield run_case(case, self.timing_budget_s, self.max_repeats)


class LocalPool(Executor):
    """Run cases in ``jobs`` local worker processes (at most ``jobs`` cases at a time).

    A worker that dies (a crash in native code, the OOM killer) breaks the
    pool, and every case then in flight is a suspect: the pool is restarted and
    the suspects re-run one at a time, so the case that kills its worker on its
    own is recorded as ``failed`` with the reason and the others finish normally.
    """

    name = "local-pool"

    def __init__(self, jobs: int, worker: Callable[..., dict[str, Any]] = run_case, **settings: Any):
        super().__init__(**settings)
        self.jobs = jobs
        self.worker = worker  # a module-level function, so spawned workers can import it

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "jobs": self.jobs, "start_method": "spawn"}

    def _pool(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def run(self, cases, on_step=None):
        queue = list(cases)
        suspects: list[Case] = []
        pool = self._pool(self.jobs)
        running: dict[Any, Case] = {}
        try:
            while queue or running or suspects:
                if suspects and not running:
                    # Alone in a fresh worker, a suspect either finishes or is the culprit.
                    case = suspects.pop(0)
                    pool.shutdown(wait=True)
                    pool = self._pool(1)
                    future = pool.submit(self.worker, case, self.timing_budget_s, self.max_repeats)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        yield unfinished_record(
                            case, Status.FAILED, "the worker process died while running this case alone"
                        )
                    pool.shutdown(wait=True)
                    pool = self._pool(self.jobs)
                    continue
                # Submit only as many as can run, so an interrupted run has little in flight.
                while queue and len(running) < self.jobs and not suspects:
                    case = queue.pop(0)
                    running[pool.submit(self.worker, case, self.timing_budget_s, self.max_repeats)] = case
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    case = running.pop(future)
                    try:
                        record = future.result()
                    except BrokenProcessPool:
                        suspects.append(case)
                        continue
                    yield record
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

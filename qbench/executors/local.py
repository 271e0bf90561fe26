"""The executors of one machine: in this process (``--jobs 1``) or a local worker pool (``--jobs N``)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .. import plugins, progress
from ..cases import Case
from ..harness import run_case, unfinished_record
from ..solvers import Status
from .base import Executor, ExecutorError


class InProcess(Executor):
    """Run cases one after another in this process (after loading its ``plugins`` here)."""

    name = "in-process"

    def run(self, cases, on_step=None):
        plugins.ensure_loaded(self.plugins)
        for case in cases:
            with progress.listening(on_step):
                yield run_case(case, self.timing_budget_s, self.max_repeats)


class LocalPool(Executor):
    """Run cases in ``jobs`` local worker processes (at most ``jobs`` cases at a time).

    A worker that dies (a crash in native code, the OOM killer) breaks the
    pool, and every case then in flight is a suspect: the pool is restarted and
    the suspects re-run one at a time, so the case that kills its worker on its
    own is recorded as ``failed`` with the reason and the others finish normally.

    With ``plugins``, each task is :func:`qbench.plugins.run_with_plugins`, which
    loads them in the worker process before its first case (a file plugin from
    the text read here); a plugin that fails there raises :class:`ExecutorError`.
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

    def _submit(self, pool: ProcessPoolExecutor, case: Case):
        if self.plugins:
            return pool.submit(
                plugins.run_with_plugins,
                self.plugins,
                self.worker,
                case,
                self.timing_budget_s,
                self.max_repeats,
            )
        return pool.submit(self.worker, case, self.timing_budget_s, self.max_repeats)

    @staticmethod
    def _result(future) -> dict[str, Any]:
        """The record of a finished task; a plugin that failed to load in the worker stops the run."""
        try:
            return future.result()
        except plugins.PluginError as exc:
            raise ExecutorError(f"a worker process cannot load the plugins: {exc}") from None

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
                    future = self._submit(pool, case)
                    try:
                        yield self._result(future)
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
                    running[self._submit(pool, case)] = case
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    case = running.pop(future)
                    try:
                        record = self._result(future)
                    except BrokenProcessPool:
                        suspects.append(case)
                        continue
                    yield record
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

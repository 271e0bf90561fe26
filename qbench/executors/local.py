"""The executors of one machine: in this process, or in worker processes (``--jobs N``)."""

from __future__ import annotations

import multiprocessing
import os
import queue as queues
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .. import plugins, progress
from ..cases import Case
from ..harness import run_case, unfinished_record
from ..solvers import Status
from . import lifetime
from .base import Executor, ExecutorError

#: How often a waiting run wakes to pass on the progress of the case in its worker, in seconds.
POLL_S = 0.1
#: The least time between two progress reports a worker sends (the last step is always sent).
REPORT_EVERY_S = 0.1


class InProcess(Executor):
    """Run cases one after another in this process (after loading its ``plugins`` here).

    The simplest executor, for Python callers and tests. A signal that arrives
    while a case sits in a long call into C is handled only when that call
    returns; ``qbench run`` therefore runs even ``--jobs 1`` in one worker
    process (:class:`LocalPool`), which it can stop at once.
    """

    name = "in-process"

    def run(self, cases, on_step=None):
        plugins.ensure_loaded(self.plugins)
        for case in cases:
            self.in_flight = {case.case_id}
            with progress.listening(on_step):
                record = run_case(case, self.timing_budget_s, self.max_repeats)
            self.in_flight = set()
            yield record


# -- in a worker process ---------------------------------------------------------------
_reports: Any = None  # the worker's end of the progress queue, set by _start_worker


def _start_worker(parent_pid: int, reports: Any) -> None:
    """Initializer of every worker process: die with the run, and send progress to ``reports``."""
    global _reports
    lifetime.bind_to_parent(parent_pid)
    _reports = reports


def _task(worker: Callable[..., dict[str, Any]], loaded: tuple, *args: Any) -> dict[str, Any]:
    """One case in a worker process: plugins loaded, progress sent to the run when it listens."""
    if _reports is None:
        return plugins.run_with_plugins(loaded, worker, *args)
    last = [0.0]

    def send(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= REPORT_EVERY_S:
            last[0] = now
            _reports.put((os.getpid(), done, total))

    with progress.listening(send):
        return plugins.run_with_plugins(loaded, worker, *args)


class LocalPool(Executor):
    """Run cases in ``jobs`` local worker processes (at most ``jobs`` cases at a time).

    The workers are started with ``spawn`` and bound to this process
    (:mod:`qbench.executors.lifetime`): they end within a second of its death,
    whatever killed it. Stopped early (a signal, or the caller closing the
    generator), the pool ends its workers at once, cases in flight included,
    and those cases stay unfinished (:attr:`in_flight` names them) for
    ``--resume`` to run again.

    A worker that dies (a crash in native code, the OOM killer) breaks the
    pool, and every case then in flight is a suspect: the pool is restarted and
    the suspects re-run one at a time, so the case that kills its worker on its
    own is recorded as ``failed`` with the reason and the others finish normally.

    With ``plugins``, each task loads them in the worker process before its
    first case (a file plugin from the text read here); a plugin that fails
    there raises :class:`ExecutorError`. With ``jobs == 1``, the progress of the
    steps inside the running case reaches ``on_step`` as it does in-process.
    """

    name = "local-pool"

    def __init__(self, jobs: int, worker: Callable[..., dict[str, Any]] = run_case, **settings: Any):
        super().__init__(**settings)
        self.jobs = jobs
        self.worker = worker  # a module-level function, so spawned workers can import it

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "jobs": self.jobs, "start_method": "spawn"}

    def _pool(self, workers: int, reports: Any) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), reports),
        )

    def _submit(self, pool: ProcessPoolExecutor, case: Case):
        return pool.submit(_task, self.worker, self.plugins, case, self.timing_budget_s, self.max_repeats)

    @staticmethod
    def _result(future) -> dict[str, Any]:
        """The record of a finished task; a plugin that failed to load in the worker stops the run."""
        try:
            return future.result()
        except plugins.PluginError as exc:
            raise ExecutorError(f"a worker process cannot load the plugins: {exc}") from None

    @staticmethod
    def _wait(futures, reports: Any, on_step) -> set:
        """The futures done, waiting in short slices that pass the workers' progress on (and let a
        signal handler run in this thread)."""
        while True:
            done, _ = wait(futures, timeout=POLL_S, return_when=FIRST_COMPLETED)
            if reports is not None:
                for _, step, total in _drain(reports):
                    on_step(step, total)
            if done:
                return done

    def run(self, cases, on_step=None):
        queue = list(cases)
        suspects: list[Case] = []
        # Progress is shown for one case at a time, so only a pool of one worker reports it.
        reports = multiprocessing.get_context("spawn").Queue() if on_step and self.jobs == 1 else None
        pool = self._pool(self.jobs, reports)
        running: dict[Any, Case] = {}
        finished = False
        try:
            while queue or running or suspects:
                if suspects and not running:
                    # Alone in a fresh worker, a suspect either finishes or is the culprit.
                    case = suspects.pop(0)
                    pool.shutdown(wait=True)
                    pool = self._pool(1, reports)
                    future = self._submit(pool, case)
                    self.in_flight = {case.case_id}
                    self._wait({future}, reports, on_step)
                    try:
                        record = self._result(future)
                    except BrokenProcessPool:
                        record = unfinished_record(
                            case, Status.FAILED, "the worker process died while running this case alone"
                        )
                    self.in_flight = set()
                    yield record
                    pool.shutdown(wait=True)
                    pool = self._pool(self.jobs, reports)
                    continue
                # Submit only as many as can run, so an interrupted run has little in flight.
                while queue and len(running) < self.jobs and not suspects:
                    case = queue.pop(0)
                    running[self._submit(pool, case)] = case
                self.in_flight = {case.case_id for case in running.values()}
                if not running:
                    continue
                for future in self._wait(running, reports, on_step):
                    case = running.pop(future)
                    self.in_flight.discard(case.case_id)
                    try:
                        record = self._result(future)
                    except BrokenProcessPool:
                        suspects.append(case)
                        continue
                    yield record
            finished = True
        finally:
            if not finished:  # stopped early: do not wait for the cases in flight
                # concurrent.futures has no public way to end busy workers; _processes holds them.
                lifetime.stop(list(getattr(pool, "_processes", {}).values()))
            pool.shutdown(wait=finished, cancel_futures=True)
            if reports is not None:
                reports.close()
                reports.join_thread()


def _drain(reports: Any) -> list[tuple[int, int, int]]:
    items = []
    while True:
        try:
            items.append(reports.get_nowait())
        except (queues.Empty, OSError, ValueError):
            return items


__all__ = ["InProcess", "LocalPool"]

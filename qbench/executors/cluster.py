"""Cases on a Dask distributed cluster: an existing scheduler, or a ``LocalCluster`` started for the run.

The client (this process) submits one task per case, each running
:func:`qbench.harness.run_case` on a worker, and yields the records as they
arrive; the runner on this machine stays the only writer of the run. Workers
need qbench (same version) and torch (same version) installed, nothing else:
no shared disk. A single-file plugin travels with every task as text; a module
plugin must be installed on the workers (see :mod:`qbench.plugins`).
"""

from __future__ import annotations

import logging
import os
import platform
import re
import secrets
import socket
from collections.abc import Callable
from concurrent.futures import CancelledError
from types import ModuleType
from typing import Any

from .. import plugins
from .._validation import check_int
from ..cases import Case
from ..harness import run_case, unfinished_record
from ..solvers import Status
from . import lifetime
from .base import Executor, ExecutorError, ExecutorSetupError

INSTALL_HINT = "pip install 'qbench[dask]'"
#: Versions that must be equal on the client and every worker, or the numbers are not comparable.
MUST_MATCH = ("qbench", "torch")
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx)://\S+$")


def worker_versions() -> dict[str, str]:
    """Versions and host of the process this runs in (a worker, or the client)."""
    import numpy
    import torch

    from .. import __version__

    return {
        "qbench": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "host": socket.gethostname(),
    }


def load_distributed() -> ModuleType:
    """Import ``distributed``, or raise :class:`ExecutorSetupError` saying how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ExecutorSetupError(f"--executor dask needs dask[distributed] ({INSTALL_HINT}): {exc}") from None
    return distributed


class DaskCluster(Executor):
    """Run cases as tasks on Dask workers, at most ``retries + 1`` times each.

    Parameters
    ----------
    scheduler
        Address of a running scheduler (``tcp://host:8786``). None starts a
        ``LocalCluster`` on the loopback interface for the run and stops it
        afterwards.
    n_workers
        Worker processes of that ``LocalCluster`` (one thread each); default
        the machine's CPU count. Not allowed with ``scheduler``: its workers
        are whatever was started there.
    retries
        How often a case whose worker died (crash, OOM, killed) is submitted
        again; after that it is recorded ``failed`` with the reason. On your
        own scheduler its ``distributed.scheduler.allowed-failures`` (default
        3) re-runs add to these; the ``LocalCluster`` sets it to 0.
    connect_timeout_s
        How long to wait for the scheduler and for the first worker.
    worker
        The function a task runs, ``run_case`` (replaceable in tests).

    ``start`` connects, checks that every worker has this client's qbench and
    torch versions, and loads the ``plugins`` on every worker; a mismatch, a
    plugin a worker cannot load, an unreachable scheduler or no worker raises
    :class:`ExecutorSetupError` before any case is submitted. Each task loads
    the plugins again where needed (a worker that replaced a dead one).
    Losing the scheduler during the run raises :class:`ExecutorError`; the
    cases already yielded are kept by the runner, and ``--resume`` finishes.
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        n_workers: int | None = None,
        retries: int = 1,
        connect_timeout_s: float = 30.0,
        worker: Callable[..., dict[str, Any]] = run_case,
        **settings: Any,
    ):
        super().__init__(**settings)
        if scheduler is not None and not (isinstance(scheduler, str) and _ADDRESS.match(scheduler)):
            raise ValueError(f"scheduler must be an address like tcp://host:8786, got {scheduler!r}")
        if scheduler is not None and n_workers is not None:
            raise ValueError("n_workers sizes the LocalCluster qbench starts; a scheduler has its workers")
        self.scheduler = scheduler
        self.n_workers = None if n_workers is None else check_int("n_workers", n_workers, minimum=1)
        self.retries = check_int("retries", retries, minimum=0)
        self.connect_timeout_s = connect_timeout_s
        self.worker = worker
        self._client: Any = None
        self._cluster: Any = None
        self._workers: dict[str, dict[str, str]] = {}
        self.address: str | None = scheduler

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        if self._client is not None:
            return
        distributed = load_distributed()
        try:
            if self.scheduler is None:
                import dask

                # Worker deaths are retried by this client (``retries``), not again by the scheduler;
                # one task per worker thread at a time, so a death implicates only the case it ran.
                config = {
                    "distributed.scheduler.allowed-failures": 0,
                    "distributed.scheduler.worker-saturation": 1.0,
                }
                with dask.config.set(config):
                    self._cluster = distributed.LocalCluster(
                        n_workers=self.n_workers or os.cpu_count() or 1,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        worker_dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                self.address = self._cluster.scheduler_address
            self._client = distributed.Client(
                self.address, timeout=self.connect_timeout_s, set_as_default=False
            )
            self._client.wait_for_workers(1, timeout=self.connect_timeout_s)
        except (OSError, TimeoutError, distributed.TimeoutError) as exc:
            self.close()
            raise ExecutorSetupError(
                f"cannot use the Dask scheduler at {self.address}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            self._workers = self._client.run(worker_versions)
        except Exception as exc:  # e.g. a worker without qbench cannot unpickle the function
            self.close()
            raise ExecutorSetupError(
                f"a Dask worker could not report its versions (is qbench installed there?): "
                f"{type(exc).__name__}: {exc}"
            ) from None
        here = worker_versions()
        mismatched = [
            f"{address} has {key} {versions.get(key)}"
            for address, versions in sorted(self._workers.items())
            for key in MUST_MATCH
            if versions.get(key) != here[key]
        ]
        if mismatched:
            self.close()
            wanted = ", ".join(f"{key} {here[key]}" for key in MUST_MATCH)
            raise ExecutorSetupError(
                f"Dask workers differ from this client ({wanted}): {'; '.join(mismatched)}; "
                "install the same versions on every worker"
            )
        if self._cluster is not None:
            # The LocalCluster's worker processes are this process's children: bind them to it, so a
            # run killed by any signal leaves none computing for nobody.
            self._client.run(lifetime.bind_to_parent, os.getpid())
        if self.plugins:
            self._setup_plugins()

    def _setup_plugins(self) -> None:
        """Load the plugins on every worker, or raise :class:`ExecutorSetupError` naming one that cannot."""
        try:
            failures = self._client.run(plugins.worker_setup, self.plugins)
        except Exception as exc:
            self.close()
            raise ExecutorSetupError(
                f"the Dask workers could not load the plugins: {type(exc).__name__}: {exc}"
            ) from None
        failed = [(address, error) for address, error in sorted(failures.items()) if error is not None]
        if failed:
            self.close()
            address, error = failed[0]
            others = f" (and {len(failed) - 1} other worker(s))" if len(failed) > 1 else ""
            raise ExecutorSetupError(f"Dask worker {address}{others} cannot load the plugins: {error}")

    def close(self) -> None:
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "scheduler": self.address,
            "local_cluster": self.scheduler is None,
            "n_workers": len(self._workers),
            "retries": self.retries,
            "client": worker_versions(),
            "workers": self._workers,
        }

    # -- running ---------------------------------------------------------------------
    def run(self, cases, on_step=None):
        self.start()
        distributed = load_distributed()
        client = self._client
        run_token = secrets.token_hex(4)
        attempts: dict[str, int] = {}
        in_flight: dict[Any, Case] = {}

        def submit(case: Case):
            attempts[case.case_id] = attempts.get(case.case_id, 0) + 1
            # With plugins, the task loads them first (a worker that replaced a dead one has not).
            call = (plugins.run_with_plugins, self.plugins, self.worker) if self.plugins else (self.worker,)
            future = client.submit(
                *call,
                case,
                self.timing_budget_s,
                self.max_repeats,
                key=f"qbench-{case.case_id}-{run_token}-{attempts[case.case_id]}",
                pure=False,
            )
            in_flight[future] = case
            self.in_flight.add(case.case_id)
            return future

        finished = distributed.as_completed([submit(case) for case in cases], loop=client.loop)
        try:
            for future in finished:
                case = in_flight.pop(future)
                self.in_flight.discard(case.case_id)
                try:
                    record = future.result()
                except distributed.KilledWorker as exc:
                    if attempts[case.case_id] <= self.retries:
                        finished.add(submit(case))
                        continue
                    message = (
                        f"the Dask worker died running this case ({attempts[case.case_id]} attempts): {exc}"
                    )
                    record = unfinished_record(case, Status.FAILED, message)
                except (CancelledError, OSError, TimeoutError) as exc:
                    raise ExecutorError(
                        f"lost the Dask scheduler at {self.address} ({type(exc).__name__}: {exc})"
                    ) from None
                except plugins.PluginError as exc:  # a worker that joined after start() lacks one
                    raise ExecutorError(f"a Dask worker cannot load the plugins: {exc}") from None
                except Exception as exc:  # raised on the worker outside run_case's own handling
                    record = unfinished_record(
                        case, Status.FAILED, f"on the Dask worker: {type(exc).__name__}: {exc}"
                    )
                record["attempts"] = attempts[case.case_id]
                yield record
        finally:
            for future in in_flight:  # interrupted or stopped: nothing left running for this run
                future.cancel()

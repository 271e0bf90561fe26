"""Worker processes that do not outlive the run that started them.

A worker a run started computes for that run only. If the run's process dies,
by any signal, SIGKILL included, its workers must go too, or they go on
computing for nobody (and holding cores, GPU memory and licences). Two guards,
installed in each worker by :func:`bind_to_parent`:

* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker
  the moment its parent dies, even while the worker sits in a long call into C
  that holds the GIL;
* everywhere, a daemon thread that checks every ``POLL_S`` seconds whether the
  parent is still the one that started the worker, and ends the process if not.

Workers also ignore SIGINT and SIGHUP: Ctrl-C and a closed terminal reach the
whole process group, and the run's process, which handles them, stops its
workers itself (:func:`stop`).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing.process import BaseProcess

#: How often the watchdog thread looks at the parent, in seconds.
POLL_S = 0.5
#: How long :func:`stop` waits for a worker to end after SIGTERM before it sends SIGKILL.
TERMINATE_GRACE_S = 2.0
_PR_SET_PDEATHSIG = 1


def bind_to_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` is no longer its parent; ignore SIGINT and SIGHUP.

    Call it first thing in a worker process (a pool's ``initializer``).

    Parameters
    ----------
    parent_pid
        The pid of the process that started this one, as that process saw itself.
    """
    if threading.current_thread() is threading.main_thread():  # only there can handlers change
        for name in ("SIGINT", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        _set_parent_death_signal()
    if os.getppid() != parent_pid:  # the parent died before the guards were in place
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="qbench-parent-watch", daemon=True).start()


def _set_parent_death_signal() -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_S)
    os._exit(1)


def stop(processes: Iterable[BaseProcess], grace_s: float = TERMINATE_GRACE_S) -> None:
    """End worker processes now: SIGTERM, then SIGKILL for any still alive after ``grace_s``.

    Used when a run is interrupted, so a case sitting in a long computation
    does not hold the run's exit.
    """
    alive = [p for p in processes if p.is_alive()]
    for process in alive:
        with contextlib.suppress(OSError, ValueError):
            process.terminate()
    deadline = time.monotonic() + grace_s
    for process in alive:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in alive:
        if process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                process.kill()
            process.join(1.0)

"""A case's wall-clock limit: an exception raised asynchronously in the case, and the repair of
the torch state such an exception can leave behind."""

from __future__ import annotations

import ctypes
import math
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CaseTimeout(BaseException):
    """Raised inside a case when its wall-clock limit passes.

    A ``BaseException`` so that a solver's own ``except Exception`` cannot swallow it.
    """


def timeout_message(seconds: float) -> str:
    """The message of a :class:`CaseTimeout` after ``seconds``."""
    return f"case exceeded its timeout of {seconds:g} s"


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the block after ``seconds`` of wall time.

    In the main thread of a POSIX process (the in-process run, every local
    worker process) it uses ``SIGALRM``. Elsewhere, as in a Dask worker, whose
    tasks run in a thread of the worker process, a timer thread raises the
    exception asynchronously in the calling thread. Either way Python raises
    it between bytecodes, so a long call into C finishes first. An infinite
    ``seconds`` sets no limit.
    """
    if not math.isfinite(seconds):
        yield
        return
    if hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _timer_thread(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def expire(signum, frame):
        raise CaseTimeout(timeout_message(seconds))

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _timer_thread(seconds: float) -> Iterator[None]:
    target = ctypes.c_ulong(threading.get_ident())
    lock, state = threading.Lock(), {"active": True, "fired": False}

    def expire():
        with lock:  # never inject once the block has ended
            if state["active"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(CaseTimeout))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except CaseTimeout as exc:  # raised as a bare class: give it the message
        raise CaseTimeout(timeout_message(seconds)) from exc
    finally:
        with lock:
            state["active"] = False
        timer.cancel()
        if state["fired"]:  # injected but not yet raised: drop it rather than raise it outside the block
            ctypes.pythonapi.PyThreadState_SetAsyncExc(target, None)


@contextmanager
def torch_state_kept() -> Iterator[None]:
    """Torch's thread-local grad mode, default dtype and thread count as they were, whatever happens.

    A timeout is an exception raised asynchronously (``SIGALRM``, or a timer thread). When it lands
    between a ``torch.no_grad()``'s switch and the start of its block, that block's exit never
    runs, and every later case of the process would train without gradients; so the harness puts
    back what a case may have changed. Torch is never imported here: a process that has not
    imported it has no torch state to keep.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    grad, dtype, threads = torch.is_grad_enabled(), torch.get_default_dtype(), torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_grad_enabled(grad)
        if torch.get_default_dtype() != dtype:
            torch.set_default_dtype(dtype)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

"""Signals that stop a run: SIGINT, SIGTERM and SIGHUP all become :class:`Interrupted`.

``timeout``, Slurm and Kubernetes stop a job with SIGTERM (then SIGKILL after a
grace period, 30 s by default in Slurm); a closed terminal sends SIGHUP; Ctrl-C
sends SIGINT. :func:`handling` turns each into the same exception, so a run
keeps its finished cases and writes its tables whichever one arrives, and the
command line exits with the shell's code for that signal (128 + its number:
130, 143, 129).

:func:`deferred` holds a signal back while a run's tables and provenance are
written, so a second signal (or one that lands at the end of a run) cannot
leave them half-written: it is raised as soon as the block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

#: The signals that stop a run, where the platform has them.
STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived. A :class:`KeyboardInterrupt`, so code that handles Ctrl-C handles it.

    Parameters
    ----------
    signum
        The signal's number.
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def name(self) -> str:
        """The signal's name, e.g. ``"SIGTERM"``."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by this signal: 128 + its number."""
        return 128 + self.signum


def signal_name(exc: BaseException) -> str:
    """The name of the signal behind an interruption (``SIGINT`` for a plain :class:`KeyboardInterrupt`)."""
    return exc.name if isinstance(exc, Interrupted) else "SIGINT"


def exit_code(exc: BaseException) -> int:
    """The exit code for an interruption: 128 + the signal's number (130 for a plain Ctrl-C)."""
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


_state = threading.local()


def _deferring() -> list[int] | None:
    return getattr(_state, "pending", None)


def _raise(signum: int, frame: FrameType | None) -> None:
    pending = _deferring()
    if pending is not None:  # inside deferred(): remember it, raise when the block ends
        pending.append(signum)
        return
    raise Interrupted(signum)


@contextmanager
def handling() -> Iterator[None]:
    """Raise :class:`Interrupted` on SIGINT, SIGTERM and SIGHUP inside the block.

    Only the main thread can install signal handlers; elsewhere (a worker
    thread, an embedding program) the block changes nothing. The previous
    handlers come back at the end.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold back the stop signals inside the block; the first that arrived is raised at its end.

    Used around the few writes that end a run, which take a second or two, so
    that a signal arriving then cannot cut them short. Nested blocks defer to
    the outermost one. Without :func:`handling` in force, the process's own
    handlers act as usual.
    """
    if _deferring() is not None:
        yield
        return
    _state.pending = []
    try:
        yield
    finally:
        pending, _state.pending = _state.pending, None
        if pending:
            raise Interrupted(pending[0])

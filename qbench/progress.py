"""Progress of long work inside one solve, passed to whoever listens.

Solvers call :func:`report` as they go (a PINN after each optimizer step); the
command line installs a listener with :func:`listening` to drive a progress
bar. Without a listener a report costs one context-variable lookup, and
nothing here prints: the listener decides what to show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Listener = Callable[[int, int], None]
_listener: ContextVar[Listener | None] = ContextVar("qbench_progress_listener", default=None)


def report(done: int, total: int) -> None:
    """Tell the current listener, if any, that ``done`` of ``total`` units of work are finished."""
    listener = _listener.get()
    if listener is not None:
        listener(done, total)


@contextmanager
def listening(listener: Listener | None) -> Iterator[None]:
    """Send every :func:`report` made inside the ``with`` block to ``listener(done, total)``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)

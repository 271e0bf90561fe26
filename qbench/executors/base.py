"""The executor interface: run cases somewhere, yield their records as they finish."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..cases import Case
from ..harness import MAX_REPEATS, TIMING_BUDGET_S
from ..plugins import Plugin


class ExecutorError(RuntimeError):
    """The executor itself broke (not a case): the run stops, finished cases are kept."""


class ExecutorSetupError(ExecutorError):
    """The executor could not start (no scheduler, mismatched worker versions): nothing has run."""


class Executor(ABC):
    """Runs cases and yields their records in the order they finish.

    A subclass implements ``run``; one that needs a connection or processes
    set up first overrides ``start`` (raise :class:`ExecutorSetupError` there,
    before any case runs) and ``close``. Used as a context manager, an
    executor is started on entry and closed on exit; ``run`` starts it itself
    if nobody did. Executors never write: the runner persists what they yield.
    ``run`` keeps :attr:`in_flight` current, and when its generator is closed
    early it stops the cases in flight without waiting for them.

    ``plugins`` (:class:`qbench.plugins.Plugin` records) are loaded wherever a
    case runs before it runs: in this process, in each worker process, on each
    Dask worker (a single-file plugin travels as text with every task).
    """

    name: str

    def __init__(
        self,
        timing_budget_s: float = TIMING_BUDGET_S,
        max_repeats: int = MAX_REPEATS,
        plugins: Iterable[Plugin] = (),
    ):
        self.timing_budget_s = timing_budget_s
        self.max_repeats = max_repeats
        self.plugins: tuple[Plugin, ...] = tuple(plugins or ())
        #: Ids of the cases running now; those still here when a run stops are recorded as interrupted.
        self.in_flight: set[str] = set()
        for plugin in self.plugins:
            if not isinstance(plugin, Plugin):
                raise TypeError(f"plugins must be qbench.plugins.Plugin records, got {plugin!r}")

    def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire what ``run`` needs; raise :class:`ExecutorSetupError` if it cannot."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what ``start`` acquired; safe to call twice."""

    def __enter__(self) -> Executor:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @abstractmethod
    def run(
        self, cases: Iterable[Case], on_step: Callable[[int, int], None] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Yield one record per case; ``on_step(done, total)`` gets progress inside a case where visible."""

    def describe(self) -> dict[str, Any]:
        """What provenance records about this executor."""
        return {
            "name": self.name,
            "timing_budget_s": self.timing_budget_s,
            "max_repeats": self.max_repeats,
            "plugins": [plugin.label for plugin in self.plugins],
        }

"""The executor interface: run cases somewhere, yield their records as they finish."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..cases import Case
from ..harness import MAX_REPEATS, TIMING_BUDGET_S


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
    """

    name: str

    def __init__(self, timing_budget_s: float = TIMING_BUDGET_S, max_repeats: int = MAX_REPEATS):
        self.timing_budget_s = timing_budget_s
        self.max_repeats = max_repeats

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
        return {"name": self.name, "timing_budget_s": self.timing_budget_s, "max_repeats": self.max_repeats}

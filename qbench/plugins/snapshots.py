"""Snapshots of the solver and problem registries: what a plugin added, and undoing one that failed."""

from __future__ import annotations

from .. import problems, solvers
from ..registry import Registry


def _registries() -> dict[str, Registry]:
    return {"solver": solvers.METHODS, "problem": problems.PROBLEMS}


def _snapshot() -> dict[str, dict[str, type]]:
    return {kind: registry.raw() for kind, registry in _registries().items()}


def _added(before: dict[str, dict[str, type]]) -> dict[str, tuple[str, ...]]:
    return {
        kind: tuple(sorted(n for n, c in registry.raw().items() if before[kind].get(n) is not c))
        for kind, registry in _registries().items()
    }


def _restore(before: dict[str, dict[str, type]]) -> None:
    """Undo what a plugin that failed half-way registered."""
    for kind, registry in _registries().items():
        dict.clear(registry)
        dict.update(registry, before[kind])

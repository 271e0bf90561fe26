"""What is loaded in this process, and which plugin registered a given solver or problem."""

from __future__ import annotations

from collections.abc import Iterable

from .entry_points import load_entry_points
from .records import Plugin, combine
from .state import _LOADED


def loaded() -> tuple[Plugin, ...]:
    """Every plugin loaded in this process: those given by spec, then the entry points."""
    return combine(_LOADED.values(), load_entry_points())


def provider(kind: str, name: str, plugins: Iterable[Plugin] | None = None) -> Plugin | None:
    """The plugin that registered solver or problem ``name`` (``kind`` ``"solver"``/``"problem"``), if any."""
    for plugin in loaded() if plugins is None else plugins:
        if name in (plugin.solvers if kind == "solver" else plugin.problems):
            return plugin
    return None

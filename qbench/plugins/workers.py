"""Loading the client's plugins in worker processes and on Dask workers, once per process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .entry_points import check_entry_points
from .loading import _load_file, _load_module
from .records import Plugin, PluginError
from .state import _ENSURED, _LOCK


def ensure_loaded(plugins: Sequence[Plugin]) -> None:
    """Load ``plugins`` in this process (a worker) unless done already; cached by module and sha256.

    A single-file plugin with its ``source`` is executed from that text (no file
    needed); a module plugin is imported by name; an entry-point plugin loads the
    entry points of this environment. Each must match the sha256 recorded.

    Raises
    ------
    PluginError
        A plugin that fails to load here, or differs from the recorded one.
    """
    key = tuple((p.module, p.sha256) for p in plugins)
    if key in _ENSURED:
        return
    with _LOCK:
        for plugin in plugins:
            if plugin.origin == "entry-point":
                current = next((p for p in check_entry_points() if p.entry_point == plugin.entry_point), None)
                if current is None:
                    raise PluginError(f"{plugin.label} is not installed on this worker")
            elif plugin.kind == "file":
                current = _load_file(
                    Path(plugin.file or plugin.spec), plugin.origin, plugin.spec, plugin.source, plugin.module
                )
            else:
                current = _load_module(plugin.module, plugin.origin, plugin.spec)
            if current.sha256 != plugin.sha256:
                raise PluginError(
                    f"plugin {plugin.label} differs on this worker: sha256 {str(current.sha256)[:12]}..., "
                    f"the client has {str(plugin.sha256)[:12]}..."
                )
        _ENSURED.add(key)


def run_with_plugins(plugins: Sequence[Plugin], worker: Callable[..., Any], *args: Any) -> Any:
    """``worker(*args)`` after :func:`ensure_loaded` (what executors send to their worker processes)."""
    ensure_loaded(plugins)
    return worker(*args)


def worker_setup(plugins: Sequence[Plugin]) -> str | None:
    """Load ``plugins`` on a worker at the executor's start: ``None``, or why they could not load."""
    try:
        ensure_loaded(plugins)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}" if not isinstance(exc, PluginError) else str(exc)
    return None

"""The process-wide state of the plugin system, kept here and nowhere else.

Mutated in place (never rebound), so every module that imports these names shares them.
"""

from __future__ import annotations

import threading

from .records import Plugin

#: Serialises loading: plugins, entry points and worker set-up.
_LOCK = threading.RLock()
#: Module name -> record, for the file and module plugins loaded here (not entry points).
_LOADED: dict[str, Plugin] = {}
#: The ``(module, sha256)`` sets :func:`qbench.plugins.ensure_loaded` has loaded in this process.
_ENSURED: set[tuple[tuple[str, str | None], ...]] = set()


class _EntryPoints:
    state = "unloaded"  # -> "loading" -> "loaded"
    plugins: tuple[Plugin, ...] = ()
    errors: tuple[str, ...] = ()


#: The installed entry points: whether loaded, their records, and why some failed.
_EP = _EntryPoints()

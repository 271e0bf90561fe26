"""The entry-point plugins of installed distributions (groups ``qbench.solvers``, ``qbench.problems``).

They are loaded once per process, at the first read of either registry: importing
this module installs that hook into ``qbench.solvers.METHODS`` and
``qbench.problems.PROBLEMS`` (:meth:`qbench.registry.Registry.before_first_read`).
"""

from __future__ import annotations

import importlib.metadata
import sys
import types
import warnings

from .. import problems, solvers
from ..problems import Problem
from ..solvers import Solver
from .loading import _file_and_sha, _module_version
from .records import Plugin, PluginError, PluginWarning
from .snapshots import _added, _registries, _restore, _snapshot
from .state import _EP, _LOCK

#: The entry-point groups qbench reads, and the registry each one feeds.
ENTRY_POINT_GROUPS = {"qbench.solvers": "solver", "qbench.problems": "problem"}


def load_entry_points() -> tuple[Plugin, ...]:
    """Load the ``qbench.solvers`` and ``qbench.problems`` entry points, once per process.

    Returns the records of those that loaded. One that fails (import error, an
    object that is neither a module nor a class of its group, a name taken twice)
    is skipped, its registrations undone, and its message kept for
    :func:`entry_point_errors`; nothing is raised or warned here.
    """
    with _LOCK:
        if _EP.state != "unloaded":
            return _EP.plugins
        _EP.state = "loading"
        plugins: list[Plugin] = []
        errors: list[str] = []
        try:
            for group, kind in ENTRY_POINT_GROUPS.items():
                for entry in _entry_points(group):
                    try:
                        plugins.append(_load_entry_point(entry, group, kind))
                    except PluginError as exc:
                        errors.append(str(exc))
        finally:
            _EP.plugins, _EP.errors, _EP.state = tuple(plugins), tuple(errors), "loaded"
        return _EP.plugins


def _entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
    try:
        return list(importlib.metadata.entry_points(group=group))
    except Exception as exc:  # pragma: no cover - unreadable metadata
        warnings.warn(f"cannot read the {group} entry points: {exc}", PluginWarning, stacklevel=2)
        return []


def _load_entry_point(entry: importlib.metadata.EntryPoint, group: str, kind: str) -> Plugin:
    dist = getattr(entry, "dist", None)
    dist_name = getattr(dist, "name", None)
    dist_version = getattr(dist, "version", None)
    where = f"entry point {entry.name} = {entry.value} (group {group}" + (
        f", {dist_name} {dist_version})" if dist_name else ")"
    )
    before = _snapshot()
    try:
        obj = entry.load()
        if isinstance(obj, type):
            base = Solver if kind == "solver" else Problem
            if not issubclass(obj, base):
                raise TypeError(f"{obj.__qualname__} is not a {base.__name__} subclass")
            _register(kind, obj)
            module = sys.modules[obj.__module__]
        elif isinstance(obj, types.ModuleType):
            module = obj
        else:
            raise TypeError(f"it names {obj!r}, neither a module nor a class")
    except BaseException as exc:
        _restore(before)
        if not isinstance(exc, Exception):
            raise
        raise PluginError(f"{where} failed to load: {type(exc).__name__}: {exc}") from None
    added = _added(before)
    file, sha = _file_and_sha(module)
    return Plugin(
        "entry-point",
        "module",
        f"{entry.name} = {entry.value}",
        module.__name__,
        file,
        sha,
        dist_version or _module_version(module),
        distribution=dist_name,
        entry_point=f"{group}:{entry.name}",
        solvers=added["solver"],
        problems=added["problem"],
    )


def _register(kind: str, cls: type) -> None:
    (solvers.register if kind == "solver" else problems.register)(cls)


def entry_point_errors() -> tuple[str, ...]:
    """One message per entry point that failed to load (after :func:`load_entry_points`)."""
    load_entry_points()
    return _EP.errors


def check_entry_points() -> tuple[Plugin, ...]:
    """The entry-point plugins, or :class:`PluginError` naming every one that failed to load."""
    plugins = load_entry_points()
    if _EP.errors:
        raise PluginError(f"{'; '.join(_EP.errors)} (fix or uninstall the package that provides it)")
    return plugins


def reset_entry_points() -> None:
    """Forget the loaded entry points and unregister what they added, so the next lookup loads them again.

    For tests that install and remove distributions; their modules are dropped from
    ``sys.modules`` so that they are imported afresh.
    """
    with _LOCK:
        registries = _registries()
        for plugin in _EP.plugins:
            for kind, names in (("solver", plugin.solvers), ("problem", plugin.problems)):
                for name in names:
                    dict.pop(registries[kind], name, None)
            sys.modules.pop(plugin.module, None)
        _EP.plugins, _EP.errors, _EP.state = (), (), "unloaded"
        for registry in registries.values():
            registry.rearm()


def _lazy_entry_points() -> None:
    """The registries' first-read hook: load the entry points, and warn about each that failed."""
    if _EP.state != "unloaded":
        return
    load_entry_points()
    for message in _EP.errors:
        # stacklevel: the caller of the registry's read method (this hook, Registry._ready, the read)
        warnings.warn(f"{message}; it is skipped", PluginWarning, stacklevel=4)


def _entry_point_errors_now() -> tuple[str, ...]:
    """What "unknown solver/problem" errors add: the entry points that failed to load (they may hold it)."""
    return _EP.errors


for _registry in _registries().values():
    _registry.before_first_read(_lazy_entry_points)
    _registry.explain_unknown(_entry_point_errors_now)

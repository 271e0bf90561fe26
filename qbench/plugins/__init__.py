"""Plugins: your own solvers and problems, loaded in this process and in every worker.

A plugin is Python code that registers solvers and/or problems
(:func:`qbench.solvers.register`, :func:`qbench.problems.register`) when it is
imported. It comes in one of three ways:

``--plugin SPEC`` (``qbench run``, ``run --resume``, ``list``, ``reproduce``, ``report``; repeatable)
    ``SPEC`` is the path of a single ``.py`` file (a spec that ends in ``.py``
    or contains a path separator), or the name of an importable module
    (``mypkg.qbench_plugin``: installed, or on ``PYTHONPATH``).
``plugins = [...]`` at the top of a suite TOML file
    The same specs; a relative path is relative to the suite file's folder.
Entry points of installed distributions, groups ``qbench.solvers`` and ``qbench.problems``
    An entry point names either a ``Solver`` (group ``qbench.solvers``) or
    ``Problem`` (group ``qbench.problems``) subclass, which qbench registers
    (``dense-fd = mypkg.solvers:DenseFD``), or a module, which registers its
    classes when imported (``mypkg = mypkg.qbench_plugin``, in either group).
    The entry point's own name is a label only. Entry points are loaded
    automatically, once per process, at the first lookup in either registry
    (``get``, ``available``, ``METHODS``/``PROBLEMS``, ...), from Python as
    from the command line.

A single-file plugin is executed from its text under the module name
``qbench_plugin_<stem>_<8 hex digits of its path's sha256>`` (kept in
``sys.modules``, so its classes pickle); that text travels with every case to
worker processes and Dask workers, which need no shared disk. A module plugin
is imported by name everywhere, so it must be installed on Dask workers.

Every loaded plugin is described by a :class:`Plugin` record: how it came, its
module, file, the sha256 of that file and its version. ``provenance.json``
lists them; ``qbench reproduce`` and ``qbench run --resume`` load the recorded
ones again and refuse a file whose sha256 changed (``--allow-changed-plugins``).

Errors are :class:`PluginError` (a ``ValueError``; the command line exits 2):
a plugin that cannot be read or raises on import, a name taken twice. A broken
entry point does not stop the registries: it is skipped with a
:class:`PluginWarning`, named in the "unknown solver/problem" error, and the
command line refuses to run until it is fixed or uninstalled.
"""

from __future__ import annotations

from ..registry import Registry, check_name_free, unknown_name_error
from .entry_points import (
    ENTRY_POINT_GROUPS,
    check_entry_points,
    entry_point_errors,
    load_entry_points,
    reset_entry_points,
)
from .inventory import loaded, provider
from .loading import file_module_name, is_file_spec, load, load_all
from .recorded import load_recorded
from .records import ORIGINS, Plugin, PluginChangedError, PluginError, PluginWarning, combine
from .snapshots import _registries as _registries
from .state import _ENSURED as _ENSURED
from .state import _EP as _EP
from .state import _LOADED as _LOADED
from .state import _LOCK as _LOCK
from .workers import ensure_loaded, run_with_plugins, worker_setup

__all__ = [
    "ENTRY_POINT_GROUPS",
    "ORIGINS",
    "Plugin",
    "PluginChangedError",
    "PluginError",
    "PluginWarning",
    "Registry",
    "check_entry_points",
    "check_name_free",
    "combine",
    "ensure_loaded",
    "entry_point_errors",
    "file_module_name",
    "is_file_spec",
    "load",
    "load_all",
    "load_entry_points",
    "load_recorded",
    "loaded",
    "provider",
    "reset_entry_points",
    "run_with_plugins",
    "unknown_name_error",
    "worker_setup",
]

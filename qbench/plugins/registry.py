"""The lazy :class:`Registry` dict behind ``METHODS``/``PROBLEMS``, and the rules for the names in it."""

from __future__ import annotations

import sys
import warnings
from typing import Any

from .._validation import unknown_name_error as _unknown_name_error
from .entry_points import load_entry_points
from .records import FILE_MODULE_PREFIX, PluginWarning
from .state import _EP


class Registry(dict):
    """The name -> class dict of a registry, which loads the entry-point plugins before its first read.

    Writes (``register``, ``pop``, ``del``) never trigger loading.
    """

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def raw(self) -> dict[str, type]:
        """A plain copy of what is registered now, without loading anything."""
        return dict.copy(self)

    def __getitem__(self, key):
        _lazy_entry_points()
        return super().__getitem__(key)

    def __contains__(self, key):
        _lazy_entry_points()
        return super().__contains__(key)

    def __iter__(self):
        _lazy_entry_points()
        return super().__iter__()

    def __len__(self):
        _lazy_entry_points()
        return super().__len__()

    def get(self, key, default=None):
        _lazy_entry_points()
        return super().get(key, default)

    def keys(self):
        _lazy_entry_points()
        return super().keys()

    def values(self):
        _lazy_entry_points()
        return super().values()

    def items(self):
        _lazy_entry_points()
        return super().items()


def _lazy_entry_points() -> None:
    if _EP.state != "unloaded":
        return
    load_entry_points()
    for message in _EP.errors:
        warnings.warn(f"{message}; it is skipped", PluginWarning, stacklevel=3)


# -- the registries' rules -----------------------------------------------------------------------------
def class_name(cls: type) -> str:
    """``module.Qualname`` of a class, with the file of a single-file plugin."""
    where = f"{cls.__module__}.{cls.__qualname__}"
    module = sys.modules.get(cls.__module__)
    if cls.__module__.startswith(FILE_MODULE_PREFIX) and getattr(module, "__file__", None):
        where += f" (from {module.__file__})"
    return where


def check_name_free(kind: str, registry: dict[str, type], cls: type) -> None:
    """Raise ``ValueError`` if ``cls.name`` is registered to a different class.

    The same class, or one with the same ``__module__`` and ``__qualname__`` (the
    same plugin executed again), may register again and replaces the old one.
    """
    existing = dict.get(registry, cls.name)
    if existing is None or existing is cls:
        return
    if (existing.__module__, existing.__qualname__) == (cls.__module__, cls.__qualname__):
        return
    raise ValueError(
        f"{kind} name {cls.name!r} is taken: {class_name(existing)} is registered under it, "
        f"so {class_name(cls)} cannot be"
    )


def unknown_name_error(kind: str, name: Any, registry: dict[str, type]) -> ValueError:
    """The "unknown solver/problem" error, naming entry points that failed to load (they may hold it)."""
    error = _unknown_name_error(kind, name, dict.keys(registry))
    if _EP.errors:
        return ValueError(f"{error}; note: {'; '.join(_EP.errors)}")
    return error

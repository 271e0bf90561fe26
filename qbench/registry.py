"""Name -> class registries: the dict behind ``qbench.solvers.METHODS`` and ``qbench.problems.PROBLEMS``.

A :class:`Registry` is a ``dict`` with two kinds of laziness:

* a hook, installed by a layer above (:mod:`qbench.plugins` loads the installed
  entry points with it), that runs before the registry's first read;
* lazy entries, ``"module:Qualname"`` strings (:class:`LazyEntry`) that are
  imported when their key is first looked up, so listing the names of the
  registered classes imports none of their modules.

This module knows nothing of solvers, problems or plugins: ``qbench.solvers``
and ``qbench.problems`` build their registries from it, and the plugin system
sits above both.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from typing import Any

from ._validation import unknown_name_error as _unknown_name_error

_MISSING = object()


class LazyEntry:
    """A registry entry given as ``"module:Qualname"``, imported on first access.

    Parameters
    ----------
    target
        The module to import and the class's (possibly dotted) qualified name in it,
        separated by a colon, as in entry points: ``"qbench.solvers.fd:FiniteDifference"``.

    Attributes
    ----------
    target, module, qualname
        As given, and its two halves.
    """

    __slots__ = ("_cls", "module", "qualname", "target")

    def __init__(self, target: str) -> None:
        module, sep, qualname = target.partition(":") if isinstance(target, str) else ("", "", "")
        if not (sep and module and qualname):
            raise ValueError(f"a lazy registry entry must be 'module:Qualname', got {target!r}")
        self.target, self.module, self.qualname = target, module, qualname
        self._cls: type | None = None

    @property
    def loaded(self) -> type | None:
        """The class once :meth:`load` has imported it, else ``None``."""
        return self._cls

    def load(self, check: Callable[[type], None] | None = None) -> type:
        """Import the module and return the class, cached once ``check(cls)`` (if given) has passed.

        Raises
        ------
        ImportError
            The module does not import, or the name in it is not a class.
        Exception
            Whatever ``check`` raises; nothing is cached then, so the next call checks again.
        """
        if self._cls is None:
            obj: Any = importlib.import_module(self.module)
            for attribute in self.qualname.split("."):
                obj = getattr(obj, attribute)
            if not isinstance(obj, type):
                raise ImportError(f"{self.target} is {obj!r}, not a class")
            if check is not None:
                check(obj)
            self._cls = obj
        return self._cls

    def __repr__(self) -> str:
        return f"LazyEntry({self.target!r})"


class Registry(dict):
    """A name -> class dict whose reads run a first-read hook and import lazy entries.

    Parameters
    ----------
    kind
        What it holds, singular (``"solver"``), for messages.
    check
        Called with every class a lazy entry imports, before it is returned; raises
        (``TypeError``) for a class the registry must not hold. ``register`` functions
        call the same check on the classes they are given.

    Notes
    -----
    Reads (``[]``, ``get``, ``in``, iteration, ``len``, ``keys``, ``values``,
    ``items``) run the first-read hook (:meth:`before_first_read`) if one is armed.
    ``[]``, ``get``, ``values`` and ``items`` give classes, importing lazy entries
    as needed; ``in``, ``keys`` and iteration never import. Writes (``[]=``,
    ``pop``, ``del``) and :meth:`raw` trigger nothing.
    """

    def __init__(self, kind: str, check: Callable[[type], None] | None = None) -> None:
        super().__init__()
        self.kind = kind
        self._check = check
        self._hook: Callable[[], None] | None = None
        self._armed = False
        self._notes: Callable[[], tuple[str, ...]] | None = None

    # -- hooks set by the layers above ------------------------------------------------------------
    def before_first_read(self, hook: Callable[[], None]) -> None:
        """Run ``hook()`` once, before the next read of this registry (the hook may read it).

        :meth:`rearm` runs it again before the read after that. Two threads that make
        the first read together may both run it, so it must be idempotent and
        thread-safe itself (a lock here could deadlock against the hook's own).
        """
        self._hook, self._armed = hook, True

    def rearm(self) -> None:
        """Run the installed first-read hook again before the next read (none installed: nothing)."""
        self._armed = self._hook is not None

    def explain_unknown(self, notes: Callable[[], tuple[str, ...]]) -> None:
        """Have :func:`unknown_name_error` append ``notes()`` (say, entry points that failed to load)."""
        self._notes = notes

    def notes(self) -> tuple[str, ...]:
        """What :func:`unknown_name_error` adds to its message for this registry."""
        return self._notes() if self._notes is not None else ()

    # -- lazy entries ----------------------------------------------------------------------------
    def add_lazy(self, name: str, target: str) -> None:
        """Register ``target`` (``"module:Qualname"``) under ``name``, imported on the first lookup.

        Raises ``ValueError`` if another class or target holds ``name``.
        """
        entry = LazyEntry(target)
        existing = dict.get(self, name)
        if existing is not None and (module_of(existing), qualname_of(existing)) != (
            entry.module,
            entry.qualname,
        ):
            raise ValueError(f"{self.kind} name {name!r} is taken by {class_name(existing)}")
        dict.__setitem__(self, name, entry)

    def raw(self) -> dict[str, Any]:
        """A plain copy of what is registered now, without loading anything.

        Values are classes, or :class:`LazyEntry` for lazy entries (the same object
        before and after it is imported).
        """
        # Not dict.copy(self): on a subclass that overrides __iter__, it reads every value
        # through __getitem__, which would import the lazy entries.
        return dict(dict.items(self))

    def _resolve(self, name: str, value: Any) -> type:
        if not isinstance(value, LazyEntry):
            return value
        if value.loaded is not None:
            return value.loaded

        def check(cls: type) -> None:
            if getattr(cls, "name", None) != name:
                found = getattr(cls, "name", None)
                raise ImportError(f"{value.target} is named {found!r}, but registered as {name!r}")
            if self._check is not None:
                self._check(cls)

        return value.load(check)

    # -- reads -----------------------------------------------------------------------------------
    def _ready(self) -> None:
        if self._armed and self._hook is not None:
            self._armed = False  # before the call: the hook may read this registry
            self._hook()

    def __getitem__(self, key: str) -> type:
        self._ready()
        return self._resolve(key, super().__getitem__(key))

    def __contains__(self, key: object) -> bool:
        self._ready()
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self._ready()
        return super().__iter__()

    def __len__(self) -> int:
        self._ready()
        return super().__len__()

    def get(self, key: str, default: Any = None) -> Any:
        """The class registered under ``key`` (a lazy entry imported), else ``default``."""
        self._ready()
        value = super().get(key, _MISSING)
        return default if value is _MISSING else self._resolve(key, value)

    def keys(self):  # type: ignore[override]
        self._ready()
        return super().keys()

    def values(self) -> list[type]:  # type: ignore[override]
        """Every registered class, in registration order (every lazy entry imported)."""
        self._ready()
        return [self._resolve(k, v) for k, v in super().items()]

    def items(self) -> list[tuple[str, type]]:  # type: ignore[override]
        """``(name, class)`` pairs, in registration order (every lazy entry imported)."""
        self._ready()
        return [(k, self._resolve(k, v)) for k, v in super().items()]


def module_of(value: Any) -> str:
    """The module a registered value comes from: a class's ``__module__``, a lazy entry's module."""
    return value.module if isinstance(value, LazyEntry) else value.__module__


def qualname_of(value: Any) -> str:
    """A registered class's ``__qualname__``, or the qualified name a lazy entry gives."""
    return value.qualname if isinstance(value, LazyEntry) else value.__qualname__


def class_name(cls: type | LazyEntry) -> str:
    """``module.Qualname`` of a registered class (or lazy entry), with the file of a plugin run from one.

    A module with a file but no loader was executed from that file's text (a
    single-file plugin, :mod:`qbench.plugins`): its name alone does not say where it is.
    """
    where = f"{module_of(cls)}.{qualname_of(cls)}"
    module = sys.modules.get(module_of(cls))
    spec = getattr(module, "__spec__", None)
    if getattr(module, "__file__", None) and spec is not None and spec.loader is None:
        where += f" (from {module.__file__})"
    return where


def check_name_free(kind: str, registry: dict[str, Any], cls: type) -> None:
    """Raise ``ValueError`` if ``cls.name`` is registered to a different class.

    The same class, or one with the same ``__module__`` and ``__qualname__`` (the
    same plugin executed again, or the class a lazy entry names), may register
    again and replaces the old one.
    """
    existing = dict.get(registry, cls.name)
    if existing is None or existing is cls:
        return
    if (module_of(existing), qualname_of(existing)) == (cls.__module__, cls.__qualname__):
        return
    raise ValueError(
        f"{kind} name {cls.name!r} is taken: {class_name(existing)} is registered under it, "
        f"so {class_name(cls)} cannot be"
    )


def unknown_name_error(kind: str, name: Any, registry: dict[str, Any]) -> ValueError:
    """The "unknown solver/problem" error, listing the names, and the registry's :meth:`~Registry.notes`."""
    error = _unknown_name_error(kind, name, dict.keys(registry))
    notes = registry.notes() if isinstance(registry, Registry) else ()
    if notes:
        return ValueError(f"{error}; note: {'; '.join(notes)}")
    return error


__all__ = [
    "LazyEntry",
    "Registry",
    "check_name_free",
    "class_name",
    "module_of",
    "qualname_of",
    "unknown_name_error",
]

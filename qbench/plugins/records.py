"""The :class:`Plugin` record of a loaded plugin, the plugin errors and warning, and their constants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: How a plugin came: ``--plugin``, a suite's ``plugins`` key, or an installed entry point.
ORIGINS = ("cli", "suite", "entry-point")
#: Prefix of the module names single-file plugins are executed under.
FILE_MODULE_PREFIX = "qbench_plugin_"


class PluginError(ValueError):
    """A plugin that cannot be loaded, or that clashes with what is registered; the message names it."""


class PluginChangedError(PluginError):
    """A recorded plugin whose file is no longer the one a run used (another sha256)."""


class PluginWarning(UserWarning):
    """An installed entry point that could not be loaded (it is skipped)."""


@dataclass(frozen=True)
class Plugin:
    """What qbench knows about one loaded plugin; ``to_dict()`` is what ``provenance.json`` records.

    Attributes
    ----------
    origin
        ``"cli"`` (``--plugin``), ``"suite"`` (a suite's ``plugins``) or ``"entry-point"``.
    kind
        ``"file"`` (a single ``.py`` file, executed from its text) or ``"module"`` (imported by name).
    spec
        As given: the path or module name, or ``name = value`` of an entry point.
    module
        The module name it is loaded under.
    file
        Absolute path of the file it was read from (a package's ``__init__.py``); ``None`` if none.
    sha256
        Hex sha256 of that file's bytes; ``None`` without a file.
    version
        The installed distribution's version, else the module's ``__version__``, else ``None``.
    distribution
        Name of the installed distribution that provides it, if any.
    entry_point
        ``group:name`` of an entry-point plugin.
    solvers, problems
        The registry names it added when it loaded.
    source
        The text of a single-file plugin (shipped to workers; not recorded).
    """

    origin: str
    kind: str
    spec: str
    module: str
    file: str | None = None
    sha256: str | None = None
    version: str | None = None
    distribution: str | None = None
    entry_point: str | None = None
    solvers: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    source: str | None = field(default=None, repr=False, compare=False)

    @property
    def label(self) -> str:
        """Short name for messages and ``qbench list``: the file name, module, or entry point."""
        if self.entry_point is not None:
            dist = f" of {self.distribution} {self.version}" if self.distribution else ""
            return f"entry point {self.entry_point}{dist}"
        if self.kind == "file" and self.file:
            return Path(self.file).name
        return self.module

    def to_dict(self) -> dict[str, Any]:
        """The provenance record (everything but the source text)."""
        return {
            "origin": self.origin,
            "kind": self.kind,
            "spec": self.spec,
            "module": self.module,
            "file": self.file,
            "sha256": self.sha256,
            "version": self.version,
            "distribution": self.distribution,
            "entry_point": self.entry_point,
            "solvers": list(self.solvers),
            "problems": list(self.problems),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plugin:
        """A record read back from ``provenance.json``."""
        known = {k: data.get(k) for k in cls.__dataclass_fields__ if k in data and k != "source"}
        known["solvers"] = tuple(known.get("solvers") or ())
        known["problems"] = tuple(known.get("problems") or ())
        try:
            return cls(**known)
        except TypeError as exc:
            raise PluginError(f"malformed plugin record {data!r}: {exc}") from None


def combine(*groups: Iterable[Plugin]) -> tuple[Plugin, ...]:
    """The plugins of ``groups`` in order, each module once (the first record wins)."""
    seen: dict[str, Plugin] = {}
    for group in groups:
        for plugin in group:
            seen.setdefault(plugin.module, plugin)
    return tuple(seen.values())

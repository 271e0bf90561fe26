"""Loading a plugin given by spec: a single ``.py`` file executed from its text, or a module by name."""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.metadata
import re
import sys
import types
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from ..registry import module_of
from .records import FILE_MODULE_PREFIX, ORIGINS, Plugin, PluginError, combine
from .snapshots import _added, _registries, _restore, _snapshot
from .state import _LOADED, _LOCK

_MODULE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def is_file_spec(spec: str) -> bool:
    """Whether a plugin spec is a file path (ends in ``.py`` or has a path separator), not a module name."""
    return spec.endswith(".py") or "/" in spec or "\\" in spec


def load(spec: str, origin: str = "cli", base: str | Path | None = None) -> Plugin:
    """Load a plugin (idempotent) and return its record.

    Parameters
    ----------
    spec
        Path of a ``.py`` file, or an importable module name.
    origin
        ``"cli"`` or ``"suite"``, recorded in provenance.
    base
        Folder a relative file path is relative to (a suite file's); default the working directory.

    Raises
    ------
    PluginError
        A missing module or file, an exception while importing (a syntax error included),
        or a solver or problem name already registered by another class; the registries
        are left as they were.
    """
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {', '.join(ORIGINS)}, got {origin!r}")
    if not isinstance(spec, str) or not spec.strip():
        raise PluginError(f"a plugin must be a module name or the path of a .py file, got {spec!r}")
    spec = spec.strip()
    if is_file_spec(spec):
        path = Path(spec).expanduser()
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        return _load_file(path.resolve(), origin, spec)
    if not _MODULE_NAME.match(spec):
        raise PluginError(f"plugin {spec!r} is neither a module name nor the path of a .py file")
    return _load_module(spec, origin, spec)


def load_all(specs: Iterable[str], origin: str = "cli", base: str | Path | None = None) -> tuple[Plugin, ...]:
    """:func:`load` each spec in order; the records without repeats."""
    return combine([load(spec, origin, base) for spec in specs])


def file_module_name(path: str | Path) -> str:
    """The module name a single-file plugin at ``path`` (absolute) is executed under."""
    stem = re.sub(r"\W", "_", Path(path).stem) or "plugin"
    return f"{FILE_MODULE_PREFIX}{stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"


def _read(path: Path, spec: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else f"{type(exc).__name__}: {exc}"
        raise PluginError(f"plugin {spec}: cannot read {path}: {reason}") from None


def _decode(data: bytes, spec: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PluginError(f"plugin {spec} is not UTF-8 text: {exc}") from None


def _load_file(path: Path, origin: str, spec: str, source: str | None = None, module: str | None = None):
    with _LOCK:
        text = _decode(_read(path, spec), spec) if source is None else source
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        name = module or file_module_name(path)
        cached = _LOADED.get(name)
        if cached is not None and cached.sha256 == sha and name in sys.modules:
            return replace(cached, origin=origin, spec=spec)
        loaded = types.ModuleType(name)
        loaded.__file__ = str(path)
        loaded.__spec__ = importlib.machinery.ModuleSpec(name, None, origin=str(path))
        before, previous = _snapshot(), sys.modules.get(name)
        sys.modules[name] = loaded  # before executing: dataclasses and pickle look the module up
        try:
            code = compile(text.removeprefix("\ufeff"), str(path), "exec")
            exec(code, loaded.__dict__)
        except BaseException as exc:
            _restore(before)
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
            if not isinstance(exc, Exception):
                raise
            raise PluginError(f"plugin {spec} failed to load: {type(exc).__name__}: {exc}") from None
        added = _added(before)
        record = Plugin(
            origin,
            "file",
            spec,
            name,
            str(path),
            sha,
            _module_version(loaded),
            solvers=added["solver"],
            problems=added["problem"],
            source=text,
        )
        _LOADED[name] = record
        return record


def _load_module(name: str, origin: str, spec: str) -> Plugin:
    with _LOCK:
        cached = _LOADED.get(name)
        if cached is not None and name in sys.modules:
            return replace(cached, origin=origin, spec=spec)
        already = name in sys.modules
        before = _snapshot()
        try:
            module = importlib.import_module(name)
        except BaseException as exc:
            _restore(before)
            if not isinstance(exc, Exception):
                raise
            raise PluginError(f"plugin {spec} failed to import: {type(exc).__name__}: {exc}") from None
        if already:  # imported before qbench was asked: find what it registered by where it lives
            added = {
                kind: tuple(
                    sorted(
                        n
                        for n, c in registry.raw().items()
                        if module_of(c) == name or module_of(c).startswith(name + ".")
                    )
                )
                for kind, registry in _registries().items()
            }
        else:
            added = _added(before)
        file, sha = _file_and_sha(module)
        distribution, version = _distribution_of(name)
        record = Plugin(
            origin,
            "module",
            spec,
            name,
            file,
            sha,
            version or _module_version(module),
            distribution=distribution,
            solvers=added["solver"],
            problems=added["problem"],
        )
        _LOADED[name] = record
        return record


def _file_and_sha(module: types.ModuleType) -> tuple[str | None, str | None]:
    file = getattr(module, "__file__", None)
    if not file or not Path(file).is_file():
        return None, None
    return str(Path(file).resolve()), hashlib.sha256(Path(file).read_bytes()).hexdigest()


def _module_version(module: types.ModuleType) -> str | None:
    value = getattr(module, "__version__", None)
    return None if value is None else str(value)


def _distribution_of(module_name: str) -> tuple[str | None, str | None]:
    """The installed distribution providing ``module_name``'s top-level package, and its version."""
    top = module_name.split(".")[0]
    try:
        names = importlib.metadata.packages_distributions().get(top) or []
        if names:
            return names[0], importlib.metadata.version(names[0])
    except Exception:  # broken metadata of some other distribution must not stop a plugin
        pass
    return None, None

"""Loading again the plugins a run recorded (``reproduce``, ``run --resume``), checking their sha256."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .entry_points import check_entry_points
from .loading import _load_file, _load_module, _read
from .records import Plugin, PluginChangedError, PluginError, combine


def load_recorded(
    records: Sequence[dict[str, Any]],
    *,
    allow_changed: bool = False,
    given: Sequence[Plugin] = (),
    run: str = "the run",
) -> tuple[Plugin, ...]:
    """Load the plugins a run recorded (``provenance["plugins"]``) and return their records now.

    A single-file plugin is read from its recorded path, or from a ``given``
    file plugin with the same file name (a moved file). Its sha256 is checked
    before anything executes.

    Raises
    ------
    PluginChangedError
        A plugin whose file now has another sha256, unless ``allow_changed``.
    PluginError
        A recorded file that is gone, a module or entry point that is not
        installed or fails to load.
    """
    loaded_now: list[Plugin] = []
    given_files = {Path(p.file).name: p for p in given if p.kind == "file" and p.file}
    for data in records:
        recorded = Plugin.from_dict(data)
        if recorded.origin == "entry-point":
            current = next((p for p in check_entry_points() if p.entry_point == recorded.entry_point), None)
            if current is None:
                raise PluginError(
                    f"{recorded.label}, used by {run}, is not installed here "
                    f"(install {recorded.distribution or recorded.module} to reproduce it)"
                )
        elif recorded.kind == "file":
            substitute = given_files.get(Path(recorded.file or recorded.spec).name)
            path = Path(substitute.file if substitute else recorded.file or recorded.spec)
            if not path.is_file():
                raise PluginError(
                    f"plugin file {path}, used by {run}, is missing; give its new path with --plugin"
                )
            sha = hashlib.sha256(_read(path, recorded.spec)).hexdigest()
            _check_same(recorded, sha, path, allow_changed, run)
            current = substitute or _load_file(path, recorded.origin, recorded.spec)
        else:
            found = _module_file(recorded.module)
            if found is not None:  # checked before importing, where the module has a file
                sha = hashlib.sha256(found.read_bytes()).hexdigest()
                _check_same(recorded, sha, found, allow_changed, run)
            current = _load_module(recorded.module, recorded.origin, recorded.spec)
        _check_same(recorded, current.sha256, current.file, allow_changed, run)
        loaded_now.append(replace(current, origin=recorded.origin))
    return combine(loaded_now, given)


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None) if spec is not None else None
    return Path(origin) if origin and Path(origin).is_file() else None


def _check_same(recorded: Plugin, sha: str | None, where: Any, allow_changed: bool, run: str) -> None:
    if allow_changed or recorded.sha256 is None or sha == recorded.sha256:
        return
    raise PluginChangedError(
        f"plugin {recorded.label} changed since {run}: its sha256 was {recorded.sha256[:12]}..., "
        f"{where} now has {str(sha)[:12]}...; restore it, or pass --allow-changed-plugins to use it anyway"
    )

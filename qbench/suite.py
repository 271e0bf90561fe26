"""Suites: named sets of cases, defined in TOML.

A suite file has top-level defaults and one or more ``[[block]]`` tables; each
block is the cross product of its problems, its solvers (with option sweeps)
and its seeds::

    description = "what this suite is for"
    plugins = ["my_plugin.py", "mypkg.qbench_plugin"]  # optional: files (relative to this file) or modules
    n_states = 3          # default of every block
    seeds = [0]           # a list, or "a-b" (inclusive); only solvers with a seed option use it
    timeout_s = 120       # per case
    tolerance = 1e-2      # relative tolerance of the status ok (certified to it)

    [[block]]
    problems = ["infinite_well", { name = "finite_well", params = { V0 = 50.0 } }]
    solvers = ["fd", { name = "pinn", options = { adam_steps = 300 } },
               { name = "shooting", sweep = { tol = [1e-6, 1e-10] } }]
    seeds = "0-9"         # optional per-block overrides of the defaults above

The suites shipped with qbench live in ``qbench/suites/``; any other TOML file
is used by path. The suite's ``plugins`` (see :mod:`qbench.plugins`) are loaded
first; then every case is validated (built) when the suite loads, so a typo
fails before any work starts.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from . import plugins as _plugins
from . import solvers
from .cases import DEFAULT_TIMEOUT_S, DEFAULT_TOLERANCE, Case, solver_takes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

DEFAULT_SUITE = "quick"
_SETTINGS = ("n_states", "seeds", "timeout_s", "tolerance")
_TOP_KEYS = {"description", "plugins", "block", *_SETTINGS}
_BLOCK_KEYS = {"problems", "solvers", *_SETTINGS}


class SuiteError(ValueError):
    """A suite that cannot be loaded: the message names the file and the entry."""


@dataclass(frozen=True)
class Suite:
    """A loaded suite: its name, where it came from, its validated cases in order, and the plugins
    its ``plugins`` key loaded (:class:`qbench.plugins.Plugin` records)."""

    name: str
    source: str
    description: str
    cases: tuple[Case, ...]
    plugins: tuple[_plugins.Plugin, ...] = ()


def available() -> list[str]:
    """Names of the suites shipped with qbench, sorted."""
    folder = resources.files("qbench") / "suites"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def parse_seeds(value: Any, where: str = "seeds") -> list[int]:
    """``[0, 3]`` -> [0, 3]; ``"0-9"`` -> 0 .. 9 inclusive; ``4`` -> [4]."""
    if isinstance(value, bool):
        raise SuiteError(f"{where} must be a list of integers or 'a-b', got {value!r}")
    if isinstance(value, int):
        value = [value]
    if isinstance(value, str):
        first, sep, last = value.partition("-")
        if not (sep and first.strip().isdigit() and last.strip().isdigit()) or int(first) > int(last):
            raise SuiteError(f"{where} must be a list of integers or 'a-b' with a <= b, got {value!r}")
        return list(range(int(first), int(last) + 1))
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)
    ):
        raise SuiteError(f"{where} must be a non-empty list of integers >= 0 or 'a-b', got {value!r}")
    return list(value)


def load(
    name_or_path: str | Path,
    overrides: dict[str, Any] | None = None,
    families: tuple[str, ...] | None = None,
) -> Suite:
    """Load a shipped suite by name, or any suite file by path.

    ``overrides`` replaces settings of every block: ``n_states``, ``seeds``,
    ``timeout_s``, and ``solver_options`` (a dict applied to each solver that
    has the option, e.g. ``{"device": "cuda"}``). ``families`` keeps only the
    solvers of those families (``qbench.solvers.FAMILIES``); the others are
    neither built nor validated.

    Raises
    ------
    SuiteError
        Unknown name, unreadable or malformed TOML, unknown keys, a plugin that
        does not load, or a case that does not validate; the message says which.
    """
    text, source, name = _read(name_or_path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"suite {source}: malformed TOML: {exc}") from None
    if str(name_or_path) in available():
        base = str(resources.files("qbench") / "suites")
    else:
        base = str(Path(source).expanduser().resolve().parent)
    return from_dict(data, name=name, source=source, overrides=overrides, families=families, base=base)


def from_dict(
    data: dict[str, Any],
    name: str,
    source: str = "<dict>",
    overrides: dict[str, Any] | None = None,
    families: tuple[str, ...] | None = None,
    base: str | Path | None = None,
) -> Suite:
    """Build a suite from parsed TOML (see the module docstring for the layout) and ``overrides``,
    keeping only the solvers of ``families`` when given. Its ``plugins`` are loaded first, a
    relative path relative to ``base`` (the suite file's folder; default the working directory)."""
    if families is not None:
        unknown = sorted(set(families) - set(solvers.FAMILIES))
        if unknown:
            raise SuiteError(f"unknown family {', '.join(unknown)}; allowed: {', '.join(solvers.FAMILIES)}")
    _check_keys(data, _TOP_KEYS, f"suite {source}")
    loaded = _load_plugins(data.get("plugins", []), source, base)
    blocks = data.get("block")
    if not isinstance(blocks, list) or not blocks:
        raise SuiteError(f"suite {source}: needs at least one [[block]] table")
    overrides = dict(overrides or {})
    forced_options = overrides.pop("solver_options", {})
    unknown = sorted(set(overrides) - set(_SETTINGS))
    if unknown:
        raise SuiteError(f"unknown suite override(s): {', '.join(unknown)}")
    defaults = {k: data[k] for k in _SETTINGS if k in data}
    blocks = [{**block, **overrides} if isinstance(block, dict) else block for block in blocks]
    cases: list[Case] = []
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"suite {source}, block {index + 1}"
        for case in _expand_block(block, defaults, where, forced_options, families):
            if case.case_id not in seen:  # two blocks naming the same computation run it once
                seen.add(case.case_id)
                cases.append(case)
    if families is not None and not cases:
        raise SuiteError(f"suite {source} has no solver of family {', '.join(families)}")
    return Suite(name, source, str(data.get("description", "")), tuple(cases), loaded)


def _load_plugins(specs: Any, source: str, base: str | Path | None) -> tuple[_plugins.Plugin, ...]:
    """The suite's ``plugins`` key: a list of file paths and module names, loaded in order."""
    if not isinstance(specs, list) or not all(isinstance(s, str) and s.strip() for s in specs):
        raise SuiteError(
            f"suite {source}: plugins must be a list of .py file paths and module names, got {specs!r}"
        )
    try:
        return _plugins.load_all(specs, origin="suite", base=base)
    except _plugins.PluginError as exc:
        raise SuiteError(f"suite {source}: {exc}") from None


def cross_product(
    problem_specs: list[Any],
    solver_specs: list[Any],
    *,
    name: str = "custom",
    overrides: dict[str, Any] | None = None,
    families: tuple[str, ...] | None = None,
) -> Suite:
    """A one-block suite from problem and solver entries (strings or tables, as in a suite file)."""
    block = {"problems": problem_specs, "solvers": solver_specs}
    return from_dict(
        {"block": [block]}, name=name, source="command line", overrides=overrides, families=families
    )


def block_entries(name: str, key: str) -> list[Any]:
    """The ``problems`` or ``solvers`` entries of every block of a shipped suite, without repeats."""
    text, _, _ = _read(name)
    entries: list[Any] = []
    for block in tomllib.loads(text).get("block", []):
        entries.extend(e for e in block.get(key, []) if e not in entries)
    return entries


def _read(name_or_path: str | Path) -> tuple[str, str, str]:
    path = Path(name_or_path)
    if str(name_or_path) in available():
        shipped = resources.files("qbench") / "suites" / f"{name_or_path}.toml"
        return shipped.read_text(encoding="utf-8"), str(name_or_path), str(name_or_path)
    if path.suffix == ".toml" or path.exists():
        try:
            return path.read_text(encoding="utf-8"), str(path), path.stem
        except (OSError, UnicodeDecodeError) as exc:
            raise SuiteError(f"suite {path}: cannot read: {exc}") from None
    raise SuiteError(
        f"unknown suite {str(name_or_path)!r}; available: {', '.join(available())}, or a path to a .toml file"
    )


def _check_keys(table: Any, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise SuiteError(f"{where}: expected a table, got {table!r}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SuiteError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _entry(spec: Any, field: str, where: str) -> tuple[str, dict[str, Any], dict[str, list[Any]]]:
    """A problem or solver entry: ``"name"`` or ``{name, params|options, sweep}``."""
    if isinstance(spec, str):
        return spec, {}, {}
    _check_keys(spec, {"name", field, "sweep"}, where)
    if not isinstance(spec.get("name"), str):
        raise SuiteError(f"{where}: entry {spec!r} needs a string 'name'")
    fixed = spec.get(field, {})
    sweep = spec.get("sweep", {})
    if not isinstance(fixed, dict):
        raise SuiteError(f"{where}: {field} of {spec['name']} must be a table, got {fixed!r}")
    if not isinstance(sweep, dict) or not all(isinstance(v, list) and v for v in sweep.values()):
        raise SuiteError(f"{where}: sweep of {spec['name']} must map names to non-empty lists")
    return spec["name"], dict(fixed), dict(sweep)


def _combinations(fixed: dict[str, Any], sweep: dict[str, list[Any]]) -> list[dict[str, Any]]:
    keys = list(sweep)
    return [{**fixed, **dict(zip(keys, values))} for values in itertools.product(*sweep.values())]


def _expand_block(
    block: Any,
    defaults: dict[str, Any],
    where: str,
    forced_options: dict[str, Any],
    families: tuple[str, ...] | None = None,
) -> list[Case]:
    _check_keys(block, _BLOCK_KEYS, where)
    settings = {**defaults, **{k: block[k] for k in _SETTINGS if k in block}}
    seeds = parse_seeds(settings.get("seeds", [0]), f"{where}: seeds")
    for key in ("problems", "solvers"):
        if not isinstance(block.get(key), list) or not block[key]:
            raise SuiteError(f"{where}: '{key}' must be a non-empty list")
    problem_entries = [_entry(spec, "params", where) for spec in block["problems"]]
    solver_entries = [_entry(spec, "options", where) for spec in block["solvers"]]
    if families is not None:
        for solver_name, _, _ in solver_entries:
            if solver_name not in solvers.METHODS:  # a typo fails whatever the filter
                error = _plugins.unknown_name_error("solver", solver_name, solvers.METHODS)
                raise SuiteError(f"{where}: {error}")
        solver_entries = [e for e in solver_entries if solvers.family(e[0]) in families]
        if not solver_entries:
            return []
    cases = []
    try:
        for problem_name, params, params_sweep in problem_entries:
            for problem_params in _combinations(params, params_sweep):
                for solver_name, options, options_sweep in solver_entries:
                    forced = {
                        k: v
                        for k, v in forced_options.items()
                        if solver_name in solvers.METHODS and solver_takes(solver_name, k)
                    }
                    for solver_options in _combinations({**options, **forced}, options_sweep):
                        cases.extend(
                            _seeded_cases(
                                problem_name, problem_params, solver_name, solver_options, seeds, settings
                            )
                        )
    except ValueError as exc:
        raise SuiteError(f"{where}: {exc}") from None
    return cases


def _seeded_cases(problem, params, solver, options, seeds, settings) -> list[Case]:
    if solver not in solvers.METHODS:
        solvers.get(solver)  # raises the "unknown solver ...; available: ..." error
    common = dict(
        n_states=settings.get("n_states", 3),
        timeout_s=settings.get("timeout_s", DEFAULT_TIMEOUT_S),
        tolerance=settings.get("tolerance", DEFAULT_TOLERANCE),
    )
    if not solver_takes(solver, "seed") or "seed" in options:
        return [Case.resolve(problem, solver, params, options, **common)]
    return [Case.resolve(problem, solver, params, options, seed=seed, **common) for seed in seeds]

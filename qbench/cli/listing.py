"""``qbench list``: problems with parameters, solvers with options, suites, plugins."""

from __future__ import annotations

import argparse
import inspect

from .. import plugins, problems, solvers, suite
from .run import add_plugin_argument


def add_parsers(commands) -> None:
    parser = commands.add_parser(
        "list",
        help="list problems (with parameters), solvers (with options), suites and plugins",
        description="List the registered problems with their dimension, parameters and defaults, the "
        "solvers with their family, the dimensions they take, their options and defaults, the shipped "
        "suites, and the loaded plugins (--plugin, installed entry points) with what each adds; a solver "
        "or problem a plugin added is marked (plugin: ...).",
    )
    add_plugin_argument(parser)
    parser.add_argument(
        "--family",
        action="append",
        metavar="NAME",
        help=f"list only the solvers of this family ({', '.join(solvers.FAMILIES)}; repeatable)",
    )
    parser.set_defaults(handler=command_list)


def command_list(args: argparse.Namespace) -> int:
    from .run import load_plugins, parse_families

    families = parse_families(args.family)
    load_plugins(args)  # before printing anything: a bad plugin is one line on stderr, exit 2
    from_plugins = plugins.loaded()
    print("Problems (--problem NAME:param=value,...; dimension in brackets):")
    for name in problems.available():
        params = problems.parameters(name)
        shown = ", ".join(k if v is inspect.Parameter.empty else f"{k}={v!r}" for k, v in params.items())
        print(f"  {name:<20} [{problem_dimension(name)}] {shown}" + _provided("problem", name, from_plugins))
    shown = f", families {', '.join(families)}" if families else ""
    print(f"\nSolvers (--solver NAME:option=value,...; family in brackets, then the dimensions{shown}):")
    for name in solvers.available():
        cls = solvers.METHODS[name]
        if families and cls.family not in families:
            continue
        hint = solvers.install_hint(name)
        needs = f"  (needs: {hint})" if hint else ""
        dims = solver_dimensions(cls)
        print(f"  {name} [{cls.family}] {dims}" + needs + _provided("solver", name, from_plugins))
        for key, option in cls.options.items():
            setting = f"{key}={option.default!r}"
            print(f"      {setting:<28} {option.doc}")
    print("\nSuites (--suite NAME, or a path to a .toml file):")
    for name in suite.available():
        try:
            loaded = suite.load(name)
        except suite.SuiteError as exc:  # a suite whose solver needs an optional extra still gets listed
            print(f"  {name:<8} unavailable here: {exc}")
            continue
        print(f"  {name:<8} {len(loaded.cases):>4} cases  {loaded.description}")
    _print_plugins(plugins.loaded())
    return 0


def problem_dimension(name: str) -> str:
    """A registered problem's dimension, from its class: ``dim 1``, ``dim 2``, ``dim d (param dim)``
    for a problem whose ``dim`` parameter sets it, ``dim = len(parts)`` for a sum of 1D parts."""
    cls = problems.PROBLEMS[name]
    params = problems.parameters(name)
    if "dim" in params:
        default = params["dim"]
        given = "" if default is inspect.Parameter.empty else f", default {default}"
        return f"dim d (param dim{given})"
    if "parts" in params:
        return "dim = len(parts)"
    if cls.dimensions is not None:
        return solver_dimensions(cls)
    try:  # a problem of fixed dimension: its defaults say which
        return f"dim {problems.get(name).dim}"
    except (ValueError, TypeError):  # required parameters: known only once they are given
        return "dim set by its parameters"


def solver_dimensions(cls: type[solvers.Solver]) -> str:
    """``dim 1``, ``dim 1-4`` or ``dim 1, 3``: the dimensions a solver class takes (``dimensions``)."""
    dims = sorted(set(getattr(cls, "dimensions", (1,))))
    if len(dims) > 2 and dims == list(range(dims[0], dims[-1] + 1)):
        return f"dim {dims[0]}-{dims[-1]}"
    return "dim " + ", ".join(str(d) for d in dims)


def _provided(kind: str, name: str, loaded: tuple[plugins.Plugin, ...]) -> str:
    """``  (plugin: LABEL)`` for a solver or problem a plugin added, else nothing."""
    plugin = plugins.provider(kind, name, loaded)
    return f"  (plugin: {plugin.label})" if plugin is not None else ""


def _print_plugins(loaded: tuple[plugins.Plugin, ...]) -> None:
    print("\nPlugins (--plugin FILE.py|MODULE, a suite's plugins key, installed entry points):")
    if not loaded:
        print("  (none loaded)")
    for plugin in loaded:
        details = [f"[{plugin.origin}] {plugin.file or plugin.module}"]
        if plugin.version is not None:
            details.append(f"version {plugin.version}")
        if plugin.sha256 is not None:
            details.append(f"sha256 {plugin.sha256[:12]}")
        print(f"  {plugin.label}  " + "  ".join(details))
        adds = [
            f"{what} {', '.join(names)}"
            for what, names in (("solvers", plugin.solvers), ("problems", plugin.problems))
            if names
        ]
        print(f"      {'adds ' + '; '.join(adds) if adds else 'adds nothing'}")

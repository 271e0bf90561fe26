"""``qbench list``: problems with parameters, solvers with options, suites."""

from __future__ import annotations

import argparse
import inspect

from .. import problems, solvers, suite


def add_parsers(commands) -> None:
    parser = commands.add_parser(
        "list",
        help="list problems (with parameters), solvers (with options) and suites",
        description="List the registered problems with their parameters and defaults, the solvers "
        "with their options and defaults, and the shipped suites.",
    )
    parser.add_argument(
        "--family",
        action="append",
        metavar="NAME",
        help=f"list only the solvers of this family ({', '.join(solvers.FAMILIES)}; repeatable)",
    )
    parser.set_defaults(handler=command_list)


def command_list(args: argparse.Namespace) -> int:
    from .run import parse_families

    families = parse_families(args.family)
    print("Problems (--problem NAME:param=value,...):")
    for name in problems.available():
        params = problems.parameters(name)
        shown = ", ".join(k if v is inspect.Parameter.empty else f"{k}={v!r}" for k, v in params.items())
        print(f"  {name:<20} {shown}")
    shown = f", families {', '.join(families)}" if families else ""
    print(f"\nSolvers (--solver NAME:option=value,...; family in brackets{shown}):")
    for name in solvers.available():
        cls = solvers.METHODS[name]
        if families and cls.family not in families:
            continue
        hint = solvers.install_hint(name)
        print(f"  {name} [{cls.family}]" + (f"  (needs: {hint})" if hint else ""))
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
    return 0

"""The ``qbench`` command line.

The only module that prints or exits: everything below it returns data or
raises. Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from collections.abc import Sequence
from typing import Any

import pandas as pd
from tqdm import tqdm

from . import __version__, problems, solvers
from .harness import run_case

CANONICAL_PROBLEMS = ("infinite_well", "finite_well", "finite_barrier")
DEFAULT_SOLVERS = ("fd", "shooting")


class UsageError(Exception):
    """Bad command-line input: reported on one line, exit code 2."""


def parse_value(text: str) -> Any:
    """``"3"`` -> 3, ``"1e-8"`` -> 1e-08, ``"[0, 1]"`` -> [0, 1], ``"true"`` -> True, else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``NAME[:k=v,...]`` into the name and its keyword arguments.

    Values are JSON (numbers, lists in brackets, true/false), else strings.
    A list value may itself contain commas: ``piecewise_constant:edges=[0,1,2],values=[0,5]``.
    """
    name, _, rest = spec.partition(":")
    kwargs: dict[str, Any] = {}
    depth, item, items = 0, "", []
    for char in rest:
        depth += char == "["
        depth -= char == "]"
        if char == "," and depth == 0:
            items.append(item)
            item = ""
        else:
            item += char
    if item:
        items.append(item)
    for entry in items:
        key, sep, value = entry.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"bad option {entry!r} in {spec!r}; expected key=value")
        kwargs[key.strip()] = parse_value(value.strip())
    return name.strip(), kwargs


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qbench",
        description="PINNs and classical eigensolvers on the 1D Schrödinger equation, side by side.",
    )
    parser.add_argument("--version", action="version", version=f"qbench {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="solve problems with solvers and print errors and times",
        description=(
            "Solve each problem with each solver, grade every state against the exact "
            "reference, and print a table. Default: the three canonical problems with "
            f"{', '.join(DEFAULT_SOLVERS)}."
        ),
    )
    run.add_argument(
        "--problem",
        action="append",
        metavar="NAME[:k=v,...]",
        help="problem with parameter overrides, e.g. finite_well:V0=50 (repeatable)",
    )
    run.add_argument(
        "--solver",
        action="append",
        metavar="NAME[:k=v,...]",
        help="solver with options, e.g. fd:n_points=2000,order=4 (repeatable)",
    )
    run.add_argument("--states", type=int, default=3, metavar="N", help="lowest states per case (default 3)")
    commands.add_parser("list", help="list problems with their parameters and solvers with their options")
    return parser


def _command_list() -> int:
    print("Problems (qbench run --problem NAME:param=value,...):")
    for name in problems.available():
        params = problems.parameters(name)
        shown = ", ".join(k if v is inspect.Parameter.empty else f"{k}={v!r}" for k, v in params.items())
        print(f"  {name:<20} {shown}")
    print("\nSolvers (qbench run --solver NAME:option=value,...):")
    for name in solvers.available():
        cls = solvers.METHODS[name]
        print(f"  {name}")
        for key, option in cls.options.items():
            setting = f"{key}={option.default!r}"
            print(f"      {setting:<28} {option.doc}")
    return 0


def _command_run(args: argparse.Namespace) -> int:
    if args.states < 1:
        raise UsageError(f"--states must be >= 1, got {args.states}")
    problem_specs = args.problem or list(CANONICAL_PROBLEMS)
    solver_specs = args.solver or list(DEFAULT_SOLVERS)
    # Build everything first so that a typo fails before any work starts.
    built_problems = [problems.get(name, **kw) for name, kw in map(parse_spec, problem_specs)]
    built_solvers = [solvers.get(name, **kw) for name, kw in map(parse_spec, solver_specs)]
    for problem in built_problems:
        for solver in built_solvers:
            solver.check_problem(problem, args.states)
    cases = [(p, s) for p in built_problems for s in built_solvers]
    rows = []
    progress = tqdm(cases, desc="cases", unit="case", file=sys.stderr, disable=not sys.stderr.isatty())
    for problem, solver in progress:
        progress.set_postfix_str(f"{problem.name} / {solver.name}")
        rows.extend(run_case(problem, solver, args.states))
    table = pd.DataFrame(rows)
    columns = [
        "problem",
        "solver",
        "state",
        "energy",
        "energy_ref",
        "rel_error",
        "l2_error",
        "wall_time_s",
        "status",
    ]
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(
            table[[c for c in columns if c in table]].to_string(
                index=False,
                formatters={
                    "energy": "{:.12g}".format,
                    "energy_ref": "{:.12g}".format,
                    "rel_error": "{:.2e}".format,
                    "l2_error": "{:.2e}".format,
                    "wall_time_s": "{:.2e}".format,
                },
            )
        )
    failed = int((table["status"] != "ok").sum())
    if failed:
        print(f"\n{failed} state(s) not ok; see the status column.", file=sys.stderr)
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``qbench``; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            return _command_list()
        if args.command == "run":
            return _command_run(args)
        parser.print_help()
        return 0
    except (UsageError, ValueError) as exc:
        print(f"qbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

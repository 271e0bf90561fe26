"""CI gate: HEAD's asv accuracy tracks against the nearest earlier commit that has committed results.

Usage, from the repository root, after an ``asv run`` stored HEAD's results::

    python benchmarks/accuracy_gate.py --head-machine ci

The base is the nearest ancestor of HEAD (HEAD itself excluded, ``git
rev-list`` order) that has error tracks with values in ``results/asv`` on any
machine but the head machine. Only the error tracks count (:data:`ERROR_TRACKS`): a
relative change above :data:`TOLERANCE` (``|head - base| > 1e-9 |base|``; any
change of a base that is exactly 0), or a value that became ``n/a`` or failed,
fails the gate, unless a commit after the base (up to HEAD) says
``accuracy-change:`` in its message. Timings and memory are printed and never
fail.

Exit status: 0 pass (also when no earlier commit has results, or every change
is declared), 1 an undeclared accuracy change, 2 no results of HEAD.

asv imports every module of ``benchmarks/``; this one defines no benchmark and
runs only as a script.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: The deterministic tracks the gate compares.
ERROR_TRACKS = re.compile(r"^accuracy\..+\.track_(rel_error|l2_error|not_ok)$")
#: The noisy ones it prints: timings, peak memory, the accuracy classes' wall time and memory.
COST_TRACKS = re.compile(r"(^|\.)(time_|peakmem_|track_wall_time|track_cpu_memory_increase)")
#: The largest relative change of an error track that is not a change.
TOLERANCE = 1e-9
#: What a commit message says to accept the accuracy changes up to it.
DECLARATION = "accuracy-change:"

#: ``(benchmark name, parameter values)`` -> value (a float, NaN for ``n/a``, None for failed).
Values = dict[tuple[str, tuple[str, ...]], "float | None"]


@dataclass
class Comparison:
    """What the gate found between two commits' results."""

    failures: list[str]
    notes: list[str]
    costs: list[str]


def read_values(path: Path) -> tuple[str, Values]:
    """The commit and every benchmark value of one asv result file.

    Parameters
    ----------
    path
        ``results/asv/<machine>/<commit>-<env>.json``.

    Returns
    -------
    commit : str
        The full commit hash the results belong to.
    values : dict
        ``{(name, params): value}``; ``params`` is one combination of the
        benchmark's parameters as asv writes them (``"'finite_well'"``), ``()``
        for an unparametrized benchmark. ``n/a`` (skipped) is NaN, a failure None.
    """
    stored = json.loads(path.read_text(encoding="utf-8"))
    columns = stored["result_columns"]
    values: Values = {}
    for name, row in stored["results"].items():
        entry = dict(zip(columns, row))
        params = entry.get("params") or []
        combinations = list(itertools.product(*params)) if params else [()]
        results = entry.get("result")
        if results is None or not params:
            results = [results] * len(combinations) if not isinstance(results, list) else results
        for combination, value in zip(combinations, results):
            values[(name, tuple(combination))] = None if value is None else float(value)
    return stored["commit_hash"], values


def load_results(results_dir: Path, machines: Iterable[str] | None = None) -> dict[str, Values]:
    """Every stored commit's values, merged over environments and the given machines.

    Parameters
    ----------
    results_dir
        asv's ``results_dir`` (``results/asv``).
    machines
        Machine folders to read; default every folder holding a ``machine.json``.

    Returns
    -------
    dict
        ``{commit hash: values}``; where two files hold one benchmark of one
        commit, the later file (by name) wins.
    """
    if machines is None:
        machines = sorted(p.name for p in results_dir.iterdir() if (p / "machine.json").is_file())
    merged: dict[str, Values] = {}
    for machine in machines:
        for path in sorted((results_dir / machine).glob("*.json")):
            if path.name == "machine.json":
                continue
            commit, values = read_values(path)
            merged.setdefault(commit, {}).update(values)
    return merged


def git(repo: Path, *args: str) -> str:
    """The stdout of ``git -C repo args`` (raises ``CalledProcessError`` on failure)."""
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def nearest_base(repo: Path, head: str, commits: Iterable[str]) -> str | None:
    """The nearest ancestor of ``head`` (``head`` excluded) among ``commits``, or None.

    Parameters
    ----------
    repo
        The git checkout.
    head
        A commit (hash or name).
    commits
        Full hashes of the commits that have results.

    Returns
    -------
    str or None
        The first of ``git rev-list head^@`` that is in ``commits``.
    """
    known = set(commits)
    parents = git(repo, "rev-list", "--parents", "-n", "1", head).split()[1:]
    if not parents:
        return None
    for commit in git(repo, "rev-list", *parents).split():
        if commit in known:
            return commit
    return None


def declared(repo: Path, base: str, head: str) -> list[str]:
    """The commits after ``base`` up to ``head`` whose message says :data:`DECLARATION`.

    Returns
    -------
    list of str
        ``"<short hash> <subject>"`` of each such commit.
    """
    log = git(repo, "log", "--format=%h%x00%s%x00%B%x01", f"{base}..{head}")
    found = []
    for record in filter(str.strip, log.split("\x01")):
        short, subject, body = record.strip("\n").split("\x00", 2)
        if DECLARATION in body:
            found.append(f"{short} {subject}")
    return found


def _label(key: tuple[str, tuple[str, ...]]) -> str:
    name, params = key
    return f"{name}({', '.join(params)})" if params else name


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def has_errors(values: Values) -> bool:
    """Whether any error track (:data:`ERROR_TRACKS`) has a value among ``values``."""
    return any(ERROR_TRACKS.match(name) and not _missing(value) for (name, _), value in values.items())


def changed(base: float, head: float, tolerance: float = TOLERANCE) -> bool:
    """Whether ``head`` differs from ``base`` by more than ``tolerance`` relative to ``base``.

    Parameters
    ----------
    base, head
        Finite values.
    tolerance
        Relative tolerance; a base of exactly 0 allows no change.

    Returns
    -------
    bool
        ``|head - base| > tolerance |base|``.
    """
    return abs(head - base) > tolerance * abs(base)


def compare(base: Values, head: Values, tolerance: float = TOLERANCE) -> Comparison:
    """Compare the error tracks (failures) and the cost tracks (printed only) of two commits.

    Parameters
    ----------
    base, head
        Values as :func:`read_values` returns them.
    tolerance
        See :func:`changed`.

    Returns
    -------
    Comparison
        ``failures``: error tracks that moved, or that had a value at the base and
        are ``n/a`` or failed at HEAD; ``notes``: error tracks new at HEAD or
        without a value at the base; ``costs``: every cost track present in both.
    """
    failures, notes, costs = [], [], []
    for key in sorted(set(base) | set(head)):
        name = key[0]
        old, new = base.get(key), head.get(key)
        if ERROR_TRACKS.match(name):
            if _missing(old):
                if not _missing(new):
                    notes.append(f"{_label(key)}: {new!r} (no value at the base)")
            elif _missing(new):
                state = "not run" if key not in head else "failed" if new is None else "n/a"
                failures.append(f"{_label(key)}: {old!r} -> {state}")
            elif changed(old, new, tolerance):
                relative = abs(new - old) / abs(old) if old else math.inf
                failures.append(f"{_label(key)}: {old!r} -> {new!r} (relative change {relative:.3g})")
        elif COST_TRACKS.search(name) and not _missing(old) and not _missing(new) and old:
            costs.append(f"{_label(key)}: {old:.4g} -> {new:.4g} ({new / old:.2f}x)")
    return Comparison(failures, notes, costs)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gate; see the module docstring. Returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results/asv"), help="asv's results_dir")
    parser.add_argument("--head-machine", default="ci", help="the machine folder holding HEAD's results")
    parser.add_argument("--head", default="HEAD", help="the commit to check")
    parser.add_argument("--repo", type=Path, default=Path("."), help="the git checkout")
    args = parser.parse_args(argv)

    head = git(args.repo, "rev-parse", args.head).strip()
    head_values = load_results(args.results, [args.head_machine]).get(head)
    if head_values is None:
        where = args.results / args.head_machine
        print(f"accuracy gate: no results of {head[:8]} in {where}", file=sys.stderr)
        return 2
    machines = [
        p.name
        for p in sorted(args.results.iterdir())
        if (p / "machine.json").is_file() and p.name != args.head_machine
    ]
    stored = load_results(args.results, machines)
    base = nearest_base(args.repo, head, [commit for commit, values in stored.items() if has_errors(values)])
    if base is None:
        print(f"accuracy gate: no earlier commit has results in {args.results}; nothing to compare")
        return 0
    result = compare(stored[base], head_values)
    print(f"accuracy gate: {head[:8]} against {base[:8]}, the nearest earlier commit with results")
    for line in result.costs:
        print(f"  cost (never fails): {line}")
    for line in result.notes:
        print(f"  new: {line}")
    if not result.failures:
        print("accuracy gate: no error track changed")
        return 0
    for line in result.failures:
        print(f"  changed: {line}")
    declarations = declared(args.repo, base, head)
    if declarations:
        print(f"accuracy gate: {len(result.failures)} change(s) declared by {'; '.join(declarations)}")
        return 0
    print(
        f"accuracy gate: {len(result.failures)} error track(s) changed by more than {TOLERANCE:g} relative; "
        f"say '{DECLARATION} <why>' in a commit message if the change is intended",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())

"""Size and shape of the qbench package: lines, the largest files, branches on the dimension, and
the import graph between its parts.

    python benchmarks/code_metrics.py [--package PATH] [--branches]

A *branch on the dimension* is an ``if``/``elif``/conditional expression/``while`` test, or a
boolean assigned from a comparison, that compares something named ``*dim*`` (``problem.dim``,
``points.ndim``, ``self._dim``), ``len(box)`` or ``check_dim(...)`` with an integer. ``--branches``
lists each one. The graph is :mod:`qbench._layers`'s import scan (every import, deferred ones
included) folded onto the parts, with the cycles it finds.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path


def _compares_dimension(test: ast.AST) -> bool:
    for node in ast.walk(test):
        if not isinstance(node, ast.Compare):
            continue
        if not any(isinstance(n, ast.Constant) and type(n.value) is int for n in ast.walk(node)):
            continue
        for sub in ast.walk(node):
            name = getattr(sub, "id", None) or getattr(sub, "attr", None)
            if isinstance(sub, (ast.Name, ast.Attribute)) and name and "dim" in name.lower():
                return True
            if isinstance(sub, ast.Call) and getattr(sub.func, "id", "") == "len":
                if any(getattr(a, "attr", getattr(a, "id", "")) == "box" for a in sub.args):
                    return True
    return False


def dimension_branches(package: Path) -> list[str]:
    """``file:line`` of every branch on the dimension in ``package``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            test = node.test if isinstance(node, (ast.If, ast.IfExp, ast.While)) else None
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Compare):
                test = node.value
            if test is not None and _compares_dimension(test):
                found.append(f"{path.relative_to(package.parent)}:{node.lineno}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, default=Path(__file__).resolve().parents[1] / "qbench")
    parser.add_argument("--branches", action="store_true", help="list each branch on the dimension")
    args = parser.parse_args(argv)
    package = args.package.resolve()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from qbench import _layers  # this checkout's scan, applied to --package (an older tree too)

    files = sorted(package.rglob("*.py"))
    lines = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in files}
    print(f"lines in {package.name}/: {sum(lines.values())} in {len(files)} files")
    for path, count in sorted(lines.items(), key=lambda item: -item[1])[:3]:
        print(f"  {count:5d}  {path.relative_to(package.parent)}")
    branches = dimension_branches(package)
    print(f"branches on the dimension: {len(branches)}")
    if args.branches:
        print("\n".join(f"  {where}" for where in branches))
    edges = _layers.part_edges(_layers.imports(package))
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
    print("import graph (part -> the parts it imports):")
    for part, targets in sorted(graph.items(), key=lambda item: (_layers.layer_of(item[0]) or 0, item[0])):
        print(f"  {part} -> {', '.join(targets)}")
    cycles = _layers.cycles(edges)
    print("cycles: " + ("; ".join(" <-> ".join(c) for c in cycles) if cycles else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Imports between qbench's parts follow the layers of ``qbench/_layers.py``, without cycles.

Every ``import`` and ``from ... import`` in every module counts, also one inside a
function or under ``if TYPE_CHECKING``: a deferred import still ties the parts
together, it only hides the tie until run time.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from qbench import _layers

PACKAGE = _layers.PACKAGE
ROOT = PACKAGE.parent


@dataclass(frozen=True)
class Import:
    """One import of one qbench module by another."""

    file: Path
    line: int
    source: str  # the importing module, dotted
    target: str  # the imported module (or package), dotted

    def where(self, a: str, b: str) -> str:
        return f"{self.file.relative_to(ROOT)}:{self.line}: {a} -> {b} ({self.target})"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The qbench modules an import statement names (``from pkg import mod`` names ``pkg.mod``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        package = module if is_package else module.rpartition(".")[0]
        base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
        origin = ".".join(base + ([node.module] if node.module else []))
    else:
        origin = node.module or ""
    named = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in MODULES else origin for a in node.names]
    return list(dict.fromkeys(named))  # from m import a, b: one import of m


def _imports() -> list[Import]:
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in _targets(node, module, path.name == "__init__.py"):
                if target == "qbench" or target.startswith("qbench."):
                    found.append(Import(path, node.lineno, module, target))
    return found


IMPORTS = _imports()


def _part(module: str, depth: int = 1) -> str | None:
    """``qbench.solvers.pinn.solver`` -> ``solvers`` (depth 1) or ``pinn`` (depth 2); the package: None."""
    bits = module.split(".")
    return bits[depth] if len(bits) > depth else None


def _edges(depth: int = 1, within: str | None = None) -> dict[tuple[str, str], list[Import]]:
    """(importing part, imported part) -> the imports behind it.

    Depth 1: the parts of qbench. Depth 2 with ``within="solvers"``: the submodules and
    subpackages of ``qbench.solvers``. The package's own ``__init__`` is no part: it
    re-exports (qbench's imports every registry), and ``from qbench import __version__``
    names no part.
    """
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in IMPORTS:
        if within is not None and not (
            imp.source.startswith(f"qbench.{within}.") and imp.target.startswith(f"qbench.{within}.")
        ):
            continue
        a, b = _part(imp.source, depth), _part(imp.target, depth)
        if a is not None and b is not None and a != b:
            edges[(a, b)].append(imp)
    return edges


def _cycles(edges: dict[tuple[str, str], list[Import]]) -> list[list[str]]:
    """The strongly connected sets of more than one part (Tarjan), each sorted."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _cycle_report(edges: dict[tuple[str, str], list[Import]]) -> str:
    lines = []
    for component in _cycles(edges):
        lines.append("cycle: " + " <-> ".join(component))
        for (a, b), imports in sorted(edges.items()):
            if a in component and b in component:
                lines.extend("  " + imp.where(a, b) for imp in imports)
    return "\n".join(lines)


# -- the checker itself ------------------------------------------------------------------------------
def test_the_import_scan_resolves_relative_deferred_and_from_imports():
    by_source = defaultdict(set)
    for imp in IMPORTS:
        by_source[imp.source].add(imp.target)
    assert "qbench.registry" in by_source["qbench.solvers"]  # from ..registry import Registry
    assert "qbench.report.figures" in by_source["qbench.report"]  # from . import x, in a function
    assert "qbench.solvers" in by_source["qbench.store"]  # from .solvers import METHODS, in a function
    assert "qbench.cli" in by_source["qbench.__main__"]
    edges = {("a", "b"): [], ("b", "c"): [], ("c", "a"): [], ("c", "d"): [], ("d", "e"): [], ("e", "d"): []}
    assert _cycles(edges) == [["a", "b", "c"], ["d", "e"]]


# -- the layers -----------------------------------------------------------------------------------------
def test_every_part_has_a_layer():
    unlisted = sorted(p for p in _layers.existing_parts() if _layers.layer_of(p) is None)
    assert not unlisted, f"parts missing from qbench/_layers.py LAYERS (place each in its layer): {unlisted}"


def test_a_part_is_listed_once():
    names = [p for layer in _layers.LAYERS for p in layer]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("part", sorted(_layers.existing_parts()))
def test_a_part_imports_only_from_its_layer_or_below(part):
    upward = [
        imp.where(a, b)
        for (a, b), imports in sorted(_edges().items())
        if a == part and _layers.layer_of(b) is not None and _layers.layer_of(b) > _layers.layer_of(a)
        for imp in imports
    ]
    assert not upward, "imports from a higher layer (qbench/_layers.py):\n" + "\n".join(upward)


def test_no_parts_in_one_layer_import_each_other_in_a_cycle():
    same_layer = {
        (a, b): imps for (a, b), imps in _edges().items() if _layers.layer_of(a) == _layers.layer_of(b)
    }
    assert not _cycles(same_layer), _cycle_report(same_layer)


def test_no_cycles_between_parts():
    edges = _edges()
    assert not _cycles(edges), _cycle_report(edges)


@pytest.mark.parametrize("package", sorted(p for p in _layers.existing_parts() if (PACKAGE / p).is_dir()))
def test_no_cycles_between_the_modules_of_a_package(package):
    edges = _edges(depth=2, within=package)
    assert not _cycles(edges), _cycle_report(edges)


def test_the_architecture_page_shows_the_layers():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = _layers.markdown_table()
    assert table in page, f"docs/architecture.md must show the layers as qbench/_layers.py has them:\n{table}"

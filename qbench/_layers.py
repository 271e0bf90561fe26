"""The layers of qbench's parts, bottom to top (the one list tests/test_layers.py enforces), and the
scan of the imports between them.

A part is a top-level module (``qbench/cases.py``: ``cases``) or a subpackage
(``qbench/solvers/``: ``solvers``). A part may import from parts in its own
layer or in a layer below it, never from one above; and no parts may import
each other in a cycle, within a layer or across layers. ``docs/architecture.md``
shows the same list (:func:`markdown_table`; a test keeps the two equal).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

#: Bottom to top. Names that do not exist (yet, or any more) are allowed; a part that exists
#: must be listed.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_layers", "_validation", "registry", "interruption", "progress", "memory"),
    ("numerics",),
    ("problems",),
    ("solvers",),
    ("metrics",),
    ("plugins",),
    ("cases",),
    ("harness",),
    ("executors", "provenance", "store"),
    ("runner",),
    ("analysis", "scaling", "suite", "verdict"),
    ("report",),
    ("cli", "__main__"),
    ("testing",),
)

#: The package these layers cut up.
PACKAGE = Path(__file__).resolve().parent


def layer_of(part: str) -> int | None:
    """The index of ``part``'s layer in :data:`LAYERS` (0 is the bottom), or ``None`` if unlisted."""
    return next((i for i, parts in enumerate(LAYERS) if part in parts), None)


def existing_parts(package: Path = PACKAGE) -> set[str]:
    """The parts of ``package``: its top-level modules and subpackages, without ``__init__``."""
    parts = {p.stem for p in package.glob("*.py") if p.name != "__init__.py"}
    parts |= {p.parent.name for p in package.glob("*/__init__.py")}
    return parts


def markdown_table(package: Path = PACKAGE) -> str:
    """The layers of the parts that exist, bottom (1) to top, as a Markdown table."""
    present = existing_parts(package)
    shown = [parts for parts in ([p for p in layer if p in present] for layer in LAYERS) if parts]
    rows = ["| layer | parts |", "|---|---|"]
    rows += [f"| {n} | {', '.join(f'`{p}`' for p in parts)} |" for n, parts in enumerate(shown, start=1)]
    return "\n".join(rows)


# -- the import scan that tests/test_layers.py and benchmarks/code_metrics.py read ---------------------
@dataclass(frozen=True)
class Import:
    """One import of one qbench module by another."""

    file: Path
    line: int
    source: str  # the importing module, dotted
    target: str  # the imported module (or package), dotted

    def where(self, a: str, b: str) -> str:
        depth = self.source.count(".") + (self.file.name == "__init__.py")  # up to the package's parent
        return f"{self.file.relative_to(self.file.parents[depth])}:{self.line}: {a} -> {b} ({self.target})"


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _targets(node: ast.AST, module: str, is_package: bool, modules: dict[str, Path]) -> list[str]:
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
    named = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names]
    return list(dict.fromkeys(named))  # from m import a, b: one import of m


def imports(package: Path = PACKAGE) -> list[Import]:
    """Every import of a qbench module in ``package``, deferred ones (inside functions) included."""
    modules = {_module_name(path, package.parent): path for path in sorted(package.rglob("*.py"))}
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in _targets(node, module, path.name == "__init__.py", modules):
                if target == "qbench" or target.startswith("qbench."):
                    found.append(Import(path, node.lineno, module, target))
    return found


def part(module: str, depth: int = 1) -> str | None:
    """``qbench.solvers.neural.trial`` -> ``solvers`` (depth 1) or ``neural`` (depth 2); the package: None."""
    bits = module.split(".")
    return bits[depth] if len(bits) > depth else None


def part_edges(
    found: list[Import], depth: int = 1, within: str | None = None
) -> dict[tuple[str, str], list[Import]]:
    """(importing part, imported part) -> the imports behind it, of the imports ``found``.

    Depth 1: the parts of qbench. Depth 2 with ``within="solvers"``: the submodules and
    subpackages of ``qbench.solvers``. The package's own ``__init__`` is no part: it
    re-exports (qbench's imports every registry), and ``from qbench import __version__``
    names no part.
    """
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in found:
        if within is not None and not (
            imp.source.startswith(f"qbench.{within}.") and imp.target.startswith(f"qbench.{within}.")
        ):
            continue
        a, b = part(imp.source, depth), part(imp.target, depth)
        if a is not None and b is not None and a != b:
            edges[(a, b)].append(imp)
    return edges


def cycles(edges: dict[tuple[str, str], list[Import]]) -> list[list[str]]:
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

"""Imports between qbench's parts follow the layers of ``qbench/_layers.py``, without cycles.

Every ``import`` and ``from ... import`` in every module counts, also one inside a
function or under ``if TYPE_CHECKING``: a deferred import still ties the parts
together, it only hides the tie until run time.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from qbench import _layers

PACKAGE = _layers.PACKAGE
ROOT = PACKAGE.parent


Import = _layers.Import
IMPORTS = _layers.imports()
_part = _layers.part
_cycles = _layers.cycles


def _edges(depth: int = 1, within: str | None = None) -> dict[tuple[str, str], list[_layers.Import]]:
    return _layers.part_edges(IMPORTS, depth, within)


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

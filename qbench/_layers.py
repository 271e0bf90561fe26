"""The layers of qbench's parts, bottom to top: the one list that tests/test_layers.py enforces.

A part is a top-level module (``qbench/cases.py``: ``cases``) or a subpackage
(``qbench/solvers/``: ``solvers``). A part may import from parts in its own
layer or in a layer below it, never from one above; and no parts may import
each other in a cycle, within a layer or across layers. ``docs/architecture.md``
shows the same list (:func:`markdown_table`; a test keeps the two equal).
"""

from __future__ import annotations

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
    ("analysis", "scaling", "suite"),
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

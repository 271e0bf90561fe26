"""Terminal rendering of result tables (the only formatting the CLI does)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..report.tables import summary_table


def sci(value: Any) -> str:
    """``1.23e-05``, or ``-`` for a missing number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "-" if math.isnan(number) else f"{number:.2e}"


def render(table: pd.DataFrame, formats: dict[str, Any] | None = None) -> str:
    """Plain-text table with per-column formatters."""
    if table.empty:
        return "(no rows)"
    with pd.option_context("display.width", 250, "display.max_rows", 10_000, "display.max_colwidth", 60):
        return table.to_string(index=False, formatters=formats or {})


def summary_text(results: pd.DataFrame) -> str:
    """What ``qbench show`` and ``qbench run`` print: the report's per problem x solver table."""
    table = summary_table(results)
    return "(no finished cases)" if table.empty else render(table)

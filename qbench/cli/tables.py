"""Terminal rendering of result tables (the only formatting the CLI does)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def sci(value: Any) -> str:
    """``1.23e-05``, or ``-`` for a missing number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "-" if math.isnan(number) else f"{number:.2e}"


def spread(median: Any, low: Any, high: Any) -> str:
    """``3.1e-09 [1.0e-09, 8.0e-09]``, or just the median when all three agree."""
    if any(isinstance(v, float) and math.isnan(v) for v in (median, low, high)):
        return "-"
    if low == high:
        return f"{median:.1e}"
    return f"{median:.1e} [{low:.1e}, {high:.1e}]"


def render(table: pd.DataFrame, formats: dict[str, Any] | None = None) -> str:
    """Left-aligned text table with per-column formatters."""
    if table.empty:
        return "(no rows)"
    with pd.option_context("display.width", 250, "display.max_rows", 10_000, "display.max_colwidth", 60):
        return table.to_string(index=False, formatters=formats or {})


def summary_text(summary: pd.DataFrame) -> str:
    """The per problem x solver summary of ``qbench show`` and the end of ``qbench run``."""
    if summary.empty:
        return "(no finished cases)"
    shown = pd.DataFrame(
        {
            "problem": summary["problem"],
            "solver": summary["solver"],
            "ok": [f"{o}/{n}" for o, n in zip(summary["ok_cases"], summary["cases"])],
            "rel_error median [min, max]": [
                spread(*v) for v in summary[["rel_error_median", "rel_error_min", "rel_error_max"]].values
            ],
            "l2_error median [min, max]": [
                spread(*v) for v in summary[["l2_error_median", "l2_error_min", "l2_error_max"]].values
            ],
            "wall_time_s median [min, max]": [
                spread(*v)
                for v in summary[["wall_time_s_median", "wall_time_s_min", "wall_time_s_max"]].values
            ],
            "peak_cpu_mb": [f"{v:.0f}" if not math.isnan(v) else "-" for v in summary["peak_cpu_mem_mb"]],
            "peak_gpu_mb": [sci(v) for v in summary["peak_gpu_mem_mb"]],
        }
    )
    return render(shown)

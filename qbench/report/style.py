"""One look for every figure: the seaborn theme and a fixed colour per solver."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # the report renders files; it never opens a window

import matplotlib.pyplot as plt
import seaborn as sns

from .. import solvers

EXACT_STYLE = {"color": "black", "linestyle": "--", "linewidth": 1.0}
#: One marker per solver family, the same in every figure (x is kept for cases not ok).
FAMILY_MARKERS = {"classical": "o", "pinn": "s", "neural-variational": "D", "reference": "^"}


def apply_theme() -> None:
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.9)


def solver_colours(names: list[str] | None = None) -> dict[str, tuple]:
    """A colour per solver name, the same in every figure of every report.

    Registered solvers take the colourblind palette in registry order; others
    (a plug-in solver in a stored run) follow after them.
    """
    known = solvers.available()
    extra = sorted(set(names or []) - set(known))
    palette = sns.color_palette("colorblind", len(known) + len(extra))
    return {name: palette[i] for i, name in enumerate([*known, *extra])}


def new_figure(n_rows: int, n_cols: int, width: float = 4.2, height: float = 3.2, **kwargs):
    apply_theme()
    return plt.subplots(n_rows, n_cols, figsize=(width * n_cols, height * n_rows), squeeze=False, **kwargs)

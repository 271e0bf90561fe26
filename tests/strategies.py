"""Hypothesis strategies shared by the tests (imported as a plain module: pytest puts tests/ on the path)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from qbench.problems import PiecewiseConstant

MAX_OPACITY = 25.0


@st.composite
def piecewise_problems(draw):
    """2 to 6 pieces in a box of length 0.5..5, each piece >= 2% of the box, V in [-50, 200].

    Levels localized in wells separated by a barrier of opacity T = integral sqrt(V - E) dx
    are split by ~exp(-T); beyond T ~ 36 they coincide in float64, so no float reference could
    list them as strictly increasing. Values are therefore pulled towards min(V) until the total
    opacity sum(width * sqrt(V - min V)), a bound on T for every state, is at most MAX_OPACITY
    (draws within the bound are left as they are).
    """
    n_pieces = draw(st.integers(2, 6))
    length = draw(st.floats(0.5, 5.0))
    left = draw(st.floats(-3.0, 3.0))
    raw = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=n_pieces, max_size=n_pieces)))
    fractions = 0.02 + (1.0 - 0.02 * n_pieces) * raw / raw.sum()
    edges = left + length * np.concatenate([[0.0], np.cumsum(fractions)])
    edges[-1] = left + length
    values = np.array(draw(st.lists(st.floats(-50.0, 200.0), min_size=n_pieces, max_size=n_pieces)))
    opacity = float(np.sum(np.diff(edges) * np.sqrt(values - values.min())))
    if opacity > MAX_OPACITY:
        values = values.min() + (values - values.min()) * (MAX_OPACITY / opacity) ** 2
    return PiecewiseConstant(edges.tolist(), values.tolist())

"""An energy above a given state of any potential, by comparison with the flat box."""

from __future__ import annotations

import math


def energy_upper_bound(v_max: float, length: float, index: int) -> float:
    """An energy above state ``index`` of a 1D box of width ``length``: max V plus the flat box's level.

    V <= max V everywhere, so by comparison E_n <= max V + ((n + 1) pi / L)^2; the factor 1.05
    and the added 1 leave a margin, so a bisection started here holds the state strictly inside.

    Parameters
    ----------
    v_max
        An upper bound of V on the box.
    length
        The box's width.
    index
        The state, 0 for the ground state.

    Returns
    -------
    float
        An energy strictly above state ``index``.
    """
    return v_max + 1.05 * ((index + 1) * math.pi / length) ** 2 + 1.0

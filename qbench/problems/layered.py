"""More piecewise-constant problems: an asymmetric step well and a multi-barrier chain.

Both are ``PiecewiseConstant`` subclasses, so their references are the exact
transfer-matrix roots (``TransferMatrixSpectrum``), like the canonical wells.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_int, check_nonnegative, check_positive, check_real
from .piecewise import PiecewiseConstant, check_well_in_box


class StepWell(PiecewiseConstant):
    """An asymmetric well: a step in its floor and walls of different heights.

    On ``[-box_half_width, box_half_width]``: V = ``V_left`` for
    x < -half_width, 0 on (-half_width, 0), ``step`` on (0, half_width) and
    ``V_right`` for x > half_width. No symmetry, so no state is even or odd
    and a solver cannot lean on parity.

    Parameters
    ----------
    half_width : float, default 1.0
        Half-width of the well, > 0 and < ``box_half_width``.
    step : float, default 8.0
        Height of the floor's right half (any finite value).
    V_left, V_right : float, default 30.0 and 15.0
        Heights outside the well on each side (any finite values).
    box_half_width : float, default 3.0
        The hard walls sit at +-box_half_width.
    """

    name = "step_well"

    def __init__(
        self,
        half_width: float = 1.0,
        step: float = 8.0,
        V_left: float = 30.0,
        V_right: float = 15.0,
        box_half_width: float = 3.0,
    ):
        self.half_width, self.box_half_width = check_well_in_box(half_width, box_half_width)
        self.step = check_real("step", step)
        self.V_left = check_real("V_left", V_left)
        self.V_right = check_real("V_right", V_right)
        a, b = self.half_width, self.box_half_width
        super().__init__([-b, -a, 0.0, a, b], [self.V_left, 0.0, self.step, self.V_right])

    @property
    def params(self) -> dict[str, Any]:
        return {
            "half_width": self.half_width,
            "step": self.step,
            "V_left": self.V_left,
            "V_right": self.V_right,
            "box_half_width": self.box_half_width,
        }


class KronigPenney(PiecewiseConstant):
    """A finite Kronig–Penney chain: ``n_wells`` wells separated by ``n_wells - 1`` barriers.

    The box ``[0, n_wells * well_width + (n_wells - 1) * barrier_width]``
    holds wells of V = 0 between barriers of V = ``V0``; the hard walls close
    the outer wells. The lowest ``n_wells`` states form the chain's first
    band, below a wide gap: with the defaults, states 0-2 lie within 12% of
    each other and states 3 and 4 (mostly in the two outer wells, which the
    hard walls squeeze) are 3.7e-4 relative apart. A solver must resolve
    close levels, not only well-separated ones.

    Parameters
    ----------
    n_wells : int, default 5
        Number of wells, >= 2.
    well_width : float, default 1.0
        Width of each well, > 0.
    barrier_width : float, default 0.5
        Width of each barrier, > 0.
    V0 : float, default 30.0
        Height of the barriers, >= 0.
    """

    name = "kronig_penney"

    def __init__(
        self, n_wells: int = 5, well_width: float = 1.0, barrier_width: float = 0.5, V0: float = 30.0
    ):
        self.n_wells = check_int("n_wells", n_wells, minimum=2)
        self.well_width = check_positive("well_width", well_width)
        self.barrier_width = check_positive("barrier_width", barrier_width)
        self.V0 = check_nonnegative("V0", V0)
        period = self.well_width + self.barrier_width
        edges = [0.0]
        for k in range(self.n_wells):
            edges.append(k * period + self.well_width)
            if k < self.n_wells - 1:
                edges.append((k + 1) * period)
        values = [0.0, self.V0] * (self.n_wells - 1) + [0.0]
        if not (np.isfinite(edges[-1]) and np.all(np.diff(edges) > 0)):
            # In floating point a piece far narrower than the chain vanishes: name the widths.
            raise ValueError(
                f"well_width={self.well_width!r} and barrier_width={self.barrier_width!r} cannot be told "
                f"apart along a chain of {self.n_wells} wells of finite length; keep the chain finite "
                "and each width above 1e-15 of its length"
            )
        super().__init__(edges, values)

    @property
    def params(self) -> dict[str, Any]:
        return {
            "n_wells": self.n_wells,
            "well_width": self.well_width,
            "barrier_width": self.barrier_width,
            "V0": self.V0,
        }

"""Piecewise-constant potentials: the general case and the three canonical problems."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_nonnegative, check_positive, check_real, check_real_sequence
from .base import Problem
from .reference import Reference
from .transfer import TransferMatrixSpectrum


class PiecewiseConstant(Problem):
    """Hard-wall box with a potential that is constant between ``edges``.

    Parameters
    ----------
    edges : sequence of float
        Strictly increasing; ``edges[0]`` and ``edges[-1]`` are the walls.
    values : sequence of float
        V on each piece, ``len(edges) - 1`` finite numbers.

    Notes
    -----
    At a jump, ``potential`` returns the value of the piece to the right. The
    exact reference comes from transfer matrices (``TransferMatrixSpectrum``).
    """

    name = "piecewise_constant"
    has_exact_reference = True
    dimensions = (1,)

    def __init__(self, edges: Sequence[float], values: Sequence[float]):
        super().__init__()
        edges = check_real_sequence("edges", edges, min_length=2)
        values = check_real_sequence("values", values, min_length=1)
        if len(values) != len(edges) - 1:
            raise ValueError(f"values must have len(edges) - 1 = {len(edges) - 1} entries, got {len(values)}")
        widths = np.diff(edges)
        if np.any(widths <= 0):
            i = int(np.argmax(widths <= 0))
            raise ValueError(
                f"edges must be strictly increasing, got edges[{i}]={edges[i]!r} "
                f">= edges[{i + 1}]={edges[i + 1]!r}"
            )
        self._edges = edges
        self._values = values

    # -- Problem interface ----------------------------------------------------
    @property
    def edges(self) -> tuple[float, ...]:
        return self._edges

    @property
    def values(self) -> tuple[float, ...]:
        return self._values

    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        return ((self._edges[0], self._edges[-1]),)

    @property
    def axis_breakpoints(self) -> tuple[tuple[float, ...], ...]:
        jumps = zip(self._edges[1:-1], self._values[:-1], self._values[1:])
        return (tuple(edge for edge, left, right in jumps if left != right),)

    @property
    def params(self) -> dict[str, Any]:
        return {"edges": list(self._edges), "values": list(self._values)}

    def potential(self, points: np.ndarray) -> np.ndarray:
        x = points[:, 0]
        edges = np.asarray(self._edges)
        piece = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(self._values) - 1)
        inside = (x >= edges[0]) & (x <= edges[-1])
        return np.where(inside, np.asarray(self._values)[piece], np.inf)

    def _compute_reference(self, n_states: int) -> Reference:
        spectrum = TransferMatrixSpectrum(self._edges, self._values)
        energies = spectrum.eigenvalues(n_states)
        states = [spectrum.eigenfunction(e) for e in energies]

        def evaluate(points: np.ndarray) -> np.ndarray:
            return np.array([state(points[:, 0]) for state in states])

        return Reference(energies, evaluate, method="transfer-matrix", rel_error_bound=1e-13)


def check_well_in_box(half_width: float, box_half_width: float) -> tuple[float, float]:
    """Validate a well of ``half_width`` centred in walls at +-``box_half_width``."""
    half_width = check_positive("half_width", half_width)
    box_half_width = check_positive("box_half_width", box_half_width)
    if half_width >= box_half_width:
        raise ValueError(f"half_width must be < box_half_width={box_half_width!r}, got {half_width!r}")
    return half_width, box_half_width


class InfiniteWell(PiecewiseConstant):
    """Infinite square well: V = 0 on ``[0, length]``.

    Parameters
    ----------
    length : float, default 1.0
        Width of the box, > 0. E_n = ((n + 1) pi / length)^2.
    """

    name = "infinite_well"

    def __init__(self, length: float = 1.0):
        self.length_param = check_positive("length", length)
        super().__init__([0.0, self.length_param], [0.0])

    @property
    def params(self) -> dict[str, Any]:
        return {"length": self.length_param}

    def _compute_reference(self, n_states: int) -> Reference:
        length = self.length_param
        wave_numbers = (np.arange(n_states) + 1) * math.pi / length

        def evaluate(points: np.ndarray) -> np.ndarray:
            x = points[:, 0]
            inside = (x >= 0.0) & (x <= length)
            values = math.sqrt(2.0 / length) * np.sin(np.outer(wave_numbers, x))
            return np.where(inside, values, 0.0)

        return Reference(wave_numbers**2, evaluate, method="analytic", rel_error_bound=1e-15)


class FiniteWell(PiecewiseConstant):
    """Finite square well centred in a hard-wall box.

    V = 0 for ``|x| < half_width`` and ``V0`` for ``half_width < |x| <= box_half_width``
    (at ``|x| = half_width`` itself, the value of the piece to the right).

    Parameters
    ----------
    half_width : float, default 1.0
        Half-width of the well, > 0 and < ``box_half_width``.
    V0 : float, default 20.0
        Height of the potential outside the well, >= 0.
    box_half_width : float, default 3.0
        The walls sit at ``-box_half_width`` and ``+box_half_width``.
    """

    name = "finite_well"

    def __init__(self, half_width: float = 1.0, V0: float = 20.0, box_half_width: float = 3.0):
        self.half_width, self.box_half_width = check_well_in_box(half_width, box_half_width)
        self.V0 = check_nonnegative("V0", V0)
        a, b = self.half_width, self.box_half_width
        super().__init__([-b, -a, a, b], [self.V0, 0.0, self.V0])

    @property
    def params(self) -> dict[str, Any]:
        return {
            "half_width": self.half_width,
            "V0": self.V0,
            "box_half_width": self.box_half_width,
        }


class FiniteBarrier(PiecewiseConstant):
    """A rectangular barrier inside a hard-wall box ``[0, length]``.

    V = ``V0`` for ``|x - center| < width / 2`` and 0 elsewhere (at the barrier's edges
    themselves, the value of the piece to the right).

    Parameters
    ----------
    center : float, default 0.5
        Centre of the barrier.
    width : float, default 0.1
        Width of the barrier, > 0; the barrier must lie strictly inside the box.
    V0 : float, default 100.0
        Height of the barrier (any finite value; negative makes a well).
    length : float, default 1.0
        Width of the box, > 0.
    """

    name = "finite_barrier"

    def __init__(self, center: float = 0.5, width: float = 0.1, V0: float = 100.0, length: float = 1.0):
        self.center = check_real("center", center)
        self.width = check_positive("width", width)
        self.V0 = check_real("V0", V0)
        self.length_param = check_positive("length", length)
        left, right = self.center - 0.5 * self.width, self.center + 0.5 * self.width
        if not (0.0 < left and right < self.length_param):
            raise ValueError(
                f"the barrier [center - width/2, center + width/2] = [{left!r}, {right!r}] "
                f"must lie strictly inside the box (0, length={self.length_param!r}); "
                "change center, width or length"
            )
        super().__init__([0.0, left, right, self.length_param], [0.0, self.V0, 0.0])

    @property
    def params(self) -> dict[str, Any]:
        return {
            "center": self.center,
            "width": self.width,
            "V0": self.V0,
            "length": self.length_param,
        }

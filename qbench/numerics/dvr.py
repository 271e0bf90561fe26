"""The sine discrete variable representation (DVR) of one axis with hard walls.

On [lo, hi] (length L) with N interior points x_j = lo + j L / (N + 1), j = 1 .. N, the basis is
the N lowest box states phi_k(x) = sqrt(2 / L) sin(k pi (x - lo) / L), k = 1 .. N. The
normalized DST-I matrix S_kj = sqrt(2 / (N + 1)) sin(k j pi / (N + 1)) is symmetric and
orthogonal, and rotates the sines into the DVR functions

    theta_j(x) = sum_k S_kj phi_k(x),

which are orthonormal on [lo, hi] and satisfy theta_j(x_i) = delta_ij / sqrt(w), w = L / (N + 1).
A state psi = sum_j c_j theta_j has ||psi|| = ||c|| and psi(x_j) = c_j / sqrt(w).

In this basis -d2/dx2 is exact: T = S diag((k pi / L)^2) S. A function f of x (a potential,
or one factor of a product) is either taken diagonal, f_ij = f(x_j) delta_ij (the DVR: the
quadrature at the points stands in for the integral, so energies are not variational upper
bounds), or integrated, f_ij = <theta_i|f|theta_j> by Gauss-Legendre panels that end at f's
jumps (:meth:`SineDVR.galerkin`: the Ritz-Galerkin matrix, whose eigenvalues are upper bounds).
For a smooth state either error falls exponentially in N once the points resolve it (Colbert &
Miller, J. Chem. Phys. 96, 1982 (1992), appendix; Light & Carrington, Adv. Chem. Phys. 114, 263
(2000)); across a jump of f the DVR's error is erratic and slow, Galerkin's falls like N^-3.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .._validation import check_int
from .quadrature import gauss_legendre_rule, panel_edges

#: Fewest points accepted on an axis.
MIN_POINTS = 1
#: Gauss-Legendre nodes per sub-panel of :meth:`SineDVR.galerkin`, and the sub-panels' width in
#: units of the point spacing: a product theta_i theta_j oscillates at most once per spacing, so a
#: sub-panel holds about two periods, which 16 nodes integrate to rounding.
GALERKIN_ORDER = 16
GALERKIN_SPACINGS = 2.0


@dataclass(frozen=True)
class SineDVR:
    """The sine DVR of one axis: ``n_points`` interior points of ``[lo, hi]``.

    Attributes
    ----------
    lo, hi : float
        The walls.
    n_points : int
        N, the number of points and basis functions.
    """

    lo: float
    hi: float
    n_points: int

    def __post_init__(self) -> None:
        check_int("n_points", self.n_points, minimum=MIN_POINTS)
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.hi > self.lo):
            raise ValueError(f"the walls must be finite with lo < hi, got [{self.lo}, {self.hi}]")

    @property
    def length(self) -> float:
        return self.hi - self.lo

    @property
    def weight(self) -> float:
        """w = L / (N + 1), the spacing of the points."""
        return self.length / (self.n_points + 1)

    @property
    def points(self) -> np.ndarray:
        """The N interior points, ascending."""
        return self.lo + self.weight * np.arange(1, self.n_points + 1)

    @property
    def wavenumbers(self) -> np.ndarray:
        """k pi / L, k = 1 .. N."""
        return np.arange(1, self.n_points + 1) * (math.pi / self.length)

    def transform(self) -> np.ndarray:
        """S, the normalized DST-I matrix, ``(N, N)``, symmetric and orthogonal."""
        n = self.n_points
        k = np.arange(1, n + 1)
        return math.sqrt(2.0 / (n + 1)) * np.sin(np.outer(k, k) * (math.pi / (n + 1)))

    def kinetic(self) -> np.ndarray:
        """-d2/dx2 in the DVR basis: S diag((k pi / L)^2) S, ``(N, N)``, symmetrized."""
        s = self.transform()
        t = (s * self.wavenumbers**2) @ s
        return 0.5 * (t + t.T)

    def galerkin(
        self, f: Callable[[np.ndarray], np.ndarray], breakpoints: Sequence[float] = ()
    ) -> np.ndarray:
        """<theta_i|f|theta_j>, ``(N, N)``, by composite Gauss-Legendre on panels ending at ``breakpoints``.

        ``f`` takes a flat array of coordinates inside the walls. Each panel is cut into
        sub-panels of about ``GALERKIN_SPACINGS`` point spacings with ``GALERKIN_ORDER`` nodes each.
        """
        edges = panel_edges((self.lo, self.hi), breakpoints)
        width = GALERKIN_SPACINGS * self.weight
        subpanels = np.maximum(1, np.ceil(np.diff(edges) / width)).astype(int)
        nodes, weights = gauss_legendre_rule(edges, subpanels, GALERKIN_ORDER)
        values = np.asarray(f(nodes), dtype=float).reshape(-1)
        if values.shape != nodes.shape or not np.all(np.isfinite(values)):
            raise ValueError("f must give one finite value per coordinate inside the walls")
        theta = self.basis(nodes)
        matrix = theta.T @ (theta * (weights * values)[:, None])
        return 0.5 * (matrix + matrix.T)

    def basis(self, x: np.ndarray) -> np.ndarray:
        """theta_j(x) for flat ``x``, shape ``(len(x), N)``; 0 outside [lo, hi]."""
        return self._rotated(x, derivative=False)

    def basis_second_derivative(self, x: np.ndarray) -> np.ndarray:
        """theta_j''(x) for flat ``x``, shape ``(len(x), N)``; 0 outside [lo, hi]."""
        return self._rotated(x, derivative=True)

    def _rotated(self, x: np.ndarray, derivative: bool) -> np.ndarray:
        x = np.asarray(x, dtype=float).reshape(-1)
        k = self.wavenumbers
        sines = math.sqrt(2.0 / self.length) * np.sin(np.outer(x - self.lo, k))
        if derivative:
            sines *= -(k**2)
        inside = (x >= self.lo) & (x <= self.hi)
        sines[~inside] = 0.0
        return sines @ self.transform()

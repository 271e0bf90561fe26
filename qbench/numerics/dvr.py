"""The sine discrete variable representation (DVR) of one axis with hard walls.

On [lo, hi] (length L) with N interior points x_j = lo + j L / (N + 1), j = 1 .. N, the basis is
the N lowest box states phi_k(x) = sqrt(2 / L) sin(k pi (x - lo) / L), k = 1 .. N. The
normalized DST-I matrix S_kj = sqrt(2 / (N + 1)) sin(k j pi / (N + 1)) is symmetric and
orthogonal, and rotates the sines into the DVR functions

    theta_j(x) = sum_k S_kj phi_k(x),

which are orthonormal on [lo, hi] and satisfy theta_j(x_i) = delta_ij / sqrt(w), w = L / (N + 1).
A state psi = sum_j c_j theta_j has ||psi|| = ||c|| and psi(x_j) = c_j / sqrt(w).

In this basis -d2/dx2 is exact: T = S diag((k pi / L)^2) S. A potential is taken diagonal,
V_ij = V(x_j) delta_ij (the DVR's quadrature approximation; the resulting energies are not
variational upper bounds). For a smooth state the error falls exponentially in N once the
points resolve it (Colbert & Miller, J. Chem. Phys. 96, 1982 (1992), appendix; Light & Carrington,
Adv. Chem. Phys. 114, 263 (2000)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import check_int

#: Fewest points accepted on an axis.
MIN_POINTS = 1


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

"""The exact answer to a problem: energies and evaluable eigenfunctions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Reference:
    """Exact eigenpairs of a problem.

    Attributes
    ----------
    energies : numpy.ndarray
        Eigenvalues of states ``0 .. n_states - 1``, ascending.
    method : str
        How they were obtained (``"analytic"``, ``"transfer-matrix"``).
    rel_error_bound : float
        A bound on the relative error of ``energies`` stated by the method.
    consensus_spread : numpy.ndarray or None
        Per state, the largest absolute difference between independent methods' energies,
        where the reference was cross-checked (evidence, kept apart from the bound); None otherwise.
    """

    energies: np.ndarray
    _evaluate: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    method: str = "analytic"
    rel_error_bound: float = 1e-14
    consensus_spread: np.ndarray | None = None

    @property
    def n_states(self) -> int:
        return len(self.energies)

    def wavefunctions(self, x: np.ndarray) -> np.ndarray:
        """Normalized eigenfunctions at ``x``, shape ``(n_states, len(x))``.

        The sign is fixed so that each state rises from the left wall.
        """
        x = np.atleast_1d(np.asarray(x, dtype=float))
        return self._evaluate(x)

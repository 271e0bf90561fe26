"""A test plugin for fault injection: a solver that holds the GIL in a call into C for a while.

``qbench run --plugin tests/data/fault_plugin.py --solver c-sleep:seconds=S`` spends S seconds
in libc's ``sleep`` called through :class:`ctypes.PyDLL`, which keeps the GIL: no Python code of
that process (no signal handler, no thread) runs until it returns, as in a long LAPACK or CUDA
call. Then it returns a three-point finite-difference answer on 300 points (a cubic spline with
its Laplacian, so the states are certified), so the case is an ordinary graded result.
"""

from __future__ import annotations

import ctypes
import numbers

import numpy as np
import scipy.linalg
from scipy.interpolate import CubicSpline

from qbench.solvers import Option, Solution, Solver
from qbench.solvers import register as register_solver

__version__ = "1.0"


def check_seconds(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 3600:
        raise ValueError(f"{name} must be a number of seconds in [0, 3600], got {value!r}")
    return float(value)


@register_solver
class CSleep(Solver):
    """Three-point finite differences after ``seconds`` in a GIL-holding C call."""

    name = "c-sleep"
    family = "classical"
    options = {"seconds": Option(0.0, check_seconds, "seconds spent in C holding the GIL, 0 .. 3600")}

    def _solve(self, problem, n_states):
        whole, fraction = divmod(self.seconds, 1.0)
        libc = ctypes.PyDLL(None)  # PyDLL: the GIL stays held during the call
        if whole:
            libc.sleep(int(whole))
        if fraction:
            libc.usleep(int(fraction * 1e6))
        x = np.linspace(*problem.domain, 302)
        h = x[1] - x[0]
        diagonal = 2 / h**2 + problem.potential(x[1:-1])
        energies, vectors = scipy.linalg.eigh_tridiagonal(
            diagonal, np.full(299, -1 / h**2), select="i", select_range=(0, n_states - 1)
        )
        psi = np.zeros((n_states, len(x)))
        psi[:, 1:-1] = vectors.T / np.sqrt(h)
        # A natural cubic spline and its Laplacian, so that qbench can certify the states.
        splines = [CubicSpline(x, s, bc_type="natural") for s in psi]
        return Solution(
            energies,
            lambda p: np.array([spline(p) for spline in splines]),
            laplacian=lambda p: np.array([spline(p, 2) for spline in splines]),
        )

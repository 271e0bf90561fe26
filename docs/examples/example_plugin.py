"""An example qbench plugin: one solver and one problem in a single file.

Load it with ``--plugin`` on any command that builds cases; qbench then knows
``dense-fd`` and ``shifted_well`` by name, in this process, in ``--jobs N``
worker processes and on Dask workers (which receive the file's text, so they
need no shared disk)::

    qbench list --plugin docs/examples/example_plugin.py
    qbench run --plugin docs/examples/example_plugin.py \\
        --problem shifted_well:offset=10 --solver dense-fd:n_points=400 --solver fd

or from a suite file (``plugins = ["example_plugin.py"]``, relative to the
suite's folder). From Python, ``qbench.plugins.load("docs/examples/example_plugin.py")``
does the same. The run's ``provenance.json`` records the file's path, sha256
and the ``__version__`` below.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
from scipy.interpolate import CubicSpline

from qbench.problems import Problem, Reference
from qbench.problems import register as register_problem
from qbench.solvers import Option, Solution, Solver
from qbench.solvers import register as register_solver

__version__ = "1.0"


def check_n_points(name: str, value: Any) -> int:
    """Validate a grid size: an integer in [3, 4000] (a dense eigensolve is O(n^3))."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 3 <= value <= 4000:
        raise ValueError(f"{name} must be an integer in [3, 4000], got {value!r}")
    return int(value)


def check_finite(name: str, value: Any, positive: bool = False) -> float:
    """Validate a real parameter: finite, and > 0 when ``positive``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return float(value)


@register_solver
class DenseFD(Solver):
    """Three-point finite differences on a uniform grid, solved with a dense eigensolver.

    The Hamiltonian ``-d^2/dx^2 + V`` on ``n_points`` interior points of the
    box (psi = 0 on the walls) is a symmetric tridiagonal matrix; ``numpy.linalg.eigh``
    gives all its eigenpairs. Energies converge at second order in the grid
    spacing ``h`` for a smooth potential.

    Parameters
    ----------
    n_points : int, default 400
        Interior grid points, in [3, 4000].
    """

    name = "dense-fd"
    family = "classical"
    # Its wavefunctions take points of shape (n, 1); without this line a 1D-only plugin solver is
    # taken for one written before d > 1 existed, and handed flat positions.
    takes_points = True
    options = {"n_points": Option(400, check_n_points, "interior grid points, 3 .. 4000")}

    def check_problem(self, problem: Problem, n_states: int) -> None:
        if n_states > self.n_points:
            raise ValueError(f"n_states={n_states} needs n_points >= {n_states}, got {self.n_points}")

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        # A 1D solver (dimensions defaults to (1,)): the box has one axis.
        x = np.linspace(*problem.box[0], self.n_points + 2)
        h = x[1] - x[0]
        diagonal = 2.0 / h**2 + problem.potential(x[1:-1])
        off_diagonal = np.full(self.n_points - 1, -1.0 / h**2)
        matrix = np.diag(diagonal) + np.diag(off_diagonal, 1) + np.diag(off_diagonal, -1)
        energies, vectors = np.linalg.eigh(matrix)
        psi = np.zeros((n_states, len(x)))
        psi[:, 1:-1] = vectors[:, :n_states].T / np.sqrt(h)  # sum(psi^2) h = 1

        # A natural cubic spline through the nodal values: psi'' = (V - E) psi = 0 on the walls.
        # It is twice differentiable, so qbench can certify the states with its Laplacian
        # (docs/certificates.md); a piecewise-linear interpolant would leave them unverified.
        splines = [CubicSpline(x, state, bc_type="natural") for state in psi]

        def wavefunctions(points: np.ndarray) -> np.ndarray:
            # points has shape (n, 1): one coordinate per point in 1D.
            return np.array([spline(points[:, 0]) for spline in splines])

        def laplacian(points: np.ndarray) -> np.ndarray:
            return np.array([spline(points[:, 0], 2) for spline in splines])

        return Solution(
            energies[:n_states],
            wavefunctions,
            {"matrix_size": self.n_points},
            laplacian=laplacian,
            derivatives_by="cubic spline",
        )


@register_problem
class ShiftedWell(Problem):
    """Infinite square well of width ``length`` with a constant potential ``offset`` inside.

    ``V(x) = offset`` on ``[0, length]``, hard walls at both ends. Exactly
    solvable: ``E_n = offset + ((n + 1) pi / length)^2`` and
    ``psi_n(x) = sqrt(2 / length) sin((n + 1) pi x / length)``, each rising
    from the left wall (qbench's sign convention), for ``n = 0, 1, ...``.

    Parameters
    ----------
    length : float, default 1.0
        Width of the box, > 0.
    offset : float, default 10.0
        The constant potential inside, any finite real number.
    """

    name = "shifted_well"
    has_exact_reference = True

    def __init__(self, length: float = 1.0, offset: float = 10.0):
        super().__init__()
        self._length = check_finite("length", length, positive=True)
        self._offset = check_finite("offset", offset)

    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        return ((0.0, self._length),)  # one axis; no jumps, so no axis_breakpoints

    @property
    def params(self) -> dict[str, Any]:
        return {"length": self._length, "offset": self._offset}

    def potential(self, points: np.ndarray) -> np.ndarray:
        x = points[:, 0]  # points has shape (n, 1)
        inside = (x >= 0.0) & (x <= self._length)
        return np.where(inside, self._offset, np.inf)

    def _compute_reference(self, n_states: int) -> Reference:
        k = np.arange(1, n_states + 1) * np.pi / self._length
        length = self._length

        def wavefunctions(points: np.ndarray) -> np.ndarray:
            return np.sqrt(2.0 / length) * np.sin(np.outer(k, points[:, 0]))

        return Reference(self._offset + k**2, wavefunctions, method="analytic", rel_error_bound=1e-15)

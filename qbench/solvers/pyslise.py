"""The ``pyslise`` solver: Matslise's constant-perturbation methods (the optional gold standard) in 1D."""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

from .._validation import check_real
from ..numerics.signs import rising_signs
from ..problems import Problem
from .base import Option, Solution, Solver, Status

INSTALL_HINT = "pip install 'qbench[gold]'"
DIRICHLET = (0.0, 1.0)  # (psi, psi') at a wall: psi = 0, any slope


def _check_tolerance(name: str, value: float) -> float:
    value = check_real(name, value)
    if not 1e-15 <= value <= 1e-3:
        raise ValueError(f"{name} must be in [1e-15, 1e-3], got {value!r}")
    return value


def load_pyslise() -> ModuleType:
    """Import pyslise, or raise ``ValueError`` saying how to install it."""
    try:
        return importlib.import_module("pyslise")
    except ImportError as exc:
        raise ValueError(
            f"solver 'pyslise' needs the optional package pyslise ({INSTALL_HINT}): {exc}"
        ) from None


class Pyslise(Solver):
    """Constant-perturbation methods of Matslise, through the ``pyslise`` package.

    pyslise replaces V on each sector by a constant plus a polynomial
    perturbation and propagates the solution with closed forms, choosing
    sectors to meet ``tolerance``; it counts eigenvalues by a Prüfer angle,
    so it cannot skip one. The problem's breakpoints are always passed as
    ``jumps``: without them a sector straddles the jump, and pyslise is off
    by about 1e-5 while its own error estimate still claims about 1e-11
    (``tests/test_pyslise.py`` shows it). Walls are
    Dirichlet, (psi, psi') = (0, 1) at both ends. pyslise's own error
    estimate of each eigenvalue is recorded in ``info["error_estimate"]``.

    It supplies no Laplacian: pyslise returns psi and psi', and the one second derivative at
    hand, (V - E) psi, would satisfy the equation by construction. Its psi is a smooth ODE
    solution, so qbench's own differences of psi give an honest residual instead
    (``tests/test_pyslise.py`` measures them).

    Needs the optional extra: ``pip install 'qbench[gold]'``.

    Options
    -------
    tolerance : float, default 1e-12
        pyslise's accuracy target, in [1e-15, 1e-3].
    """

    name = "pyslise"
    family = "reference"
    #: Shown by ``qbench list``: the solver needs an optional extra.
    install_hint = INSTALL_HINT
    options = {
        "tolerance": Option(1e-12, _check_tolerance, "pyslise's accuracy target, in [1e-15, 1e-3]"),
    }

    def __init__(self, **options):
        self._pyslise = load_pyslise()  # at construction, so a suite without it fails before starting
        super().__init__(**options)

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        def potential(x: float) -> float:
            return float(problem.potential(np.array([[x]]))[0])

        jumps = list(problem.axis_breakpoints[0])
        solver = self._pyslise.Pyslise(potential, *problem.box[0], tolerance=self.tolerance, jumps=jumps)
        pairs = solver.eigenpairsByIndex(0, n_states, DIRICHLET, DIRICHLET)
        found = {index: (energy, function) for index, energy, function in pairs}
        energies = np.array([found[n][0] if n in found else np.nan for n in range(n_states)])
        functions = [found[n][1] if n in found else None for n in range(n_states)]
        estimates = [
            float(solver.eigenvalueError(found[n][0], DIRICHLET, DIRICHLET, index=n))
            if n in found
            else np.nan
            for n in range(n_states)
        ]
        info = {
            "tolerance": self.tolerance,
            "jumps": jumps,
            "error_estimate": estimates,
            "pyslise_version": str(getattr(self._pyslise, "version", "unknown")).strip('"'),
        }
        missing = [n for n in range(n_states) if n not in found]
        status, message = Status.OK, ""
        if missing:
            status, message = Status.FAILED, f"pyslise returned no eigenvalue for state(s) {missing}"
        return Solution(energies, _Eigenfunctions(functions, problem.box[0]), info, status, message)


class _Eigenfunctions:
    """Callable ``points (n, 1) -> (n_states, n)`` from pyslise's eigenfunctions, rising from the left."""

    def __init__(self, functions, interval: tuple[float, float]):
        self.functions = functions
        self.signs = np.ones(len(functions))
        probe = np.linspace(*interval, 1001)
        self.signs = rising_signs(np.nan_to_num(self(probe)))

    def __call__(self, points: np.ndarray) -> np.ndarray:
        x = np.asarray(points, dtype=float).reshape(-1)
        rows = [
            np.full(len(x), np.nan) if f is None else sign * np.asarray(f(x))[0]
            for f, sign in zip(self.functions, self.signs)
        ]
        return np.array(rows)

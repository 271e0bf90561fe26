"""Smooth potentials with analytic spectra, placed in a hard-wall box.

Each is solved in closed form on the whole real line. Inside a box the walls
raise every level by a small amount, which is estimated, not ignored: if
psi is the free-space state (normalized) and the box edge w lies in its
classically forbidden tail, clamping psi to zero there costs about

    dE = sum over walls of 2 kappa(w) psi(w)^2,    kappa(w) = sqrt(V(w) - E)

(compare the free state with the boxed one through their Wronskian; the boxed
state near the wall is psi(x) - psi(w) exp(-kappa |x - w|)). Twice that
estimate, relative to |E|, is each reference's ``rel_error_bound``; a test
checks the estimate against the true shift of narrow boxes (it is within a
few per cent). ``check_states`` refuses states whose bound exceeds
``MAX_BOX_ERROR``, so the analytic values are never used where the box has
moved them. The reference wavefunctions carry the wall correction above, so
they vanish at the walls like the boxed states do.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any

import numpy as np
from scipy.special import eval_jacobi

from .._validation import check_int, check_positive
from ..numerics.hermite import hermite_functions
from ..numerics.quadrature import gauss_legendre_rule
from ..numerics.signs import rising_signs
from .base import Problem, check_dim
from .reference import Reference
from .separable import Separable

#: Largest estimated relative shift of a level by the box for which the analytic value is the reference.
MAX_BOX_ERROR = 1e-12
#: The bound is this multiple of the first-order estimate of the walls' shift.
BOX_ERROR_SAFETY = 2.0
#: Relative rounding of the closed forms themselves (eigenvalues of a tiny matrix at worst).
_FORMULA_ERROR = 1e-15


class BoxedAnalytic(Problem):
    """A potential with a closed-form spectrum on the real line, inside ``[-box_half_width, box_half_width]``.

    Subclasses give the free-space energies and normalized eigenfunctions,
    and optionally ``max_states`` when only finitely many are known.
    """

    has_exact_reference = True
    #: Number of states with a closed form, or None for all of them.
    max_states: int | None = None

    def __init__(self, box_half_width: float):
        super().__init__()
        self.box_half_width = check_positive("box_half_width", box_half_width)
        self._scales = np.empty(0)  # normalization and sign of each state, computed once

    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        return ((-self.box_half_width, self.box_half_width),)

    @abstractmethod
    def free_energies(self, n_states: int) -> np.ndarray:
        """Exact eigenvalues on the real line, states ``0 .. n_states - 1``."""

    @abstractmethod
    def _free_states(self, n_states: int, x: np.ndarray) -> np.ndarray:
        """Free-space eigenfunctions at ``x``, ``(n_states, len(x))``, any normalization and sign."""

    def free_states(self, n_states: int, x: np.ndarray) -> np.ndarray:
        """Free-space eigenfunctions normalized on the real line, rising from the left."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        scale = self._normalization(n_states)
        return scale[:, None] * self._free_states(n_states, x)

    def _normalization(self, n_states: int) -> np.ndarray:
        # Every wavefunction evaluation needs these; a state's scale does not depend on n_states.
        if len(self._scales) < n_states:
            # The tails beyond the box hold less than the box error itself, so the box integral normalizes.
            x, w = gauss_legendre_rule(np.linspace(*self.domain, 257), 1, order=20)
            values = self._free_states(n_states, x)
            self._scales = rising_signs(values) / np.sqrt((values**2) @ w)
        return self._scales[:n_states]

    def _wall_terms(self, n_states: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Free states at the two walls, kappa there (NaN where E >= V), and the walls."""
        walls = np.array(self.domain)
        values = self.free_states(n_states, walls)
        kappa_squared = self.potential(walls)[None, :] - self.free_energies(n_states)[:, None]
        kappa = np.sqrt(np.where(kappa_squared > 0, kappa_squared, np.nan))
        return values, kappa, walls

    def box_error(self, n_states: int) -> np.ndarray:
        """First-order estimate of each level's relative shift by the walls (``inf`` if a wall is not
        in the state's forbidden region)."""
        values, kappa, _ = self._wall_terms(n_states)
        shift = np.where(np.isnan(kappa), np.inf, 2.0 * kappa * values**2).sum(axis=1)
        return shift / np.abs(self.free_energies(n_states))

    def check_states(self, n_states: int) -> None:
        n_states = check_int("n_states", n_states, minimum=1)
        if self.max_states is not None and n_states > self.max_states:
            raise ValueError(
                f"n_states must be <= {self.max_states} for {self!r}: only states "
                f"0..{self.max_states - 1} have a closed form"
            )
        errors = BOX_ERROR_SAFETY * self.box_error(n_states)
        worst = int(np.argmax(errors))
        if not errors[worst] <= MAX_BOX_ERROR:
            raise ValueError(
                f"box_half_width={self.box_half_width!r} is too narrow for state {worst} of {self!r}: "
                f"the walls move it by up to {errors[worst]:.1e} relative (allowed {MAX_BOX_ERROR:.0e}); "
                "widen the box or ask for fewer states"
            )

    def _compute_reference(self, n_states: int) -> Reference:
        energies = self.free_energies(n_states)
        bound = float(max(BOX_ERROR_SAFETY * self.box_error(n_states).max(), _FORMULA_ERROR))
        wall_values, kappa, walls = self._wall_terms(n_states)
        x0, x1 = self.domain

        def evaluate(points: np.ndarray) -> np.ndarray:
            x = points[:, 0]
            inside = (x >= x0) & (x <= x1)
            x_in = np.where(inside, x, 0.0)
            values = self.free_states(n_states, x_in)
            for w in range(2):  # the wall correction: the boxed state vanishes at the wall
                decay = np.exp(-kappa[:, w : w + 1] * np.abs(x_in - walls[w])[None, :])
                values -= wall_values[:, w : w + 1] * decay
            return np.where(inside, values, 0.0)

        return Reference(energies, evaluate, method=f"analytic ({self.formula})", rel_error_bound=bound)

    #: How the closed form is obtained, for the reference's ``method``.
    formula: str = "closed form"


class OscillatorAxis(BoxedAnalytic):
    """One axis of :class:`HarmonicOscillator`: V = omega^2 x^2 in ``[-box_half_width, box_half_width]``.

    E_n = (2 n + 1) omega, and psi_n are Hermite functions of sqrt(omega) x, with the walls'
    shift estimated and bounded (:class:`BoxedAnalytic`). Not registered: the registered
    problem for every d is ``harmonic_oscillator``.
    """

    name = "harmonic_oscillator"
    formula = "(2n+1) omega, Hermite functions"

    def __init__(self, omega: float = 1.0, box_half_width: float = 8.0):
        self.omega = check_positive("omega", omega)
        super().__init__(box_half_width)

    @property
    def params(self) -> dict[str, Any]:
        return {"omega": self.omega, "box_half_width": self.box_half_width}

    def potential(self, points: np.ndarray) -> np.ndarray:
        x = points[:, 0]
        return np.where(np.abs(x) <= self.box_half_width, self.omega**2 * x**2, np.inf)

    def free_energies(self, n_states: int) -> np.ndarray:
        return (2.0 * np.arange(n_states) + 1.0) * self.omega

    def _free_states(self, n_states: int, x: np.ndarray) -> np.ndarray:
        return hermite_functions(n_states, math.sqrt(self.omega) * x)


class HarmonicOscillator(Separable):
    """The isotropic harmonic oscillator V = omega^2 |x|^2 in ``[-box_half_width, box_half_width]^dim``.

    The separable sum of ``dim`` copies of one 1D oscillator (:class:`OscillatorAxis`), so
    E = omega (2 (n_1 + .. + n_d) + d), the level with n_1 + .. + n_d = N being
    C(N + d - 1, d - 1)-fold degenerate, and each level's bound is its 1D parts' (the walls'
    shift, see :class:`BoxedAnalytic`). In 1D, E_n = (2 n + 1) omega and psi_n are Hermite
    functions of sqrt(omega) x.

    Parameters
    ----------
    omega : float, default 1.0
        Frequency, > 0.
    box_half_width : float, default 8.0
        Walls at +-box_half_width on every axis. The default keeps the walls' shift below
        1e-14 relative for the lowest ten 1D states at omega = 1.
    dim : int, default 1
        Number of dimensions, 1 to ``MAX_DIM`` (4). A 1D oscillator's ``params`` have no
        ``dim``, so its cases keep the identity they had before d > 1 existed.
    """

    name = "harmonic_oscillator"

    def __init__(self, omega: float = 1.0, box_half_width: float = 8.0, dim: int = 1):
        Problem.__init__(self)  # not Separable.__init__: the parts are built here, not from names
        self._dim = check_dim("dim", dim)
        axis = OscillatorAxis(omega, box_half_width)
        self.omega, self.box_half_width = axis.omega, axis.box_half_width
        self._set_parts([axis] * self._dim)  # one shared 1D problem: its reference is computed once

    @property
    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"omega": self.omega, "box_half_width": self.box_half_width}
        return params if self._dim == 1 else {**params, "dim": self._dim}


class PoschlTeller(BoxedAnalytic):
    """Pöschl–Teller well V = -lam (lam + 1) alpha^2 / cosh^2(alpha x) in a wide box.

    Bound states n < lam have E_n = -alpha^2 (lam - n)^2 and
    psi_n = (1 - t^2)^(s/2) P_n^(s,s)(t), t = tanh(alpha x), s = lam - n
    (Jacobi polynomials); above them the spectrum is the box's, with no
    closed form, so ``n_states`` is limited to the bound states.

    Parameters
    ----------
    lam : float, default 5.0
        Strength, > 0; there are ceil(lam) bound states.
    alpha : float, default 1.0
        Inverse width of the well, > 0.
    box_half_width : float, default 10.0
        Walls at +-box_half_width. Bound state n decays as
        exp(-alpha (lam - n) |x|); the default box holds states 0-3 of the
        default well to 1e-14 (state 4, at E = -1, needs a box of about 16).
    """

    name = "poschl_teller"
    formula = "-alpha^2 (lam - n)^2, Jacobi polynomials"

    def __init__(self, lam: float = 5.0, alpha: float = 1.0, box_half_width: float = 10.0):
        self.lam = check_positive("lam", lam)
        self.alpha = check_positive("alpha", alpha)
        super().__init__(box_half_width)

    @property
    def max_states(self) -> int:  # type: ignore[override]
        return math.ceil(self.lam)

    @property
    def params(self) -> dict[str, Any]:
        return {"lam": self.lam, "alpha": self.alpha, "box_half_width": self.box_half_width}

    def potential(self, points: np.ndarray) -> np.ndarray:
        x = points[:, 0]
        depth = self.lam * (self.lam + 1.0) * self.alpha**2
        return np.where(np.abs(x) <= self.box_half_width, -depth / np.cosh(self.alpha * x) ** 2, np.inf)

    def free_energies(self, n_states: int) -> np.ndarray:
        return -(self.alpha**2) * (self.lam - np.arange(n_states)) ** 2

    def _free_states(self, n_states: int, x: np.ndarray) -> np.ndarray:
        t = np.tanh(self.alpha * x)
        sech = 1.0 / np.cosh(self.alpha * x)
        out = np.empty((n_states, len(x)))
        for n in range(n_states):
            s = self.lam - n
            out[n] = sech**s * eval_jacobi(n, s, s, t)
        return out


class DoubleWell(BoxedAnalytic):
    """Razavy's hyperbolic double well, quasi-exactly solvable, in a box.

    V(x) = 2 beta^2 cosh(4x) - 4 beta n_exact cosh(2x) + n_exact^2 + 2 beta^2,
    shifted so its two minima are at V = 0, with a barrier of height
    (n_exact - 2 beta)^2 at x = 0. With M = n_exact - 1 the functions
    exp(-beta cosh 2x) * sum_j a_j exp((2j - M) x) span a space the
    Hamiltonian maps to itself; its (M + 1) x (M + 1) tridiagonal matrix gives
    the lowest n_exact states exactly (the state with k nodes is state k,
    by Sturm oscillation). Higher states have no closed form, so ``n_states``
    is limited to n_exact.

    Parameters
    ----------
    beta : float, default 0.5
        > 0 and < n_exact / 2 (else there is a single well).
    n_exact : int, default 4
        Number of exactly known states, >= 1.
    box_half_width : float, default 2.5
        Walls at +-box_half_width; V grows like exp(4 |x|), so the default
        walls move the levels by far less than 1e-15.
    """

    name = "double_well"
    formula = "quasi-exactly solvable (Razavy), eigenvalues of an n_exact x n_exact tridiagonal matrix"

    def __init__(self, beta: float = 0.5, n_exact: int = 4, box_half_width: float = 2.5):
        self.beta = check_positive("beta", beta)
        self.n_exact = check_int("n_exact", n_exact, minimum=1)
        if not self.beta < 0.5 * self.n_exact:
            raise ValueError(
                f"beta must be < n_exact / 2 = {0.5 * self.n_exact!r} for a double well, got {self.beta!r}"
            )
        super().__init__(box_half_width)
        self._matrix_solution = self._tridiagonal_eigenpairs()

    @property
    def max_states(self) -> int:  # type: ignore[override]
        return self.n_exact

    @property
    def params(self) -> dict[str, Any]:
        return {"beta": self.beta, "n_exact": self.n_exact, "box_half_width": self.box_half_width}

    @property
    def barrier_height(self) -> float:
        return (self.n_exact - 2.0 * self.beta) ** 2

    def _offset(self) -> float:
        return self.n_exact**2 + 2.0 * self.beta**2

    def potential(self, points: np.ndarray) -> np.ndarray:
        x = points[:, 0]
        b, m1 = self.beta, self.n_exact
        inside = np.abs(x) <= self.box_half_width
        x = np.where(inside, x, 0.0)
        v = 2.0 * b * b * np.cosh(4.0 * x) - 4.0 * b * m1 * np.cosh(2.0 * x) + self._offset()
        return np.where(inside, v, np.inf)

    def _tridiagonal_eigenpairs(self) -> tuple[np.ndarray, np.ndarray]:
        # H (e^{-beta cosh 2x} e^{p x}) = e^{-beta cosh 2x} [(2 beta^2 - p^2) e^{px}
        #   + 2 beta (p - M) e^{(p+2)x} - 2 beta (p + M) e^{(p-2)x}] + offset, p = 2j - M.
        m = self.n_exact - 1
        exponents = np.arange(-m, m + 1, 2, dtype=float)
        matrix = np.diag(-(exponents**2))
        for j in range(m):
            matrix[j + 1, j] = 2.0 * self.beta * (exponents[j] - m)
            matrix[j, j + 1] = -2.0 * self.beta * (exponents[j + 1] + m)
        # Sub- and super-diagonal have the same sign, so D^-1 T D is symmetric for
        # d_{j+1} / d_j = sqrt(sub_j / super_j): the spectrum is real and eigh applies.
        sub, sup = matrix.diagonal(-1), matrix.diagonal(1)
        off = np.sign(sup) * np.sqrt(sub * sup)
        values, vectors = np.linalg.eigh(np.diag(matrix.diagonal()) + np.diag(off, 1) + np.diag(off, -1))
        coefficients = np.concatenate([[1.0], np.cumprod(np.sqrt(sub / sup))])[:, None] * vectors
        energies = values + 2.0 * self.beta**2 + self._offset()
        return energies, coefficients

    def free_energies(self, n_states: int) -> np.ndarray:
        return self._matrix_solution[0][:n_states].copy()

    def _free_states(self, n_states: int, x: np.ndarray) -> np.ndarray:
        m = self.n_exact - 1
        exponents = np.arange(-m, m + 1, 2, dtype=float)
        # One exponent per term so neither exp(p x) nor exp(-beta cosh 2x) overflows alone.
        terms = np.exp(exponents[:, None] * x[None, :] - self.beta * np.cosh(2.0 * x)[None, :])
        return self._matrix_solution[1][:, :n_states].T @ terms

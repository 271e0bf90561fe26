"""Coupled harmonic oscillators: V = x^T A x with A symmetric positive definite, in any d.

With A = Q diag(omega^2) Q^T, the normal coordinates y = Q^T x separate the Hamiltonian
(the Laplacian is invariant under rotation): E = sum_i omega_i (2 n_i + 1), and psi is the
product of Hermite functions h_{n_i}(sqrt(omega_i) y_i). No axis of a grid is aligned with the
normal modes unless Q is a permutation, so a tensor-product method cannot diagonalize it axis by
axis.

The box's walls raise every level. The shift is bounded, not estimated (:meth:`CoupledOscillator.box_bound`):
the free-space level is a lower bound (Dirichlet domain monotonicity), and Rayleigh-Ritz on the
free states times a cutoff that is 1 in the cube |x_a| <= R and 0 on the walls gives an upper
bound, through Chernoff's bound on each state's mass outside that cube (the Hermite densities'
moment generating functions are closed forms, :func:`qbench.numerics.hermite.hermite_log_mgf`).

>>> import qbench
>>> p = qbench.problems.get("coupled_oscillator", dim=3, frequencies=[1.0, 1.0, 2.0])
>>> [float(e) for e in p.level_energies(4)]
[4.0, 6.0, 6.0, 8.0]
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from .._validation import check_int, check_positive
from ..numerics.hermite import hermite_functions, hermite_log_mgf
from ..numerics.quadrature import gaussian_rule
from .base import MAX_DIM, MAX_SAMPLED_DIM, Problem
from .reference import Reference
from .rotations import check_orthogonal, haar_rotation, identity, square_matrix

#: Largest bound on the walls' relative shift of a level for which the free-space value is the reference.
MAX_BOX_ERROR = 1e-12
#: The largest frequency and half-width accepted (beyond them omega^2 L^2 nears overflow).
MAX_FREQUENCY = 1e6
MAX_BOX_HALF_WIDTH = 1e4
#: A matrix is symmetric when ``|A - A^T|`` is at most this times ``max |A|``.
SYMMETRY_RTOL = 1e-12
#: Nodes of the grading rule above ``MAX_DIM``, where no tensor rule fits (a power of two).
SAMPLED_RULE_POINTS = 2**14
#: The sampled rule's Gaussian is this much wider (in standard deviation) than the ground state's
#: density, so that it covers excited states' wider densities.
SAMPLED_RULE_WIDENING = 1.5
#: Seed of the sampled rule's scrambling (fixed: grades are reproducible).
SAMPLED_RULE_SEED = 20261206
#: Widths of the cutoff's ramp tried for the box bound, as fractions of the box's half-width.
_RAMP_FRACTIONS = (0.02, 0.05, 0.1, 0.2, 0.3)


class CoupledOscillator(Problem):
    """Coupled harmonic oscillators V = x^T A x in ``[-box_half_width, box_half_width]^dim``.

    Parameters
    ----------
    dim : int, optional
        Number of dimensions, 1 to 16. Default: the size of ``matrix``, ``frequencies`` or
        ``rotation`` when one is given (which must agree with ``dim`` when both are), else 2.
    frequencies : list of float, optional
        The normal-mode frequencies omega_i > 0 (A's eigenvalues are omega_i^2). Default:
        ``dim`` values evenly spaced from 0.7 to 1.9.
    rotation : list of lists, optional
        An orthogonal ``dim x dim`` matrix Q whose columns are the normal modes. Default: a
        Haar-random rotation drawn from ``seed``.
    seed : int, default 0
        Seed of the random rotation (unused when ``rotation`` or ``matrix`` is given).
    matrix : list of lists, optional
        A symmetric positive-definite A, given directly instead of ``frequencies`` and
        ``rotation``.
    box_half_width : float, default 8.0
        Walls at +-box_half_width on every axis. A box whose walls could move the ground level
        by more than 1e-12 (relative) is refused.

    Notes
    -----
    The reference's ``rel_error_bound`` is the rigorous bound on the walls' shift
    (:meth:`box_bound`) plus the rounding of A. Levels with equal sums are degenerate (equal
    frequencies); their energies are summed in sorted order so that they are bitwise equal.
    """

    name = "coupled_oscillator"
    has_exact_reference = True
    dimensions = tuple(range(1, MAX_SAMPLED_DIM + 1))

    def __init__(
        self,
        dim: int | None = None,
        frequencies: Sequence[float] | None = None,
        rotation: Sequence[Sequence[float]] | None = None,
        seed: int = 0,
        matrix: Sequence[Sequence[float]] | None = None,
        box_half_width: float = 8.0,
    ):
        super().__init__()
        self._box_bounds: dict[int, np.ndarray] = {}
        if dim is not None:
            dim = check_int("dim", dim, minimum=1, maximum=MAX_SAMPLED_DIM)
        self.seed = check_int("seed", seed, minimum=0)
        self.box_half_width = check_positive("box_half_width", box_half_width)
        if not self.box_half_width <= MAX_BOX_HALF_WIDTH:
            raise ValueError(f"box_half_width must be in (0, {MAX_BOX_HALF_WIDTH:g}], got {box_half_width!r}")
        self._given = {"frequencies": frequencies, "rotation": rotation, "matrix": matrix}
        if matrix is not None:
            if frequencies is not None or rotation is not None:
                raise ValueError("give either matrix, or frequencies and rotation, not both")
            a = square_matrix("matrix", matrix, dim)
            scale = float(np.max(np.abs(a)))
            if not np.all(np.isfinite(a)) or np.max(np.abs(a - a.T)) > SYMMETRY_RTOL * scale:
                raise ValueError("matrix must be symmetric (|A - A^T| <= 1e-12 max|A|)")
            a = 0.5 * (a + a.T)
            eigenvalues, q = np.linalg.eigh(a)
            if not eigenvalues[0] > 0:
                raise ValueError(
                    f"matrix must be positive definite; its smallest eigenvalue is {eigenvalues[0]:.3g}"
                )
            self.frequencies, self.rotation = np.sqrt(eigenvalues), q
        else:
            q_given = None if rotation is None else square_matrix("rotation", rotation, dim)
            if frequencies is None:
                count = dim if dim is not None else 2 if q_given is None else len(q_given)
                freqs = np.linspace(0.7, 1.9, count)
            else:
                try:
                    if isinstance(frequencies, (str, bytes)):
                        raise TypeError
                    freqs = np.array(frequencies, dtype=float, ndmin=1)
                except (TypeError, ValueError):
                    raise ValueError(
                        f"frequencies must be a list of positive numbers, got {frequencies!r}"
                    ) from None
                if freqs.ndim != 1 or not np.all((freqs > 0) & (freqs <= MAX_FREQUENCY)):
                    raise ValueError(
                        f"frequencies must be numbers in (0, {MAX_FREQUENCY:g}], got {frequencies!r}"
                    )
                if not 1 <= len(freqs) <= MAX_SAMPLED_DIM:
                    raise ValueError(
                        f"frequencies must have 1 to {MAX_SAMPLED_DIM} entries, got {len(freqs)}"
                    )
            n = len(freqs)
            if q_given is None:
                q = haar_rotation(n, self.seed)
            else:
                q = check_orthogonal(square_matrix("rotation", q_given, n))
            self.frequencies, self.rotation = freqs, q
        self._dim = len(self.frequencies)
        if dim is not None and dim != self._dim:
            raise ValueError(f"dim={dim} disagrees with the {self._dim} dimensions of frequencies")
        self.matrix = (self.rotation * self.frequencies**2) @ self.rotation.T
        self.matrix = 0.5 * (self.matrix + self.matrix.T)
        ground = float(self.box_bound(1)[0])
        if not ground <= MAX_BOX_ERROR:
            raise ValueError(
                f"box_half_width={self.box_half_width!r} is too small for {self.name}: the walls may "
                f"move the ground level by up to {ground:.1e} relative (allowed {MAX_BOX_ERROR:.0e}); "
                "widen the box"
            )

    # -- geometry and potential ------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"dim": self._dim}
        for key, value in self._given.items():
            if value is not None:
                params[key] = np.asarray(value, dtype=float).tolist()
        if self._given["rotation"] is None and self._given["matrix"] is None:
            params["seed"] = self.seed
        params["box_half_width"] = self.box_half_width
        return params

    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        return ((-self.box_half_width, self.box_half_width),) * self._dim

    @property
    def v_min(self) -> float:
        """The least V over the box: 0, at the origin (A is positive definite and the box is
        centred there). The neural solvers' lower bound on E0 (min V + the empty box's ground
        level) reads it instead of sampling V."""
        return 0.0

    def potential(self, points: np.ndarray) -> np.ndarray:
        """V = x^T A x at points ``(n, d)``; ``inf`` outside the box."""
        values = np.einsum("ni,ij,nj->n", points, self.matrix, points)
        inside = np.all(np.abs(points) <= self.box_half_width, axis=1)
        return np.where(inside, values, np.inf)

    def product_terms(self) -> list[tuple[float, dict[int, Any]]]:
        """V as a sum of products of one-axis functions: A_ii x_i^2 and 2 A_ij x_i x_j (i < j)."""
        terms: list[tuple[float, dict[int, Any]]] = []
        for i in range(self._dim):
            terms.append((float(self.matrix[i, i]), {i: np.square}))
            for j in range(i + 1, self._dim):
                if self.matrix[i, j] != 0.0:
                    terms.append((2.0 * float(self.matrix[i, j]), {i: identity, j: identity}))
        return terms

    # -- spectrum --------------------------------------------------------------
    def quanta(self, n: int) -> np.ndarray:
        """The normal-mode quanta ``n_i`` of the ``n`` lowest levels, ``(n, d)``, in ascending energy.

        A best-first walk from the ground state: each popped tuple pushes its d successors, so
        the k-th pop is the k-th lowest level (ties in order of the tuples).
        """
        n = check_int("n", n, minimum=1)
        start = (0,) * self._dim
        heap = [(self._energy(start), start)]
        seen, out = {start}, []
        while len(out) < n:
            _, quanta = heapq.heappop(heap)
            out.append(quanta)
            for axis in range(self._dim):
                nxt = (*quanta[:axis], quanta[axis] + 1, *quanta[axis + 1 :])
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (self._energy(nxt), nxt))
        return np.array(out, dtype=int)

    def _energy(self, quanta: Sequence[int]) -> float:
        # Sorted terms: permutations of equal frequencies give bitwise-equal sums (exact degeneracy).
        return float(np.sort(self.frequencies * (2.0 * np.asarray(quanta) + 1.0)).sum())

    def level_energies(self, n: int) -> np.ndarray:
        return np.array([self._energy(q) for q in self.quanta(n)])

    def check_states(self, n_states: int) -> None:
        super().check_states(n_states)
        bounds = self.box_bound(n_states)
        worst = int(np.argmax(bounds))
        if not bounds[worst] <= MAX_BOX_ERROR:
            raise ValueError(
                f"box_half_width={self.box_half_width!r} is too small for state {worst} of {self.name}: "
                f"the walls may move it by up to {bounds[worst]:.1e} relative (allowed "
                f"{MAX_BOX_ERROR:.0e}); widen the box or ask for fewer states"
            )

    def tail_masses(self, n_states: int, radius: float) -> np.ndarray:
        """Per state, an upper bound on ``sum_a P(|x_a| > radius)`` under psi^2, shape ``(n_states,)``.

        x_a = sum_i Q_ai y_i with independent y_i of the Hermite densities, so by Chernoff
        P(x_a > r) <= exp(sum_i log M_i(t Q_ai) - t r) for every t >= 0; the densities are even,
        so P(|x_a| > r) is at most twice that. t is found by a bounded scalar minimization; any
        t gives a valid bound.
        """
        quanta = self.quanta(n_states)
        scaled = self.rotation / np.sqrt(self.frequencies)[None, :]  # x_a = sum_i scaled[a, i] y'_i
        out = np.zeros(n_states)
        for k, q in enumerate(quanta):
            for a in range(self._dim):

                def log_bound(t: float, row: np.ndarray = scaled[a], q: np.ndarray = q) -> float:
                    return float(sum(hermite_log_mgf(int(n), t * c) for n, c in zip(q, row)) - t * radius)

                spread = math.sqrt(float(np.sum(scaled[a] ** 2 * (q + 0.5))))
                best = minimize_scalar(
                    log_bound, bounds=(0.0, 4.0 * radius / spread**2), method="bounded"
                ).fun
                out[k] += 2.0 * math.exp(min(best, 0.0))
        return np.minimum(out, 1.0)

    def box_bound(self, n_states: int) -> np.ndarray:
        """A rigorous bound on each level's relative shift by the walls, shape ``(n_states,)``.

        Below: the free-space level (Dirichlet domain monotonicity). Above: Rayleigh-Ritz on
        chi psi_j, j < n_states, with chi = prod_a c(x_a), c = 1 for |x_a| <= R falling as a
        quarter cosine to 0 at the wall (ramp delta = L - R, |c'| <= pi / (2 delta)). By the IMS
        formula the Ritz matrix is D - (D B + B D) / 2 + K and the Gram matrix I - B, where
        ||B|| <= beta = sum_j P_j(outside the cube R) and ||K|| <= kappa = (pi / 2 delta)^2
        sum_j sum_a P_j(|x_a| > R), so the k-th Ritz value is at most
        (E_k + E_max beta + kappa) / (1 - beta). The best of a few ramps is kept.
        """
        if n_states in self._box_bounds:  # construction, check_states and the reference all ask
            return self._box_bounds[n_states].copy()
        energies = self.level_energies(n_states)
        top = float(np.max(np.abs(energies)))
        best = np.full(n_states, np.inf)
        for fraction in _RAMP_FRACTIONS:
            delta = fraction * self.box_half_width
            tails = self.tail_masses(n_states, self.box_half_width - delta)
            beta = float(np.sum(tails))
            if not beta < 0.5:
                continue
            kappa = (math.pi / (2.0 * delta)) ** 2 * beta
            upper = (energies + top * beta + kappa) / (1.0 - beta)
            best = np.minimum(best, (upper - energies) / np.abs(energies))
        self._box_bounds[n_states] = best
        return best.copy()

    def _compute_reference(self, n_states: int) -> Reference:
        quanta = self.quanta(n_states)
        energies = np.array([self._energy(q) for q in quanta])
        # A = Q diag(omega^2) Q^T is rounded: |dA| <~ d eps max(omega)^2, which moves E by at most
        # |dA| <|x|^2> <= |dA| E / min(omega)^2 (relative: the rounding below).
        ratio = float(np.max(self.frequencies) / np.min(self.frequencies)) ** 2
        rounding = 4.0 * self._dim * np.finfo(float).eps * ratio
        bound = float(max(self.box_bound(n_states).max(), rounding))
        rotation, roots = self.rotation, np.sqrt(self.frequencies)
        top = quanta.max(axis=0) + 1

        def evaluate(points: np.ndarray) -> np.ndarray:
            y = (points @ rotation) * roots[None, :]
            values = np.ones((n_states, len(points)))
            for i in range(self._dim):
                h = hermite_functions(int(top[i]), y[:, i]) * math.sqrt(roots[i])
                values *= h[quanta[:, i]]
            inside = np.all(np.abs(points) <= self.box_half_width, axis=1)
            return np.where(inside[None, :], values, 0.0)

        return Reference(
            energies,
            evaluate,
            method="analytic (normal modes: sum omega_i (2 n_i + 1), Hermite functions)",
            rel_error_bound=bound,
        )

    def quadrature_rule(self, n_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The tensor Gauss-Legendre rule up to d = 4; above, a Gaussian quasi-Monte Carlo rule.

        The sampled rule (:func:`qbench.numerics.quadrature.gaussian_rule`) follows the ground
        state's density along the normal modes, widened by ``SAMPLED_RULE_WIDENING``, with
        ``SAMPLED_RULE_POINTS`` nodes (or ``n_points``, if fewer). Its integrals are statistical.
        """
        if self._dim <= MAX_DIM:
            return super().quadrature_rule(n_points)
        count = SAMPLED_RULE_POINTS if n_points is None else min(int(n_points), SAMPLED_RULE_POINTS)
        return self.sampled_rule(count, SAMPLED_RULE_SEED)

    def sampled_rule(self, n_points: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Scrambled-Sobol' nodes from the ground state's Gaussian along the normal modes, widened by
        ``SAMPLED_RULE_WIDENING`` (:func:`qbench.numerics.quadrature.gaussian_rule`)."""
        scales = SAMPLED_RULE_WIDENING / np.sqrt(2.0 * self.frequencies)
        return gaussian_rule(scales, self.rotation, self.box, n_points, seed)

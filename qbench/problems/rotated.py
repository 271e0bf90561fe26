"""A separable problem turned by a rotation, in an axis-aligned box: jumps on planes no grid follows.

V(x) = sum_i V_i(y_i) with y = Q^T x, inside the box ``[-B, B]^d`` (``inf`` outside), where each
V_i is a 1D potential *on the whole line* whose states decay: a finite square well
(V_i = 0 for abs(y_i) < a_i, V0_i elsewhere) or a harmonic oscillator (omega_i^2 y_i^2). The
Laplacian is invariant under rotation, so in free space the problem separates along the columns
q_i of Q: E = sum_i e_i, psi = prod_i phi_i(q_i . x), with e_i, phi_i the free-space levels of the
parts. A finite well's V jumps on the planes q_i . x = +-a_i, which no grid axis follows unless Q
is a signed permutation.

The box's walls raise every level. The shift is bounded rigorously by Dirichlet domain
monotonicity (min-max): the rotated cube ``C = {x = Q y : abs(y_i) <= c}`` with
c = B / max_a sum_i abs(Q_ai) (the largest such cube inside the box; a row's 1-norm is how far a
corner of C reaches along that axis) lies in the box, which lies in R^d, so the k-th level obeys
``E_k(R^d) <= E_k(box) <= E_k(C)``. Below the continuum of the free problem the first is the k-th
sum of free 1D levels; C separates too, so the last is at most the k-th smallest sum of upper
bounds on the parts' levels in the 1D box [-c, c] (:meth:`RotatedSeparable.box_bounds`).

>>> import qbench
>>> p = qbench.problems.get("rotated", parts=["harmonic_oscillator"] * 2, seed=1)
>>> [float(e) for e in p.level_energies(3)]
[2.0, 4.0, 4.0]
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.linalg
from scipy.optimize import brentq

from .._validation import check_int, check_positive
from ..numerics.hermite import hermite_functions
from ..numerics.quadrature import GRADING_POINTS_PER_AXIS, gauss_legendre_rule
from .base import MAX_DIM, MAX_SAMPLED_DIM, Problem, check_unsplit
from .piecewise import FiniteWell
from .reference import Reference
from .rotations import check_orthogonal, haar_rotation, identity, square_matrix
from .separable import _index_tuples

#: Largest bound on a level's relative shift by the walls for which the free-space sum is the
#: reference (checked for the ground level at construction, for every requested state by
#: ``check_states``).
MAX_BOX_ERROR = 1e-10
#: The parts whose physics lives on the whole line and decays, with their parameters' defaults.
PART_DEFAULTS: dict[str, dict[str, float]] = {
    "finite_well": {"half_width": 1.0, "V0": 20.0},
    "harmonic_oscillator": {"omega": 1.0},
}
#: Largest accepted part parameters and box (beyond them the transcendental roots and the box's
#: transfer matrices near the ends of the float range).
MAX_PART_PARAMETER = 1e6
MAX_BOX_HALF_WIDTH = 1e3
#: Relative accuracy of a free finite-well level (brentq to rounding in a well-conditioned
#: variable; a test checks the roots against a 30-digit mpmath solve).
ROOT_REL_ERROR = 1e-14
#: Relative slack added to the upper bounds of the cube's 1D levels: the finite well's
#: transfer-matrix roots (its stated ``rel_error_bound``) and the rounding of the oscillator's
#: Ritz values (a well-conditioned m x m problem, checked against exact parabolic-cylinder levels).
CUBE_LEVEL_SLACK = 1e-13
#: Nodes of the rule above ``MAX_DIM`` (a power of two) and its seed (fixed: grades are reproducible).
SAMPLED_RULE_POINTS = 2**14
SAMPLED_RULE_SEED = 20261207
#: The sampled rule's proposal along each rotated axis: the weight of its heavy tail (the rest is
#: the part's ground-state density), the widening of an oscillator's Gaussian tail over the ground
#: state's, and the cells of its tabulated distribution function.
SAMPLED_RULE_TAIL = 0.1
SAMPLED_RULE_WIDENING = 1.5
SAMPLED_TABLE = 4096
#: The rules' widths come from the decay of a well's lowest this many bound states (all of them
#: when it has fewer).
RULE_LEVELS = 16


# -- the parts: 1D potentials on the whole line ------------------------------------------------------
class _WellPart:
    """A finite square well on the whole line: V = 0 for abs(y) < a, V0 elsewhere.

    Its bound states solve z = n pi / 2 + arccos(z / z0) (z = k a, z0 = a sqrt(V0)), one root for
    each n with n pi / 2 < z0: E = k^2, kappa = sqrt(V0 - E). Even n: psi = A cos(k y) inside and
    A cos(k a) exp(-kappa (abs(y) - a)) outside; odd n: sin and sign(y) likewise; A^-2 = a + 1 / kappa.
    """

    name = "finite_well"

    def __init__(self, half_width: float, V0: float):
        self.half_width, self.V0 = half_width, V0
        self.z0 = half_width * math.sqrt(V0)
        self.count = max(1, math.ceil(2.0 * self.z0 / math.pi))
        while self.count > 1 and (self.count - 1) * math.pi / 2.0 >= self.z0:
            self.count -= 1
        self._k: list[float] = []
        self._kappa: list[float] = []
        self._cube: tuple[float, np.ndarray] | None = None

    @property
    def params(self) -> dict[str, float]:
        return {"half_width": self.half_width, "V0": self.V0}

    @property
    def jumps(self) -> tuple[float, ...]:
        return (self.half_width,)

    @property
    def threshold(self) -> float:
        """Where the part's continuum starts."""
        return self.V0

    def _solve(self, n: int) -> tuple[float, float]:
        """k and kappa of bound state n, each from a variable in which it is well conditioned."""
        z0, a, offset = self.z0, self.half_width, n * math.pi / 2.0
        tol = dict(xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=200)
        middle = z0 / math.sqrt(2.0)
        if middle - offset - math.pi / 4.0 >= 0.0:  # the root has z <= z0 / sqrt(2): solve for z
            z = brentq(lambda z: z - offset - math.acos(min(z / z0, 1.0)), offset, middle, **tol)
            return z / a, math.sqrt((z0 - z) * (z0 + z)) / a
        # z > z0 / sqrt(2): solve for phi = arccos(z / z0) in (0, pi / 4), z0 cos(phi) = offset + phi
        phi = brentq(lambda p: z0 * math.cos(p) - offset - p, 0.0, math.pi / 4.0, **tol)
        root = math.sqrt(self.V0)
        return root * math.cos(phi), root * math.sin(phi)

    def _ensure(self, n: int) -> None:
        for m in range(len(self._k), n):
            k, kappa = self._solve(m)
            self._k.append(k)
            self._kappa.append(kappa)

    def energies(self, n: int) -> np.ndarray:
        """The ``n`` lowest free levels (n <= count)."""
        self._ensure(n)
        return np.array(self._k[:n]) ** 2

    def kappas(self, n: int) -> np.ndarray:
        self._ensure(n)
        return np.array(self._kappa[:n])

    def states(self, n: int, y: np.ndarray) -> np.ndarray:
        """The ``n`` lowest free states at ``y``, normalized on the line, positive on the left tail."""
        self._ensure(n)
        a = self.half_width
        k, kappa = np.array(self._k[:n])[:, None], np.array(self._kappa[:n])[:, None]
        odd = (np.arange(n) % 2 == 1)[:, None]
        amplitude = 1.0 / np.sqrt(a + 1.0 / kappa)
        inner = np.where(odd, np.sin(k * y[None, :]), np.cos(k * y[None, :]))
        edge = np.where(odd, np.sin(k * a), np.cos(k * a))
        side = np.where(odd, np.sign(y)[None, :], 1.0)
        outer = side * edge * np.exp(-kappa * np.maximum(np.abs(y)[None, :] - a, 0.0))
        values = amplitude * np.where(np.abs(y)[None, :] < a, inner, outer)
        left = np.where(odd, -edge, edge)  # the sign on the left tail
        return values * np.sign(left)

    def potential(self, y: np.ndarray) -> np.ndarray:
        return np.where(np.abs(y) < self.half_width, 0.0, self.V0)

    def cube_upper(self, n: int, c: float) -> np.ndarray:
        """Upper bounds on the ``n`` lowest levels of the well between walls at +-c: the exact
        transfer-matrix levels of ``finite_well`` there, raised by their stated bound."""
        if self._cube is None or self._cube[0] != c or len(self._cube[1]) < n:
            boxed = FiniteWell(half_width=self.half_width, V0=self.V0, box_half_width=c).reference(n)
            slack = max(boxed.rel_error_bound, CUBE_LEVEL_SLACK)
            self._cube = (c, boxed.energies * (1.0 + slack))
        return self._cube[1][:n]

    def slowest_decay(self) -> float:
        """kappa of the highest of the ``RULE_LEVELS`` lowest bound states (kappa falls with n):
        the slowest decay outside the well that the rules are built for."""
        return float(self.kappas(min(self.count, RULE_LEVELS))[-1])


class _OscillatorPart:
    """V = omega^2 y^2 on the whole line: E_n = (2 n + 1) omega, Hermite functions of sqrt(omega) y."""

    name = "harmonic_oscillator"
    count = math.inf
    jumps: tuple[float, ...] = ()
    threshold = math.inf

    def __init__(self, omega: float):
        self.omega = omega
        self._cube: tuple[float, np.ndarray] | None = None

    @property
    def params(self) -> dict[str, float]:
        return {"omega": self.omega}

    def energies(self, n: int) -> np.ndarray:
        return (2.0 * np.arange(n) + 1.0) * self.omega

    def _hermite(self, n: int, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """States 0 .. n - 1 at ``y`` (normalized on the line, positive on the left tail) and their
        derivatives, from h_k' = sqrt(2 k) h_{k-1} - s h_k in s = sqrt(omega) y."""
        root = math.sqrt(self.omega)
        s = root * y
        h = hermite_functions(n, s) * math.sqrt(root)
        dh = np.empty_like(h)
        dh[0] = -s * h[0]
        for k in range(1, n):
            dh[k] = math.sqrt(2.0 * k) * h[k - 1] - s * h[k]
        signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
        return signs * h, signs * root * dh

    def states(self, n: int, y: np.ndarray) -> np.ndarray:
        return self._hermite(n, y)[0]

    def potential(self, y: np.ndarray) -> np.ndarray:
        return self.omega**2 * y * y

    def cube_upper(self, n: int, c: float) -> np.ndarray:
        """Upper bounds on the ``n`` lowest levels of the oscillator between walls at +-c.

        Rayleigh-Ritz (min-max) on the free states made to vanish at the walls,
        u_j = phi_j - phi_j(c) g_+ - phi_j(-c) g_-, with g_+(y) = sinh(kappa (y + c)) / sinh(2 kappa c)
        (1 at c, 0 at -c), g_- its mirror, kappa_j = sqrt(omega^2 c^2 - E_j) (the decay of the
        boxed state's wall correction): the k-th Ritz value bounds the k-th boxed level from above
        and, against exact parabolic-cylinder levels, exceeds it by about 1e-3 of the walls' shift.
        The matrices come from a composite Gauss-Legendre rule; the Ritz problem is
        well conditioned (its Gram matrix is near I), and ``CUBE_LEVEL_SLACK`` covers its rounding.
        """
        if self._cube is not None and self._cube[0] == c and len(self._cube[1]) >= n:
            return self._cube[1][:n]
        omega = self.omega
        energies = self.energies(n)
        kappa = np.sqrt(np.maximum(omega**2 * c * c - energies, omega))[:, None]
        # Panels: even ones where the states live (abs(y) < w), then halving towards each wall down
        # to a tenth of the corrections' decay length 1 / kappa.
        root = math.sqrt(omega)
        support = min(c, (math.sqrt(2 * n + 1) + 8.0) / root)
        middle = np.linspace(-support, support, math.ceil(2.0 * support * math.sqrt(2 * n + 1) * root) + 3)
        gaps = [c - support]
        while gaps[-1] > 0.1 / float(kappa.max()):
            gaps.append(0.5 * gaps[-1])
        layer = c - np.array([*gaps[1:], 0.0]) if c > support else np.zeros(0)
        edges = np.concatenate([-layer[::-1], middle, layer])
        y, w = gauss_legendre_rule(edges, 1, 24)
        phi, dphi = self._hermite(n, y)
        ends, _ = self._hermite(n, np.array([-c, c]))
        scale = 1.0 - np.exp(-4.0 * kappa * c)
        rise, fall = np.exp(kappa * (y - c)), np.exp(-kappa * (y + c))  # overflow-free sinh ratios
        g_plus = rise * (1.0 - np.exp(-2.0 * kappa * (y + c))) / scale
        dg_plus = kappa * rise * (1.0 + np.exp(-2.0 * kappa * (y + c))) / scale
        g_minus = fall * (1.0 - np.exp(-2.0 * kappa * (c - y))) / scale
        dg_minus = -kappa * fall * (1.0 + np.exp(-2.0 * kappa * (c - y))) / scale
        u = phi - ends[:, 1:2] * g_plus - ends[:, 0:1] * g_minus
        du = dphi - ends[:, 1:2] * dg_plus - ends[:, 0:1] * dg_minus
        stiffness = (du * w) @ du.T + (u * (w * omega**2 * y * y)) @ u.T
        gram = (u * w) @ u.T
        ritz = scipy.linalg.eigh(stiffness, gram, eigvals_only=True)
        upper = ritz * (1.0 + CUBE_LEVEL_SLACK)
        self._cube = (c, upper)
        return upper


_PART_CLASSES = {"finite_well": _WellPart, "harmonic_oscillator": _OscillatorPart}


class RotatedSeparable(Problem):
    """A sum of 1D finite wells and oscillators along the columns of a rotation, in ``[-B, B]^d``.

    Parameters
    ----------
    parts : list of str or dict, default ``["finite_well", "finite_well"]``
        2 to 16 parts, one per rotated axis: ``"finite_well"`` (V = 0 for abs(y) < ``half_width``,
        ``V0`` elsewhere on the whole line; defaults 1.0 and 20.0) or ``"harmonic_oscillator"``
        (omega^2 y^2; ``omega`` 1.0), by name or as ``{"name": "finite_well", "V0": 50.0}``. A
        part has no box of its own: the problem's box is ``box_half_width``.
    rotation : list of lists, optional
        An orthogonal ``d x d`` matrix Q (``abs(Q^T Q - I) <= 1e-10``); part i lives along its
        column i, y = Q^T x. The nearest orthogonal matrix to it (its polar factor) is used, so
        that the reference's separation is exact. Default: Haar-random from ``seed``.
    seed : int, default 0
        Seed of the random rotation (unused when ``rotation`` is given).
    box_half_width : float, default 8.0
        Walls at +-B on every axis. A box whose walls may move the ground level by more than
        ``MAX_BOX_ERROR`` (1e-10, relative) is refused.

    Notes
    -----
    The reference energies are the free-space sums (finite-well roots by ``brentq``), the
    wavefunctions the products of the free 1D states (cut to zero outside the box). The bound of
    state k is (U_k - E_k) / E_k plus the roots' accuracy, with U_k the k-th smallest sum of
    upper bounds on the parts' levels in the cube of half-width c (:meth:`box_bounds`). Levels
    at or above the free continuum, min_i (V0_i + the other parts' ground levels), are refused.
    """

    name = "rotated"
    has_exact_reference = True
    dimensions = tuple(range(2, MAX_SAMPLED_DIM + 1))

    def __init__(
        self,
        parts: Sequence[str | dict[str, Any]] = ("finite_well", "finite_well"),
        rotation: Sequence[Sequence[float]] | None = None,
        seed: int = 0,
        box_half_width: float = 8.0,
    ):
        super().__init__()
        self._parts, self._specs = _build_parts(parts)
        self._dim = len(self._parts)
        self.seed = check_int("seed", seed, minimum=0)
        self.box_half_width = check_positive("box_half_width", box_half_width)
        if not self.box_half_width <= MAX_BOX_HALF_WIDTH:
            raise ValueError(f"box_half_width must be in (0, {MAX_BOX_HALF_WIDTH:g}], got {box_half_width!r}")
        self._given_rotation = None if rotation is None else square_matrix("rotation", rotation, self._dim)
        if self._given_rotation is None:
            self.rotation = haar_rotation(self._dim, self.seed)
        else:
            self.rotation = _orthogonal(self._given_rotation)
        b = self.box_half_width
        #: Half-width of the largest rotated cube {Q y : abs(y_i) <= c} inside the box.
        self.cube_half_width = b / float(np.max(np.sum(np.abs(self.rotation), axis=1)))
        #: How far the box reaches along each rotated axis: B times the column's 1-norm.
        self.reach = b * np.sum(np.abs(self.rotation), axis=0)
        ends = [max(part.jumps, default=0.0) for part in self._parts]
        worst = int(np.argmax(ends))
        if not self.cube_half_width > ends[worst]:
            raise ValueError(
                f"box_half_width={self.box_half_width!r} is too small for {self.name}: the largest "
                f"rotated cube inside it (half-width {self.cube_half_width:.4g}) does not hold the "
                f"well of part {worst} (half-width {ends[worst]:.4g}); widen the box"
            )
        self._threshold = self._continuum()
        self._levels_cache: tuple[int, np.ndarray, np.ndarray] | None = None
        ground = float(self.box_bounds(1)[0])
        if not ground <= MAX_BOX_ERROR:
            raise ValueError(
                f"box_half_width={self.box_half_width!r} is too small for {self.name}: the walls may "
                f"move the ground level by up to {ground:.1e} relative (allowed {MAX_BOX_ERROR:.0e}); "
                "widen the box"
            )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.params,))

    # -- geometry and potential ------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"parts": copy.deepcopy(self._specs)}
        if self._given_rotation is not None:
            params["rotation"] = self._given_rotation.tolist()
        else:
            params["seed"] = self.seed
        params["box_half_width"] = self.box_half_width
        return params

    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        return ((-self.box_half_width, self.box_half_width),) * self._dim

    @property
    def parts(self) -> tuple[str | dict[str, Any], ...]:
        """The parts' specs, one per rotated axis."""
        return tuple(copy.deepcopy(self._specs))

    def _aligned_axis(self, i: int) -> int | None:
        """The box axis that rotated axis i lies along exactly (a signed unit column), or None."""
        column = self.rotation[:, i]
        nonzero = np.flatnonzero(column)
        if len(nonzero) == 1 and abs(column[nonzero[0]]) == 1.0:
            return int(nonzero[0])
        return None

    @property
    def interface_planes(self) -> tuple[tuple[tuple[float, ...], float], ...]:
        """Every plane where V jumps, as ``(normal, offset)``: the points x with normal . x = offset.

        For finite-well part i with half-width a_i: (q_i, -a_i) and (q_i, a_i), q_i the i-th
        column of the rotation (a unit vector). The planes of a part whose column is a signed
        unit vector are also in ``axis_breakpoints``.
        """
        planes = []
        for i, part in enumerate(self._parts):
            normal = tuple(float(v) for v in self.rotation[:, i])
            for a in part.jumps:
                planes += [(normal, -float(a)), (normal, float(a))]
        return tuple(planes)

    @property
    def axis_breakpoints(self) -> tuple[tuple[float, ...], ...]:
        """The jumps that lie on planes x_a = const: those of parts whose axis is a box axis."""
        cuts: list[set[float]] = [set() for _ in range(self._dim)]
        for i, part in enumerate(self._parts):
            axis = self._aligned_axis(i)
            if axis is not None:
                cuts[axis].update(float(s * a) for a in part.jumps for s in (-1.0, 1.0))
        return tuple(tuple(sorted(c)) for c in cuts)

    @property
    def curved_interfaces(self) -> bool:
        """True when V jumps on a plane that is not x_a = const (no axis-aligned grid follows it)."""
        return any(part.jumps and self._aligned_axis(i) is None for i, part in enumerate(self._parts))

    @property
    def interface_circles(self) -> list[tuple[tuple[float, ...], float]]:
        """No circles: the jumps are on the planes of ``interface_planes``."""
        return []

    def potential(self, points: np.ndarray) -> np.ndarray:
        """V = sum_i V_i((Q^T x)_i) at points ``(n, d)`` (a well's V0 where abs(y_i) >= a_i);
        ``inf`` outside the box."""
        y = points @ self.rotation
        values = np.zeros(len(points))
        for i, part in enumerate(self._parts):
            values = values + part.potential(y[:, i])
        inside = np.all(np.abs(points) <= self.box_half_width, axis=1)
        return np.where(inside, values, np.inf)

    def product_terms(self) -> list[tuple[float, dict[int, Any]]] | None:
        """For oscillators only, V = x^T A x with A = Q diag(omega^2) Q^T: A_ii x_i^2 and
        2 A_ij x_i x_j. ``None`` when a part is a well (its jumps are not sums of products)."""
        if not all(isinstance(part, _OscillatorPart) for part in self._parts):
            return None
        omega2 = np.array([part.omega for part in self._parts]) ** 2
        matrix = (self.rotation * omega2) @ self.rotation.T
        matrix = 0.5 * (matrix + matrix.T)
        terms: list[tuple[float, dict[int, Any]]] = []
        for i in range(self._dim):
            terms.append((float(matrix[i, i]), {i: np.square}))
            for j in range(i + 1, self._dim):
                if matrix[i, j] != 0.0:
                    terms.append((2.0 * float(matrix[i, j]), {i: identity, j: identity}))
        return terms

    # -- spectrum --------------------------------------------------------------
    def _continuum(self) -> float:
        """Where the free problem's continuum starts: min_i (V0_i + the others' ground levels)."""
        ground = np.array([part.energies(1)[0] for part in self._parts])
        return float(
            min(
                (part.threshold + ground.sum() - ground[i] for i, part in enumerate(self._parts)),
                default=math.inf,
            )
        )

    @property
    def continuum_threshold(self) -> float:
        """The bottom of the free problem's continuum (``inf`` when every part is an oscillator)."""
        return self._threshold

    def _levels(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``n`` lowest free levels below the continuum and their 1D indices ``(k, d)``.

        Each axis takes at most ``n`` of its part's bound states; a tuple whose index product
        ``prod(i_j + 1)`` exceeds ``n`` has ``n`` tuples strictly below it, so it is never needed
        (as for ``separable``). Terms are summed sorted: permutations of identical parts give
        bitwise-equal sums, so their degeneracies are exact.
        """
        cached = self._levels_cache
        if cached is not None and cached[0] >= n:
            return cached[1][:n], cached[2][:n]
        counts = [int(min(n, part.count)) for part in self._parts]
        tuples = np.array(_index_tuples(counts, n), dtype=int)
        energies_1d = [part.energies(counts[i]) for i, part in enumerate(self._parts)]
        terms = np.stack([energies_1d[i][tuples[:, i]] for i in range(self._dim)], axis=1)
        sums = np.sort(terms, axis=1).sum(axis=1)
        order = np.argsort(sums, kind="stable")
        sums, tuples = sums[order], tuples[order]
        below = sums < self._threshold
        sums, tuples = sums[below][:n], tuples[below][:n]
        self._levels_cache = (n, sums, tuples)
        return sums, tuples

    def _discrete_levels(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        sums, tuples = self._levels(n)
        if len(sums) < n:
            raise ValueError(
                f"n_states={n} reaches the continuum of {self!r}: only {len(sums)} levels lie below "
                f"its threshold E={self._threshold:.12g} (min over the wells of V0 plus the other "
                f"parts' ground levels); use n_states <= {len(sums)}"
            )
        return sums, tuples

    def level_energies(self, n: int) -> np.ndarray:
        n = check_int("n", n, minimum=1)
        return self._discrete_levels(n)[0].copy()

    def state_indices(self, n_states: int) -> np.ndarray:
        """The 1D state of each part in each of the ``n_states`` lowest states, ``(n_states, d)``."""
        n_states = check_int("n_states", n_states, minimum=1)
        return self._discrete_levels(n_states)[1].copy()

    def box_bounds(self, n_states: int) -> np.ndarray:
        """A rigorous bound on each level's relative shift by the walls, shape ``(n_states,)``.

        Domain monotonicity: E_k(R^d) <= E_k(box) <= E_k(C), C the rotated cube of half-width
        c = B / max_a sum_i abs(Q_ai) inside the box. E_k(C) is the k-th smallest sum of the parts'
        levels in [-c, c]; it is at most U_k, the k-th smallest of sum_i u_i(t_i) over the index
        tuples t of the ``n_states`` lowest free levels (a subset of the cube's tuples; each
        u_i an upper bound on a 1D level, :meth:`_WellPart.cube_upper`,
        :meth:`_OscillatorPart.cube_upper`). Returns (U_k - E_k) / E_k plus the roots' accuracy
        and the rotation's rounding.
        """
        energies, tuples = self._discrete_levels(check_int("n_states", n_states, minimum=1))
        c = self.cube_half_width
        upper_1d = [part.cube_upper(int(tuples[:, i].max()) + 1, c) for i, part in enumerate(self._parts)]
        upper = np.sort(sum(upper_1d[i][tuples[:, i]] for i in range(self._dim)))
        roots = max(ROOT_REL_ERROR if part.jumps else 0.0 for part in self._parts)
        rounding = 4.0 * self._dim * np.finfo(float).eps
        return np.maximum((upper - energies) / energies, 0.0) + roots + rounding

    def check_states(self, n_states: int) -> None:
        n_states = check_int("n_states", n_states, minimum=1)
        energies, _ = self._levels(n_states + 1)
        if len(energies) < n_states:
            self._discrete_levels(n_states)  # raises: the continuum
        check_unsplit(energies, n_states, self.name)  # complete: the next level is listed, or none is
        bounds = self.box_bounds(n_states)
        worst = int(np.argmax(bounds))
        if not bounds[worst] <= MAX_BOX_ERROR:
            raise ValueError(
                f"box_half_width={self.box_half_width!r} is too small for state {worst} of {self.name}: "
                f"the walls may move it by up to {bounds[worst]:.1e} relative (allowed "
                f"{MAX_BOX_ERROR:.0e}); widen the box or ask for fewer states"
            )

    def reference(self, n_states: int) -> Reference:
        # The base class hands out a prefix of a larger cached reference with that one's bound;
        # each state has its own, so the bound of the first n_states is restated.
        full = super().reference(n_states)
        bound = float(self.box_bounds(n_states).max())
        return full if full.rel_error_bound == bound else dataclasses.replace(full, rel_error_bound=bound)

    def _compute_reference(self, n_states: int) -> Reference:
        energies, tuples = self._discrete_levels(n_states)
        bound = float(self.box_bounds(n_states).max())
        rotation, parts, b = self.rotation, self._parts, self.box_half_width
        used = tuples.max(axis=0) + 1

        def evaluate(points: np.ndarray) -> np.ndarray:  # (n, d), checked by Problem.reference
            y = points @ rotation
            values = np.ones((n_states, len(points)))
            for i, part in enumerate(parts):
                values *= part.states(int(used[i]), y[:, i])[tuples[:, i]]
            inside = np.all(np.abs(points) <= b, axis=1)
            return np.where(inside[None, :], values, 0.0)

        return Reference(
            energies.copy(),
            evaluate,
            method="free-space separable sums along the rotated axes (finite-well roots by brentq), "
            "rotated-cube bound on the walls",
            rel_error_bound=bound,
        )

    # -- quadrature ------------------------------------------------------------
    def _axis_rule(self, i: int, per_axis: int) -> tuple[np.ndarray, np.ndarray]:
        """A rule of about ``per_axis`` nodes along rotated axis i, over [-reach_i, reach_i].

        Three pieces a side, each a single Gauss-Legendre panel, ending on the well's jumps +-a_i
        and on the cube's faces +-c. The core (a well's [-a, a]; an oscillator's
        [-2 / sqrt(omega), 2 / sqrt(omega)]) gets enough nodes for the states' oscillation there.
        From the core to c the states decay like exp(-kappa t) (t the distance from the core):
        the tail is mapped by t = -ell log(1 - s (1 - exp(-L / ell))), s in [0, 1], L = c - core,
        ell = 1 / kappa_min (the slowest decay among the part's ``RULE_LEVELS`` lowest bound
        states; 1 / sqrt(omega) for an oscillator), which turns those exponentials into
        low-degree polynomials in s. Beyond c, out to the box's reach, a few nodes a side: the
        states' mass there is below the walls' bound.
        """
        part, c, reach = self._parts[i], self.cube_half_width, float(self.reach[i])
        if isinstance(part, _WellPart):
            core, wave = part.half_width, 2.0 * math.sqrt(part.V0)
            ell = 1.0 / part.slowest_decay()
        else:
            core, wave = min(c, 2.0 / math.sqrt(part.omega)), 2.0 * math.sqrt(17.0 * part.omega)
            ell = 1.0 / math.sqrt(part.omega)
        outside = reach > c * (1.0 + 1e-12)
        n_outer = max(2, per_axis // 32) if outside else 0
        n_core = int(min(max(6, math.ceil(2.0 * core * wave / 2.5) + 4), max(6, per_axis // 2)))
        n_tail = max(4, (per_axis - n_core - 2 * n_outer) // 2)
        pieces = [gauss_legendre_rule([-core, core], 1, n_core)]
        length = c - core
        if length > 0.0:
            s, w = gauss_legendre_rule([0.0, 1.0], 1, n_tail)
            q = -math.expm1(-length / ell)
            t = -ell * np.log1p(-s * q)
            pieces += [(core + t, w * ell * q / (1.0 - s * q)), (-core - t, w * ell * q / (1.0 - s * q))]
        if outside:
            pieces += [
                gauss_legendre_rule([c, reach], 1, n_outer),
                gauss_legendre_rule([-reach, -c], 1, n_outer),
            ]
        y = np.concatenate([p[0] for p in pieces])
        order = np.argsort(y, kind="stable")
        return y[order], np.concatenate([p[1] for p in pieces])[order]

    def quadrature_rule(self, n_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Up to d = 4, a tensor Gauss-Legendre rule in the rotated frame; above, a sampled rule.

        Along each rotated axis i the panels end on the well's jumps +-a_i and on the cube's
        faces +-c, and the tails are mapped so that the states' exponential decay is integrated
        like a polynomial (:meth:`_axis_rule`): the rule follows the planes exactly. Beyond the
        cube, out to the box's reach B sum_a abs(Q_ai), a few nodes a side. Nodes x = Q y outside the box
        are dropped. The nodes inside the cube C keep their Gauss weights (which sum to its volume
        exactly); the weights of the others are scaled so that all sum to the box's volume (the
        states' mass outside C is below the walls' bound, so that cruder part costs no accuracy
        that matters). ``n_points`` sets the approximate number of tensor nodes (default:
        ``GRADING_POINTS_PER_AXIS[d] ** d``).
        """
        if self._dim > MAX_DIM:
            count = SAMPLED_RULE_POINTS if n_points is None else min(int(n_points), SAMPLED_RULE_POINTS)
            return self.sampled_rule(count, SAMPLED_RULE_SEED)
        d, c, b = self._dim, self.cube_half_width, self.box_half_width
        per_axis = GRADING_POINTS_PER_AXIS[d] if n_points is None else max(round(n_points ** (1.0 / d)), 4)
        axes = [self._axis_rule(i, per_axis) for i in range(d)]
        grids = np.meshgrid(*[y for y, _ in axes], indexing="ij")
        y = np.stack([g.ravel() for g in grids], axis=1)
        weights = functools.reduce(np.multiply.outer, [w for _, w in axes]).ravel()
        cube = np.all(np.abs(y) <= c, axis=1)
        nodes = y @ self.rotation.T
        keep = cube | np.all(np.abs(nodes) <= b, axis=1)
        nodes, weights, cube = np.clip(nodes[keep], -b, b), weights[keep], cube[keep]  # clip: rounding
        rest = ~cube
        if rest.any():
            weights[rest] *= ((2.0 * b) ** d - weights[cube].sum()) / weights[rest].sum()
        return nodes, weights

    def _proposal(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """The sampled rule's density along rotated axis i, as a table: edges y_j over
        [-reach_i, reach_i] and its distribution function F_j there (linear between them, so the
        density is constant on each cell and the weights use exactly the density sampled).

        A well: (1 - eps) phi_0^2 + eps (lambda / 2) exp(-lambda abs(y)), phi_0 the part's ground
        state and lambda = kappa_min (half the slowest decay rate of psi^2 among its
        ``RULE_LEVELS`` lowest bound states), eps = ``SAMPLED_RULE_TAIL``: close to the ground
        state's density (in d = 16 a mismatch on every axis multiplies), with tails heavier than
        every state's. An oscillator:
        (1 - eps) phi_0^2 plus eps times a Gaussian ``SAMPLED_RULE_WIDENING`` times wider. The
        widths come from the parts' decay alone.
        """
        part, reach = self._parts[i], float(self.reach[i])
        y = np.linspace(-reach, reach, SAMPLED_TABLE + 1)
        if isinstance(part, _WellPart):
            rate = part.slowest_decay()
            ground = part.states(1, y)[0] ** 2
            density = (1.0 - SAMPLED_RULE_TAIL) * ground + SAMPLED_RULE_TAIL * 0.5 * rate * np.exp(
                -rate * np.abs(y)
            )
        else:
            sigma = SAMPLED_RULE_WIDENING / math.sqrt(2.0 * part.omega)
            ground = part.states(1, y)[0] ** 2
            wide = np.exp(-0.5 * (y / sigma) ** 2) / (math.sqrt(2.0 * math.pi) * sigma)
            density = (1.0 - SAMPLED_RULE_TAIL) * ground + SAMPLED_RULE_TAIL * wide
        cells = 0.5 * (density[1:] + density[:-1]) * np.diff(y)
        cdf = np.concatenate([[0.0], np.cumsum(cells)])
        return y, cdf / cdf[-1]

    def sampled_rule(self, n_points: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Randomized quasi-Monte Carlo, importance-sampled along the rotated axes.

        A scrambled Sobol' point u (``seed``) gives y_i = F_i^-1(u_i) for each rotated axis, F_i
        the tabulated distribution of :meth:`_proposal`; x = Q y, weight 1 / (n p(y)) with p the
        product of the tables' densities. Nodes outside the box are left out (their weight would
        be 0), so fewer than n may come back; the estimate stays unbiased. Its error is
        statistical, about n^-1/2 or better whatever d.
        """
        from scipy.stats import qmc

        d = self._dim
        m = max(int(np.ceil(np.log2(max(int(n_points), 2)))), 1)
        uniform = qmc.Sobol(d=d, scramble=True, seed=seed).random_base2(m)
        y = np.empty_like(uniform)
        log_density = np.zeros(len(uniform))
        for i in range(d):
            edges, cdf = self._proposal(i)
            y[:, i] = np.interp(uniform[:, i], cdf, edges)
            cell = np.clip(np.searchsorted(edges, y[:, i], side="right") - 1, 0, len(edges) - 2)
            log_density += np.log((cdf[cell + 1] - cdf[cell]) / (edges[cell + 1] - edges[cell]))
        nodes = y @ self.rotation.T
        weights = np.exp(-log_density) / len(nodes)
        inside = np.all(np.abs(nodes) <= self.box_half_width, axis=1)
        return nodes[inside], weights[inside]


def _orthogonal(q: np.ndarray) -> np.ndarray:
    """``q`` checked orthogonal (:func:`.rotations.check_orthogonal`), then replaced by its polar factor (the
    nearest orthogonal matrix); a signed permutation is kept exactly."""
    check_orthogonal(q)
    if np.all(np.isin(q, (-1.0, 0.0, 1.0))) and np.all(np.count_nonzero(q, axis=0) == 1):
        return q.copy()
    u, _, vt = np.linalg.svd(q)
    return u @ vt


def _rebuild(params: dict[str, Any]) -> RotatedSeparable:
    return RotatedSeparable(**params)


def _build_parts(parts: Any) -> tuple[list[Any], list[str | dict[str, Any]]]:
    """The parts' objects and their canonical specs, or a one-line ``ValueError`` naming ``parts``."""
    allowed = ", ".join(PART_DEFAULTS)
    what = f"a list of 2 to {MAX_SAMPLED_DIM} parts ({allowed}; names or {{'name': ..., params}} dicts)"
    if isinstance(parts, (str, bytes, dict)) or not isinstance(parts, Sequence):
        raise ValueError(f"parts must be {what}, got {parts!r}")
    if len(parts) == 1:
        raise ValueError("parts must have 2 to 16 entries, got 1: one axis is not turned by a rotation")
    if not 2 <= len(parts) <= MAX_SAMPLED_DIM:
        raise ValueError(f"parts must have 2 to {MAX_SAMPLED_DIM} entries, got {len(parts)}")
    built, specs = [], []
    for i, spec in enumerate(parts):
        if isinstance(spec, str):
            name, given = spec, {}
        elif isinstance(spec, dict) and isinstance(spec.get("name"), str):
            name, given = spec["name"], {k: v for k, v in spec.items() if k != "name"}
        else:
            raise ValueError(f"parts[{i}] must be a part name or a dict with a 'name', got {spec!r}")
        if name not in PART_DEFAULTS:
            raise ValueError(
                f"parts[{i}]: {name!r} is not a part of a rotated problem; allowed: {allowed} "
                "(their physics lives on the whole line and decays)"
            )
        unknown = sorted(set(given) - set(PART_DEFAULTS[name]))
        if unknown:
            raise ValueError(
                f"parts[{i}] ({name}): unknown parameter(s) {', '.join(map(str, unknown))}; allowed: "
                f"{', '.join(PART_DEFAULTS[name])} (a part lives on the whole line; the box is "
                "box_half_width)"
            )
        values = {**PART_DEFAULTS[name], **given}
        for key, value in values.items():
            try:
                value = check_positive(key, value)
            except ValueError as error:
                raise ValueError(f"parts[{i}] ({name}): {error}") from None
            if not value <= MAX_PART_PARAMETER:
                raise ValueError(
                    f"parts[{i}] ({name}): {key} must be <= {MAX_PART_PARAMETER:g}, got {value!r}"
                )
            values[key] = value
        built.append(_PART_CLASSES[name](**values))
        specs.append(name if values == PART_DEFAULTS[name] else {"name": name, **values})
    return built, specs

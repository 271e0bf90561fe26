"""A circular well in a square box: the 2D problem whose interface no grid follows.

V = 0 inside the circle r < radius and V0 outside it, in the square
``[-b, b]^2`` (b = ``box_half_width``) with hard walls. The reference is the
exact spectrum of the same well in the whole plane (Bessel functions matched
on the circle), with a rigorous bound on what the square's walls change.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import ive, jn_zeros, jv, jvp, kve

from .._validation import check_int, check_positive
from ..numerics.quadrature import gauss_legendre_rule
from .base import Problem, degenerate_groups
from .reference import Reference

#: Relative accuracy of a root of the matching condition (brentq to rounding; checked
#: against a 30-digit mpmath solve in the tests, which agree to about 1e-15).
ROOT_REL_ERROR = 1e-14
#: Smallest stated relative bound (rounding of the energies themselves).
_BOUND_FLOOR = 1e-15
#: Grid points of the sign scan per unit of sqrt(V0) * radius, and at least this many.
_SCAN_PER_UNIT, _SCAN_MIN = 40, 400


class CircularWell(Problem):
    """A circular well of ``radius`` and depth ``V0`` centred in the square ``[-b, b]^2``.

    V = 0 for r < ``radius``, ``V0`` for r >= ``radius`` inside the square, hard walls
    on its sides. The potential jumps on the circle, so ``curved_interfaces`` is true,
    there are no axis breakpoints, and ``quadrature_rule`` is a polar rule whose panels
    end on the circle.

    Parameters
    ----------
    radius : float, default 1.0
        Radius ``a`` of the well, > 0 and < ``box_half_width``.
    V0 : float, default 20.0
        Height of the potential outside the circle, > 0.
    box_half_width : float, default 3.0
        The walls sit at x = +-b and y = +-b.

    Notes
    -----
    The reference is *exact* for the well in the whole plane: with
    k = sqrt(E), kappa = sqrt(V0 - E) the state of angular momentum m is
    J_m(k r) inside and J_m(k a) / K_m(kappa a) K_m(kappa r) outside, times
    1 / sqrt(2 pi) (m = 0) or cos(m phi) / sqrt(pi) and sin(m phi) / sqrt(pi)
    (m >= 1, a degenerate pair), and E is a root of
    ``k J_m'(k a) K_m(kappa a) - kappa K_m'(kappa a) J_m(k a)``, found to
    rounding by ``brentq``.

    The square's walls raise each level, by an amount bounded rigorously by
    domain monotonicity of Dirichlet eigenvalues (min-max): the disc of
    radius b lies in the square, which lies in the plane, so the k-th level
    obeys ``E_free_k <= E_box_k <= E_disc_k``, where ``E_disc`` is the same
    well with a hard wall at r = b (outside the circle
    ``K_m(kappa r) I_m(kappa b) - I_m(kappa r) K_m(kappa b)``, zero at b).
    Each state's bound ``(E_disc_k - E_free_k) / E_free_k`` (plus the root's
    accuracy) is in ``box_wall_bounds``; the reference's ``rel_error_bound``
    is their maximum. With the defaults the ground state's is about 1e-7:
    the walls at distance 2 from the circle matter at that level. In the
    square a pair with even m (cos 2 phi, sin 2 phi) splits by less than
    the bound; the reference keeps it as one degenerate group. The
    wavefunctions are the free-space ones (cut to zero outside the box).
    ``check_states`` refuses states that are not bound (E >= V0) or whose
    disc level is not below V0.
    """

    name = "circular_well"
    has_exact_reference = True

    def __init__(self, radius: float = 1.0, V0: float = 20.0, box_half_width: float = 3.0):
        super().__init__()
        self.radius = check_positive("radius", radius)
        self.V0 = check_positive("V0", V0)
        self.box_half_width = check_positive("box_half_width", box_half_width)
        if not self.radius < self.box_half_width:
            raise ValueError(
                f"radius must be in (0, box_half_width={self.box_half_width!r}) so the circle fits "
                f"strictly inside the box, got {self.radius!r}"
            )
        self._spectrum: _Spectrum | None = None

    # -- geometry and potential ------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        return {"radius": self.radius, "V0": self.V0, "box_half_width": self.box_half_width}

    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        b = self.box_half_width
        return ((-b, b), (-b, b))

    @property
    def curved_interfaces(self) -> bool:
        return True

    @property
    def interface_circles(self) -> list[tuple[tuple[float, float], float]]:
        """The circle where V jumps, as ``[(centre, radius)]``."""
        return [((0.0, 0.0), self.radius)]

    def potential(self, points: np.ndarray) -> np.ndarray:
        """V at points of shape ``(n, 2)``: 0 inside the circle, V0 outside it, ``inf`` outside the box."""
        x, y = points[:, 0], points[:, 1]
        inside_box = (np.abs(x) <= self.box_half_width) & (np.abs(y) <= self.box_half_width)
        values = np.where(np.hypot(x, y) < self.radius, 0.0, self.V0)
        return np.where(inside_box, values, np.inf)

    # -- spectrum --------------------------------------------------------------
    @property
    def spectrum(self) -> _Spectrum:
        """Every bound level of the free-space well and of the disc, computed once."""
        if self._spectrum is None:
            self._spectrum = _Spectrum(self.radius, self.V0, self.box_half_width)
        return self._spectrum

    def n_certified(self) -> int:
        """How many of the lowest levels have a certified box-wall bound."""
        return self.spectrum.n_certified

    def check_states(self, n_states: int) -> None:
        n_states = check_int("n_states", n_states, minimum=1)
        spectrum = self.spectrum
        if n_states > spectrum.n_certified:
            raise ValueError(
                f"n_states must be <= {spectrum.n_certified} for {self!r}: it has "
                f"{len(spectrum.energies)} bound levels (E < V0, counting degenerate pairs twice) "
                f"and the lowest {spectrum.n_certified} have a disc level below V0, which bounds "
                f"the walls' shift; got n_states={n_states}"
            )
        if n_states < spectrum.n_certified:
            super().check_states(n_states)  # the group test; the next level is known

    def level_energies(self, n: int) -> np.ndarray:
        n = check_int("n", n, minimum=1)
        spectrum = self.spectrum
        if n > spectrum.n_certified:
            self.check_states(n)
        return spectrum.energies[:n].copy()

    def box_wall_bounds(self, n_states: int) -> np.ndarray:
        """Per state, the rigorous bound on the relative shift of its level by the square's walls.

        ``(E_disc_k - E_free_k) / E_free_k`` floored at 1e-15, plus the roots' accuracy.
        """
        self.check_states(n_states)
        return self.spectrum.bounds[:n_states].copy()

    def angular_momenta(self, n_states: int) -> np.ndarray:
        """``m`` of each of the ``n_states`` lowest states (a cos/sin pair shares it)."""
        self.check_states(n_states)
        return self.spectrum.m[:n_states].copy()

    def reference(self, n_states: int) -> Reference:
        # The base class hands out a prefix of a larger cached reference with that one's bound;
        # each state has its own, so the bound of the first n_states is restated.
        full = super().reference(n_states)
        bound = float(self.spectrum.bounds[:n_states].max())
        return full if full.rel_error_bound == bound else dataclasses.replace(full, rel_error_bound=bound)

    def _compute_reference(self, n_states: int) -> Reference:
        spectrum = self.spectrum
        energies = spectrum.energies[:n_states].copy()
        m = spectrum.m[:n_states]
        sine = spectrum.sine[:n_states]
        k = np.sqrt(energies)
        kappa = np.sqrt(self.V0 - energies)
        a, b = self.radius, self.box_half_width
        x_a, y_a = k * a, kappa * a
        # Radial norms in closed form: int_0^a r J_m(kr)^2 dr = a^2/2 (J_m^2 - J_{m-1} J_{m+1}) at ka,
        # int_a^inf r K_m(kappa r)^2 dr = a^2/2 (K_{m-1} K_{m+1} - K_m^2) at kappa a.
        j_a = jv(m, x_a)
        inner = 0.5 * a * a * (j_a**2 - jv(m - 1, x_a) * jv(m + 1, x_a))
        k_m = kve(m, y_a)
        outer = 0.5 * a * a * j_a**2 * (kve(np.abs(m - 1), y_a) * kve(m + 1, y_a) / k_m**2 - 1.0)
        scale = 1.0 / np.sqrt(inner + outer)
        angular_scale = np.where(m == 0, 1.0 / math.sqrt(2.0 * math.pi), 1.0 / math.sqrt(math.pi))

        def evaluate(points: np.ndarray) -> np.ndarray:  # (n, 2), checked by Problem.reference
            x, y = points[:, 0], points[:, 1]
            inside_box = (np.abs(x) <= b) & (np.abs(y) <= b)
            r = np.hypot(x, y)[None, :]
            phi = np.arctan2(y, x)[None, :]
            mm = m[:, None]
            r_out = np.maximum(r, a)  # the outer formula only where r >= a: no overflow elsewhere
            radial = np.where(
                r < a,
                jv(mm, k[:, None] * r),
                j_a[:, None]
                * kve(mm, kappa[:, None] * r_out)
                / k_m[:, None]
                * np.exp(-kappa[:, None] * (r_out - a)),
            )
            angular = np.where(sine[:, None], np.sin(mm * phi), np.cos(mm * phi))
            values = (scale * angular_scale)[:, None] * radial * angular
            return np.where(inside_box[None, :], values, 0.0)

        bound = float(spectrum.bounds[:n_states].max())
        return Reference(
            energies,
            evaluate,
            method="free-space Bessel matching (brentq), disc bound on the walls",
            rel_error_bound=bound,
        )

    # -- quadrature ------------------------------------------------------------
    def quadrature_rule(self, n_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A polar Gauss-Legendre rule whose panels end on the circle and at the square's corners.

        phi is cut into 8 panels at the axes and the diagonals (the distance
        to the wall, ``b / max(|cos phi|, |sin phi|)``, is smooth between the
        diagonals); in each direction r runs over [0, a] and over [a, wall]
        in Gauss sub-panels, with the Jacobian r in the weights. Eigenfunctions
        are smooth on each piece, so products of them integrate to about
        1e-13 with the default of about 128^2 nodes (``n_points`` sets the
        approximate total).
        """
        per_direction = math.sqrt(n_points if n_points is not None else 128**2)
        order = int(min(16, max(4, round(per_direction / 8))))
        phi_sub = max(1, round(per_direction / (8 * order)))
        r_sub = max(2, round(per_direction / order))
        inner_sub = max(1, round(r_sub / 4))
        outer_sub = max(1, r_sub - inner_sub)
        a, b = self.radius, self.box_half_width
        phi, w_phi = gauss_legendre_rule(np.linspace(-math.pi, math.pi, 9), phi_sub, order)
        wall = b / np.maximum(np.abs(np.cos(phi)), np.abs(np.sin(phi)))
        # Inner disc: the same radial nodes in every direction.
        r_in, w_in = gauss_legendre_rule([0.0, a], inner_sub, order)
        # Outer ring: nodes on [0, 1] mapped to [a, wall(phi)] per direction.
        t, w_t = gauss_legendre_rule([0.0, 1.0], outer_sub, order)
        r_out = a + (wall[:, None] - a) * t[None, :]
        w_out = (wall[:, None] - a) * w_t[None, :]
        r = np.concatenate([np.broadcast_to(r_in, (len(phi), len(r_in))), r_out], axis=1)
        w_r = np.concatenate([np.broadcast_to(w_in, (len(phi), len(w_in))), w_out], axis=1)
        weights = (w_phi[:, None] * w_r * r).ravel()
        phis = np.broadcast_to(phi[:, None], r.shape)
        nodes = np.stack([(r * np.cos(phis)).ravel(), (r * np.sin(phis)).ravel()], axis=-1)
        return nodes, weights


# -- the matching conditions --------------------------------------------------------------------
def _log_derivative_k(m: int, y: np.ndarray) -> np.ndarray:
    """K_m'(y) / K_m(y), from the scaled functions (no overflow of K_m for small y)."""
    return -0.5 * (kve(abs(m - 1), y) + kve(m + 1, y)) / kve(m, y)


def _log_derivative_i(m: int, y: np.ndarray) -> np.ndarray:
    """I_m'(y) / I_m(y), from the scaled functions."""
    return 0.5 * (ive(abs(m - 1), y) + ive(m + 1, y)) / ive(m, y)


def free_matching(m: int, k: np.ndarray, kappa: np.ndarray, a: float) -> np.ndarray:
    """``k J_m'(ka) - kappa K_m'/K_m(kappa a) J_m(ka)``: the free-space condition over ``K_m(kappa a)``.

    K_m > 0, so its roots and signs are those of the matching Wronskian; it has no poles.
    """
    x, y = k * a, kappa * a
    return k * jvp(m, x) - kappa * _log_derivative_k(m, y) * jv(m, x)


def disc_matching(m: int, k: np.ndarray, kappa: np.ndarray, a: float, b: float) -> np.ndarray:
    """The matching condition with a hard wall at r = b, over ``I_m(kappa b) K_m(kappa a)`` (> 0).

    Outside, g(r) = K_m(kappa r) I_m(kappa b) - I_m(kappa r) K_m(kappa b); with
    rho = I_m(kappa a) K_m(kappa b) / (I_m(kappa b) K_m(kappa a)) (< 1, in scaled form),
    g(a) ~ 1 - rho and g'(a) ~ kappa (K_m'/K_m - rho I_m'/I_m) at kappa a.
    """
    x, y_a, y_b = k * a, kappa * a, kappa * b
    rho = ive(m, y_a) * kve(m, y_b) / (ive(m, y_b) * kve(m, y_a)) * np.exp(-2.0 * (y_b - y_a))
    g = 1.0 - rho
    dg = kappa * (_log_derivative_k(m, y_a) - rho * _log_derivative_i(m, y_a))
    return k * jvp(m, x) * g - jv(m, x) * dg


def _bound_count(m: int, V0: float, a: float, wall: float | None) -> int:
    """Levels of angular momentum m below V0 (oscillation theorem): zeros of the regular radial
    solution at E = V0 in (0, wall) (``None``: the whole half-line)."""
    k0 = math.sqrt(V0)
    x0 = k0 * a
    inside = 0
    while True:  # zeros of J_m(k0 r) for 0 < r < a
        zeros = jn_zeros(m, inside + 8)
        inside = int(np.sum(zeros < x0))
        if inside < len(zeros):
            break
    u0, u1 = float(jv(m, x0)), float(k0 * jvp(m, x0))
    limit = math.inf if wall is None else math.log(wall / a)
    if m == 0:  # outside u = u0 + a u1 ln(r / a)
        node = u0 * u1 < 0 and -u0 / (a * u1) < limit
    else:  # outside u = alpha (r/a)^m + beta (a/r)^m
        alpha, beta = 0.5 * (u0 + a * u1 / m), 0.5 * (u0 - a * u1 / m)
        node = alpha * beta < 0 and abs(beta) > abs(alpha) and math.log(-beta / alpha) / (2 * m) < limit
    return inside + int(node)


def _roots(function, m: int, V0: float, a: float, expected: int) -> tuple[list[float], float]:
    """Roots E in (0, V0) of ``function(k, kappa)`` for angular momentum m, and a ceiling.

    Scans theta (k = sqrt(V0) sin theta, kappa = sqrt(V0) cos theta, accurate near V0) on a
    grid fine enough that consecutive roots (Delta k >~ pi / a) are many points apart,
    refined geometrically towards V0, then ``brentq`` on every sign change. kappa a stays
    above a floor where the scaled Bessel functions of order m neither overflow nor underflow;
    a root beyond it (E within kappa_floor^2 of V0) cannot be found, and the ceiling
    returned is the energy above which such a root may hide (V0 if all ``expected`` roots
    were found).
    """
    k0 = math.sqrt(V0)
    # (2 / y)^m Gamma(m + 1) must stay far below the float range, for K_m and 1 / I_m alike.
    y_floor = max(1e-7, 2.0 * math.exp(-(600.0 - math.lgamma(m + 2)) / max(m, 1)))
    theta_end = math.acos(min(y_floor / (k0 * a), 1.0))
    n = max(_SCAN_MIN, int(_SCAN_PER_UNIT * k0 * a))
    uniform = np.linspace(0.0, theta_end, n + 1)[1:]
    tail = 0.5 * math.pi - np.geomspace(0.5 * math.pi - uniform[-2], 0.5 * math.pi - theta_end, 60)
    theta = np.unique(np.concatenate([uniform, tail]))

    def f(t):
        return function(k0 * np.sin(t), k0 * np.cos(t))

    values = f(theta)
    roots = []
    for i in np.nonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0)[0]:
        t = brentq(f, theta[i], theta[i + 1], xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=200)
        roots.append(V0 * math.sin(t) ** 2)
    if len(roots) == expected:
        return roots, V0
    if len(roots) == expected - 1:  # the missing level lies in the last sliver below V0
        return roots, V0 * math.sin(theta_end) ** 2
    raise RuntimeError(
        f"the sign scan found {len(roots)} roots for m={m}, but the oscillation count is {expected}"
    )


class _Spectrum:
    """All free-space and disc levels below V0, sorted, with the box-wall bounds of the free ones."""

    def __init__(self, a: float, V0: float, b: float):
        free: list[tuple[float, int, bool]] = []
        disc: list[float] = []
        ceiling = V0
        m = 0
        while True:
            count = _bound_count(m, V0, a, None)
            if count == 0:  # m beyond the last bound level (counts fall with m)
                break
            roots, top = _roots(lambda k, q, m=m: free_matching(m, k, q, a), m, V0, a, count)
            ceiling = min(ceiling, top)
            disc_count = _bound_count(m, V0, a, b)
            disc_roots, _ = _roots(lambda k, q, m=m: disc_matching(m, k, q, a, b), m, V0, a, disc_count)
            copies = (False,) if m == 0 else (False, True)  # cos and sin
            free += [(e, m, s) for e in roots for s in copies]
            disc += [e for e in disc_roots for _ in copies]
            m += 1
        free.sort()
        self.energies = np.array([e for e, _, _ in free])
        self.m = np.array([mm for _, mm, _ in free], dtype=int)
        self.sine = np.array([s for _, _, s in free], dtype=bool)
        self.disc_energies = np.sort(np.array(disc))
        # Level k is certified when its disc level exists and lies below V0 and below the ceiling
        # (every free level that may be missing lies above the ceiling).
        usable = min(len(self.energies), len(self.disc_energies))
        ok = self.disc_energies[:usable] < ceiling
        n_certified = usable if ok.all() else int(np.argmin(ok))
        # Never cut a degenerate free pair.
        for group in degenerate_groups(self.energies):
            if group[0] < n_certified <= group[-1]:
                n_certified = group[0]
        self.n_certified = n_certified
        shift = (self.disc_energies[:n_certified] - self.energies[:n_certified]) / self.energies[:n_certified]
        self.bounds = np.maximum(shift, _BOUND_FLOOR) + ROOT_REL_ERROR

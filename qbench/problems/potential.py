"""Any potential V(x) in a hard-wall box, with a certified (not exact) reference.

>>> import qbench
>>> p = qbench.problems.get("potential", V="x**2", domain=[-10, 10])
>>> ref = p.reference(3)
>>> ref.method.startswith("certified (residual enclosure"), bool(ref.rel_error_bound <= 1e-10)
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_int, check_real_sequence
from .base import Problem
from .certified import MAX_REL_BOUND, Certificate, certify
from .expression import Expression, is_number, parse_potential
from .reference import Reference

#: Samples per panel on which V is checked to be finite at construction.
FINITE_CHECK_POINTS = 4001
#: Certificates kept per process: cases of a suite rebuild the same problem many times.
_CACHE_SIZE = 32
_CACHE: dict[Potential, Certificate] = {}


class Potential(Problem):
    """Hard-wall box ``domain`` with a potential given as a formula in x (or a callable).

    Parameters
    ----------
    V : str or callable
        The potential: an expression in ``x`` (see
        :func:`qbench.problems.expression.parse_potential`: numbers, ``x``,
        ``pi``, ``e``, ``+ - * / **``, comparisons and ``sin cos exp log sqrt
        abs tanh cosh sinh where heaviside``), a number for a constant V, or,
        from Python only, a vectorized function of a numpy array. A callable
        cannot be stored in a case (cases are JSON); write a Problem subclass
        in a plugin for that.
    domain : sequence of two floats
        The walls ``[x0, x1]``, finite, x0 < x1.
    breakpoints : sequence of float, default ()
        Strictly increasing positions strictly inside the domain where V may
        jump. Every method of the reference splits there; a jump that is not
        declared makes them disagree, and the reference is refused.

    Notes
    -----
    The reference is *certified* (:mod:`qbench.problems.certified`): each
    energy is enclosed by residual bounds (Kato-Temple where Sturm counts
    confirm the neighbouring gaps, Weinstein otherwise) with V bounded by
    interval arithmetic over its formula; ``rel_error_bound`` is the widest
    enclosure relative to ``max(|E|, (pi / L)^2)``, and ``consensus_spread``
    the separate per-state disagreement of independent methods. A request
    whose bound exceeds :data:`~qbench.problems.certified.MAX_REL_BOUND` is
    refused by ``check_states``, so a suite asking for it fails before any
    work starts.
    """

    name = "potential"
    has_exact_reference = False
    certified_reference = True

    dimensions = (1,)

    def __init__(
        self,
        V: str | float | Callable[[np.ndarray], np.ndarray],
        domain: Sequence[float],
        breakpoints: Sequence[float] = (),
    ):
        super().__init__()
        self._domain = _check_domain(domain)
        self._breakpoints = _check_breakpoints(breakpoints, self._domain)
        if isinstance(V, str):
            self._v: Callable[[np.ndarray], np.ndarray] = parse_potential(V, "V")
            self._v_param: str | Callable = V
        elif is_number(V):
            text = repr(float(V))
            self._v, self._v_param = parse_potential(text, "V"), text
        elif callable(V):
            self._v, self._v_param = _vectorized(V), V
        else:
            raise ValueError(f'V must be an expression string (e.g. "x**4") or a callable, got {V!r}')
        self._check_finite()

    # -- Problem interface ----------------------------------------------------
    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        return (self._domain,)

    @property
    def axis_breakpoints(self) -> tuple[tuple[float, ...], ...]:
        return (self._breakpoints,)

    @property
    def params(self) -> dict[str, Any]:
        return {"V": self._v_param, "domain": list(self._domain), "breakpoints": list(self._breakpoints)}

    @property
    def expression(self) -> Expression | None:
        """The parsed expression, or None for a callable V."""
        return self._v if isinstance(self._v, Expression) else None

    def potential(self, points: np.ndarray) -> np.ndarray:
        x = points[:, 0]
        x0, x1 = self._domain
        inside = (x >= x0) & (x <= x1)
        # Outside the walls V is never evaluated (it may be undefined there): the wall's value stands in.
        values = self._v(np.where(inside, x, x0))
        return np.where(inside, values, np.inf)

    def check_states(self, n_states: int) -> None:
        """Compute (once per process) the certified reference, and refuse it if its bound is too loose.

        Raises
        ------
        ValueError
            If the methods disagree by more than ``MAX_REL_BOUND`` relative;
            the message says what to change.
        """
        n_states = check_int("n_states", n_states, minimum=1)
        certificate = self.certificate(n_states)
        if not certificate.bound <= MAX_REL_BOUND:
            raise ValueError(self._refusal(certificate))

    def certificate(self, n_states: int) -> Certificate:
        """The certificate of states ``0 .. n_states - 1`` (cached per process by the parameters)."""
        cached = _CACHE.get(self)
        if cached is None or cached.n_states < n_states:
            cached = certify(self, n_states)
            _CACHE.pop(self, None)
            _CACHE[self] = cached
            while len(_CACHE) > _CACHE_SIZE:
                del _CACHE[next(iter(_CACHE))]
        if cached.n_states == n_states:
            return cached
        return _first_states(cached, n_states)

    def _compute_reference(self, n_states: int) -> Reference:
        certificate = self.certificate(n_states)
        positions = certificate.wavefunctions  # of flat positions

        return Reference(
            certificate.energies.copy(),
            lambda points: positions(points[:, 0]),
            method=certificate.method,
            rel_error_bound=certificate.bound,
            consensus_spread=certificate.consensus_spread,
        )

    # -- validation and messages ------------------------------------------------
    def _describe(self) -> str:
        shown = self._v_param if isinstance(self._v_param, str) else getattr(self._v_param, "__name__", "V")
        return f'potential V="{shown}" on {list(self._domain)}'

    def _check_finite(self) -> None:
        edges = [self._domain[0], *self._breakpoints, self._domain[1]]
        x = np.unique(
            np.concatenate([np.linspace(a, b, FINITE_CHECK_POINTS) for a, b in zip(edges, edges[1:])])
        )
        values = self.potential(x)
        bad = ~np.isfinite(values)
        if bad.any():
            where = x[bad].tolist()
            at = f"x={where[0]!r}" + (f" (and {len(where) - 1} more points)" if len(where) > 1 else "")
            raise ValueError(
                f"V must be finite on the domain {list(self._domain)}, but {self._describe()} is "
                f"{float(values[bad][0])!r} at {at}; change V or the domain"
            )

    def _refusal(self, certificate: Certificate) -> str:
        state = int(np.argmax(certificate.state_bounds))
        values = ", ".join(
            f"{name} {energies[state]:.15g}" for name, energies in certificate.by_method.items()
        )
        failures = "; ".join(
            f"{key.removesuffix('_error')} failed: {text}"
            for key, text in certificate.notes.items()
            if key.endswith("_error")
        )
        advice = []
        jump = _suspected_jump(self)
        if jump is not None:
            digits = max(0, math.ceil(-math.log10(1e-9 * self.length)))  # no 9.1e-16 for a jump at 0
            advice.append(
                f"V seems to jump near x={round(float(jump), digits)!r}: give breakpoints=[...] where V jumps"
            )
        residuals = certificate.notes.get("residual")
        worst = certificate.notes.get("residual_worst_x")
        if residuals is not None and worst is not None:
            a, b = worst
            advice.append(
                f"the residual of state {state} is bounded by {residuals[state]:.1e}, most of it from "
                f"x in [{a:.6g}, {b:.6g}], where V varies faster than the reference resolves: "
                "give breakpoints=[...] around that feature or a narrower domain"
            )
        advice.append(
            "give breakpoints=[...] where V jumps or has a kink, ask for fewer states, or choose a domain "
            "where the states decay before the walls"
            if jump is None
            else "or ask for fewer states"
        )
        kind = (certificate.notes.get("enclosure") or ["none"] * (state + 1))[state]
        return (
            f"{self._describe()}: no certified reference for state {state}: its enclosure ({kind}) "
            f"bounds the error by {certificate.state_bounds[state]:.1e} of max(|E|, (pi/L)^2) (allowed "
            f"{MAX_REL_BOUND:.0e}; {values}"
            + (f"; {failures}" if failures else "")
            + f"); {'; '.join(advice)}"
        )


def _check_domain(domain: Any) -> tuple[float, float]:
    values = check_real_sequence("domain", domain, min_length=2)
    if len(values) != 2 or not values[0] < values[1]:
        raise ValueError(f"domain must be [x0, x1], two finite numbers with x0 < x1, got {list(values)!r}")
    return values[0], values[1]


def _check_breakpoints(breakpoints: Any, domain: tuple[float, float]) -> tuple[float, ...]:
    values = check_real_sequence("breakpoints", breakpoints, min_length=0)
    x0, x1 = domain
    outside = [b for b in values if not x0 < b < x1]
    if outside:
        raise ValueError(
            f"breakpoints must lie strictly inside the domain ({x0!r}, {x1!r}), got {outside[0]!r}"
        )
    if any(b >= a for b, a in zip(values, values[1:])):
        raise ValueError(f"breakpoints must be strictly increasing, got {list(values)!r}")
    return values


def _vectorized(function: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], np.ndarray]:
    """A user's V as a float array of the shape of x, its failures as one-line ValueErrors."""

    def evaluate(x: np.ndarray) -> np.ndarray:
        try:
            with np.errstate(all="ignore"):
                values = np.asarray(function(x), dtype=float)
            return np.array(np.broadcast_to(values, x.shape), dtype=float)
        except (TypeError, ValueError, ArithmeticError) as exc:
            message = " ".join(str(exc).split())
            raise ValueError(
                f"V must be a vectorized function returning an array of the shape of x; V(x) raised "
                f"{type(exc).__name__}: {message}"
            ) from None

    return evaluate


def _first_states(certificate: Certificate, n_states: int) -> Certificate:
    full = certificate.wavefunctions

    def evaluate(x: np.ndarray) -> np.ndarray:
        return full(x)[:n_states]

    return Certificate(
        certificate.energies[:n_states].copy(),
        evaluate,
        {name: energies[:n_states] for name, energies in certificate.by_method.items()},
        certificate.state_bounds[:n_states].copy(),
        dict(certificate.notes),
        None if certificate.lower is None else certificate.lower[:n_states].copy(),
        None if certificate.upper is None else certificate.upper[:n_states].copy(),
    )


def _suspected_jump(problem: Potential) -> float | None:
    """Where V looks discontinuous away from the declared breakpoints, or None.

    The largest step between neighbouring samples is followed by bisection
    into the half with the larger step; a jump keeps its size all the way
    down, a smooth slope halves with every bisection.
    """
    edges = [problem.domain[0], *problem.breakpoints, problem.domain[1]]
    best = None
    for a, b in zip(edges, edges[1:]):
        x = np.linspace(a, b, 2001)[1:-1]
        steps = np.abs(np.diff(problem.potential(x)))
        if not steps.size:
            continue
        k = int(np.argmax(steps))
        lo, hi, start = x[k], x[k + 1], steps[k]
        for _ in range(40):
            middle = 0.5 * (lo + hi)
            v_lo, v_mid, v_hi = problem.potential(np.array([lo, middle, hi]))
            lo, hi = (lo, middle) if abs(v_mid - v_lo) >= abs(v_hi - v_mid) else (middle, hi)
        final = abs(float(np.diff(problem.potential(np.array([lo, hi])))[0]))
        if start > 0 and final >= 0.5 * start and (best is None or final > best[1]):
            best = (0.5 * (lo + hi), final)
    return None if best is None else best[0]

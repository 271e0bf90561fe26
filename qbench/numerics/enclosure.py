"""Eigenvalue intervals from a residual: Weinstein's and Kato-Temple's.

For a self-adjoint H, any psi in its domain with Rayleigh quotient
rho = <psi, H psi> / <psi, psi> and residual eps = ||(H - rho) psi|| / ||psi||:

* **Weinstein**: some eigenvalue lies in [rho - eps, rho + eps]. Which one is
  not said; an index check must tell.
* **Kato-Temple**: if (a, b) holds rho and exactly one eigenvalue lambda, then
  rho - eps^2 / (b - rho) <= lambda <= rho + eps^2 / (rho - a). Its half-width
  is of the order of the energy error itself, where Weinstein's is of its
  square root; but it needs the gap (a, b), which must come from an argument
  that does not read the answer (a Sturm count in 1D).

Both take a ``slack`` d: a bound on the error of the computed H psi (a Laplacian known only to
finite-difference accuracy, say), ||H psi - computed|| <= d ||psi||. Then rho is known to within
d and eps to within d, and the intervals widen to hold every (rho, eps) so allowed: the error
of rho enters to first order, which a tight Kato-Temple interval would otherwise hide.
"""

from __future__ import annotations

import math


def weinstein(rho: float, eps: float, slack: float = 0.0) -> tuple[float, float]:
    """The interval ``[rho - eps - 2 slack, rho + eps + 2 slack]``, which holds an eigenvalue.

    Parameters
    ----------
    rho
        Rayleigh quotient of a function in the domain of H.
    eps
        ``||(H - rho) psi|| / ||psi||``, >= 0.
    slack
        Bound on the error of the computed H psi, relative to ``||psi||`` (module docstring).
    """
    if not eps >= 0.0 or not slack >= 0.0:
        raise ValueError(f"eps and slack must be >= 0, got {eps!r} and {slack!r}")
    return rho - eps - 2.0 * slack, rho + eps + 2.0 * slack


def kato_temple(rho: float, eps: float, a: float, b: float, slack: float = 0.0) -> tuple[float, float]:
    """The Kato-Temple interval of the one eigenvalue in ``(a, b)``.

    Parameters
    ----------
    rho, eps, slack
        As in :func:`weinstein`.
    a, b
        ``a < rho - slack`` and ``rho + slack < b``, with exactly one eigenvalue in ``(a, b)``;
        ``a = -inf`` (the ground state, whose Rayleigh quotient is an upper bound) and
        ``b = inf`` are allowed.

    Returns
    -------
    tuple of float
        ``(rho - eps**2 / (b - rho), rho + eps**2 / (rho - a))`` when ``slack`` is 0; with
        slack, the widest such interval over the rho and eps it allows.

    Raises
    ------
    ValueError
        If ``rho`` (with its slack) is not strictly inside ``(a, b)``.
    """
    if not eps >= 0.0 or not slack >= 0.0:
        raise ValueError(f"eps and slack must be >= 0, got {eps!r} and {slack!r}")
    low, high, worst = rho - slack, rho + slack, eps + slack
    if not a < low <= high < b:
        raise ValueError(f"rho={rho!r} (+- {slack!r}) must lie strictly inside the gap ({a!r}, {b!r})")
    lower = low - worst**2 / (b - low) if math.isfinite(b) else -math.inf
    upper = high + worst**2 / (high - a) if math.isfinite(a) else high
    return lower, upper


def intersect(first: tuple[float, float], second: tuple[float, float]) -> tuple[float, float]:
    """The intersection of two intervals that both hold the same eigenvalue."""
    return max(first[0], second[0]), min(first[1], second[1])

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

Both take a ``slack`` d: the computed Rayleigh quotient is known only to within d (a
Laplacian known to finite-difference accuracy, a potential bounded by intervals). The intervals
widen to hold every rho so allowed; the error of rho enters to first order, which a tight
Kato-Temple interval would otherwise hide. ``eps`` must already bound the residual, errors
included.
"""

from __future__ import annotations

import math


def weinstein(rho: float, eps: float, slack: float = 0.0) -> tuple[float, float]:
    """The interval ``[rho - eps - slack, rho + eps + slack]``, which holds an eigenvalue.

    Parameters
    ----------
    rho
        Rayleigh quotient of a function in the domain of H (known to within ``slack``).
    eps
        A bound on ``||(H - rho) psi|| / ||psi||``, >= 0.
    slack
        How far the true Rayleigh quotient may be from ``rho`` (module docstring).
    """
    if not eps >= 0.0 or not slack >= 0.0:
        raise ValueError(f"eps and slack must be >= 0, got {eps!r} and {slack!r}")
    return rho - eps - slack, rho + eps + slack


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
        ``(rho - eps**2 / (b - rho), rho + eps**2 / (rho - a))`` when ``slack`` is 0. With slack,
        ``(low - eps**2 / (b - high), high + eps**2 / (low - a))`` for ``low, high = rho -+ slack``,
        which holds both ends of every rho in between.

    Raises
    ------
    ValueError
        If ``rho`` (with its slack) is not strictly inside ``(a, b)``.
    """
    if not eps >= 0.0 or not slack >= 0.0:
        raise ValueError(f"eps and slack must be >= 0, got {eps!r} and {slack!r}")
    low, high = rho - slack, rho + slack
    if not a < low <= high < b:
        raise ValueError(f"rho={rho!r} (+- {slack!r}) must lie strictly inside the gap ({a!r}, {b!r})")
    lower = low - eps**2 / (b - high) if math.isfinite(b) else -math.inf
    upper = high + eps**2 / (low - a) if math.isfinite(a) else high
    return lower, upper


def intersect(first: tuple[float, float], second: tuple[float, float]) -> tuple[float, float]:
    """The intersection of two intervals that both hold the same eigenvalue."""
    return max(first[0], second[0]), min(first[1], second[1])

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

For several states at once, with ``u_1..u_n`` in the domain of H and the matrices
A0 = <u_i, u_j>, A1 = <u_i, H u_j>, A2 = <H u_i, H u_j>:

* **Rayleigh-Ritz (Poincare)**: the k-th eigenvalue theta_k of A1 x = theta A0 x is an upper
  bound of lambda_k (:func:`ritz_upper_bounds`). No gap and no residual is needed.
* **Lehmann-Maehly**: for a shift sigma with exactly N eigenvalues below it (a Sturm count in
  1D), the negative eigenvalues mu_1 <= mu_2 <= ... of (A1 - sigma A0) x = mu (A2 - 2 sigma A1 +
  sigma^2 A0) x give lambda_{N+1-i} >= sigma + 1 / mu_i (:func:`lehmann_lower_bounds`). This is
  Rayleigh-Ritz for (H - sigma)^-1 on the functions (H - sigma) u_i. Its error is of the order
  eps^2 / (sigma - lambda): the gap that counts is the one to the first level *above all the
  states*, where Kato-Temple's for a state is the one to its nearest neighbour.

Both matrix bounds take the spectral norms of the matrices' errors and hold for every set of
matrices within them (rigorous when the error bounds are).

Kato-Temple and Weinstein take a ``slack`` d: the computed Rayleigh quotient is known only to within d (a
Laplacian known to finite-difference accuracy, a potential bounded by intervals). The intervals
widen to hold every rho so allowed; the error of rho enters to first order, which a tight
Kato-Temple interval would otherwise hide. ``eps`` must already bound the residual, errors
included.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg


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


def _whitened(
    gram: np.ndarray, matrices: list[np.ndarray], gram_error: float, errors: list[float]
) -> tuple[list[np.ndarray], list[float], float]:
    """``L^-1 M L^-T`` of each matrix for ``gram = L L^T``, the bounds of their errors after it, and
    the bound of the whitened gram's distance from the identity (each error over min eig(gram))."""
    gram = 0.5 * (gram + gram.T)
    smallest = float(np.linalg.eigvalsh(gram)[0])
    if not smallest > 0:
        raise ValueError("the Gram matrix of the states is not positive definite")
    factor = np.linalg.cholesky(gram)
    out = []
    for matrix in matrices:
        half = scipy.linalg.solve_triangular(factor, 0.5 * (matrix + matrix.T), lower=True)
        whitened = scipy.linalg.solve_triangular(factor, half.T, lower=True)
        out.append(0.5 * (whitened + whitened.T))
    return out, [e / smallest for e in errors], gram_error / smallest


def ritz_upper_bounds(
    gram: np.ndarray, stiffness: np.ndarray, gram_error: float = 0.0, stiffness_error: float = 0.0
) -> np.ndarray:
    """Upper bounds of lambda_1..lambda_n from the Ritz values of n states (Poincare's min-max).

    Parameters
    ----------
    gram, stiffness
        A0 = <u_i, u_j> and A1 = <u_i, H u_j> (module docstring), as computed.
    gram_error, stiffness_error
        Bounds on the spectral norms of their errors.

    Returns
    -------
    numpy.ndarray
        ``hi_k >= lambda_k``, ascending; ``inf`` where the errors leave no bound.
    """
    (whitened,), (error,), gram_off = _whitened(gram, [stiffness], gram_error, [stiffness_error])
    theta = np.linalg.eigvalsh(whitened)
    if not gram_off < 1.0:
        return np.full(len(theta), math.inf)
    top = theta + error
    # On the span of the first k Ritz vectors x^T A1 x <= top_k |x|^2 and x^T A0 x lies within
    # (1 -+ gram_off) |x|^2, so the true quotient there is at most top_k over the near end.
    return np.where(top >= 0.0, top / (1.0 - gram_off), top / (1.0 + gram_off))


def lehmann_lower_bounds(
    gram: np.ndarray,
    stiffness: np.ndarray,
    squared: np.ndarray,
    shift: float,
    errors: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> np.ndarray:
    """Lower bounds of the eigenvalues just below ``shift``, by Lehmann-Maehly (module docstring).

    Parameters
    ----------
    gram, stiffness, squared
        A0, A1 and A2 of n states, as computed.
    shift
        sigma, with exactly N eigenvalues of H below it, for some N (known to the caller).
    errors
        Bounds on the spectral norms of the errors of A0, A1 and A2.

    Returns
    -------
    numpy.ndarray
        Entry ``i`` (0-based) bounds lambda_{N-i} (1-based: the (i+1)-th eigenvalue counted
        down from sigma) from below; ``-inf`` where the matrices give no bound (mu_i not
        certainly negative, or A2 - 2 sigma A1 + sigma^2 A0 not certainly positive definite).
    """
    (c1, c2), (f1, f2), f0 = _whitened(gram, [stiffness, squared], errors[0], [errors[1], errors[2]])
    eye = np.eye(len(gram))
    a = c1 - shift * eye
    b = c2 - 2.0 * shift * c1 + shift**2 * eye
    f_a = f1 + abs(shift) * f0
    f_b = f2 + 2.0 * abs(shift) * f1 + shift**2 * f0
    smallest = float(np.linalg.eigvalsh(b)[0])
    out = np.full(len(gram), -math.inf)
    if not smallest > f_b:
        return out
    mu = scipy.linalg.eigh(a, b, eigvals_only=True)
    # On the span of the first i generalized eigenvectors x^T A x <= mu_i x^T B x; the true
    # quotient there is at most (mu_i t + f_a) / (t + f_b) for t = x^T B x / |x|^2 >= smallest,
    # which decreases in t when mu_i < 0, so t = smallest gives its largest value.
    upper = (mu * smallest + f_a) / (smallest + f_b)
    negative = upper < 0.0
    out[negative] = shift + 1.0 / upper[negative]
    return out

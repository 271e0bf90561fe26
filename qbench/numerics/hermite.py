"""Hermite functions: the harmonic oscillator's eigenfunctions, and the moments of their densities.

The normalized Hermite function h_n(y) = (2^n n! sqrt(pi))^(-1/2) H_n(y) exp(-y^2 / 2) is the
n-th eigenfunction of -d2/dy2 + y^2, with eigenvalue 2 n + 1.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import eval_laguerre


def hermite_functions(n_states: int, y: np.ndarray) -> np.ndarray:
    """h_0 .. h_{n_states - 1} at ``y``, shape ``(n_states, len(y))``, normalized on the real line.

    By their three-term recurrence: no overflow of H_n, no factorials.
    """
    y = np.asarray(y, dtype=float)
    out = np.empty((n_states, len(y)))
    out[0] = math.pi**-0.25 * np.exp(-0.5 * y * y)
    if n_states > 1:
        out[1] = math.sqrt(2.0) * y * out[0]
    for n in range(1, n_states - 1):
        out[n + 1] = math.sqrt(2.0 / (n + 1)) * y * out[n] - math.sqrt(n / (n + 1)) * out[n - 1]
    return out


def hermite_log_mgf(n: int, s: np.ndarray | float) -> np.ndarray:
    """log E[exp(s y)] for y distributed as h_n(y)^2: ``s^2 / 4 + log L_n(-s^2 / 2)``.

    The moment generating function of the n-th oscillator density is
    exp(s^2 / 4) L_n(-s^2 / 2), with L_n the Laguerre polynomial (positive at negative
    arguments). Chernoff's bound P(y > r) <= exp(log_mgf(s) - s r) follows for every s >= 0.
    """
    s = np.asarray(s, dtype=float)
    return 0.25 * s * s + np.log(eval_laguerre(int(n), -0.5 * s * s))

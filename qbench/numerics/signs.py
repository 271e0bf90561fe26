"""The sign convention of a sampled state: positive where it first rises above rounding.

The analytic references and the classical solvers sign their states with it, so that in 1D two
answers of one level come out with the same sign (an eigenvector's sign is otherwise arbitrary).
"""

from __future__ import annotations

import numpy as np


def rising_signs(values: np.ndarray, threshold: float = 1e-8) -> np.ndarray:
    """+1 or -1 per row of ``values``: the sign that makes each state positive where it first
    exceeds ``threshold`` times its maximum.

    A row holds one state's samples in order: left to right in 1D, the C order of a tensor grid
    (first axis slowest) in d dimensions. Deep in a forbidden tail the first samples are rounding
    noise, so their sign says nothing, hence the threshold.

    Parameters
    ----------
    values
        Shape ``(n_states, n_samples)`` (one row is taken as one state).
    threshold
        Relative size below which a sample is taken as rounding noise.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_states,)``, entries +1.0 or -1.0.
    """
    values = np.atleast_2d(values)
    magnitude = np.abs(values)
    first = np.argmax(magnitude > threshold * magnitude.max(axis=1, keepdims=True), axis=1)
    return np.where(values[np.arange(len(values)), first] < 0, -1.0, 1.0)

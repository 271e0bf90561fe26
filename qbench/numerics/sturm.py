"""Isolating one eigenvalue with a Sturm count, shared by the exact references and shooting.

For -psi'' + V psi = E psi with Dirichlet walls, the number of zeros inside the
box of the solution started at the left wall equals the number of eigenvalues
below E (Sturm oscillation). Bisection on that count encloses exactly state n,
so a root finder started there can neither skip a state nor find one twice.
"""

from __future__ import annotations

from collections.abc import Callable


def isolate_state(
    count_below: Callable[[float], int], index: int, lower: float, upper: float
) -> tuple[float, float]:
    """Shrink ``(lower, upper)`` until it holds state ``index`` and no other.

    Parameters
    ----------
    count_below
        Number of eigenvalues below an energy.
    index
        The state, 0 for the ground state.
    lower, upper
        Energies with no state below ``lower`` and state ``index`` below ``upper``.

    Raises
    ------
    RuntimeError
        If ``upper`` is too low, or the state cannot be separated from its
        neighbour in double precision.
    """
    count_lower, count_upper = 0, count_below(upper)
    if count_upper <= index:
        raise RuntimeError(f"state {index} is not below E={upper!r}: count there is {count_upper}")
    while not (count_lower == index and count_upper == index + 1):
        middle = 0.5 * (lower + upper)
        if middle in (lower, upper):
            raise RuntimeError(f"state {index} is degenerate to machine precision near E={middle!r}")
        count = count_below(middle)
        if count <= index:
            lower, count_lower = middle, count
        else:
            upper, count_upper = middle, count
    return lower, upper

"""Argument checks shared by problems and solvers.

Every check raises ``ValueError`` whose message names the parameter and says
what is allowed, so a bad suite fails at construction, before any work starts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a finite float or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return value


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a finite float > 0 or raise naming ``name``."""
    value = check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def check_nonnegative(name: str, value: Any) -> float:
    """Return ``value`` as a finite float >= 0 or raise naming ``name``."""
    value = check_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def check_int(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int in ``[minimum, maximum]`` or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_positive_int(name: str, value: Any) -> int:
    """An integer >= 1 (an option validator: ``Option(32, check_positive_int, ...)``)."""
    return check_int(name, value, minimum=1)


def check_nonnegative_int(name: str, value: Any) -> int:
    """An integer >= 0 (an option validator)."""
    return check_int(name, value, minimum=0)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices`` or raise naming ``name``."""
    choices = tuple(choices)
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_real_sequence(name: str, values: Any, min_length: int = 1) -> tuple[float, ...]:
    """Return ``values`` as a tuple of finite floats of at least ``min_length`` items."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, Iterable)):
        raise ValueError(f"{name} must be a sequence of finite real numbers, got {values!r}")
    items = tuple(values)
    if len(items) < min_length:
        raise ValueError(f"{name} must have at least {min_length} entries, got {len(items)}")
    return tuple(check_real(f"{name}[{i}]", v) for i, v in enumerate(items))


def unknown_name_error(kind: str, name: Any, available: Iterable[str]) -> ValueError:
    """Build the error for a name missing from a registry, listing what exists."""
    listing = ", ".join(sorted(available))
    return ValueError(f"unknown {kind} {name!r}; available: {listing}")

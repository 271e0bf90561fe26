"""What the solver and problem checks share: the failure type, check naming and running,
one-line error expectations, the bad-value search, sample points, and the public constants."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

#: A check: no arguments, raises ``AssertionError`` naming itself and the class on failure.
Check = Callable[[], None]

#: Values tried in place of every option or parameter; each is wrong for most of them.
BAD_VALUES: tuple[Any, ...] = (
    object(),
    "1",
    "__not_a_valid_choice__",
    [],
    None,
    -1,
    0,
    -0.5,
    float("nan"),
    float("inf"),
    -float("inf"),
    1e300,
)

#: Relative tolerance of the orthonormality of a reference under its quadrature rule.
ORTHONORMALITY_TOL = 1e-8

#: How many points the shape, value and determinism checks sample inside the box.
N_SAMPLE_POINTS = 7


class CheckFailed(AssertionError):
    """A conformance check failed; the message names the check and the class."""


# -- running checks ----------------------------------------------------------------------------------


def _label(cls: type) -> str:
    name = getattr(cls, "name", None)
    label = f"{cls.__module__}.{cls.__qualname__}"
    return f"{label} ({name!r})" if isinstance(name, str) else label


def _named(check_name: str, cls: type, body: Callable[[], None]) -> Check:
    """Wrap ``body`` so that any failure in it is an ``AssertionError`` naming the check and ``cls``."""

    @functools.wraps(body)
    def run() -> None:
        try:
            body()
        except CheckFailed:
            raise
        except AssertionError as exc:
            raise CheckFailed(f"check {check_name!r} failed for {_label(cls)}: {exc}") from exc
        except Exception as exc:
            raise CheckFailed(
                f"check {check_name!r} failed for {_label(cls)}: unexpected {type(exc).__name__}: {exc}"
            ) from exc

    run.__name__ = run.__qualname__ = check_name
    return run


def _run_all(checks: Iterable[tuple[str, Check]]) -> None:
    for _, check in checks:
        check()


# -- shared helpers ----------------------------------------------------------------------------------


def _names(message: str, name: str) -> bool:
    """True if ``message`` mentions ``name`` as a word."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def _is_one_line(message: str) -> bool:
    return bool(message.strip()) and "\n" not in message.strip()


def _expect_one_line_value_error(call: Callable[[], Any], what: str, name: str | None = None) -> None:
    """Assert that ``call()`` raises a one-line ``ValueError`` (naming ``name`` when given)."""
    try:
        call()
    except ValueError as exc:
        message = str(exc)
        assert _is_one_line(message), f"{what} raised a ValueError that is not one line: {message!r}"
        if name is not None:
            assert _names(message, name), (
                f"{what} raised a ValueError that does not name {name!r}: {message!r}"
            )
        return
    except Exception as exc:
        raise AssertionError(f"{what} raised {type(exc).__name__} instead of ValueError: {exc}") from exc
    raise AssertionError(f"{what} did not raise ValueError")


def _try_bad_values(build: Callable[[Any], Any], name: str, what: str) -> list[str]:
    """Build with each of :data:`BAD_VALUES` for ``name``; the messages of the rejections.

    Every rejection must be a one-line ``ValueError`` naming ``name``; accepted values are skipped.
    """
    messages = []
    for value in BAD_VALUES:
        try:
            build(value)
        except ValueError as exc:
            message = str(exc)
            assert _is_one_line(message), (
                f"{what}: {name}={value!r} is rejected with a ValueError that is not one line: {message!r}"
            )
            assert _names(message, name), (
                f"{what}: {name}={value!r} is rejected with a ValueError that does not name "
                f"{name!r}: {message!r}"
            )
            messages.append(message)
        except Exception as exc:
            raise AssertionError(
                f"{what}: {name}={value!r} raised {type(exc).__name__} instead of ValueError: {exc}"
            ) from exc
    return messages


def _sample_points(box: tuple[tuple[float, float], ...], n: int = N_SAMPLE_POINTS) -> np.ndarray:
    """``n`` fixed pseudo-random points strictly inside ``box``, shape ``(n, d)``."""
    rng = np.random.default_rng(20240611)
    lo = np.array([a for a, _ in box], dtype=float)
    hi = np.array([b for _, b in box], dtype=float)
    return lo + (hi - lo) * (0.05 + 0.9 * rng.random((n, len(box))))

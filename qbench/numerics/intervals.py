"""Interval arithmetic on second-order jets: enclosures of f, f' and f'' over whole intervals.

A :class:`Jet` holds three intervals, arrays of lower and upper ends: one enclosing the values
of a function f on an interval of x, one its first derivative, one its second. Arithmetic and
the elementary functions map jets to jets by the chain rule, with every interval enclosing the
true range (non-monotone functions take their interior extrema into account). Where a function
is not twice differentiable on the interval (``abs`` across 0, a step that switches) the
derivatives it cannot bound become ``[-inf, inf]``, and NaN (a function undefined somewhere on
the interval) becomes ``[-inf, inf]`` too: an enclosure is never narrower than the truth, only
wider.

The ends are rounded to nearest, not outward: a range is enclosed up to floating-point
rounding, not rigorously. Every operation is vectorized over the arrays, so many sub-intervals
are enclosed in one pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_TWO_PI = 2.0 * math.pi


@dataclass(frozen=True)
class Interval:
    """Arrays ``lo <= hi`` (elementwise) enclosing a range of values."""

    lo: np.ndarray
    hi: np.ndarray

    @staticmethod
    def of(lo: np.ndarray | float, hi: np.ndarray | float) -> Interval:
        """The interval ``[lo, hi]`` with NaN ends widened to infinities."""
        lo = np.asarray(lo, dtype=float)
        hi = np.asarray(hi, dtype=float)
        return Interval(np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi))

    @staticmethod
    def point(value: np.ndarray | float) -> Interval:
        return Interval.of(value, value)

    def __add__(self, other: Interval) -> Interval:
        return Interval.of(self.lo + other.lo, self.hi + other.hi)

    def __sub__(self, other: Interval) -> Interval:
        return Interval.of(self.lo - other.hi, self.hi - other.lo)

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __mul__(self, other: Interval) -> Interval:
        products = [_product(a, b) for a in (self.lo, self.hi) for b in (other.lo, other.hi)]
        return Interval.of(np.minimum.reduce(products), np.maximum.reduce(products))

    def scale(self, factor: float) -> Interval:
        return self * Interval.point(factor)

    def square(self) -> Interval:
        """``{t^2}``: not ``self * self``, which forgets that both factors are the same t."""
        low, high = self.lo**2, self.hi**2
        contains_zero = (self.lo <= 0) & (self.hi >= 0)
        return Interval.of(np.where(contains_zero, 0.0, np.minimum(low, high)), np.maximum(low, high))

    def reciprocal(self) -> Interval:
        contains_zero = (self.lo <= 0) & (self.hi >= 0)
        return Interval.of(
            np.where(contains_zero, -np.inf, 1.0 / self.hi), np.where(contains_zero, np.inf, 1.0 / self.lo)
        )

    def magnitude(self) -> np.ndarray:
        """The largest ``|t|`` over the interval."""
        return np.maximum(np.abs(self.lo), np.abs(self.hi))

    def hull(self, other: Interval) -> Interval:
        return Interval(np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi))

    def contains_zero(self) -> np.ndarray:
        return (self.lo <= 0) & (self.hi >= 0)


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # 0 * inf is 0 in interval arithmetic (the infinite end is a limit, never attained).
    out = a * b
    return np.where((a == 0) | (b == 0), 0.0, out)


def _unbounded(shape: tuple[int, ...]) -> Interval:
    return Interval(np.full(shape, -np.inf), np.full(shape, np.inf))


# -- ranges of elementary functions over an interval ---------------------------------------------
def _monotone(function, box: Interval, increasing: bool = True) -> Interval:
    a, b = function(box.lo), function(box.hi)
    return Interval.of(a, b) if increasing else Interval.of(b, a)


def _sine(box: Interval, phase: float = 0.0) -> Interval:
    """Range of sin(t + phase): the ends, and +-1 where a crest or trough lies inside."""
    lo, hi = box.lo + phase, box.hi + phase
    a, b = np.sin(lo), np.sin(hi)
    low, high = np.minimum(a, b), np.maximum(a, b)
    wide = ~np.isfinite(lo) | ~np.isfinite(hi) | (hi - lo >= _TWO_PI)
    # A crest at pi/2 + 2 pi k lies in [lo, hi] iff the smallest such point >= lo is <= hi.
    crest = np.ceil((lo - math.pi / 2) / _TWO_PI) * _TWO_PI + math.pi / 2 <= hi
    trough = np.ceil((lo + math.pi / 2) / _TWO_PI) * _TWO_PI - math.pi / 2 <= hi
    high = np.where(crest | wide, 1.0, high)
    low = np.where(trough | wide, -1.0, low)
    return Interval.of(low, high)


def _even_decreasing_in_magnitude(function, box: Interval) -> Interval:
    """Range of an even function that decreases with |t| (e.g. 1/cosh^2)."""
    smallest = np.where(box.contains_zero(), 0.0, np.minimum(np.abs(box.lo), np.abs(box.hi)))
    return Interval.of(function(box.magnitude()), function(smallest))


def _power_range(box: Interval, exponent: float) -> Interval:
    """Range of t**exponent over the interval, for a constant exponent."""
    lo, hi = box.lo, box.hi
    if exponent == 0:
        return Interval.point(np.ones_like(lo))
    if float(exponent).is_integer():
        n = int(exponent)
        a, b = _safe_power(lo, n), _safe_power(hi, n)
        if n > 0 and n % 2 == 0:
            return Interval.of(np.where(box.contains_zero(), 0.0, np.minimum(a, b)), np.maximum(a, b))
        if n > 0:
            return Interval.of(a, b)
        # Negative: unbounded across 0; otherwise monotone on each side of 0.
        crosses = box.contains_zero()
        return Interval.of(
            np.where(crosses, -np.inf, np.minimum(a, b)), np.where(crosses, np.inf, np.maximum(a, b))
        )
    # A fractional power is real only for t >= 0 (numpy gives NaN below: V undefined there).
    negative = lo < 0
    a, b = _safe_power(np.maximum(lo, 0.0), exponent), _safe_power(np.maximum(hi, 0.0), exponent)
    low, high = (a, b) if exponent > 0 else (b, a)
    return Interval.of(np.where(negative, -np.inf, low), np.where(negative, np.inf, high))


def _safe_power(t: np.ndarray, exponent: float) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.power(t, exponent)


# -- jets ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Jet:
    """Enclosures of a function's value, first and second derivative over intervals of x.

    Attributes
    ----------
    value, first, second : Interval
        Each with arrays of one shape, one entry per interval of x.
    """

    value: Interval
    first: Interval
    second: Interval

    @staticmethod
    def variable(lo: np.ndarray, hi: np.ndarray) -> Jet:
        """x itself over ``[lo, hi]``: derivative 1, second derivative 0."""
        lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
        return Jet(Interval.of(lo, hi), Interval.point(np.ones_like(lo)), Interval.point(np.zeros_like(lo)))

    @staticmethod
    def constant(value: float, shape: tuple[int, ...]) -> Jet:
        zero = Interval.point(np.zeros(shape))
        return Jet(Interval.point(np.full(shape, float(value))), zero, zero)

    @staticmethod
    def step(value: Interval, switches: np.ndarray) -> Jet:
        """A piecewise-constant function with values in ``value``: derivatives 0 where it does not
        switch on the interval, unbounded where it does."""
        shape = value.lo.shape
        zero = np.zeros(shape)
        derivative = Interval.of(np.where(switches, -np.inf, zero), np.where(switches, np.inf, zero))
        return Jet(value, derivative, derivative)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.lo.shape

    def __add__(self, other: Jet) -> Jet:
        return Jet(self.value + other.value, self.first + other.first, self.second + other.second)

    def __sub__(self, other: Jet) -> Jet:
        return Jet(self.value - other.value, self.first - other.first, self.second - other.second)

    def __neg__(self) -> Jet:
        return Jet(-self.value, -self.first, -self.second)

    def __mul__(self, other: Jet) -> Jet:
        u, v = self, other
        second = u.second * v.value + (u.first * v.first).scale(2.0) + u.value * v.second
        return Jet(u.value * v.value, u.first * v.value + u.value * v.first, second)

    def __truediv__(self, other: Jet) -> Jet:
        box = other.value
        inverse = chain(
            other, box.reciprocal(), _power_range(box, -2.0).scale(-1.0), _power_range(box, -3.0).scale(2.0)
        )
        return self * inverse


def chain(inner: Jet, f: Interval, df: Interval, ddf: Interval) -> Jet:
    """f(inner) from enclosures of f, f', f'' over the range of ``inner``: the chain rule."""
    return Jet(f, df * inner.first, ddf * inner.first.square() + df * inner.second)


def unary(name: str, u: Jet) -> Jet:
    """The jet of one of ``exp log sqrt sin cos sinh cosh tanh abs`` applied to ``u``."""
    box = u.value
    if name == "exp":
        e = _monotone(np.exp, box)
        return chain(u, e, e, e)
    if name == "log":
        negative = box.lo < 0
        with np.errstate(all="ignore"):
            f = Interval.of(np.where(negative, -np.inf, np.log(np.maximum(box.lo, 0.0))), np.log(box.hi))
        f = Interval.of(f.lo, np.where(box.hi < 0, np.inf, f.hi))
        return chain(u, f, _power_range(box, -1.0), _power_range(box, -2.0).scale(-1.0))
    if name == "sqrt":
        return chain(
            u,
            _power_range(box, 0.5),
            _power_range(box, -0.5).scale(0.5),
            _power_range(box, -1.5).scale(-0.25),
        )
    if name == "sin":
        s, c = _sine(box), _sine(box, math.pi / 2)
        return chain(u, s, c, -s)
    if name == "cos":
        s, c = _sine(box), _sine(box, math.pi / 2)
        return chain(u, c, -s, -c)
    if name == "sinh":
        s = _monotone(np.sinh, box)
        return chain(u, s, _cosh(box), s)
    if name == "cosh":
        c = _cosh(box)
        return chain(u, c, _monotone(np.sinh, box), c)
    if name == "tanh":
        t = _monotone(np.tanh, box)
        sech2 = _even_decreasing_in_magnitude(lambda v: 1.0 / np.cosh(v) ** 2, box)
        return chain(u, t, sech2, (t * sech2).scale(-2.0))
    if name == "abs":
        return _absolute(u)
    raise ValueError(f"no interval rule for {name!r}")


def _cosh(box: Interval) -> Interval:
    a, b = np.cosh(box.lo), np.cosh(box.hi)
    return Interval.of(np.where(box.contains_zero(), 1.0, np.minimum(a, b)), np.maximum(a, b))


def _absolute(u: Jet) -> Jet:
    box = u.value
    positive, negative = box.lo >= 0, box.hi <= 0
    magnitude = Interval.of(np.where(positive, box.lo, np.where(negative, -box.hi, 0.0)), box.magnitude())
    sign = Interval.of(np.where(positive, 1.0, -1.0), np.where(negative, -1.0, 1.0))
    # Across 0 |u| has a kink: its second derivative is not a function there.
    kink = ~positive & ~negative
    ddf = Interval.of(np.where(kink, -np.inf, 0.0), np.where(kink, np.inf, 0.0))
    return chain(u, magnitude, sign, ddf)


def power(base: Jet, exponent: Jet) -> Jet:
    """``base ** exponent``; a constant exponent by the power rule, a varying one as exp(e log b)."""
    e = exponent.value
    constant = (
        np.all(e.lo == e.hi)
        and np.all(exponent.first.lo == 0)
        and np.all(exponent.first.hi == 0)
        and np.all(exponent.second.lo == 0)
        and np.all(exponent.second.hi == 0)
        and e.lo.size > 0
        and np.all(e.lo == e.lo.flat[0])
    )
    if constant:
        p = float(e.lo.flat[0])
        box = base.value
        if p == 0:
            return Jet.constant(1.0, base.shape)
        return chain(
            base,
            _power_range(box, p),
            _power_range(box, p - 1).scale(p),
            _power_range(box, p - 2).scale(p * (p - 1)),
        )
    return unary("exp", exponent * unary("log", base))


def compare(op: str, left: Jet, right: Jet) -> Jet:
    """A comparison as a 0/1 step: decided where the operands' ranges do not overlap."""
    a, b = left.value, right.value
    if op in ("<", "<="):
        a, b = b, a  # left < right is right > left
        op = ">" if op == "<" else ">="
    if op == ">":
        true, false = a.lo > b.hi, a.hi <= b.lo
    else:
        true, false = a.lo >= b.hi, a.hi < b.lo
    return _boolean(true, false)


def _boolean(true: np.ndarray, false: np.ndarray) -> Jet:
    value = Interval.of(np.where(true, 1.0, 0.0), np.where(false, 0.0, 1.0))
    return Jet.step(value, ~true & ~false)


def logical_and(left: Jet, right: Jet) -> Jet:
    true = (left.value.lo > 0) & (right.value.lo > 0)
    false = (left.value.hi <= 0) | (right.value.hi <= 0)
    return _boolean(true, false & ~true)


def where(condition: Jet, if_true: Jet, if_false: Jet) -> Jet:
    """numpy's where(c, a, b): a where c is nonzero, b where it is 0."""
    c = condition.value
    can_be_true = ~((c.lo == 0) & (c.hi == 0))
    can_be_false = c.contains_zero()
    # Where the condition switches inside the interval, the result jumps: a step between the two.
    switches = can_be_true & can_be_false
    mixed = Jet.step(if_true.value.hull(if_false.value), switches)
    return _select(switches, mixed, _select(can_be_true, if_true, if_false))


def heaviside(u: Jet, at_zero: Jet) -> Jet:
    """numpy's heaviside(u, h0): 0 below 0, h0 at 0, 1 above."""
    box = u.value
    above, below = box.lo > 0, box.hi < 0
    at = (box.lo == 0) & (box.hi == 0)
    h = at_zero.value
    low = np.where(above, 1.0, np.where(below, 0.0, np.where(at, h.lo, np.minimum(0.0, h.lo))))
    high = np.where(above, 1.0, np.where(below, 0.0, np.where(at, h.hi, np.maximum(1.0, h.hi))))
    return Jet.step(Interval.of(low, high), ~above & ~below & ~at)


def _select(mask: np.ndarray, a: Jet, b: Jet) -> Jet:
    def pick(x: Interval, y: Interval) -> Interval:
        return Interval(np.where(mask, x.lo, y.lo), np.where(mask, x.hi, y.hi))

    return Jet(pick(a.value, b.value), pick(a.first, b.first), pick(a.second, b.second))

"""The potential's expression language: what parses, what evaluates to what, and what is refused."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qbench.problems.expression import FUNCTIONS, Expression, parse_potential

X = np.linspace(-2.0, 2.0, 9)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x**4", X**4),
        ("10*cos(2*x)", 10 * np.cos(2 * X)),
        ("-x**2", -(X**2)),  # unary minus binds looser than **, as in Python
        ("-(x - 1) / 2 + +x", -(X - 1) / 2 + X),
        ("where(x > 0, 20, 0)", np.where(X > 0, 20.0, 0.0)),
        ("where(x <= 0.5, 1, -1)", np.where(X <= 0.5, 1.0, -1.0)),
        ("(x >= 1) * 3 + (x < -1) * 2", (X >= 1) * 3.0 + (X < -1) * 2.0),
        ("-1 < x < 1", ((X > -1) & (X < 1)).astype(float)),
        ("heaviside(x)", np.heaviside(X, 0.5)),
        ("heaviside(x, 1)", np.heaviside(X, 1.0)),
        (
            "exp(-x**2) + log(1 + x**2) + sqrt(abs(x))",
            np.exp(-(X**2)) + np.log(1 + X**2) + np.sqrt(np.abs(X)),
        ),
        ("tanh(x) * cosh(x) - sinh(x)", np.tanh(X) * np.cosh(X) - np.sinh(X)),
        ("pi * e", np.full_like(X, math.pi * math.e)),
        ("50*(1 - exp(-1.2*(x - 1)))**2", 50 * (1 - np.exp(-1.2 * (X - 1))) ** 2),
    ],
)
def test_accepted_expressions_evaluate_like_numpy(text, expected):
    value = parse_potential(text)(X)
    assert value.shape == X.shape and value.dtype == float
    np.testing.assert_allclose(value, expected, rtol=1e-15, atol=1e-15)


def test_a_constant_expression_has_the_shape_of_x():
    expression = parse_potential("5")
    assert not expression.uses_x
    assert expression(X).tolist() == [5.0] * len(X)
    assert expression(np.zeros((2, 3))).shape == (2, 3)
    assert parse_potential("x + 1").uses_x


def test_the_expression_keeps_its_text_and_compares_by_it():
    expression = parse_potential("x**2")
    assert isinstance(expression, Expression) and expression.text == "x**2"
    assert expression == parse_potential("x**2") and hash(expression) == hash(parse_potential("x**2"))
    assert expression != parse_potential("x*x")


def test_undefined_values_are_nan_or_inf_without_warnings():
    with np.errstate(all="raise"):  # the expression silences numpy itself
        values = parse_potential("log(x) + 0 * sqrt(x)")(np.array([0.0, -1.0]))
    assert values[0] == -np.inf and np.isnan(values[1])
    assert parse_potential("9**9**9")(X)[0] == np.inf  # float overflow, not a huge integer


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("__import__('os').system('x')", "attribute access is not allowed"),
        ("__import__('os')", "unknown name '__import__'"),
        ("x.real", "attribute access is not allowed"),
        ("().__class__", "attribute access is not allowed"),
        ("lambda x: x", "lambda is not allowed"),
        ("(lambda: 0)()", "calling lambda is not allowed"),
        ("foo(x)", "unknown name 'foo'"),
        ("V0 * x", "unknown name 'V0'"),
        ("x**", "syntax error"),
        ("x +* 2", "syntax error"),
        ("'x**2'", "constant 'x**2' is not allowed"),
        ("1j * x", "constant 1j is not allowed"),
        ("True * x", "constant True is not allowed"),
        ("x[0]", "subscript is not allowed"),
        ("sin(x=1)", "keyword arguments are not allowed"),
        ("sin(*x)", "*arguments are not allowed"),
        ("sin(x, x)", "sin takes 1 argument(s), got 2"),
        ("where(x > 0, 1)", "where takes 3 argument(s), got 2"),
        ("sin", "function 'sin' must be called"),
        ("x(1)", "'x' is not a function"),
        ("x == 1", "comparison '==' is not allowed"),
        ("x % 2", "operator '%' is not allowed"),
        ("x if x > 0 else 0", "'if ... else' is not allowed"),
        ("x > 0 and x < 1", "'and'/'or' is not allowed"),
        ("[x, x]", "a list is not allowed"),
        ("x;import os", "syntax error"),
    ],
)
def test_refused_expressions_are_one_line_value_errors(text, fragment):
    with pytest.raises(ValueError) as info:
        parse_potential(text, "V")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("V: ")
    assert fragment in message
    if "unknown name" in fragment:
        assert "allowed: x, pi, e, abs, cos" in message


def test_a_multi_line_text_gives_a_one_line_message():
    with pytest.raises(ValueError) as info:
        parse_potential("(x +\n foo)")
    assert "\n" not in str(info.value) and "unknown name 'foo'" in str(info.value)


def test_non_strings_and_huge_texts_are_refused():
    with pytest.raises(ValueError, match="V must be an expression string"):
        parse_potential(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="longer than"):
        parse_potential("x+" * 2000 + "x")


@given(st.sampled_from(sorted(set(FUNCTIONS) - {"where", "heaviside"})), st.floats(-3, 3), st.floats(0.1, 2))
def test_every_one_argument_function_matches_numpy(name, shift, scale):
    text = f"{name}({scale!r} * x + {shift!r})"
    with np.errstate(all="ignore"):
        expected = FUNCTIONS[name][0](scale * X + shift)
        np.testing.assert_array_equal(parse_potential(text)(X), expected)

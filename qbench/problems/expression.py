"""Safe parsing of a potential written as text, such as ``"x**4"`` or ``"where(abs(x) < 1, 0, 50)"``.

The text is parsed with :func:`ast.parse` and the tree is walked against a
whitelist; every accepted node becomes a small Python closure over numpy.
Nothing of the user's text is ever compiled or evaluated, so a suite file or a
command line cannot run code: a name, an attribute, a subscript, a keyword
argument, a string or a call of anything outside the whitelist is refused with
a one-line ``ValueError`` that names the parameter and what is allowed.

>>> v = parse_potential("where(x > 0, 20, 0) + x**2")
>>> v(np.array([-1.0, 1.0])).tolist()
[1.0, 21.0]
"""

from __future__ import annotations

import ast
import math
import numbers
from collections.abc import Callable

import numpy as np

from ..numerics import intervals
from ..numerics.intervals import Jet

#: Named constants an expression may use.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def _heaviside(x: np.ndarray, at_zero: float | np.ndarray = 0.5) -> np.ndarray:
    # numpy needs the value at 0; the one-argument spelling takes the usual half.
    return np.heaviside(x, at_zero)


#: The functions an expression may call, with how many arguments each takes.
FUNCTIONS: dict[str, tuple[Callable[..., np.ndarray], tuple[int, ...]]] = {
    "abs": (np.abs, (1,)),
    "cos": (np.cos, (1,)),
    "cosh": (np.cosh, (1,)),
    "exp": (np.exp, (1,)),
    "heaviside": (_heaviside, (1, 2)),
    "log": (np.log, (1,)),
    "sin": (np.sin, (1,)),
    "sinh": (np.sinh, (1,)),
    "sqrt": (np.sqrt, (1,)),
    "tanh": (np.tanh, (1,)),
    "where": (np.where, (3,)),
}
_BINARY = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}
_COMPARE = {ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal}
#: Longer text is refused outright: a potential is a formula, not a program.
MAX_LENGTH = 2000
ALLOWED = (
    f"x, {', '.join(CONSTANTS)}, {', '.join(sorted(FUNCTIONS))}; "
    "numbers, + - * / **, unary -, parentheses, < <= > >="
)

_Node = Callable[[np.ndarray], "np.ndarray | np.float64"]


class Expression:
    """A parsed potential: call it on a numpy array of positions.

    Built by :func:`parse_potential`; equal expressions have the same text.

    Attributes
    ----------
    text : str
        The expression as written.
    uses_x : bool
        Whether it depends on x at all (a constant broadcasts to the shape of x).
    """

    def __init__(self, text: str, evaluate: _Node, uses_x: bool, tree: ast.expr | None = None):
        self.text = text
        self.uses_x = uses_x
        self._evaluate = evaluate
        self._tree = tree

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """V at ``x``: a float array of the shape of ``x`` (NaN or inf where the formula is undefined)."""
        x = np.asarray(x, dtype=float)
        with np.errstate(all="ignore"):  # log(0), 1/0: the caller checks finiteness where it matters
            value = self._evaluate(x)
        return np.array(np.broadcast_to(value, x.shape), dtype=float)

    def enclose(self, lo: np.ndarray, hi: np.ndarray) -> Jet:
        """Enclosures of V, V' and V'' over each interval ``[lo[i], hi[i]]`` of x.

        Interval arithmetic over the parsed formula (:mod:`qbench.numerics.intervals`): every
        value of V on the interval lies in the returned value interval, whatever happens between
        samples, up to floating-point rounding. A point interval (``lo == hi``) gives V and V'
        at the point.
        """
        if self._tree is None:
            raise ValueError(f"expression {self.text!r} was built without its syntax tree")
        lo = np.atleast_1d(np.asarray(lo, dtype=float))
        hi = np.atleast_1d(np.asarray(hi, dtype=float))
        with np.errstate(all="ignore"):
            return _enclose(self._tree, Jet.variable(lo, hi))

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("Expression", self.text))


def parse_potential(text: str, parameter: str = "V") -> Expression:
    """Parse ``text``, a formula in ``x``, into a vectorized :class:`Expression`.

    Parameters
    ----------
    text
        The formula: numbers, ``x``, ``pi``, ``e``, ``+ - * / **``, unary
        minus, parentheses, comparisons ``< <= > >=`` (chains such as
        ``-1 < x < 1`` mean "and") and the functions in :data:`FUNCTIONS`
        (``heaviside(x)`` is ``heaviside(x, 0.5)``).
    parameter
        The parameter's name, for error messages.

    Returns
    -------
    Expression

    Raises
    ------
    ValueError
        On one line, naming ``parameter``, the offending piece and what is allowed.
    """
    if not isinstance(text, str):
        raise ValueError(f"{parameter} must be an expression string, got {text!r}")
    shown = " ".join(text.split())  # the message stays on one line whatever the text
    if len(text) > MAX_LENGTH:
        raise ValueError(f"{parameter}: expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f'{parameter}: syntax error in "{shown}" ({exc.msg}); allowed: {ALLOWED}') from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        raise ValueError(
            f'{parameter}: cannot parse "{shown}" ({type(exc).__name__}); allowed: {ALLOWED}'
        ) from None
    walker = _Walker(parameter, shown)
    try:
        evaluate = walker.build(tree.body)
    except RecursionError:
        raise ValueError(f'{parameter}: "{shown}" is nested too deeply') from None
    return Expression(text, evaluate, walker.uses_x, tree.body)


class _Walker:
    """Turns a whitelisted AST into nested closures; anything else is a ValueError."""

    def __init__(self, parameter: str, shown: str):
        self.parameter, self.shown = parameter, shown
        self.uses_x = False

    def fail(self, what: str) -> ValueError:
        return ValueError(f'{self.parameter}: {what} in "{self.shown}"; allowed: {ALLOWED}')

    def build(self, node: ast.AST) -> _Node:
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise self.fail(f"{_describe(node)} is not allowed")
        return method(node)

    def _Constant(self, node: ast.Constant) -> _Node:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"constant {value!r} is not allowed (only real numbers)")
        try:
            # A numpy float, so that 9**9**9 overflows to inf at once instead of building a huge int.
            number = np.float64(float(value))
        except OverflowError:
            raise self.fail(f"number {value} is too large") from None
        return lambda x: number

    def _Name(self, node: ast.Name) -> _Node:
        if node.id == "x":
            self.uses_x = True
            return lambda x: x
        if node.id in CONSTANTS:
            number = np.float64(CONSTANTS[node.id])
            return lambda x: number
        if node.id in FUNCTIONS:
            raise self.fail(f"function {node.id!r} must be called, as {node.id}(...)")
        raise self.fail(f"unknown name {node.id!r}")

    def _UnaryOp(self, node: ast.UnaryOp) -> _Node:
        operand = self.build(node.operand)
        if isinstance(node.op, ast.USub):
            return lambda x: np.negative(operand(x))
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.fail(f"operator {_describe(node.op)} is not allowed")

    def _BinOp(self, node: ast.BinOp) -> _Node:
        function = _BINARY.get(type(node.op))
        if function is None:
            raise self.fail(f"operator {_describe(node.op)} is not allowed")
        left, right = self.build(node.left), self.build(node.right)
        return lambda x: function(left(x), right(x))

    def _Compare(self, node: ast.Compare) -> _Node:
        functions = []
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise self.fail(f"comparison {_describe(op)} is not allowed")
            functions.append(_COMPARE[type(op)])
        operands = [self.build(node.left), *(self.build(c) for c in node.comparators)]

        def compare(x: np.ndarray) -> np.ndarray:
            values = [operand(x) for operand in operands]
            result = functions[0](values[0], values[1])
            for k in range(1, len(functions)):  # a < b < c is (a < b) and (b < c)
                result = np.logical_and(result, functions[k](values[k], values[k + 1]))
            return result

        return compare

    def _Call(self, node: ast.Call) -> _Node:
        if not isinstance(node.func, ast.Name):  # obj.method(...), f(...)(...), (lambda: 0)()
            what = _describe(node.func)
            raise self.fail(
                what + " is not allowed" if what == "attribute access" else f"calling {what} is not allowed"
            )
        name = node.func.id
        if name not in FUNCTIONS:
            if name == "x" or name in CONSTANTS:
                raise self.fail(f"{name!r} is not a function")
            raise self.fail(f"unknown name {name!r}")
        if node.keywords:
            raise self.fail(f"keyword arguments are not allowed (in the call of {name})")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail(f"*arguments are not allowed (in the call of {name})")
        function, arities = FUNCTIONS[name]
        if len(node.args) not in arities:
            expected = " or ".join(str(a) for a in arities)
            raise self.fail(f"{name} takes {expected} argument(s), got {len(node.args)}")
        arguments = [self.build(a) for a in node.args]
        return lambda x: function(*(argument(x) for argument in arguments))


_UNARY_INTERVALS = ("abs", "cos", "cosh", "exp", "log", "sin", "sinh", "sqrt", "tanh")
_COMPARE_SYMBOLS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def _enclose(node: ast.AST, x: Jet) -> Jet:
    """The jet of a validated syntax tree (see :class:`_Walker` for what it may hold) over ``x``."""
    if isinstance(node, ast.Constant):
        return Jet.constant(float(node.value), x.shape)
    if isinstance(node, ast.Name):
        return x if node.id == "x" else Jet.constant(CONSTANTS[node.id], x.shape)
    if isinstance(node, ast.UnaryOp):
        operand = _enclose(node.operand, x)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _enclose(node.left, x), _enclose(node.right, x)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            return left / right
        return intervals.power(left, right)
    if isinstance(node, ast.Compare):
        operands = [_enclose(node.left, x), *(_enclose(c, x) for c in node.comparators)]
        result = None
        for k, op in enumerate(node.ops):
            step = intervals.compare(_COMPARE_SYMBOLS[type(op)], operands[k], operands[k + 1])
            result = step if result is None else intervals.logical_and(result, step)
        return result
    if isinstance(node, ast.Call):
        name = node.func.id
        arguments = [_enclose(a, x) for a in node.args]
        if name in _UNARY_INTERVALS:
            return intervals.unary(name, arguments[0])
        if name == "where":
            return intervals.where(*arguments)
        if name == "heaviside":
            at_zero = arguments[1] if len(arguments) > 1 else Jet.constant(0.5, x.shape)
            return intervals.heaviside(arguments[0], at_zero)
    raise ValueError(f"no interval rule for {ast.dump(node)}")  # the walker admits nothing else


def _describe(node: ast.AST) -> str:
    """A short human name of an AST node for error messages."""
    names = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscript",
        ast.Lambda: "lambda",
        ast.Mod: "'%'",
        ast.FloorDiv: "'//'",
        ast.MatMult: "'@'",
        ast.BitAnd: "'&'",
        ast.BitOr: "'|'",
        ast.BitXor: "'^'",
        ast.LShift: "'<<'",
        ast.RShift: "'>>'",
        ast.Invert: "'~'",
        ast.Not: "'not'",
        ast.Eq: "'=='",
        ast.NotEq: "'!='",
        ast.Is: "'is'",
        ast.IsNot: "'is not'",
        ast.In: "'in'",
        ast.NotIn: "'not in'",
        ast.BoolOp: "'and'/'or'",
        ast.IfExp: "'if ... else'",
        ast.Tuple: "a tuple",
        ast.List: "a list",
        ast.Dict: "a dict",
        ast.Set: "a set",
        ast.JoinedStr: "an f-string",
        ast.NamedExpr: "':='",
        ast.Starred: "'*'",
        ast.Call: "a call",
    }
    for kind, name in names.items():
        if isinstance(node, kind):
            return name
    return type(node).__name__


def is_number(value: object) -> bool:
    """True for a real number that is not a bool (a constant potential may be given as one)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)

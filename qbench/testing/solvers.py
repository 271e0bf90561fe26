"""The solver checks: :func:`solver_checks` and :func:`check_solver`."""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from ..problems import HarmonicOscillator, InfiniteWell, Problem
from ..problems.base import MAX_DIM, MAX_SAMPLED_DIM
from ..solvers import FAMILIES, Option, Solution, Solver, Status
from .common import (
    BAD_VALUES,
    Check,
    _expect_one_line_value_error,
    _named,
    _names,
    _run_all,
    _sample_points,
    _try_bad_values,
)

_UNKNOWN_OPTION = "no_such_option_qbench_testing"


class _WorkStarted(BaseException):
    """A solver evaluated the problem or started its solve before refusing it.

    A ``BaseException`` so that a solver's ``except Exception`` does not hide it.
    """


def _default_problem(dim: int) -> Problem:
    """The small exactly solvable problem the solver checks use in ``dim`` dimensions."""
    return InfiniteWell() if dim == 1 else HarmonicOscillator(dim=dim)


def _n_states(problem: Problem, cls: type[Solver]) -> int:
    """2 if the problem's reference can give two states without splitting a level and the solver
    finds more than one, else 1."""
    if cls.max_states == 1:
        return 1
    try:
        problem.check_states(2)
    except ValueError:
        return 1
    return 2


class _SolverRun:
    """The solver checks' shared state: options, problems per dimension, and cached solves."""

    def __init__(self, cls: type[Solver], options: Mapping[str, Any], problems: Iterable[Problem]):
        self.cls = cls
        self.options = dict(options)
        self.problems: dict[int, Problem] = {}
        for problem in problems:
            if not isinstance(problem, Problem):
                raise TypeError(f"problems must be qbench Problem instances, got {problem!r}")
            if problem.dim in self.problems:
                raise ValueError(f"problems has two problems in dimension {problem.dim}")
            self.problems[problem.dim] = problem
        self._first: dict[int, tuple[Problem, int, Solution]] = {}

    def problem(self, dim: int) -> Problem:
        if dim not in self.problems:
            self.problems[dim] = _default_problem(dim)
        return self.problems[dim]

    def solver(self) -> Solver:
        return self.cls(**self.options)

    def solve(self, dim: int, fresh: bool = False) -> tuple[Problem, int, Solution]:
        """Solve the ``dim``-dimensional problem with a new solver (the first solve is cached)."""
        if fresh or dim not in self._first:
            problem = self.problem(dim)
            n_states = _n_states(problem, self.cls)
            solution = self.solver().solve(problem, n_states)
            assert isinstance(solution, Solution), (
                f"solve returned {type(solution).__name__}, not a qbench Solution"
            )
            if fresh:
                return problem, n_states, solution
            self._first[dim] = (problem, n_states, solution)
        return self._first[dim]


def _check_solver_attributes(run: _SolverRun) -> None:
    cls = run.cls
    name = getattr(cls, "name", None)
    assert isinstance(name, str) and name.strip(), f"name must be a non-empty str, got {name!r}"
    family = getattr(cls, "family", None)
    assert family in FAMILIES, f"family must be one of {', '.join(FAMILIES)}, got {family!r}"
    dims = getattr(cls, "dimensions", None)
    assert isinstance(dims, tuple) and dims, f"dimensions must be a non-empty tuple, got {dims!r}"
    for d in dims:
        assert isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= MAX_SAMPLED_DIM, (
            f"dimensions must hold ints in 1..{MAX_SAMPLED_DIM}, got {d!r}"
        )
    assert len(set(dims)) == len(dims), f"dimensions has repeats: {dims!r}"
    options = getattr(cls, "options", None)
    assert isinstance(options, dict), f"options must be a dict of Option, got {type(options).__name__}"
    for key, option in options.items():
        assert isinstance(key, str) and key.isidentifier(), f"option name {key!r} is not an identifier"
        assert isinstance(option, Option), f"options[{key!r}] is a {type(option).__name__}, not an Option"
        assert callable(option.check), f"options[{key!r}].check is not callable"
        doc = option.doc
        assert isinstance(doc, str) and doc.strip(), f"options[{key!r}].doc must be a non-empty str"
        assert "\n" not in doc.strip(), f"options[{key!r}].doc must be one line, got {doc!r}"
    unvalidated = getattr(cls, "unvalidated_options", ())
    unknown = [k for k in unvalidated if k not in options]
    assert not unknown, f"unvalidated_options names {unknown}, which are not options"


def _check_option_defaults(run: _SolverRun) -> None:
    cls = run.cls
    for key, option in cls.options.items():
        try:
            option.check(key, option.default)
        except Exception as exc:
            raise AssertionError(
                f"the default {key}={option.default!r} fails its own check: {type(exc).__name__}: {exc}"
            ) from exc
    solver = cls()
    expected = {key: option.check(key, option.default) for key, option in cls.options.items()}
    assert solver.options == expected, (
        f"{cls.__name__}().options is {solver.options!r}, not the checked defaults {expected!r}"
    )


def _check_options_stored(run: _SolverRun) -> None:
    solver = run.solver()
    assert isinstance(solver.options, dict), "solver.options must be a dict"
    assert set(solver.options) == set(run.cls.options), (
        f"solver.options has keys {sorted(solver.options)}, not the declared {sorted(run.cls.options)}"
    )
    for key, value in solver.options.items():
        assert getattr(solver, key, _UNKNOWN_OPTION) == value, (
            f"attribute {key} is {getattr(solver, key, '(missing)')!r}, not options[{key!r}] = {value!r}"
        )
    for key, value in run.options.items():
        normalized = run.cls.options[key].check(key, value)
        assert solver.options[key] == normalized, (
            f"{key}={value!r} was given but options[{key!r}] is {solver.options[key]!r}"
        )


def _check_unknown_option(run: _SolverRun) -> None:
    _expect_one_line_value_error(
        lambda: run.cls(**{**run.options, _UNKNOWN_OPTION: 1}),
        f"{run.cls.__name__}({_UNKNOWN_OPTION}=1)",
        _UNKNOWN_OPTION,
    )


def _check_bad_option_values(run: _SolverRun) -> None:
    cls = run.cls
    unvalidated = set(getattr(cls, "unvalidated_options", ()))
    for key in cls.options:
        if key in unvalidated:
            continue
        messages = _try_bad_values(lambda v, key=key: cls(**{**run.options, key: v}), key, cls.__name__)
        assert messages, (
            f"option {key!r} accepts every value tried ({', '.join(map(repr, BAD_VALUES))}); "
            "validate it in its Option check, or declare it in unvalidated_options if it "
            "accepts anything by design"
        )


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
#: The range an ``Option.doc`` may end with: ``, >= 1``, ``, > 0``, ``, in [9, 4000]``, ``, 3 .. 4000``.
_DOC_RANGE = re.compile(
    rf"(?:^|,)\s*(?:(?P<op>>=|<=|>|<)\s*(?P<bound>{_NUMBER})"
    rf"|in \[(?P<lo>{_NUMBER}),\s*(?P<hi>{_NUMBER})\]"
    rf"|(?P<lo2>{_NUMBER})\s*\.\.\s*(?P<hi2>{_NUMBER}))\s*$"
)


def _doc_bounds(doc: str) -> list[tuple[str, float]]:
    """The bounds ``(op, value)`` a doc line ends with; ``in [a, b]`` gives ``>= a`` and ``<= b``."""
    match = _DOC_RANGE.search(doc.strip())
    if match is None:
        return []
    if match["op"]:
        return [(match["op"], float(match["bound"]))]
    lo, hi = (match["lo"], match["hi"]) if match["lo"] else (match["lo2"], match["hi2"])
    return [(">=", float(lo)), ("<=", float(hi))]


def _outside(op: str, bound: float, integer: bool) -> float | int:
    """A value just outside the bound ``op bound``."""
    if op in (">", "<"):
        return int(bound) if integer else bound
    if integer:
        return int(bound) - 1 if op == ">=" else int(bound) + 1
    below = op == ">="
    if bound == 0:
        return -1.0 if below else 1.0
    return bound / 10 if (bound > 0) == below else bound * 10


def _mentions(message: str, value: float) -> bool:
    """True if ``message`` contains a number equal to ``value``."""
    numbers_in = (float(t) for t in re.findall(_NUMBER, message) if re.search(r"\d", t))
    return any(math.isclose(n, value, rel_tol=1e-9, abs_tol=0.0) or n == value for n in numbers_in)


def _check_option_errors_match_doc(run: _SolverRun) -> None:
    cls = run.cls
    for key, option in cls.options.items():
        default = option.default
        integer = isinstance(default, numbers.Integral) and not isinstance(default, bool)
        for op, bound in _doc_bounds(option.doc):
            integer_bound = integer and bound == int(bound)
            value = _outside(op, bound, integer_bound)
            what = f"option {key!r} (doc {option.doc!r})"
            if op in (">=", "<="):
                inside = int(bound) if integer_bound else bound
                try:
                    cls(**{**run.options, key: inside})
                except ValueError as exc:
                    raise AssertionError(
                        f"{what}: {key}={inside!r} is inside the stated range but refused: {exc}"
                    ) from exc
            try:
                cls(**{**run.options, key: value})
            except ValueError as exc:
                message = str(exc)
                assert _names(message, key), (
                    f"{what}: {key}={value!r} is refused without naming it: {message!r}"
                )
                assert _mentions(message, bound), (
                    f"{what}: {key}={value!r} is refused with {message!r}, which does not state the "
                    f"bound {op} {bound:g}"
                )
            else:
                raise AssertionError(f"{what}: {key}={value!r} is outside the stated range but accepted")


def _check_repr_round_trip(run: _SolverRun) -> None:
    cls = run.cls
    for solver in (cls(), run.solver()):
        text = repr(solver)
        assert isinstance(text, str) and "\n" not in text, f"repr is not one line: {text!r}"
        namespace = {cls.__name__: cls, "nan": math.nan, "inf": math.inf}
        try:
            rebuilt = eval(text, namespace)  # only names the class and the option values
        except Exception as exc:
            raise AssertionError(
                f"repr {text!r} does not rebuild the solver: {type(exc).__name__}: {exc}"
            ) from exc
        assert type(rebuilt) is cls, f"repr {text!r} rebuilds a {type(rebuilt).__name__}"
        assert rebuilt.options == solver.options, (
            f"repr {text!r} rebuilds options {rebuilt.options!r}, not {solver.options!r}"
        )


def _check_solver_points_contract(run: _SolverRun) -> None:
    assert getattr(run.cls, "takes_points", True) is not False, (
        "takes_points is False: the solution's 1D wavefunctions take flat positions, the deprecated "
        "1D-only contract that qbench adapts with a DeprecationWarning; make them take points of "
        "shape (n, d) and set takes_points = True (docs/contract.md)"
    )


def _check_refuses_dimension(run: _SolverRun, dim: int) -> None:
    problem = run.problem(dim)
    solver = run.solver()

    def tripwire(*args: Any, **kwargs: Any) -> Any:
        raise _WorkStarted(f"the solver started work on the {dim}-dimensional problem before refusing it")

    # Instance attributes shadow the methods: evaluating V, the rule or the reference is work.
    for method in ("potential", "quadrature_rule", "reference"):
        setattr(problem, method, tripwire)
    solver._solve = tripwire  # type: ignore[method-assign]
    try:
        _expect_one_line_value_error(
            lambda: solver.solve(problem, 1),
            f"solve on the {dim}-dimensional {problem!r} (dimensions = {run.cls.dimensions})",
        )
    except _WorkStarted as exc:
        raise AssertionError(str(exc)) from None
    finally:
        for method in ("potential", "quadrature_rule", "reference"):
            vars(problem).pop(method, None)


def _check_solution_shapes(run: _SolverRun, dim: int) -> None:
    problem, n_states, solution = run.solve(dim)
    energies = solution.energies
    assert isinstance(energies, np.ndarray), f"energies is a {type(energies).__name__}, not a numpy array"
    assert energies.shape == (n_states,), f"energies has shape {energies.shape}, not ({n_states},)"
    points = _sample_points(problem.box)
    values = solution.wavefunctions(points)
    assert isinstance(values, np.ndarray), f"wavefunctions returned a {type(values).__name__}"
    expected = (n_states, len(points))
    assert values.shape == expected, f"wavefunctions of {points.shape} points has shape {values.shape}"
    if dim == 1:
        flat = solution.wavefunctions(points[:, 0])
        assert flat.shape == expected, f"wavefunctions of {points[:, 0].shape} points has shape {flat.shape}"
        assert np.array_equal(flat, values, equal_nan=True), (
            "wavefunctions differ between points of shape (n,) and (n, 1)"
        )
    # Each point's values do not depend on the other points asked for (a transposed result that
    # Solution reshaped back to (n_states, n) scrambles them).
    head = solution.wavefunctions(points[:3])
    assert head.shape == (n_states, 3), f"wavefunctions of {points[:3].shape} points has shape {head.shape}"
    scale = float(np.max(np.abs(values[np.isfinite(values)]), initial=0.0))
    assert np.allclose(head, values[:, :3], rtol=1e-5, atol=1e-6 * scale, equal_nan=True), (
        "wavefunctions of the first 3 points differ from the first 3 columns of wavefunctions of all "
        f"{len(points)}: {head!r} vs {values[:, :3]!r}"
    )
    statuses = solution.statuses()
    assert isinstance(statuses, list) and len(statuses) == n_states, (
        f"statuses() must be a list of {n_states} (Status, str) pairs, got {statuses!r}"
    )
    for k, pair in enumerate(statuses):
        assert isinstance(pair, tuple) and len(pair) == 2, f"statuses()[{k}] is {pair!r}"
        status, message = pair
        assert isinstance(status, Status), f"statuses()[{k}] has status {status!r}, not a Status"
        assert isinstance(message, str), f"statuses()[{k}] has message {message!r}, not a str"
        if status is Status.OK:
            assert np.isfinite(energies[k]), f"state {k} is ok but its energy is {energies[k]!r}"
            assert np.all(np.isfinite(values[k])), f"state {k} is ok but its wavefunction is not finite"
    assert isinstance(solution.info, dict), f"info is a {type(solution.info).__name__}, not a dict"


def _check_deterministic(run: _SolverRun, dim: int) -> None:
    problem, _, first = run.solve(dim)
    _, _, second = run.solve(dim, fresh=True)
    seeded = "seed" in run.cls.options
    how = "with the same seed" if seeded else "(the solver has no seed option)"
    assert np.array_equal(first.energies, second.energies, equal_nan=True), (
        f"two solves {how} give energies {first.energies!r} and {second.energies!r}"
    )
    points = _sample_points(problem.box)
    a, b = first.wavefunctions(points), second.wavefunctions(points)
    assert np.array_equal(a, b, equal_nan=True), (
        f"two solves {how} give different wavefunctions (largest difference {np.nanmax(np.abs(a - b))!r})"
    )
    assert first.statuses() == second.statuses(), (
        f"two solves {how} give statuses {first.statuses()} and {second.statuses()}"
    )


def solver_checks(
    cls: type[Solver],
    *,
    options: Mapping[str, Any] | None = None,
    problems: Iterable[Problem] | None = None,
) -> Iterator[tuple[str, Check]]:
    """The conformance checks of a solver class, as ``(check_name, check)`` pairs.

    Each ``check()`` takes no arguments and raises ``AssertionError`` naming the
    check and the class on failure; use the pairs with
    ``pytest.mark.parametrize`` to run each as its own test. Nothing is built or
    solved until a check runs; the checks of one call share their solves.

    Parameters
    ----------
    cls
        The ``Solver`` subclass to check (it need not be registered).
    options
        Options used wherever a solver is built, on top of the defaults: cheap
        settings (a few training steps, a coarse grid) keep the solve-based
        checks fast. They must be valid.
    problems
        Problems to solve, at most one per dimension, used in place of the
        defaults: ``infinite_well`` in 1D and ``harmonic_oscillator`` with
        ``dim=d`` in d dimensions (one in a dimension the solver does not take
        is the one ``refuses_dimension`` offers it). Two states are asked for
        where the problem can give them without splitting a degenerate level,
        else one.

    Yields
    ------
    tuple of (str, callable)
        ``solver_attributes``, ``option_defaults``, ``options_stored``,
        ``unknown_option_rejected``, ``bad_option_values_rejected``,
        ``option_errors_match_doc``, ``repr_round_trip``; then
        ``refuses_dimension[dim=d]`` for every d in 1..4 not in
        ``cls.dimensions``, ``solution_shapes[dim=d]`` and
        ``deterministic[dim=d]`` for every d in it; last ``points_contract``.

    Notes
    -----
    What each check requires:

    ``solver_attributes``
        ``name`` is a non-empty str, ``family`` is in ``qbench.solvers.FAMILIES``,
        ``dimensions`` a non-empty tuple of distinct ints in 1..4, ``options`` a
        dict of ``Option`` whose ``doc`` is one non-empty line.
    ``option_defaults``
        Every default passes its own check, and ``cls()`` stores the checked defaults.
    ``options_stored``
        ``cls(**options)`` stores every option in ``solver.options`` and as an attribute.
    ``unknown_option_rejected``
        An unknown option is refused with a one-line ``ValueError`` naming it.
    ``bad_option_values_rejected``
        The :data:`BAD_VALUES` search of the :mod:`qbench.testing` docstring, option by option.
    ``option_errors_match_doc``
        An option whose doc ends with a range (``, >= 1``, ``, > 0``,
        ``, in [9, 4000]``, ``, 3 .. 4000``) refuses a value just outside each
        bound with a message that states the bound, and accepts an inclusive
        bound itself.
    ``repr_round_trip``
        ``eval(repr(solver))`` rebuilds a solver with the same options.
    ``refuses_dimension[dim=d]``
        ``solve`` on a d-dimensional problem raises a one-line ``ValueError``
        before it evaluates the problem's potential, quadrature rule or
        reference, or calls ``_solve``.
    ``solution_shapes[dim=d]``
        ``solve`` returns a ``Solution`` with ``energies`` of shape
        ``(n_states,)``, ``wavefunctions`` of ``(n, d)`` points (and of ``(n,)``
        points in 1D) of shape ``(n_states, n)``, finite energies and values for
        every ``ok`` state, one ``(Status, str)`` per state and a dict ``info``.
    ``deterministic[dim=d]``
        Two solvers built with the same options (so the same ``seed``) give
        bit-identical energies, wavefunction values and statuses.
    ``points_contract``
        The class does not use the deprecated 1D-only contract (``takes_points`` is not False).
    """
    run = _SolverRun(cls, options or {}, problems or ())
    plain: list[tuple[str, Callable[[_SolverRun], None]]] = [
        ("solver_attributes", _check_solver_attributes),
        ("option_defaults", _check_option_defaults),
        ("options_stored", _check_options_stored),
        ("unknown_option_rejected", _check_unknown_option),
        ("bad_option_values_rejected", _check_bad_option_values),
        ("option_errors_match_doc", _check_option_errors_match_doc),
        ("repr_round_trip", _check_repr_round_trip),
    ]
    for check_name, body in plain:
        yield check_name, _named(check_name, cls, functools.partial(body, run))
    dims = getattr(cls, "dimensions", ())
    supported = dims if isinstance(dims, tuple) else ()
    for dim in range(1, MAX_DIM + 1):
        if dim not in supported:
            check_name = f"refuses_dimension[dim={dim}]"
            yield check_name, _named(check_name, cls, functools.partial(_check_refuses_dimension, run, dim))
    for dim in range(1, MAX_DIM + 1):
        if dim in supported:
            for base, body in (
                ("solution_shapes", _check_solution_shapes),
                ("deterministic", _check_deterministic),
            ):
                check_name = f"{base}[dim={dim}]"
                yield check_name, _named(check_name, cls, functools.partial(body, run, dim))
    last = functools.partial(_check_solver_points_contract, run)
    yield "points_contract", _named("points_contract", cls, last)


def check_solver(
    cls: type[Solver],
    *,
    options: Mapping[str, Any] | None = None,
    problems: Iterable[Problem] | None = None,
) -> None:
    """Run every check of :func:`solver_checks` on a solver class.

    Parameters
    ----------
    cls
        The ``Solver`` subclass to check.
    options
        Cheap option values for the solve-based checks (see :func:`solver_checks`).
    problems
        Problems to solve in place of the defaults, at most one per dimension.

    Raises
    ------
    AssertionError
        At the first failing check; the message names the check and the class.

    Examples
    --------
    A solver class from a plugin, checked at a cheap setting:

    >>> from example_plugin import DenseFD  # doctest: +SKIP
    >>> check_solver(DenseFD, options={"n_points": 50})  # doctest: +SKIP
    """
    _run_all(solver_checks(cls, options=options, problems=problems))

"""The problem checks: :func:`problem_checks` and :func:`check_problem`."""

from __future__ import annotations

import functools
import inspect
import json
import math
import numbers
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..problems import Problem
from ..problems.base import MAX_DIM
from .common import (
    BAD_VALUES,
    ORTHONORMALITY_TOL,
    Check,
    _expect_one_line_value_error,
    _named,
    _run_all,
    _sample_points,
    _try_bad_values,
)


class _ProblemRun:
    """The problem checks' shared state: the parameters and the problem built from them (once)."""

    def __init__(self, cls: type[Problem], params: Mapping[str, Any]):
        self.cls = cls
        self.params = dict(params)
        self._problem: Problem | None = None

    def problem(self) -> Problem:
        if self._problem is None:
            problem = self.cls(**self.params)
            assert isinstance(problem, Problem), f"{self.cls.__name__}(...) built a {type(problem).__name__}"
            self._problem = problem
        return self._problem

    def parameters(self) -> list[str]:
        signature = inspect.signature(self.cls.__init__)
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return [p.name for p in list(signature.parameters.values())[1:] if p.kind in kinds]

    def states(self) -> int:
        """The most states up to 3 the reference gives without splitting a degenerate level."""
        problem = self.problem()
        for k in (3, 2, 1):
            try:
                problem.check_states(k)
            except ValueError:
                continue
            return k
        raise AssertionError("check_states refuses even n_states=1")


def _check_problem_name(run: _ProblemRun) -> None:
    name = getattr(run.cls, "name", None)
    assert isinstance(name, str) and name.strip(), f"name must be a non-empty str, got {name!r}"
    unknown = [k for k in getattr(run.cls, "unvalidated_params", ()) if k not in run.parameters()]
    assert not unknown, f"unvalidated_params names {unknown}, which are not constructor parameters"


def _check_params_rebuild(run: _ProblemRun) -> None:
    problem = run.problem()
    params = problem.params
    assert isinstance(params, dict), f"params is a {type(params).__name__}, not a dict"
    extra = sorted(set(params) - set(run.parameters()))
    assert not extra, f"params has {extra}, which are not constructor parameters"
    try:
        json.dumps(params)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"params {params!r} are not JSON values: {exc}") from exc
    rebuilt = type(problem)(**params)
    assert rebuilt == problem, f"type(p)(**p.params) gives {rebuilt!r}, which != {problem!r}"
    assert rebuilt.params == params, f"rebuilt params {rebuilt.params!r} differ from {params!r}"
    # Equality compares params, so also compare what the params are meant to determine.
    assert rebuilt.box == problem.box, f"the rebuilt problem has box {rebuilt.box}, not {problem.box}"
    points = _sample_points(problem.box)
    assert np.array_equal(rebuilt.potential(points.copy()), problem.potential(points.copy())), (
        "the rebuilt problem has another potential"
    )
    a, b = rebuilt.reference(1).energies, problem.reference(1).energies
    assert np.array_equal(a, b), f"the rebuilt problem has ground energy {a}, not {b}"


def _check_box(run: _ProblemRun) -> None:
    problem = run.problem()
    dim, box = problem.dim, problem.box
    assert isinstance(dim, int) and 1 <= dim <= MAX_DIM, f"dim must be an int in 1..{MAX_DIM}, got {dim!r}"
    assert isinstance(box, tuple) and len(box) == dim, f"box must be a tuple of {dim} (lo, hi), got {box!r}"
    for axis, pair in enumerate(box):
        assert isinstance(pair, tuple) and len(pair) == 2, f"box[{axis}] is {pair!r}, not (lo, hi)"
        lo, hi = pair
        assert isinstance(lo, numbers.Real) and isinstance(hi, numbers.Real), f"box[{axis}] is {pair!r}"
        assert math.isfinite(lo) and math.isfinite(hi) and lo < hi, f"box[{axis}] = {pair!r} is not lo < hi"


def _check_axis_breakpoints(run: _ProblemRun) -> None:
    problem = run.problem()
    box, cuts = problem.box, problem.axis_breakpoints
    assert isinstance(cuts, tuple) and len(cuts) == len(box), (
        f"axis_breakpoints must be a tuple of {len(box)} tuples, got {cuts!r}"
    )
    for axis, ((lo, hi), points) in enumerate(zip(box, cuts)):
        assert isinstance(points, tuple), f"axis_breakpoints[{axis}] is {points!r}, not a tuple"
        assert all(isinstance(b, numbers.Real) and lo < b < hi for b in points), (
            f"axis_breakpoints[{axis}] = {points!r} is not strictly inside ({lo}, {hi})"
        )
        assert list(points) == sorted(set(points)), f"axis_breakpoints[{axis}] = {points!r} is not sorted"


def _check_potential(run: _ProblemRun) -> None:
    problem = run.problem()
    points = _sample_points(problem.box)
    nodes, _ = problem.quadrature_rule()
    for where, x in (("sample", points), ("quadrature", np.asarray(nodes, dtype=float))):
        values = problem.potential(x.copy())
        assert isinstance(values, np.ndarray), f"potential returned a {type(values).__name__}"
        assert values.shape == (len(x),), f"potential of {x.shape} {where} points has shape {values.shape}"
        assert np.all(np.isfinite(values)), f"potential is not finite at {where} points inside the box"


def _check_quadrature_rule(run: _ProblemRun) -> None:
    problem = run.problem()
    nodes, weights = problem.quadrature_rule()
    nodes, weights = np.asarray(nodes), np.asarray(weights)
    n, d = len(weights), problem.dim
    assert nodes.shape == (n, d), f"quadrature_rule nodes have shape {nodes.shape}, not ({n}, {d})"
    assert weights.shape == (n,), f"quadrature_rule weights have shape {weights.shape}"
    assert np.all(np.isfinite(weights)) and np.all(weights > 0), "quadrature weights must be finite and > 0"
    lo = np.array([a for a, _ in problem.box])
    hi = np.array([b for _, b in problem.box])
    assert np.all((nodes >= lo) & (nodes <= hi)), "quadrature nodes lie outside the box"
    volume = float(np.prod(hi - lo))
    assert abs(weights.sum() - volume) <= 1e-10 * volume, (
        f"quadrature weights sum to {weights.sum()!r}, not the box volume {volume!r}"
    )


def _check_reference_energies(run: _ProblemRun) -> None:
    problem = run.problem()
    k = run.states()
    energies = problem.reference(k).energies
    assert isinstance(energies, np.ndarray), f"reference energies are a {type(energies).__name__}"
    assert energies.shape == (k,), f"reference({k}).energies has shape {energies.shape}"
    assert np.all(np.isfinite(energies)), f"reference({k}).energies = {energies!r} are not finite"
    assert np.all(np.diff(energies) >= 0), f"reference({k}).energies = {energies!r} are not ascending"


def _check_reference_wavefunctions(run: _ProblemRun) -> None:
    problem = run.problem()
    k = run.states()
    nodes, weights = problem.quadrature_rule()
    values = problem.reference(k).wavefunctions(np.asarray(nodes, dtype=float))
    assert isinstance(values, np.ndarray), f"reference wavefunctions are a {type(values).__name__}"
    assert values.shape == (k, len(weights)), (
        f"reference({k}).wavefunctions of {np.shape(nodes)} points has shape {values.shape}"
    )
    assert np.all(np.isfinite(values)), "reference wavefunctions are not finite"
    gram = (values * weights) @ values.T
    error = np.abs(gram - np.eye(k))
    for i in range(k):
        assert error[i, i] <= ORTHONORMALITY_TOL, (
            f"reference state {i} has norm^2 {gram[i, i]!r} under quadrature_rule(), not 1 "
            f"(tolerance {ORTHONORMALITY_TOL})"
        )
    worst = np.unravel_index(np.argmax(error), error.shape)
    assert error[worst] <= ORTHONORMALITY_TOL, (
        f"reference states {worst[0]} and {worst[1]} have overlap {gram[worst]!r} under "
        f"quadrature_rule(), not 0 (tolerance {ORTHONORMALITY_TOL})"
    )


def _check_states(run: _ProblemRun) -> None:
    problem = run.problem()
    _expect_one_line_value_error(lambda: problem.check_states(0), "check_states(0)", "n_states")
    problem.check_states(1)


def _check_problem_points_contract(run: _ProblemRun) -> None:
    assert not getattr(run.cls, "_legacy_1d", False), (
        "the class defines domain (and breakpoints, potential(x) of flat positions), the deprecated "
        "1D-only contract that qbench adapts with a DeprecationWarning; define box, axis_breakpoints "
        "and potential(points) of shape (n, d) instead (docs/contract.md)"
    )


def _check_bad_params(run: _ProblemRun) -> None:
    cls = run.cls
    unvalidated = set(getattr(cls, "unvalidated_params", ()))
    for key in run.parameters():
        if key in unvalidated:
            continue
        messages = _try_bad_values(lambda v, key=key: cls(**{**run.params, key: v}), key, cls.__name__)
        assert messages, (
            f"parameter {key!r} accepts every value tried ({', '.join(map(repr, BAD_VALUES))}); "
            "validate it in __init__, or declare it in unvalidated_params if it accepts anything by design"
        )


def problem_checks(
    cls: type[Problem], *, params: Mapping[str, Any] | None = None
) -> Iterator[tuple[str, Check]]:
    """The conformance checks of a problem class, as ``(check_name, check)`` pairs.

    Each ``check()`` takes no arguments and raises ``AssertionError`` naming the
    check and the class on failure. The problem is built once, when the first
    check runs.

    Parameters
    ----------
    cls
        The ``Problem`` subclass to check (it need not be registered).
    params
        Constructor arguments: the required ones, and any others to check at
        a setting other than the defaults.

    Yields
    ------
    tuple of (str, callable)
        ``problem_name``, ``box``, ``axis_breakpoints``, ``params_rebuild``,
        ``potential``, ``quadrature_rule``, ``reference_energies``,
        ``reference_wavefunctions``, ``check_states``, ``bad_params_rejected``,
        ``points_contract``.

    Notes
    -----
    What each check requires (``k`` is the most states up to 3 that
    ``check_states`` accepts: 3 unless that splits a degenerate level):

    ``problem_name``
        ``name`` is a non-empty str.
    ``box``
        ``dim`` is an int in 1..4 and ``box`` a tuple of ``dim`` finite ``(lo, hi)``, lo < hi.
    ``axis_breakpoints``
        One sorted tuple per axis, strictly inside that axis's interval.
    ``params_rebuild``
        ``params`` is a dict of JSON values, keyed by constructor parameters,
        and ``type(p)(**p.params) == p``, with the same box, potential and
        ground energy.
    ``potential``
        ``potential`` of ``(n, d)`` points inside the box (sampled, and the
        quadrature nodes) is a finite array of shape ``(n,)``.
    ``quadrature_rule``
        Nodes ``(n, d)`` inside the box, weights ``(n,)``, positive, summing to the box's volume.
    ``reference_energies``
        ``reference(k).energies`` has shape ``(k,)``, finite and ascending.
    ``reference_wavefunctions``
        ``reference(k).wavefunctions`` of the quadrature nodes has shape
        ``(k, n)``, and the states are orthonormal under the quadrature rule to
        :data:`ORTHONORMALITY_TOL`.
    ``check_states``
        ``check_states(0)`` raises a one-line ``ValueError`` naming ``n_states``;
        ``check_states(1)`` passes.
    ``bad_params_rejected``
        The :data:`BAD_VALUES` search of the :mod:`qbench.testing` docstring, parameter by
        parameter of the constructor's signature.
    ``points_contract``
        The class does not use the deprecated 1D-only contract (``domain``,
        ``breakpoints`` and ``potential`` of flat positions, adapted by qbench).
    """
    run = _ProblemRun(cls, params or {})
    for check_name, body in (
        ("problem_name", _check_problem_name),
        ("box", _check_box),
        ("axis_breakpoints", _check_axis_breakpoints),
        ("params_rebuild", _check_params_rebuild),
        ("potential", _check_potential),
        ("quadrature_rule", _check_quadrature_rule),
        ("reference_energies", _check_reference_energies),
        ("reference_wavefunctions", _check_reference_wavefunctions),
        ("check_states", _check_states),
        ("bad_params_rejected", _check_bad_params),
        ("points_contract", _check_problem_points_contract),
    ):
        yield check_name, _named(check_name, cls, functools.partial(body, run))


def check_problem(cls: type[Problem], *, params: Mapping[str, Any] | None = None) -> None:
    """Run every check of :func:`problem_checks` on a problem class.

    Parameters
    ----------
    cls
        The ``Problem`` subclass to check.
    params
        Constructor arguments (the required ones at least).

    Raises
    ------
    AssertionError
        At the first failing check; the message names the check and the class.

    Examples
    --------
    >>> from qbench.problems import FiniteWell
    >>> check_problem(FiniteWell, params={"V0": 50.0})
    """
    _run_all(problem_checks(cls, params=params))

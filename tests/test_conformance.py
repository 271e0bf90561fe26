"""Every registered solver and problem, and the example plugin, pass the qbench.testing conformance kit;
and every check of the kit fails on a class built to break it."""

from __future__ import annotations

import importlib.util
import math
import re
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import qbench
from qbench import plugins
from qbench._validation import check_int
from qbench.problems import InfiniteWell, Problem, Reference
from qbench.solvers import Option, Solution, Solver
from qbench.testing import check_problem, check_solver, problem_checks, solver_checks

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "example_plugin.py"


def _example_plugin() -> tuple[dict[str, type[Solver]], dict[str, type[Problem]]]:
    """The example plugin's classes, loaded with ``qbench.plugins.load``; the registries and the
    plugin state are put back as they were, so no other test module sees the plugin registered."""
    registries = plugins._registries()
    saved = {kind: dict.copy(registry) for kind, registry in registries.items()}
    loaded = dict(plugins._LOADED)
    try:
        record = plugins.load(str(EXAMPLE))
        solvers = {name: registries["solver"][name] for name in record.solvers}
        problems = {name: registries["problem"][name] for name in record.problems}
    finally:
        for kind, registry in registries.items():
            dict.clear(registry)
            dict.update(registry, saved[kind])
        plugins._LOADED.clear()
        plugins._LOADED.update(loaded)
    return solvers, problems


PLUGIN_SOLVERS, PLUGIN_PROBLEMS = _example_plugin()
SOLVERS = {**dict(qbench.solvers.METHODS), **PLUGIN_SOLVERS}

#: Budgets that keep a solve to a fraction of a second: the checks test the contract, not accuracy.
TINY: dict[str, dict[str, Any]] = {
    "fd": dict(n_points=8),
    "spectral": dict(n_points=9),
    "dense-fd": dict(n_points=16),
    "pinn": dict(
        width=4, depth=1, n_points=16, warm_steps=1, warm_lbfgs_iterations=0, adam_steps=1, lbfgs_iterations=0
    ),
    "pinn-residual-only": dict(width=4, depth=1, n_points=16, adam_steps=1, lbfgs_iterations=1),
    "nn-galerkin": dict(width=4, depth=1, n_points=8, adam_steps=1, lbfgs_iterations=1),
    "pinn-fixed": dict(width=4, depth=1, n_points=8, adam_steps=1, lbfgs_iterations=1),
    "pinn-trainable": dict(width=4, depth=1, n_points=8, adam_steps=1, lbfgs_iterations=1),
    "deepxde": dict(width=4, depth=1, n_collocation=16, adam_steps=1, lbfgs_steps=0),
    "vmc": dict(width=4, depth=1, walkers=16, steps=2, eval_samples=64, norm_samples=64),
    "tt": dict(n_points=8, bond_dim=4, max_sweeps=4),
}

#: Optional extras: the solver's checks are skipped where its package is not installed.
EXTRAS = {"deepxde": "deepxde", "pyslise": "pyslise", "tt": "quimb"}

#: Parameters of the problems that have required ones, and more settings of some others: (id, name, params).
REQUIRED = {
    "piecewise_constant": dict(edges=[-1.0, -0.2718, 0.3, 1.1], values=[0.0, 80.0, -5.0]),
    "potential": dict(V="x**4 - 3*x**2", domain=[-4.0, 4.0]),
    "separable": dict(parts=["infinite_well", {"name": "finite_well", "V0": 50.0}]),
}
PROBLEM_CASES: list[tuple[str, str, dict[str, Any]]] = [
    *((name, name, REQUIRED.get(name, {})) for name in sorted(qbench.problems.PROBLEMS)),
    ("harmonic_oscillator[dim=2]", "harmonic_oscillator", dict(dim=2)),
    ("harmonic_oscillator[dim=3]", "harmonic_oscillator", dict(dim=3)),
    ("separable[3 parts]", "separable", dict(parts=["infinite_well", "finite_well", "poschl_teller"])),
]
#: Problem cases whose checks take long (a reference evaluated on 80^3 quadrature nodes).
SLOW_PROBLEMS = {"separable[3 parts]"}

#: Built-in classes that break the contract, with the exact failing call, by (test id, check name).
XFAIL = {
    ("separable[3 parts]", "reference_wavefunctions"): (
        "Separable(parts=['infinite_well', 'finite_well', 'poschl_teller']).reference(1) has norm^2 "
        "1 - 6.2e-5 under quadrature_rule(): the 80 nodes per axis of the 3D grading rule "
        "(axis_rule) integrate poschl_teller's ground state squared on [-10, 10] to 1 - 6.2e-5"
    ),
    ("circular_well", "reference_wavefunctions"): (
        "CircularWell().reference(3): states 1 and 2 have norm^2 1 - 7.9e-8 under quadrature_rule() "
        "at any rule size (the free-space radial norm, integrated to infinity, not over the box)"
    ),
}


def _slow(cls: type[Solver], check_name: str) -> bool:
    """A solve by a neural solver in d >= 3 (tens of thousands of grading points), or by DeepXDE."""
    solves = check_name.startswith(("solution_shapes", "deterministic"))
    neural = cls.family in ("pinn", "neural-variational")
    low = "[dim=1]" in check_name or "[dim=2]" in check_name
    return solves and neural and (cls.name == "deepxde" or not low)


def _solver_params():
    for name, cls in sorted(SOLVERS.items()):
        extra = EXTRAS.get(name)
        missing = extra is not None and importlib.util.find_spec(extra) is None
        for check_name, check in solver_checks(cls, options=TINY.get(name, {})):
            marks = []
            if missing:
                marks.append(pytest.mark.skip(reason=f"optional extra {extra} is not installed"))
            if _slow(cls, check_name):
                marks.append(pytest.mark.slow)
            if (name, check_name) in XFAIL:
                marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[name, check_name]))
            yield pytest.param(check, id=f"{name}-{check_name}", marks=marks)


def _problem_params():
    cases = [(label, qbench.problems.PROBLEMS[name], params) for label, name, params in PROBLEM_CASES]
    cases += [(name, cls, {}) for name, cls in sorted(PLUGIN_PROBLEMS.items())]
    for label, cls, params in cases:
        for check_name, check in problem_checks(cls, params=params):
            marks = [pytest.mark.slow] if label in SLOW_PROBLEMS else []
            if (label, check_name) in XFAIL:
                marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[label, check_name]))
            yield pytest.param(check, id=f"{label}-{check_name}", marks=marks)


@pytest.mark.parametrize("check", list(_solver_params()))
def test_solver_conforms(check):
    check()


@pytest.mark.parametrize("check", list(_problem_params()))
def test_problem_conforms(check):
    check()


def test_the_example_plugin_is_checked():
    assert set(PLUGIN_SOLVERS) == {"dense-fd"} and set(PLUGIN_PROBLEMS) == {"shifted_well"}
    assert "dense-fd" not in qbench.solvers.METHODS, "the example plugin stays out of the registries"


def test_the_plugin_guide_example_runs(monkeypatch):
    """The test file shown in "Checking your plugin" (docs/plugins.md) passes on the example plugin."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "plugins.md").read_text(), re.S)
    (block,) = [b for b in blocks if "from qbench.testing import" in b]
    module = types.ModuleType("example_plugin")
    module.DenseFD, module.ShiftedWell = PLUGIN_SOLVERS["dense-fd"], PLUGIN_PROBLEMS["shifted_well"]
    monkeypatch.setitem(sys.modules, "example_plugin", module)
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/plugins.md", "exec"), namespace)
    tests = {name: f for name, f in namespace.items() if name.startswith("test_")}
    assert len(tests) == 3
    calls = []
    for test in tests.values():
        marks = [m for m in getattr(test, "pytestmark", []) if m.name == "parametrize"]
        calls += [(test, p.values) for p in marks[0].args[1]] if marks else [(test, ())]
    assert len(calls) == 2 + len(list(solver_checks(module.DenseFD)))
    for test, args in calls:
        test(*args)


# -- the kit's own checks fail where they should ---------------------------------------------------------


def _count(name: str, value: Any) -> int:
    return check_int(name, value, minimum=3)


def _seed(name: str, value: Any) -> int:
    return check_int(name, value, minimum=0)


class Toy(Solver):
    """A conforming 1D solver: the empty box's states, energies nudged by a seeded random number."""

    name = "toy"
    takes_points = True
    options = {
        "n_points": Option(16, _count, "grid points, >= 3"),
        "seed": Option(0, _seed, "seeds the nudge, >= 0"),
    }

    def nudge(self, n_states: int) -> np.ndarray:
        return 1e-6 * np.random.default_rng(self.seed).random(n_states)

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        (lo, hi), *_ = problem.box
        length = hi - lo
        k = np.arange(1, n_states + 1) * math.pi / length
        energies = k**2 + self.nudge(n_states)

        def wavefunctions(points: np.ndarray) -> np.ndarray:
            x = np.asarray(points, dtype=float).reshape(len(points), -1)[:, 0]
            return math.sqrt(2.0 / length) * np.sin(np.outer(k, x - lo))

        return Solution(energies, wavefunctions, {"n_points": self.n_points})


def _fails(cls: type, check: str, **kwargs: Any) -> str:
    """Run the whole kit on ``cls``; assert it fails at ``check``; the message."""
    run = check_solver if issubclass(cls, Solver) else check_problem
    with pytest.raises(AssertionError) as caught:
        run(cls, **kwargs)
    message = str(caught.value)
    assert message.startswith(f"check {check!r} failed for "), message
    assert cls.__qualname__ in message, message
    return message


def test_a_conforming_solver_passes():
    check_solver(Toy)
    check_solver(Toy, options={"n_points": 5, "seed": 3})


def test_every_check_is_offered_for_parametrization():
    names = [name for name, _ in solver_checks(Toy)]
    assert names == [
        "solver_attributes",
        "option_defaults",
        "options_stored",
        "unknown_option_rejected",
        "bad_option_values_rejected",
        "option_errors_match_doc",
        "repr_round_trip",
        "refuses_dimension[dim=2]",
        "refuses_dimension[dim=3]",
        "refuses_dimension[dim=4]",
        "solution_shapes[dim=1]",
        "deterministic[dim=1]",
        "points_contract",
    ]
    for _, check in solver_checks(Toy):
        check()


class BadFamily(Toy):
    family = "quantum"


class TwoLineDoc(Toy):
    options = {**Toy.options, "n_points": Option(16, _count, "grid points,\n>= 3")}


class BadDimensions(Toy):
    dimensions = (1, 17)


class UnvalidatedNotAnOption(Toy):
    unvalidated_options = ("label",)


@pytest.mark.parametrize("cls", [BadFamily, TwoLineDoc, BadDimensions, UnvalidatedNotAnOption])
def test_solver_attributes_can_fail(cls):
    _fails(cls, "solver_attributes")


class DefaultFailsItsCheck(Toy):
    options = {**Toy.options, "seed": Option(-1, _seed, "seeds the nudge, >= 0")}


def test_option_defaults_can_fail():
    assert "seed=-1" in _fails(DefaultFailsItsCheck, "option_defaults")


class ForgetsAnOption(Toy):
    def __init__(self, **options: Any):
        super().__init__(**options)
        self.n_points = 99  # the attribute no longer matches options["n_points"]


def test_options_stored_can_fail():
    _fails(ForgetsAnOption, "options_stored")


class DropsUnknownOptions(Toy):
    def __init__(self, **options: Any):
        super().__init__(**{k: v for k, v in options.items() if k in self.options})


def test_unknown_option_rejected_can_fail():
    _fails(DropsUnknownOptions, "unknown_option_rejected")


class AcceptsGarbage(Toy):
    options = {**Toy.options, "label": Option("", lambda k, v: v, "a free-form label")}


class DeclaresGarbage(AcceptsGarbage):
    unvalidated_options = ("label",)


class DoesNotValidate(Toy):
    def __init__(self, **options: Any):  # refuses unknown names, stores the values unchecked
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(unknown)}")
        self.options = {key: options.get(key, option.default) for key, option in self.options.items()}
        for key, value in self.options.items():
            setattr(self, key, value)


def _multi_line(name: str, value: Any) -> int:
    try:
        return _count(name, value)
    except ValueError as exc:
        raise ValueError(f"bad option\n{exc}") from None


def _type_error(name: str, value: Any) -> int:
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    return _count(name, value)


class MultiLineError(Toy):
    options = {**Toy.options, "n_points": Option(16, _multi_line, "grid points, >= 3")}


class RaisesTypeError(Toy):
    options = {**Toy.options, "n_points": Option(16, _type_error, "grid points, >= 3")}


class AnonymousError(Toy):
    options = {**Toy.options, "n_points": Option(16, lambda k, v: _count("value", v), "grid points, >= 3")}


@pytest.mark.parametrize(
    "cls, says",
    [
        (AcceptsGarbage, "option 'label' accepts every value tried"),
        (DoesNotValidate, "accepts every value tried"),
        (MultiLineError, "not one line"),
        (RaisesTypeError, "raised TypeError instead of ValueError"),
        (AnonymousError, "does not name 'n_points'"),
    ],
)
def test_bad_option_values_rejected_can_fail(cls, says):
    assert says in _fails(cls, "bad_option_values_rejected")


def test_an_option_that_accepts_anything_by_design_is_declared():
    check_solver(DeclaresGarbage)


class DocClaimsTooMuch(Toy):  # the doc says >= 3, the check takes >= 1
    options = {**Toy.options, "n_points": Option(16, lambda k, v: check_int(k, v, minimum=1), "points, >= 3")}


class DocClaimsTooLittle(Toy):  # the doc says >= 2, the check refuses 2
    options = {**Toy.options, "n_points": Option(16, _count, "points, >= 2")}


def _vague(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 3:
        raise ValueError(f"{name} is too small or not an integer")
    return value


class VagueError(Toy):
    options = {**Toy.options, "n_points": Option(16, _vague, "grid points, in [3, 100]")}


@pytest.mark.parametrize(
    "cls, says",
    [
        (DocClaimsTooMuch, "n_points=2 is outside the stated range but accepted"),
        (DocClaimsTooLittle, "n_points=2 is inside the stated range but refused"),
        (VagueError, "does not state the bound >= 3"),
    ],
)
def test_option_errors_match_doc_can_fail(cls, says):
    assert says in _fails(cls, "option_errors_match_doc")


class ReprDropsOptions(Toy):
    def __repr__(self) -> str:
        return "ReprDropsOptions()"


def test_repr_round_trip_can_fail():
    _fails(ReprDropsOptions, "repr_round_trip", options={"n_points": 5})


class WorksBeforeRefusing(Toy):
    def solve(self, problem: Problem, n_states: int = 1) -> Solution:
        problem.potential(np.zeros((1, problem.dim)))  # evaluates V, then refuses
        return super().solve(problem, n_states)


class NeverRefuses(Toy):
    def check_dimension(self, problem: Problem) -> None:
        pass


class RefusesInTwoLines(Toy):
    def check_dimension(self, problem: Problem) -> None:
        if problem.dim != 1:
            raise ValueError(f"toy is 1D only;\nproblem is {problem.dim}-dimensional")


@pytest.mark.parametrize(
    "cls, says",
    [
        (WorksBeforeRefusing, "started work"),
        (NeverRefuses, "started work"),
        (RefusesInTwoLines, "not one line"),
    ],
)
def test_refuses_dimension_can_fail(cls, says):
    assert says in _fails(cls, "refuses_dimension[dim=2]")


def _values(change: Any) -> Any:
    """A change of a solution's wavefunction values: ``change(values)``."""
    return lambda s: (lambda evaluate: lambda x: change(evaluate(x)))(s._evaluate)


def _broken_solution(**changes: Any) -> type[Solver]:
    class Broken(Toy):
        def _solve(self, problem: Problem, n_states: int) -> Solution:
            solution = super()._solve(problem, n_states)
            for key, value in changes.items():
                value = value(solution) if callable(value) else value
                object.__setattr__(solution, key, value)
            return solution

    Broken.__qualname__ = f"Broken_{'_'.join(changes)}"
    return Broken


@pytest.mark.parametrize(
    "changes, says",
    [
        (dict(energies=lambda s: s.energies[:1]), "energies has shape (1,), not (2,)"),
        (dict(energies=lambda s: list(s.energies)), "not a numpy array"),
        (dict(_evaluate=_values(lambda v: v[:1])), "cannot reshape"),
        (dict(energies=lambda s: np.array([np.nan, 1.0])), "state 0 is ok but its energy is"),
        (dict(_evaluate=_values(lambda v: v * np.inf)), "wavefunction is not finite"),
        (dict(info=None), "info is a NoneType"),
        (dict(status="ok"), "not a Status"),
    ],
)
def test_solution_shapes_can_fail(changes, says):
    assert says in _fails(_broken_solution(**changes), "solution_shapes[dim=1]")


class Transposed(Toy):
    def _solve(self, problem: Problem, n_states: int) -> Solution:
        solution = super()._solve(problem, n_states)
        wavefunctions = solution._evaluate
        return Solution(solution.energies, lambda x: wavefunctions(x).T.copy(), solution.info)


def test_transposed_wavefunctions_fail_solution_shapes():
    # Solution reshapes an (n, n_states) result to (n_states, n) without complaint: the values land
    # in the wrong places, which depend on n, so a point's value changes with the other points.
    assert "differ from the first 3 columns" in _fails(Transposed, "solution_shapes[dim=1]")


class Unseeded(Toy):
    def nudge(self, n_states: int) -> np.ndarray:
        return 1e-6 * np.random.default_rng().random(n_states)  # ignores the seed


class Stateful(Toy):
    calls = 0

    def nudge(self, n_states: int) -> np.ndarray:
        type(self).calls += 1  # a module-level counter: the second solve differs
        return np.full(n_states, 1e-6 * type(self).calls)


class NoSeedWavefunctionsDrift(Toy):
    options = {"n_points": Toy.options["n_points"]}
    calls = 0

    def nudge(self, n_states: int) -> np.ndarray:
        return np.zeros(n_states)

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        solution = super()._solve(problem, n_states)
        type(self).calls += 1
        scale = 1.0 + 1e-12 * type(self).calls
        return Solution(solution.energies, lambda x: scale * solution._evaluate(x), solution.info)


@pytest.mark.parametrize(
    "cls, says",
    [
        (Unseeded, "with the same seed give energies"),
        (Stateful, "with the same seed give energies"),
        (NoSeedWavefunctionsDrift, "(the solver has no seed option) give different wavefunctions"),
    ],
)
def test_deterministic_can_fail(cls, says):
    assert says in _fails(cls, "deterministic[dim=1]")


def test_a_solve_that_raises_fails_the_check_naming_it():
    class Crashes(Toy):
        def _solve(self, problem: Problem, n_states: int) -> Solution:
            raise RuntimeError("out of memory")

    message = _fails(Crashes, "solution_shapes[dim=1]")
    assert "unexpected RuntimeError: out of memory" in message


def test_solver_checks_take_the_callers_problems():
    wide = InfiniteWell(length=3.0)
    seen = []

    class Records(Toy):
        def _solve(self, problem: Problem, n_states: int) -> Solution:
            seen.append(problem)
            return super()._solve(problem, n_states)

    check_solver(Records, problems=[wide])
    assert seen and all(p is wide for p in seen)
    with pytest.raises(ValueError, match="two problems in dimension 1"):
        solver_checks(Toy, problems=[wide, InfiniteWell()]).__next__()


# -- problems --------------------------------------------------------------------------------------------


class Well(InfiniteWell):
    """A conforming problem: the infinite well under another name."""

    name = "toy_well"


def test_a_conforming_problem_passes():
    check_problem(Well)
    check_problem(Well, params={"length": 2.5})
    assert [name for name, _ in problem_checks(Well)] == [
        "problem_name",
        "box",
        "axis_breakpoints",
        "params_rebuild",
        "potential",
        "quadrature_rule",
        "reference_energies",
        "reference_wavefunctions",
        "check_states",
        "bad_params_rejected",
        "points_contract",
    ]


class NoName(Well):
    name = ""


class ParamsLie(Well):
    @property
    def params(self) -> dict[str, Any]:
        return {"length": 1.0}


class ParamsExtra(Well):
    @property
    def params(self) -> dict[str, Any]:
        return {**super().params, "shift": 0.0}


class ParamsNotJson(Well):
    @property
    def params(self) -> dict[str, Any]:
        return {"length": np.float32(self.length_param)}


class DimMismatch(Well):
    @property
    def dim(self) -> int:
        return 2


class BreakpointOutside(Well):
    @property
    def axis_breakpoints(self) -> tuple[tuple[float, ...], ...]:
        return ((0.5, 7.0),)


class PotentialColumn(Well):
    def potential(self, points: np.ndarray) -> np.ndarray:
        return super().potential(points).reshape(-1, 1)


class PotentialInfiniteInside(Well):
    def potential(self, points: np.ndarray) -> np.ndarray:
        return super().potential(points) + np.inf


class HalfWeights(Well):
    def quadrature_rule(self, n_points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        nodes, weights = super().quadrature_rule(n_points)
        return nodes, 0.5 * weights


def _broken_reference(energies=None, wavefunctions=None) -> type[Problem]:
    class BrokenReference(Well):
        def _compute_reference(self, n_states: int) -> Reference:
            good = super()._compute_reference(n_states)
            e = good.energies if energies is None else energies(good.energies)
            w = good.wavefunctions if wavefunctions is None else wavefunctions(good.wavefunctions)
            return Reference(e, w, good.method, good.rel_error_bound)

    return BrokenReference


Descending = _broken_reference(energies=lambda e: e[::-1].copy())
TooFewEnergies = _broken_reference(energies=lambda e: e[:-1].copy())
Unnormalized = _broken_reference(wavefunctions=lambda f: lambda x: (1 + 1e-6) * f(x))
NotOrthogonal = _broken_reference(
    wavefunctions=lambda f: lambda x: f(x)[[0, 0, 2]] if len(f(x)) == 3 else f(x)
)
WrongRows = _broken_reference(wavefunctions=lambda f: lambda x: f(x)[:1])


class AcceptsZeroStates(Well):
    def check_states(self, n_states: int) -> None:
        pass


class TwoLineStates(Well):
    def check_states(self, n_states: int) -> None:
        if n_states < 1:
            raise ValueError("n_states must be\n>= 1")


class TakesAnything(Well):
    def __init__(self, length: Any = 1.0, label: Any = ""):
        super().__init__(length)
        self.label = label

    @property
    def params(self) -> dict[str, Any]:
        return {"length": self.length_param, "label": self.label}


class DeclaresLabel(TakesAnything):
    unvalidated_params = ("label",)


class UnvalidatedNotAParam(Well):
    unvalidated_params = ("label",)


class TypeErrorParam(Well):
    def __init__(self, length: float = 1.0):
        if not isinstance(length, (int, float)):
            raise TypeError("length must be a number")
        super().__init__(length)


@pytest.mark.parametrize(
    "cls, check, says",
    [
        (NoName, "problem_name", "non-empty str"),
        (UnvalidatedNotAParam, "problem_name", "unvalidated_params names ['label']"),
        (ParamsLie, "params_rebuild", "the rebuilt problem has box ((0.0, 1.0),), not ((0.0, 2.0),)"),
        (ParamsExtra, "params_rebuild", "params has ['shift'], which are not constructor parameters"),
        (ParamsNotJson, "params_rebuild", "not JSON values"),
        (DimMismatch, "box", "box must be a tuple of 2"),
        (BreakpointOutside, "axis_breakpoints", "not strictly inside"),
        (PotentialColumn, "potential", "has shape (7, 1)"),
        (PotentialInfiniteInside, "potential", "not finite"),
        (HalfWeights, "quadrature_rule", "not the box volume"),
        (Descending, "reference_energies", "not ascending"),
        (TooFewEnergies, "reference_energies", "has shape (2,)"),
        (WrongRows, "reference_wavefunctions", "has shape (1,"),
        (Unnormalized, "reference_wavefunctions", "has norm^2"),
        (NotOrthogonal, "reference_wavefunctions", "have overlap"),
        (AcceptsZeroStates, "check_states", "check_states(0) did not raise ValueError"),
        (TwoLineStates, "check_states", "not one line"),
        (TakesAnything, "bad_params_rejected", "parameter 'label' accepts every value tried"),
        (TypeErrorParam, "bad_params_rejected", "raised TypeError instead of ValueError"),
    ],
)
def test_each_problem_check_can_fail(cls, check, says):
    kwargs = {"params": {"length": 2.0}} if cls is ParamsLie else {}
    assert says in _fails(cls, check, **kwargs)


def test_a_parameter_that_accepts_anything_by_design_is_declared():
    check_problem(DeclaresLabel)


class FlatPositions(Toy):
    takes_points = False  # the deprecated 1D-only contract: qbench hands evaluate flat positions


def test_points_contract_can_fail_for_a_solver():
    assert "takes_points is False" in _fails(FlatPositions, "points_contract")


def test_points_contract_can_fail_for_a_problem():
    with pytest.warns(DeprecationWarning, match="1D-only contract"):

        class OldWell(Problem):  # domain, breakpoints and potential(x) of flat positions
            name = "old_well"

            def __init__(self, length: float = 1.0):
                super().__init__()
                self.length_param = InfiniteWell(length).length_param

            @property
            def domain(self) -> tuple[float, float]:
                return (0.0, self.length_param)

            @property
            def breakpoints(self) -> tuple[float, ...]:
                return ()

            @property
            def params(self) -> dict[str, Any]:
                return {"length": self.length_param}

            def potential(self, x: np.ndarray) -> np.ndarray:
                return np.zeros(len(x))

            def _compute_reference(self, n_states: int) -> Reference:
                length = self.length_param
                k = np.arange(1, n_states + 1) * math.pi / length

                def wavefunctions(x: np.ndarray) -> np.ndarray:  # x of shape (n,)
                    return math.sqrt(2.0 / length) * np.sin(np.outer(k, x))

                return Reference(k**2, wavefunctions)

    assert "deprecated 1D-only contract" in _fails(OldWell, "points_contract")

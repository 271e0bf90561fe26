"""The ``potential`` problem: any V(x), validated, with a certified reference every solver is graded on."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import qbench
from qbench import store
from qbench.cases import Case
from qbench.cli import main
from qbench.harness import grade, run_case
from qbench.problems import Potential, certified
from qbench.problems.certified import FLOOR, MAX_REL_BOUND, certify

JUMP = {"V": "where(x > 0, 20, 0)", "domain": [-2, 2], "breakpoints": [0]}
SPIKE = "x**2-2000*exp(-((x-0.0123)/0.0007)**2)"
SPIKE_SPEC = f'potential:V="{SPIKE}",domain=[-6,6]'
TINY = {"adam_steps": 5, "n_points": 64, "width": 8}


@pytest.fixture(scope="module")
def harmonic() -> Potential:
    return qbench.problems.get("potential", V="x**2", domain=[-10, 10])


def test_harmonic_oscillator_in_a_wide_box_is_2n_plus_1(harmonic):
    reference = harmonic.reference(5)
    true_error = np.abs(reference.energies - (2 * np.arange(5) + 1)) / (2 * np.arange(5) + 1)
    assert true_error.max() <= 1e-12
    assert FLOOR <= reference.rel_error_bound <= MAX_REL_BOUND
    assert true_error.max() <= reference.rel_error_bound
    assert reference.method.startswith("certified (residual enclosure; consensus chebyshev+shooting")
    assert reference.consensus_spread.shape == (5,) and np.all(reference.consensus_spread <= 1e-12)
    assert harmonic.reference_kind == "certified" and not harmonic.has_exact_reference


def test_reference_wavefunctions_are_normalized_and_rise_from_the_left(harmonic):
    x = np.linspace(-10, 10, 4001)
    psi = harmonic.reference(3).wavefunctions(x)
    norms = ((psi[:, 1:] ** 2 + psi[:, :-1] ** 2) / 2 * np.diff(x)).sum(axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-6)
    exact = qbench.problems.HarmonicOscillator(box_half_width=10.0).reference(3).wavefunctions(x)
    np.testing.assert_allclose(psi, exact, atol=1e-9)  # same sign convention: each rises from the left


def test_a_jump_with_breakpoints_matches_the_transfer_matrix_reference():
    problem = Potential(**JUMP)
    exact = qbench.problems.get("piecewise_constant", edges=[-2, 0, 2], values=[0, 20]).reference(5)
    reference = problem.reference(5)
    np.testing.assert_allclose(reference.energies, exact.energies, rtol=1e-12, atol=0)
    assert np.max(np.abs(reference.energies - exact.energies) / exact.energies) <= max(
        1e-13, 10 * reference.rel_error_bound
    )


@pytest.mark.slow  # seconds: the enclosure bisects sub-panels
def test_a_jump_without_breakpoints_is_refused_and_says_where():
    problem = Potential("where(x > 0.5, 20, 0)", [-2, 2])
    with pytest.raises(ValueError) as info:
        problem.check_states(3)
    message = str(info.value)
    assert "\n" not in message
    assert f"allowed {MAX_REL_BOUND:.0e}" in message
    assert "V seems to jump near x=0.5" in message and "breakpoints=[...]" in message
    with pytest.raises(ValueError, match="no certified reference"):
        Case.resolve("potential", "fd", {"V": "where(x > 0.5, 20, 0)", "domain": [-2, 2]})


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"V": "x", "domain": [1, 0]}, "domain must be [x0, x1], two finite numbers with x0 < x1"),
        ({"V": "x", "domain": [0, 1, 2]}, "domain must be [x0, x1]"),
        ({"V": "x", "domain": [0, float("inf")]}, "domain[1] must be a finite real number"),
        ({"V": "x", "domain": "01"}, "domain"),
        ({"V": "x", "domain": [0, 1], "breakpoints": [1]}, "breakpoints must lie strictly inside the domain"),
        ({"V": "x", "domain": [0, 1], "breakpoints": [0.6, 0.4]}, "breakpoints must be strictly increasing"),
        ({"V": "x", "domain": [0, 1], "breakpoints": [0.5, 0.5]}, "breakpoints must be strictly increasing"),
        ({"V": "log(x)", "domain": [0, 1]}, 'V="log(x)" on [0.0, 1.0] is -inf at x=0.0'),
        ({"V": "1/x", "domain": [-1, 1]}, "V must be finite on the domain"),
        ({"V": "foo(x)", "domain": [0, 1]}, "V: unknown name 'foo'"),
        ({"V": [1, 2], "domain": [0, 1]}, "V must be an expression string"),
        ({"V": lambda x: x[:2], "domain": [0, 1]}, "V must be a vectorized function"),
    ],
)
def test_bad_parameters_are_one_line_value_errors(params, fragment):
    with pytest.raises(ValueError) as info:
        qbench.problems.get("potential", **params)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_domain_is_required():
    with pytest.raises(ValueError, match="needs parameter"):
        qbench.problems.get("potential", V="x**2")


def test_params_round_trip_and_case_ids_are_stable():
    problem = Potential("x**4", (-6, 6))
    assert problem.params == {"V": "x**4", "domain": [-6.0, 6.0], "breakpoints": []}
    assert type(problem)(**problem.params) == problem
    jump = Potential(**JUMP)
    assert jump.params["breakpoints"] == [0.0] and type(jump)(**jump.params) == jump
    assert Potential(3, [0, 1]).params["V"] == "3.0"  # a number is a constant expression
    case = Case.resolve("potential", "fd", {"V": "x**4", "domain": [-6, 6]}, n_states=2)
    assert Case.from_dict(json.loads(json.dumps(case.to_dict()))).case_id == case.case_id


def test_outside_the_walls_v_is_infinite_and_never_evaluated():
    problem = Potential("log(x)", [1, 2])  # log is undefined left of the box; not evaluated there
    assert problem.potential(np.array([-1.0, 1.5, 3.0])).tolist() == [np.inf, np.log(1.5), np.inf]


def test_a_callable_potential_works_in_python_but_not_in_a_case():
    problem = qbench.problems.get("potential", V=lambda x: x**2, domain=[-10, 10])
    np.testing.assert_allclose(problem.reference(2).energies, [1.0, 3.0], rtol=1e-12)
    constant = Potential(lambda x: 2.0, [0, 1])  # a scalar broadcasts to the shape of x
    assert constant.potential(np.zeros(4)).tolist() == [2.0] * 4
    with pytest.raises(ValueError) as info:
        Case.resolve("potential", "fd", {"V": lambda x: x**2, "domain": [-10, 10]})
    message = str(info.value)
    assert "V is a Python callable" in message and "cases are JSON" in message and "\n" not in message


def test_the_certificate_is_cached_per_parameters_not_per_object():
    first = Potential("x**2 + 0.25*x", [-9, 9])
    certificate = first.certificate(3)
    assert Potential("x**2 + 0.25*x", [-9, 9]).certificate(3) is certificate
    assert first.certificate(2).n_states == 2 and first.certificate(2).bound <= certificate.bound
    assert set(certificate.by_method) >= {"chebyshev", "shooting"}


def test_certify_reports_a_failed_method_as_an_infinite_bound(monkeypatch):
    def broken(self, n_states):
        raise RuntimeError("no bracket")

    monkeypatch.setattr(certified.GaussShooting, "eigenvalues", broken)
    result = certify(Potential("x**2", [-8, 8]), 2)
    # The cross-check failed: no consensus, said so; the enclosure does not rest on it.
    assert np.all(np.isnan(result.consensus_spread)) and "shooting_error" in result.notes
    assert result.bound <= MAX_REL_BOUND


def test_without_a_sturm_count_there_is_no_enclosure(monkeypatch):
    def broken(self, *args, **kwargs):
        raise RuntimeError("too stiff")

    monkeypatch.setattr(certified.GaussShooting, "__init__", broken)
    result = certify(Potential("x**2", [-8, 8]), 2)
    assert result.bound == np.inf and "enclosure_error" in result.notes


SOLVERS = {
    "fd": ({}, 1e-4),
    "shooting": ({}, 1e-9),
    "spectral": ({}, 1e-9),
    "pyslise": ({}, 1e-9),
    "tt": ({}, 1e-9),
    "nn-galerkin": (TINY, None),
    "pinn": ({**TINY, "warm_steps": 5, "warm_lbfgs_iterations": 5, "lbfgs_iterations": 5}, None),
    "pinn-residual-only": ({**TINY, "lbfgs_iterations": 5}, None),
    "pinn-fixed": (TINY, None),
    "pinn-trainable": (TINY, None),
    "deepxde": ({"adam_steps": 20, "lbfgs_steps": 5, "n_collocation": 32}, None),
    "vmc": ({"walkers": 64, "steps": 5, "eval_samples": 256, "width": 8}, None),
}


def test_every_solver_of_qbench_is_covered():
    built_in = {name for name, cls in qbench.solvers.METHODS.items() if cls.__module__.startswith("qbench.")}
    assert set(SOLVERS) == built_in


@pytest.mark.parametrize(
    # deepxde: importing DeepXDE alone takes seconds; its other real runs are slow in test_deepxde too
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n == "deepxde" else n for n in sorted(SOLVERS)],
)
def test_every_solver_runs_on_a_potential_and_is_graded(name):
    options, tolerance = SOLVERS[name]
    problem = Potential("x**4", [-4, 4])
    n_states = min(2, qbench.solvers.METHODS[name].max_states or 2)  # vmc: the ground state
    case = Case.resolve("potential", name, problem.params, options, n_states=n_states, timeout_s=120)
    record = run_case(case, timing_budget_s=0)
    rows = record["rows"]
    assert [row["reference"] for row in rows] == ["certified"] * n_states
    assert all(row["reference_rel_bound"] <= MAX_REL_BOUND for row in rows)
    assert all(np.isfinite(row["energy_ref"]) for row in rows)
    if tolerance is not None:
        assert [row["status"] for row in rows] == ["ok", "ok"], rows[0]["message"]
        assert max(row["rel_error"] for row in rows) <= tolerance


def test_grade_rows_say_exact_or_certified():
    problem = qbench.problems.get("finite_well")
    rows = grade(qbench.solvers.get("shooting").solve(problem, 2), problem)
    assert [(r["reference"], r["reference_rel_bound"]) for r in rows] == [("exact", 1e-13)] * 2
    analytic = qbench.problems.get("harmonic_oscillator")
    assert analytic.reference_kind == "exact"


@pytest.mark.slow
def test_the_cli_runs_a_potential_and_stores_certified_rows(tmp_path):
    out = tmp_path / "run"
    spec = 'potential:V="x**4",domain=[-6,6]'
    assert main(["run", "--problem", spec, "--solver", "fd", "--out", str(out), "--no-report"]) == 0
    results = store.load(out).results
    assert set(results["reference"]) == {"certified"}
    assert (results["reference_rel_bound"] <= MAX_REL_BOUND).all()
    assert results["problem_params"].iloc[0] == '{"V":"x**4","breakpoints":[],"domain":[-6.0,6.0]}'


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ('potential:V="foo(x)",domain=[-6,6]', "V: unknown name 'foo'"),
        ("potential:V=\"__import__('os').system('x')\",domain=[-6,6]", "attribute access is not allowed"),
        pytest.param(
            'potential:V="where(x>0.5,20,0)",domain=[-2,2]', "no certified reference", marks=pytest.mark.slow
        ),
        ('potential:V="x**2,domain=[-6,6]', "unclosed quote"),
        pytest.param(SPIKE_SPEC, "where V varies faster than the reference resolves", marks=pytest.mark.slow),
    ],
)
def test_a_bad_potential_on_the_command_line_exits_2_and_writes_nothing(tmp_path, capsys, spec, fragment):
    out = tmp_path / "run"
    assert main(["run", "--problem", spec, "--solver", "fd", "--out", str(out), "--no-report"]) == 2
    error = capsys.readouterr().err
    assert fragment in error and error.count("\n") == 1
    assert not out.exists()


def test_a_suite_file_spells_the_potential_as_a_toml_table(tmp_path):
    suite_file = tmp_path / "potential.toml"
    suite_file.write_text(
        'description = "a potential"\nn_states = 2\n\n[[block]]\n'
        'problems = [{ name = "potential", params = { V = "x**4", domain = [-6, 6] } }]\n'
        'solvers = ["spectral"]\n'
    )
    cases = qbench.suite.load(str(suite_file)).cases
    assert [c.problem_params for c in cases] == [{"V": "x**4", "domain": [-6.0, 6.0], "breakpoints": []}]


# -- the enclosure -------------------------------------------------------------------------------
def test_the_enclosure_of_a_harmonic_oscillator_holds_the_exact_levels():
    certificate = Potential("x**2", [-8, 8]).certificate(3)
    exact = np.array([1.0, 3.0, 5.0])  # the walls at +-8 move them by less than 1e-25
    assert np.all(certificate.lower <= exact) and np.all(exact <= certificate.upper)
    assert np.all(certificate.upper - certificate.lower <= 2 * MAX_REL_BOUND * exact)
    assert certificate.notes["enclosure"][:3] == ["kato-temple"] * 3
    assert certificate.notes["residual_rigorous"] is True


@pytest.mark.slow  # the enclosure bisects to its cap before refusing
def test_a_spike_between_samples_is_refused_naming_where():
    problem = Potential(SPIKE, [-6, 6])
    with pytest.raises(ValueError) as info:
        problem.check_states(2)
    message = str(info.value)
    assert "\n" not in message and "no certified reference for state 0" in message
    a, b = (float(v) for v in message.split("from x in [")[1].split("]")[0].split(", "))
    assert a <= 0.0123 <= b and b - a < 0.01  # the spike, not the whole box
    assert "breakpoints=[...]" in message


@pytest.mark.slow  # seconds: the enclosure bisects sub-panels
def test_coffey_evans_ground_level_gets_an_absolute_bound_and_the_triplet_is_resolved():
    # Coffey-Evans, beta = 20: the Dirichlet ground level is 0 to about 1e-20; three levels near 151.46.
    problem = Potential("-40*cos(2*x)+400*sin(2*x)**2", [-math.pi / 2, math.pi / 2])
    problem.check_states(5)
    certificate = problem.certificate(5)
    assert certified.energy_scale(problem) == pytest.approx(1.0)
    assert certificate.lower[0] <= 0.0 <= certificate.upper[0]
    assert certificate.upper[0] - certificate.lower[0] <= 2 * MAX_REL_BOUND  # absolute, scale (pi/L)^2 = 1
    triplet_lower, triplet_upper = certificate.lower[2:5], certificate.upper[2:5]
    assert np.all(triplet_upper[:-1] < triplet_lower[1:])  # disjoint enclosures, in order
    assert np.all(np.diff(certificate.energies[2:5]) > 4e-4)


def test_spectral_at_the_reference_resolution_is_not_graded_against_itself():
    problem = Potential("x**2", [-8, 8])
    reference = problem.reference(3)
    points = problem.certificate(3).notes["chebyshev_points"]
    solution = qbench.solvers.get("spectral", n_points=points).solve(problem, 3)
    exact = np.array([1.0, 3.0, 5.0])
    difference = np.abs(solution.energies - reference.energies)
    assert np.all(difference > 0)
    own_error = np.abs(solution.energies - exact)
    assert np.all(difference <= reference.rel_error_bound * exact + own_error)


# -- interval enclosures of V over its formula ------------------------------------------------------
ENCLOSED = [
    "x**2 - 3*x",
    "x**3",
    "x**-2 + 1",
    "x**0.5",
    "2**x",
    "x**x",
    "exp(-x**2)",
    "log(x)",
    "sqrt(x)",
    "sin(3*x)",
    "cos(5*x) + sin(x)**2",
    "tanh(2*x - 1)",
    "cosh(x) - sinh(x)",
    "abs(x - 1)",
    "1/(x - 0.7)",
    "where(x > 1, 20, x)",
    "heaviside(x - 1)",
    "heaviside(x - 1, 0.25)",
    "0.5 < x <= 1.5",
    "-40*cos(2*x)+400*sin(2*x)**2",
    SPIKE,
]


@pytest.mark.parametrize("text", ENCLOSED)
def test_interval_enclosures_hold_every_sampled_value(text):
    expression = qbench.problems.expression.parse_potential(text)
    rng = np.random.default_rng(7)
    # Positive positions for the fractional powers and log; 0.7 and 1 (poles, steps) fall inside some.
    lo = rng.uniform(0.01, 3.0, 200)
    hi = lo + rng.uniform(0.0, 1.0, 200) ** 3
    jet = expression.enclose(lo, hi)
    x = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, 401)[None, :]
    values = expression(x)
    finite = np.isfinite(values)
    # The ends are rounded to nearest, not outward (documented): a few ulps of terms of size 1 + |V|.
    ulps = (
        8 * np.finfo(float).eps * (1 + np.max(np.abs(np.where(finite, values, 0.0)), axis=1, keepdims=True))
    )
    assert np.all((values >= jet.value.lo[:, None] - ulps) | ~finite)
    assert np.all((values <= jet.value.hi[:, None] + ulps) | ~finite)
    assert not np.any(~finite & np.isfinite(jet.value.lo[:, None]) & np.isfinite(jet.value.hi[:, None]))


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ("sin(3*x)", lambda x: 3 * np.cos(3 * x), lambda x: -9 * np.sin(3 * x)),
        ("exp(-x**2)", lambda x: -2 * x * np.exp(-(x**2)), lambda x: (4 * x**2 - 2) * np.exp(-(x**2))),
        ("tanh(x)", lambda x: 1 / np.cosh(x) ** 2, lambda x: -2 * np.tanh(x) / np.cosh(x) ** 2),
        ("sqrt(x)", lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x**-1.5),
        (
            "x**3/(1+x)",
            lambda x: (2 * x**3 + 3 * x**2) / (1 + x) ** 2,
            lambda x: (2 * x**3 + 6 * x**2 + 6 * x) / (1 + x) ** 3,
        ),
    ],
)
def test_interval_enclosures_hold_the_derivatives(text, first, second):
    expression = qbench.problems.expression.parse_potential(text)
    rng = np.random.default_rng(11)
    lo = rng.uniform(0.05, 3.0, 100)
    hi = lo + rng.uniform(0.0, 0.5, 100)
    jet = expression.enclose(lo, hi)
    x = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, 201)[None, :]
    for enclosure, exact in ((jet.first, first(x)), (jet.second, second(x))):
        slack = 1e-12 * (1 + np.abs(exact))
        assert np.all(exact >= enclosure.lo[:, None] - slack) and np.all(
            exact <= enclosure.hi[:, None] + slack
        )


def test_a_kink_or_step_inside_the_interval_leaves_the_second_derivative_unbounded():
    jet = qbench.problems.expression.parse_potential("abs(x) + where(x > 2, 1, 0)").enclose(
        np.array([-1.0, 0.5, 1.5]), np.array([1.0, 1.0, 2.5])
    )
    assert jet.second.lo[0] == -np.inf and jet.second.hi[2] == np.inf
    assert jet.second.lo[1] == 0.0 == jet.second.hi[1]

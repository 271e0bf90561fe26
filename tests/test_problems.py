"""Problem classes: canonical values, geometry, validation and the reference eigenpairs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import qbench
from qbench.numerics.quadrature import domain_rule, panel_edges
from qbench.problems import (
    FiniteBarrier,
    FiniteWell,
    InfiniteWell,
    PiecewiseConstant,
    Reference,
    available,
    get,
    parameters,
)

CANONICAL = ("infinite_well", "finite_well", "finite_barrier")

# The reference values of the canonical problems, to the digits of the table they were first published in.
DESIGN_TABLE = {
    "infinite_well": ("9.86960440109", "39.4784176044", "88.8264396098"),
    "finite_well": ("1.63948018855", "6.44188145436", "13.8917817498"),
    "finite_barrier": ("23.9488848694", "40.0735200277", "107.890787520"),
}

# Problems whose reference eigenpairs are checked; built fresh for every test.
PROBLEMS = {
    "infinite_well": InfiniteWell,
    "finite_well": FiniteWell,
    "finite_barrier": FiniteBarrier,
    "infinite_well_long": lambda: InfiniteWell(length=2.5),
    "finite_well_deep": lambda: FiniteWell(half_width=0.6, V0=60.0, box_half_width=1.7),
    "barrier_negative": lambda: FiniteBarrier(center=0.3, width=0.25, V0=-40.0, length=1.4),
    "design_example": lambda: PiecewiseConstant(edges=[0, 0.3, 0.4, 1], values=[0, 50, 0]),
    "asymmetric": lambda: PiecewiseConstant(
        edges=[-1.0, -0.2, 0.5, 0.6, 2.0], values=[10.0, -30.0, 80.0, 5.0]
    ),
}
N_STATES = 5


def half_unit_in_last_digit(text: str) -> float:
    return 0.5 * 10.0 ** -len(text.split(".")[1])


# -- canonical values -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", CANONICAL)
def test_reference_energies_match_design_table(name):
    """E0..E2 round to those published values: |E - table| <= half a unit in the last printed digit.

    That is an absolute tolerance of 5e-12 .. 5e-10, i.e. relative 2e-13 .. 3e-12.
    """
    energies = get(name).reference(3).energies
    for energy, text in zip(energies, DESIGN_TABLE[name]):
        assert abs(energy - float(text)) <= half_unit_in_last_digit(text) * (1 + 1e-9), (
            name,
            energy,
            text,
        )


@pytest.mark.parametrize("length", [1.0, 0.7, 3.0])
def test_infinite_well_energies_are_exact(length):
    """E_n = ((n + 1) pi / L)^2 to 1e-14 relative."""
    energies = InfiniteWell(length=length).reference(6).energies
    exact = ((np.arange(6) + 1) * math.pi / length) ** 2
    np.testing.assert_allclose(energies, exact, rtol=1e-14, atol=0)


def test_available_lists_the_canonical_problems():
    assert set(CANONICAL) <= set(available())
    assert available() == sorted(available())


def test_parameters_report_design_defaults():
    assert parameters("infinite_well") == {"length": 1.0}
    assert parameters("finite_well") == {"half_width": 1.0, "V0": 20.0, "box_half_width": 3.0}
    assert parameters("finite_barrier") == {
        "center": 0.5,
        "width": 0.1,
        "V0": 100.0,
        "length": 1.0,
    }


# -- geometry and potential -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "domain", "breakpoints"),
    [
        (InfiniteWell(), (0.0, 1.0), ()),
        (InfiniteWell(length=2.5), (0.0, 2.5), ()),
        (FiniteWell(), (-3.0, 3.0), (-1.0, 1.0)),
        (FiniteWell(half_width=0.5, V0=3.0, box_half_width=2.0), (-2.0, 2.0), (-0.5, 0.5)),
        (FiniteBarrier(), (0.0, 1.0), (0.45, 0.55)),
        (FiniteBarrier(center=1.5, width=1.0, length=4.0), (0.0, 4.0), (1.0, 2.0)),
        (PiecewiseConstant([-1, 0, 2, 3], [1, 2, 3]), (-1.0, 3.0), (0.0, 2.0)),
        # Equal neighbours: no jump, so no breakpoint at 1.
        (PiecewiseConstant([0, 1, 2, 3], [5, 5, 7]), (0.0, 3.0), (2.0,)),
        (PiecewiseConstant([0, 1, 2], [4, 4]), (0.0, 2.0), ()),
    ],
    ids=repr,
)
def test_domain_and_breakpoints(problem, domain, breakpoints):
    assert problem.domain == pytest.approx(domain, abs=1e-15)
    assert tuple(problem.breakpoints) == pytest.approx(breakpoints, abs=1e-15)
    assert problem.length == pytest.approx(domain[1] - domain[0], abs=1e-15)


@pytest.mark.parametrize(
    ("problem", "x", "expected"),
    [
        (InfiniteWell(), [0.01, 0.5, 0.99], [0.0, 0.0, 0.0]),
        (FiniteWell(), [-2.9, -1.01, -0.99, 0.0, 0.99, 1.01, 2.9], [20, 20, 0, 0, 0, 20, 20]),
        (
            FiniteWell(half_width=0.5, V0=7.5, box_half_width=1.0),
            [-0.75, 0.25, 0.75],
            [7.5, 0.0, 7.5],
        ),
        (FiniteBarrier(), [0.1, 0.449, 0.451, 0.5, 0.549, 0.551, 0.9], [0, 0, 100, 100, 100, 0, 0]),
        (
            FiniteBarrier(center=1.0, width=0.5, V0=-3.0, length=2.0),
            [0.5, 1.0, 1.5],
            [0.0, -3.0, 0.0],
        ),
        (
            PiecewiseConstant([-1.0, -0.2, 0.5, 0.6, 2.0], [10.0, -30.0, 80.0, 5.0]),
            [-0.9, -0.1, 0.55, 1.9],
            [10.0, -30.0, 80.0, 5.0],
        ),
    ],
    ids=repr,
)
def test_potential_values_inside_pieces(problem, x, expected):
    values = problem.potential(np.array(x))
    assert values.shape == (len(x),)
    np.testing.assert_array_equal(values, np.array(expected, dtype=float))


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_potential_is_infinite_outside_the_walls(name):
    problem = PROBLEMS[name]()
    x0, x1 = problem.domain
    outside = np.array([x0 - 10.0, x0 - 1e-9, x1 + 1e-9, x1 + 10.0])
    assert np.all(np.isposinf(problem.potential(outside)))
    assert np.all(np.isfinite(problem.potential(np.linspace(x0, x1, 101))))


def test_potential_takes_points_of_shape_n_by_1_or_flat_positions_and_refuses_other_shapes():
    x = np.linspace(-2.9, 2.9, 12)
    values = FiniteWell().potential(x[:, None])
    assert values.shape == (12,)
    np.testing.assert_array_equal(values, np.where(np.abs(x) < 1.0, 0.0, 20.0))
    np.testing.assert_array_equal(FiniteWell().potential(x), values)
    with pytest.raises(ValueError, match=r"points must have shape \(n, 1\), got \(3, 4\)"):
        FiniteWell().potential(x.reshape(3, 4))


def test_potential_at_a_jump_takes_the_right_piece():
    """Documented in PiecewiseConstant: at a jump V is the value of the piece to the right."""
    problem = PiecewiseConstant([0.0, 0.25, 1.0], [3.0, -2.0])
    assert problem.potential(np.array([0.25]))[0] == -2.0


# -- params and the registry ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_params_round_trip(name):
    problem = PROBLEMS[name]()
    rebuilt = type(problem)(**problem.params)
    assert rebuilt == problem
    assert hash(rebuilt) == hash(problem)
    assert rebuilt.domain == problem.domain
    assert rebuilt.breakpoints == problem.breakpoints
    x = np.linspace(*problem.domain, 57)
    np.testing.assert_array_equal(rebuilt.potential(x), problem.potential(x))


@pytest.mark.parametrize("name", CANONICAL)
def test_get_without_overrides_is_the_default_problem(name):
    problem = get(name)
    assert problem == type(problem)()
    assert problem.name == name


def test_problems_with_different_params_are_not_equal():
    assert FiniteWell() != FiniteWell(V0=21.0)
    assert InfiniteWell() != PiecewiseConstant([0.0, 1.0], [0.0])


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("infinite_well", {"length": 2.0}),
        ("finite_well", {"V0": 50.0}),
        ("finite_well", {"half_width": 0.5, "box_half_width": 1.5}),
        ("finite_barrier", {"V0": 50.0, "width": 0.2}),
        ("finite_barrier", {"center": 1.0, "length": 3.0}),
        ("piecewise_constant", {"edges": [0.0, 0.5, 2.0], "values": [1.0, -1.0]}),
    ],
)
def test_get_applies_overrides(name, overrides):
    problem = get(name, **overrides)
    for key, value in overrides.items():
        assert problem.params[key] == value
    defaults = {k: v for k, v in parameters(name).items() if k not in overrides}
    for key, value in defaults.items():
        assert problem.params[key] == value


def test_get_overrides_change_the_physics():
    assert get("infinite_well", length=2.0).reference(1).energies[0] == pytest.approx(
        math.pi**2 / 4, rel=1e-14
    )
    barrier = get("finite_barrier", V0=50.0, width=0.2)
    assert barrier.breakpoints == pytest.approx((0.4, 0.6), abs=1e-15)
    assert barrier.potential(np.array([0.5]))[0] == 50.0
    well = get("finite_well", V0=50.0)
    assert well.potential(np.array([2.0]))[0] == 50.0
    # A deeper well binds its ground state more tightly.
    assert well.reference(1).energies[0] > get("finite_well").reference(1).energies[0]


# -- reference eigenpairs -------------------------------------------------------------------------


def reference_on_rule(problem, n_states=N_STATES):
    nodes, weights = domain_rule(problem.domain, problem.breakpoints)
    reference = problem.reference(n_states)
    return reference, nodes, weights, reference.wavefunctions(nodes)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_reference_shapes_and_ordering(name):
    problem = PROBLEMS[name]()
    reference = problem.reference(N_STATES)
    assert reference.energies.shape == (N_STATES,)
    assert reference.n_states == N_STATES
    assert np.all(np.diff(reference.energies) > 0)
    assert reference.energies[0] > min(problem.potential(np.linspace(*problem.domain, 1001)))
    x = np.linspace(*problem.domain, 7)
    assert reference.wavefunctions(x).shape == (N_STATES, 7)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_reference_wavefunctions_are_orthonormal(name):
    """Gram matrix on a breakpoint-aware Gauss-Legendre rule is the identity to 1e-12."""
    _, _, weights, psi = reference_on_rule(PROBLEMS[name]())
    gram = (psi * weights) @ psi.T
    np.testing.assert_allclose(gram, np.eye(N_STATES), rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_reference_wavefunctions_vanish_at_walls_and_rise_from_left(name):
    problem = PROBLEMS[name]()
    x0, x1 = problem.domain
    reference = problem.reference(N_STATES)
    scale = np.max(np.abs(reference.wavefunctions(np.linspace(x0, x1, 2001))), axis=1)
    at_walls = reference.wavefunctions(np.array([x0, x1]))
    assert np.all(np.abs(at_walls) <= 1e-12 * scale[:, None])
    # Documented sign convention: each state rises from the left wall.
    assert np.all(reference.wavefunctions(np.array([x0 + 1e-4 * (x1 - x0)]))[:, 0] > 0)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_state_n_has_n_interior_sign_changes(name):
    """Count sign changes on 20001 points, skipping |psi| <= 1e-8 max|psi| (rounding at nodes).

    For these problems every lobe is far above the threshold, so skipping small samples can
    only remove noise, never a real node.
    """
    problem = PROBLEMS[name]()
    x = np.linspace(*problem.domain, 20001)
    psi = problem.reference(N_STATES).wavefunctions(x)
    for n, row in enumerate(psi):
        visible = row[np.abs(row) > 1e-8 * np.max(np.abs(row))]
        assert np.count_nonzero(np.diff(np.sign(visible))) == n, (name, n)


def interior_points(problem, margin, per_panel=61):
    """Points on every panel between walls and jumps, at least ``margin`` from each end."""
    edges = panel_edges(problem.domain, problem.breakpoints)
    return np.concatenate(
        [np.linspace(a + margin, b - margin, per_panel) for a, b in zip(edges[:-1], edges[1:])]
    )


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_reference_satisfies_the_schroedinger_equation(name):
    """-psi'' + V psi - E psi is ~0 away from the jumps.

    psi'' from the fourth-order five-point stencil with h = 1e-3 (truncation ~h^4 k^6 / 90,
    rounding ~1e-10 max|psi|), so the residual must stay below 1e-6 * max(|E|, 1) * max|psi|.
    A relative error delta in E alone would leave a residual of delta * |E| * psi.
    """
    problem = PROBLEMS[name]()
    h = 1e-3
    x = interior_points(problem, margin=3 * h)
    reference = problem.reference(N_STATES)
    stencil = [reference.wavefunctions(x + j * h) for j in (-2, -1, 0, 1, 2)]
    second = (-stencil[0] + 16 * stencil[1] - 30 * stencil[2] + 16 * stencil[3] - stencil[4]) / (12 * h**2)
    psi = stencil[2]
    v = problem.potential(x)
    scale = np.max(np.abs(reference.wavefunctions(np.linspace(*problem.domain, 4001))), axis=1)
    for n, energy in enumerate(reference.energies):
        residual = -second[n] + (v - energy) * psi[n]
        assert np.max(np.abs(residual)) <= 1e-6 * max(abs(energy), 1.0) * scale[n], (name, n)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_reference_is_continuous_with_continuous_slope_at_jumps(name):
    """psi and psi' match across every breakpoint (h = 1e-3 samples on each side).

    Value: each side's cubic extrapolation 4 f1 - 6 f2 + 4 f3 - f4 (error ~h^4 k^4 psi) must
    meet psi at the jump. Slope: the one-sided fourth-order differences through psi at the jump
    must agree.
    """
    problem = PROBLEMS[name]()
    reference = problem.reference(N_STATES)
    scale = np.max(np.abs(reference.wavefunctions(np.linspace(*problem.domain, 4001))), axis=1)
    h = 1e-3
    extrapolate = np.array([4.0, -6.0, 4.0, -1.0])
    one_sided = np.array([-25.0, 48.0, -36.0, 16.0, -3.0]) / (12 * h)
    for b in problem.breakpoints:
        at_jump = reference.wavefunctions(np.array([b]))
        slopes = []
        for side in (-1, 1):
            samples = reference.wavefunctions(b + side * h * np.arange(1, 5))
            assert np.all(np.abs(samples @ extrapolate - at_jump[:, 0]) <= 1e-6 * scale), (name, b)
            slopes.append(side * (np.hstack([at_jump, samples]) @ one_sided))
        local = np.abs(reference.energies - problem.potential(np.array([b - h, b + h]))[:, None])
        wave_number = np.sqrt(local.max(axis=0) + 1.0)
        gap = np.abs(slopes[0] - slopes[1]) / (wave_number * scale)
        assert np.all(gap <= 1e-6), (name, b, gap)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_smaller_reference_after_larger_is_a_prefix(name):
    problem = PROBLEMS[name]()
    x = np.linspace(*problem.domain, 301)
    big = problem.reference(N_STATES)
    big_energies, big_psi = big.energies.copy(), big.wavefunctions(x)
    small = problem.reference(2)
    assert small.n_states == 2
    np.testing.assert_array_equal(small.energies, big_energies[:2])
    np.testing.assert_array_equal(small.wavefunctions(x), big_psi[:2])
    # A fresh problem asked for 2 states directly agrees with the prefix.
    fresh = PROBLEMS[name]().reference(2)
    np.testing.assert_allclose(fresh.energies, big_energies[:2], rtol=1e-14, atol=0)
    np.testing.assert_allclose(fresh.wavefunctions(x), big_psi[:2], rtol=0, atol=1e-12)
    # Asking again for more than was cached still extends correctly.
    again = problem.reference(N_STATES + 1)
    np.testing.assert_array_equal(again.energies[:N_STATES], big_energies)


def test_reference_accepts_numpy_integer():
    assert FiniteWell().reference(np.int64(2)).energies.shape == (2,)


# -- validation -----------------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("build", "match"),
    [
        # non-finite numbers
        (lambda: PiecewiseConstant([0.0, NAN, 1.0], [0.0, 1.0]), r"edges\[1\]"),
        (lambda: PiecewiseConstant([0.0, 1.0], [INF]), r"values\[0\]"),
        (lambda: PiecewiseConstant([0.0, 0.5, 1.0], [1.0, -INF]), r"values\[1\]"),
        (lambda: InfiniteWell(length=NAN), "length"),
        (lambda: InfiniteWell(length=INF), "length"),
        (lambda: FiniteWell(half_width=NAN), "half_width"),
        (lambda: FiniteWell(V0=INF), "V0"),
        (lambda: FiniteWell(box_half_width=NAN), "box_half_width"),
        (lambda: FiniteBarrier(center=NAN), "center"),
        (lambda: FiniteBarrier(width=INF), "width"),
        (lambda: FiniteBarrier(V0=NAN), "V0"),
        (lambda: FiniteBarrier(V0=-INF), "V0"),
        (lambda: FiniteBarrier(length=INF), "length"),
        # edges
        (lambda: PiecewiseConstant([0.0, 1.0, 1.0, 2.0], [0.0, 1.0, 2.0]), "strictly increasing"),
        (lambda: PiecewiseConstant([0.0, 2.0, 1.0], [0.0, 1.0]), "strictly increasing"),
        (lambda: PiecewiseConstant([1.0, 0.0], [0.0]), "strictly increasing"),
        (lambda: PiecewiseConstant([0.0, 1.0, 2.0], [0.0]), r"values must have len\(edges\) - 1"),
        (lambda: PiecewiseConstant([0.0, 1.0], [0.0, 1.0]), r"values must have len\(edges\) - 1"),
        (lambda: PiecewiseConstant([0.0], []), "edges"),
        # finite well
        (lambda: FiniteWell(half_width=3.0, box_half_width=3.0), "half_width must be < box_half"),
        (lambda: FiniteWell(half_width=4.0), "half_width must be < box_half"),
        (lambda: FiniteWell(V0=-1.0), "V0 must be >= 0"),
        (lambda: FiniteWell(half_width=0.0), "half_width must be > 0"),
        (lambda: FiniteWell(half_width=-1.0), "half_width must be > 0"),
        (lambda: FiniteWell(box_half_width=-3.0), "box_half_width"),
        # barrier must fit in its box, on each side
        (lambda: FiniteBarrier(center=0.02, width=0.1), "center, width or length"),
        (lambda: FiniteBarrier(center=0.05, width=0.1), "center, width or length"),
        (lambda: FiniteBarrier(center=0.98, width=0.1), "center, width or length"),
        (lambda: FiniteBarrier(center=0.95, width=0.1), "center, width or length"),
        (lambda: FiniteBarrier(center=1.5, width=0.1), "center, width or length"),
        (lambda: FiniteBarrier(center=0.5, width=1.0), "center, width or length"),
        (lambda: FiniteBarrier(center=0.5, width=0.1, length=0.5), "center, width or length"),
        (lambda: FiniteBarrier(width=0.0), "width must be > 0"),
        (lambda: FiniteBarrier(width=-0.1), "width must be > 0"),
        # lengths
        (lambda: InfiniteWell(length=0.0), "length must be > 0"),
        (lambda: InfiniteWell(length=-1.0), "length must be > 0"),
        (lambda: FiniteBarrier(length=0.0), "length must be > 0"),
        # non-numbers
        (lambda: InfiniteWell(length="1.0"), "length"),
        (lambda: InfiniteWell(length=True), "length"),
        (lambda: PiecewiseConstant("01", [0.0]), "edges"),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize(
    ("n_states", "match"),
    [
        (0, "n_states must be >= 1"),
        (-2, "n_states must be >= 1"),
        (2.5, "n_states must be an integer"),
        (2.0, "n_states must be an integer"),
        ("3", "n_states must be an integer"),
        (True, "n_states must be an integer"),
        (None, "n_states must be an integer"),
    ],
)
def test_reference_rejects_bad_n_states(n_states, match):
    with pytest.raises(ValueError, match=match):
        FiniteWell().reference(n_states)


def test_unknown_problem_name_lists_available():
    with pytest.raises(ValueError, match="no_such_problem") as info:
        get("no_such_problem")
    for name in available():
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("name", "overrides", "match"),
    [
        ("finite_well", {"depht": 50.0}, "depht"),
        ("finite_well", {"V0": 5.0, "widht": 1.0}, "widht"),
        ("infinite_well", {"width": 2.0}, "width"),
        ("finite_barrier", {"half_width": 0.1}, "half_width"),
    ],
)
def test_get_rejects_unknown_parameter(name, overrides, match):
    with pytest.raises(ValueError, match=f"unknown parameter.*{match}"):
        get(name, **overrides)


def test_get_requires_parameters_without_defaults():
    with pytest.raises(ValueError, match="edges"):
        get("piecewise_constant")


def test_get_validates_override_values():
    with pytest.raises(ValueError, match="V0"):
        get("finite_well", V0=-5.0)


def test_a_problem_written_for_the_1d_only_contract_is_adapted_with_a_deprecation_warning():
    """A plugin class with ``domain``, ``breakpoints`` and ``potential(x)`` of flat positions keeps
    working under the points contract: it gets ``box``/``axis_breakpoints``, and its potential and
    reference take ``(n, 1)`` points."""
    with pytest.warns(DeprecationWarning, match="1D-only contract"):

        class OldShifted(qbench.problems.Problem):
            name = "old_shifted"

            domain = property(lambda self: (0.0, 2.0))
            breakpoints = property(lambda self: (0.5,))
            params = property(lambda self: {})

            def potential(self, x):
                assert x.ndim == 1  # the legacy class sees flat positions
                return np.where(x < 0.5, 0.0, 3.0)

            def _compute_reference(self, n_states):
                k = np.arange(1, n_states + 1) * np.pi / 2.0
                return Reference(k**2, lambda x: np.sin(np.outer(k, x)) * (x.ndim == 1))

    problem = OldShifted()
    assert problem.box == ((0.0, 2.0),) and problem.axis_breakpoints == ((0.5,),) and problem.dim == 1
    np.testing.assert_array_equal(problem.potential(np.array([[0.25], [1.0]])), [0.0, 3.0])
    values = problem.reference(2).wavefunctions(np.array([[0.5], [1.0]]))
    np.testing.assert_allclose(values, np.sin(np.outer([np.pi / 2, np.pi], [0.5, 1.0])), atol=1e-15)


def test_domain_and_breakpoints_are_the_one_dimensional_views_and_refuse_d_above_one():
    well = FiniteWell()
    assert well.domain == well.box[0] and well.breakpoints == well.axis_breakpoints[0] == (-1.0, 1.0)
    square = qbench.problems.get("separable", parts=["finite_well", "infinite_well"])
    with pytest.raises(ValueError, match=r"2-dimensional: use box \(.*\), not domain"):
        _ = square.domain
    with pytest.raises(ValueError, match="2-dimensional: use axis_breakpoints, not breakpoints"):
        _ = square.breakpoints

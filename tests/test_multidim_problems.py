"""The d-dimensional problems: separable sums, the isotropic oscillator and the circular well."""

from __future__ import annotations

import itertools
import math
import pickle

import mpmath
import numpy as np
import pytest

from qbench import problems
from qbench.cli.specs import parse_spec
from qbench.problems import CircularWell, HarmonicOscillator, Separable

PI2 = math.pi**2


def brute_force_sums(parts: list[problems.Problem], n: int) -> np.ndarray:
    """The n lowest sums of the parts' reference energies, over every combination."""
    energies = [p.reference(n).energies for p in parts]
    return np.sort([sum(c) for c in itertools.product(*energies)])[:n]


# -- separable -----------------------------------------------------------------------------------
SEPARABLE_CASES = [
    (["finite_well", "finite_well"], 6),
    (["infinite_well", "infinite_well", "infinite_well"], 7),
    (["finite_barrier", {"name": "finite_well", "V0": 50.0}], 5),
    (["finite_well", "finite_barrier", {"name": "infinite_well", "length": 2.0}], 6),
    (["infinite_well", "infinite_well", "infinite_well", "infinite_well"], 5),
]


@pytest.mark.parametrize(("parts", "n"), SEPARABLE_CASES)
def test_separable_energies_are_sums_of_1d_energies(parts, n):
    p = Separable(parts)
    built = [problems.get(s) if isinstance(s, str) else problems.get(**s) for s in parts]
    np.testing.assert_allclose(p.level_energies(n), brute_force_sums(built, n), rtol=1e-14)
    assert p.dim == len(parts)
    assert p.box == tuple(b.domain for b in built)
    assert p.axis_breakpoints == tuple(b.breakpoints for b in built)
    assert p.reference_kind == "exact"


@pytest.mark.parametrize(
    ("parts", "n", "groups", "scaled"),
    [
        (["infinite_well"] * 2, 8, [(0,), (1, 2), (3,), (4, 5), (6, 7)], [2, 5, 5, 8, 10, 10, 13, 13]),
        (["infinite_well"] * 3, 7, [(0,), (1, 2, 3), (4, 5, 6)], [3, 6, 6, 6, 9, 9, 9]),
    ],
)
def test_separable_identical_parts_are_exactly_degenerate(parts, n, groups, scaled):
    p = Separable(parts)
    energies = p.level_energies(n)
    np.testing.assert_allclose(energies / PI2, scaled, rtol=1e-14)
    assert p.degenerate_groups(n) == groups
    for group in groups:  # permutations sum bitwise equal
        assert len({energies[k] for k in group}) == 1


@pytest.mark.parametrize(
    ("parts", "n"),  # the mixed 3D case takes a second; the 3D box keeps a 3D case in the fast set
    [*SEPARABLE_CASES[:3], pytest.param(*SEPARABLE_CASES[3], marks=pytest.mark.slow)],
)
def test_separable_wavefunctions_are_orthonormal_on_the_quadrature_rule(parts, n):
    p = Separable(parts)
    reference = p.reference(n)
    nodes, weights = p.quadrature_rule()
    psi = reference.wavefunctions(nodes)
    assert psi.shape == (n, len(weights))
    np.testing.assert_allclose((psi * weights) @ psi.T, np.eye(n), atol=1e-10)
    assert reference.method.startswith("separable: sum of 1D ")


def test_separable_wavefunctions_are_products():
    p = Separable(["finite_well", "infinite_well"])
    well, box = problems.get("finite_well"), problems.get("infinite_well")
    points = np.array([[0.3, 0.2], [-1.5, 0.7], [2.9, 0.99]])
    expected = [
        well.reference(4).wavefunctions(points[:, 0])[i] * box.reference(4).wavefunctions(points[:, 1])[j]
        for i, j in p.state_indices(4)
    ]
    np.testing.assert_allclose(p.reference(4).wavefunctions(points), expected, rtol=1e-14)


def test_separable_potential_is_the_sum_and_infinite_outside():
    p = Separable(["finite_well", "finite_barrier"])
    # The well (V0 = 20 for |x| > 1) on x, the barrier (100 on 0.45 < y < 0.55) in [0, 1] on y.
    points = np.array([[0.0, 0.2], [2.0, 0.2], [2.0, 0.5], [0.0, 1.5], [-4.0, 0.5]])
    np.testing.assert_array_equal(p.potential(points), [0.0, 20.0, 120.0, np.inf, np.inf])
    with pytest.raises(ValueError, match="shape"):
        p.potential(np.zeros((3, 3)))


@pytest.mark.parametrize(
    "parts",
    [
        ["finite_well", "finite_well"],
        [{"name": "finite_well", "V0": 50.0}, "infinite_well", {"name": "harmonic_oscillator", "omega": 2.0}],
    ],
)
def test_separable_params_round_trip(parts):
    p = Separable(parts)
    rebuilt = type(p)(**p.params)
    assert rebuilt == p and hash(rebuilt) == hash(p)
    assert problems.get("separable", **p.params) == p
    assert pickle.loads(pickle.dumps(p)) == p
    p.reference(3)  # the cached references (closures) do not stop pickling
    assert pickle.loads(pickle.dumps(p)) == p


def test_separable_params_are_canonical():
    # A part with its default parameters is spelled by its name alone.
    p = Separable([{"name": "finite_well", "V0": 20.0}, "finite_well"])
    assert p.params == {"parts": ["finite_well", "finite_well"]}
    assert p == Separable(["finite_well", "finite_well"])
    assert Separable([{"name": "finite_well", "V0": 50.0}, "finite_well"]).params["parts"][0] == {
        "name": "finite_well",
        "half_width": 1.0,
        "V0": 50.0,
        "box_half_width": 3.0,
    }


@pytest.mark.parametrize(
    "spec",
    [
        'separable:parts=["finite_well","finite_well"]',
        'separable:parts=["finite_well",{"name":"finite_well","V0":50}]',
        "harmonic_oscillator:dim=3",
        "circular_well:radius=1.0,V0=20.0,box_half_width=3.0",
    ],
)
def test_cli_spelling_builds_the_problem(spec):
    name, params = parse_spec(spec)
    p = problems.get(name, **params)
    assert p.name == name and p.dim >= 2
    assert problems.get(name, **p.params) == p


@pytest.mark.parametrize(
    ("parts", "match"),
    [
        (["finite_well"], "parts must have 2 to 4 entries, got 1: for one part use the 1D problem"),
        (["finite_well"] * 5, "parts must have 2 to 4 entries, got 5"),
        ([], "parts must have 2 to 4 entries, got 0"),
        ("finite_well", "parts must be a list of 2 to 4"),
        (["finite_well", "no_such_problem"], r"parts\[1\]: unknown problem 'no_such_problem'"),
        (["separable", "finite_well"], r"parts\[0\] is itself separable"),
        ([{"name": "harmonic_oscillator", "dim": 2}, "finite_well"], r"parts\[0\].*every part must be 1D"),
        ([{"name": "finite_well", "V0": -1.0}, "finite_well"], r"parts\[0\] \(finite_well\): V0"),
        ([{"V0": 1.0}, "finite_well"], r"parts\[0\] must be a problem name or a dict with a 'name'"),
    ],
)
def test_separable_validation(parts, match):
    with pytest.raises(ValueError, match=match):
        Separable(parts)


def test_separable_check_states_refuses_splitting_a_group():
    p = Separable(["finite_well", "finite_well"])
    p.check_states(3)
    with pytest.raises(ValueError, match=r"n_states=2 splits .* use n_states=1 or 3"):
        p.check_states(2)
    with pytest.raises(ValueError, match=r"n_states=5 splits .* use n_states=4 or 6"):
        p.reference(5)


def test_separable_with_a_limited_part_certifies_only_covered_levels():
    # The Pöschl–Teller reference covers states 0-3 (E = -25, -16, -9, -4) in its default box.
    p = Separable(["poschl_teller", "poschl_teller"])
    np.testing.assert_allclose(p.level_energies(6), [-50, -41, -41, -34, -34, -32], rtol=1e-14)
    p.check_states(6)
    # State 7 (E = -29 = -25 - 4) could tie with an uncovered state (4, 0), so 8 is not certain.
    with pytest.raises(ValueError, match=r"n_states=8 may split .* use n_states <= 6"):
        p.check_states(8)
    with pytest.raises(ValueError, match=r"n_states=9 is too many .* certify only the 8 lowest"):
        p.level_energies(9)
    # Negative energies: the bound is the honest sum of absolute errors over |E|.
    reference = p.reference(6)
    assert 0 < reference.rel_error_bound < 1e-12


def test_separable_reference_kind_follows_the_parts():
    mixed = Separable(["finite_well", {"name": "potential", "V": "x**2", "domain": [-5, 5]}])
    assert mixed.reference_kind == "certified"
    assert not mixed.has_exact_reference
    assert Separable(["finite_well", "finite_well"]).has_exact_reference


# -- the isotropic oscillator --------------------------------------------------------------------
def test_one_dimensional_oscillator_is_unchanged():
    p = problems.get("harmonic_oscillator")
    assert type(p) is HarmonicOscillator and p.dim == 1
    assert p.params == {"omega": 1.0, "box_half_width": 8.0}
    assert HarmonicOscillator(dim=1) == HarmonicOscillator() == problems.get("harmonic_oscillator", dim=1)
    assert "dim" not in HarmonicOscillator(omega=2.0, box_half_width=6.0, dim=1).params
    assert problems.parameters("harmonic_oscillator") == {"omega": 1.0, "box_half_width": 8.0, "dim": 1}
    assert pickle.loads(pickle.dumps(HarmonicOscillator(omega=2.0))) == HarmonicOscillator(omega=2.0)


@pytest.mark.parametrize(("dim", "omega", "n_levels"), [(2, 1.0, 5), (3, 1.5, 4), (4, 0.7, 3)])
def test_isotropic_oscillator_energies_and_degeneracies(dim, omega, n_levels):
    p = problems.get("harmonic_oscillator", omega=omega, dim=dim)
    assert type(p) is HarmonicOscillator and p.dim == dim and p.name == "harmonic_oscillator"
    assert p.box == ((-8.0, 8.0),) * dim
    degeneracies = [math.comb(big_n + dim - 1, dim - 1) for big_n in range(n_levels)]
    n = sum(degeneracies)
    expected = np.repeat([omega * (2 * big_n + dim) for big_n in range(n_levels)], degeneracies)
    np.testing.assert_allclose(p.level_energies(n), expected, rtol=1e-14)
    assert [len(g) for g in p.degenerate_groups(n)] == degeneracies
    assert p.params == {"omega": omega, "box_half_width": 8.0, "dim": dim}
    assert problems.get("harmonic_oscillator", **p.params) == p == type(p)(**p.params)
    assert pickle.loads(pickle.dumps(p)) == p
    assert p.reference(n).rel_error_bound < 1e-12
    # A prefix of a larger cached reference states the bound of its own states.
    assert p.reference(1).rel_error_bound == type(p)(**p.params).reference(1).rel_error_bound


def test_isotropic_oscillator_wavefunctions_are_orthonormal():
    p = problems.get("harmonic_oscillator", dim=2)
    reference = p.reference(6)
    nodes, weights = p.quadrature_rule()
    psi = reference.wavefunctions(nodes)
    np.testing.assert_allclose((psi * weights) @ psi.T, np.eye(6), atol=1e-10)
    x = np.array([[0.3, -0.4]])  # the ground state is the Gaussian pi^-1/2 exp(-|x|^2 / 2)
    assert abs(abs(reference.wavefunctions(x)[0, 0]) - math.exp(-0.125) / math.sqrt(math.pi)) < 1e-14


@pytest.mark.parametrize(("dim", "match"), [(0, "dim must be >= 1"), (5, "dim must be <= 4"), (1.5, "dim")])
def test_oscillator_dim_validation(dim, match):
    with pytest.raises(ValueError, match=match):
        problems.get("harmonic_oscillator", dim=dim)


# -- the circular well ---------------------------------------------------------------------------
def mp_free_condition(m: int, a, V0):
    """k J_m'(ka) K_m(kappa a) - kappa K_m'(kappa a) J_m(ka) at 30 digits."""

    def f(e):
        k, q = mpmath.sqrt(e), mpmath.sqrt(V0 - e)
        dk = -(mpmath.besselk(m - 1, q * a) + mpmath.besselk(m + 1, q * a)) / 2
        jm, djm = mpmath.besselj(m, k * a), mpmath.besselj(m, k * a, derivative=1)
        return k * djm * mpmath.besselk(m, q * a) - q * dk * jm

    return f


def mp_disc_condition(m: int, a, V0, b):
    """The same with g(r) = K_m(q r) I_m(q b) - I_m(q r) K_m(q b) outside, at 30 digits."""

    def f(e):
        k, q = mpmath.sqrt(e), mpmath.sqrt(V0 - e)
        ka, kb = mpmath.besselk(m, q * a), mpmath.besselk(m, q * b)
        ia, ib = mpmath.besseli(m, q * a), mpmath.besseli(m, q * b)
        dka = -(mpmath.besselk(m - 1, q * a) + mpmath.besselk(m + 1, q * a)) / 2
        dia = (mpmath.besseli(m - 1, q * a) + mpmath.besseli(m + 1, q * a)) / 2
        g, dg = ka * ib - ia * kb, q * (dka * ib - dia * kb)
        return k * mpmath.besselj(m, k * a, derivative=1) * g - mpmath.besselj(m, k * a) * dg

    return f


@pytest.mark.slow  # about a second: the fast set stays under a minute
def test_circular_well_energies_match_a_30_digit_solve():
    p = CircularWell()
    energies, ms = p.level_energies(6), p.angular_momenta(6)
    assert list(ms) == [0, 1, 1, 2, 2, 0]
    with mpmath.workdps(30):
        a, V0, b = mpmath.mpf(1), mpmath.mpf(20), mpmath.mpf(3)
        for e, m in zip(energies, ms):
            root = mpmath.findroot(mp_free_condition(int(m), a, V0), mpmath.mpf(e))
            assert abs(float((e - root) / root)) <= 1e-12
        disc = p.spectrum.disc_energies
        for k in (0, 1, 3):
            root = mpmath.findroot(mp_disc_condition(int(ms[k]), a, V0, b), mpmath.mpf(disc[k]))
            assert abs(float((disc[k] - root) / root)) <= 1e-12


def test_circular_well_pairs_and_bounds():
    p = CircularWell()
    assert p.degenerate_groups(6) == [(0,), (1, 2), (3, 4), (5,)]
    bounds = p.box_wall_bounds(6)
    assert 0 < bounds[0] < 1e-6  # the ground state: the walls sit 2 decay lengths... about 7e-8
    assert np.all(np.diff(bounds) >= 0)  # higher levels reach further out
    assert np.all(p.spectrum.disc_energies[:6] > p.level_energies(6))
    assert p.reference(6).rel_error_bound == bounds.max()
    assert p.reference(1).rel_error_bound == bounds[0]
    # A wide box leaves only the roots' accuracy.
    assert CircularWell(box_half_width=8.0).box_wall_bounds(3).max() < 1e-13
    assert p.reference_kind == "exact" and p.curved_interfaces and p.axis_breakpoints == ((), ())


@pytest.mark.parametrize(
    ("n_states", "match"),
    [
        (2, r"n_states=2 splits the degenerate level .* use n_states=1 or 3"),
        (4, r"n_states=4 splits the degenerate level .* use n_states=3 or 5"),
        (7, r"n_states must be <= 6 .* 6 bound levels"),
    ],
)
def test_circular_well_check_states(n_states, match):
    with pytest.raises(ValueError, match=match):
        CircularWell().check_states(n_states)


def test_circular_well_refuses_levels_without_a_disc_bound():
    p = CircularWell(box_half_width=1.2)  # the last bound level's disc level is above V0
    with pytest.raises(ValueError, match=r"n_states must be <= 5 .* 6 bound levels"):
        p.check_states(6)
    p.check_states(5)


def test_circular_well_quadrature_follows_the_circle():
    p = CircularWell(box_half_width=8.0)  # wide enough that no state leaks past the walls
    nodes, weights = p.quadrature_rule()
    assert nodes.shape == (len(weights), 2) and 12000 <= len(weights) <= 20000
    assert abs(weights.sum() - 4 * 8.0**2) < 1e-12 * 256
    psi = p.reference(5).wavefunctions(nodes)
    np.testing.assert_allclose((psi * weights) @ psi.T, np.eye(5), atol=1e-12)
    _, small_weights = CircularWell().quadrature_rule(64**2)
    assert len(small_weights) < 6000 and abs(small_weights.sum() - 36.0) < 1e-8


def test_circular_well_wavefunctions():
    p = CircularWell()
    reference = p.reference(3)
    r = np.array([0.0, 0.5, 1.0 - 1e-12, 1.0 + 1e-12, 2.0])
    points = np.stack([r, np.zeros_like(r)], axis=1)
    psi = reference.wavefunctions(points)
    assert abs(psi[0, 2] - psi[0, 3]) < 1e-9  # continuous across the circle
    assert psi[1, 0] == 0.0 and psi[2, 1] == 0.0  # m = 1 vanishes at the origin; sin vanishes on the x axis
    assert np.all(reference.wavefunctions(np.array([[3.5, 0.0], [0.0, -3.1]])) == 0.0)


def test_circular_well_potential_and_params():
    p = CircularWell(radius=0.5, V0=10.0, box_half_width=2.0)
    points = np.array([[0.1, 0.1], [0.5, 0.0], [1.0, 1.0], [2.5, 0.0]])
    np.testing.assert_array_equal(p.potential(points), [0.0, 10.0, 10.0, np.inf])
    assert p.params == {"radius": 0.5, "V0": 10.0, "box_half_width": 2.0}
    assert type(p)(**p.params) == p and problems.get("circular_well", **p.params) == p
    assert p.interface_circles == [((0.0, 0.0), 0.5)]
    assert pickle.loads(pickle.dumps(p)) == p


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"radius": 3.0}, r"radius must be in \(0, box_half_width=3.0\)"),
        ({"radius": 4.0, "box_half_width": 3.0}, "radius must be in"),
        ({"radius": 0.0}, "radius must be > 0"),
        ({"V0": 0.0}, "V0 must be > 0"),
        ({"box_half_width": -1.0}, "box_half_width must be > 0"),
    ],
)
def test_circular_well_validation(params, match):
    with pytest.raises(ValueError, match=match):
        CircularWell(**params)

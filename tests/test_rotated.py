"""rotated: the free-space reference checked independently, the walls' bound, planes, rules, bad input."""

from __future__ import annotations

import copy
import math
import pickle

import mpmath as mp
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import qbench
from qbench.cli.specs import parse_spec
from qbench.numerics.quadrature import grading_rule
from qbench.problems import CoupledOscillator, HarmonicOscillator, RotatedSeparable, Separable
from qbench.problems.rotated import MAX_BOX_ERROR, _OscillatorPart, _WellPart

ANGLE = math.pi / 6
TURN = [[math.cos(ANGLE), -math.sin(ANGLE)], [math.sin(ANGLE), math.cos(ANGLE)]]
WELLS = ["finite_well", "finite_well"]


def _grid_levels(problem: RotatedSeparable, n_states: int, points: int, sub: int = 1) -> np.ndarray:
    """The lowest levels of a 2D five-point grid built here (not a suite solver) on the box, V
    averaged over each node's cell by ``sub`` x ``sub`` midpoints, at m and 2m + 1 interior points
    per axis; returns both."""

    def levels(m: int) -> np.ndarray:
        lo, hi = problem.box[0]
        h = (hi - lo) / (m + 1)
        x = lo + h * np.arange(1, m + 1)
        lap = sp.diags([np.ones(m - 1), -2 * np.ones(m), np.ones(m - 1)], [-1, 0, 1]) / h**2
        eye = sp.identity(m)
        xx, yy = np.meshgrid(x, x, indexing="ij")
        offsets = ((np.arange(sub) + 0.5) / sub - 0.5) * h
        v = np.zeros(m * m)
        for dx in offsets:
            for dy in offsets:
                v += problem.potential(np.stack([xx.ravel() + dx, yy.ravel() + dy], axis=1))
        hamiltonian = -(sp.kron(lap, eye) + sp.kron(eye, lap)) + sp.diags(v / sub**2)
        return np.sort(spla.eigsh(hamiltonian.tocsc(), k=n_states, sigma=0.0, which="LM")[0])

    return levels(points), levels(2 * points + 1)  # h halves exactly


def _narrow(problem: RotatedSeparable, box_half_width: float) -> RotatedSeparable:
    """``problem`` with a box too narrow for the constructor, to compare the bound with a visible shift."""
    narrow = copy.copy(problem)
    narrow.box_half_width = box_half_width
    narrow.cube_half_width = box_half_width / float(np.max(np.sum(np.abs(problem.rotation), axis=1)))
    narrow.reach = box_half_width * np.sum(np.abs(problem.rotation), axis=0)
    narrow._parts = [copy.deepcopy(part) for part in problem._parts]
    return narrow


# -- the free-space levels -------------------------------------------------------------------------
def _mpmath_well_levels(half_width: float, V0: float) -> list[mp.mpf]:
    """Every bound level of the finite well on the line, from k tan(k a) = kappa (even) and
    -k cot(k a) = kappa (odd), times cos or sin (no poles), bracketed on (n pi / 2, (n + 1) pi / 2)
    in z = k a, 30 digits."""
    with mp.workdps(30):
        a, z0 = mp.mpf(half_width), mp.mpf(half_width) * mp.sqrt(V0)
        levels = []
        n = 0
        while n * mp.pi / 2 < z0:

            def condition(z, n=n):
                kappa_a = mp.sqrt(z0**2 - z**2)
                if n % 2 == 0:
                    return z * mp.sin(z) - kappa_a * mp.cos(z)
                return z * mp.cos(z) + kappa_a * mp.sin(z)

            lo, hi = n * mp.pi / 2 + mp.mpf(10) ** -20, min((n + 1) * mp.pi / 2, z0)
            z = mp.findroot(condition, (lo, hi), solver="anderson")
            levels.append((z / a) ** 2)
            n += 1
    return levels


@pytest.mark.parametrize(
    ("half_width", "V0"),
    [(1.0, 20.0), (0.5, 300.0), (2.0, 3.0), (1.0, 1e4), (1.0, (math.pi / 2 + 0.01) ** 2)],
)
def test_free_well_levels_match_a_30_digit_solve(half_width, V0):
    part = _WellPart(half_width, V0)
    exact = _mpmath_well_levels(half_width, V0)
    assert part.count == len(exact)
    energies = part.energies(part.count)
    worst = max(abs(float((mp.mpf(e) - x) / x)) for e, x in zip(energies, exact))
    assert worst <= 1e-14
    np.testing.assert_allclose(part.kappas(part.count) ** 2 + energies, V0, rtol=1e-14)


def test_free_well_states_are_orthonormal_and_solve_the_equation():
    part = _WellPart(1.0, 20.0)
    n = part.count
    # A fine composite Gauss rule on [-a, a] and on the tails out to 40 decay lengths.
    a, tail = 1.0, 40.0 / part.kappas(n)[-1]
    y, w = qbench.numerics.quadrature.gauss_legendre_rule([-a - tail, -a, a, a + tail], 64, 20)
    psi = part.states(n, y)
    np.testing.assert_allclose((psi * w) @ psi.T, np.eye(n), atol=1e-13)
    # -psi'' + V psi = E psi away from the jumps (fourth-order differences), psi and psi' continuous at a.
    x = np.array([-3.0, -1.5, -0.6, 0.1, 0.7, 2.0])
    h = 1e-3
    values = [part.states(n, x + k * h) for k in (-2, -1, 0, 1, 2)]
    second = (-values[0] + 16 * values[1] - 30 * values[2] + 16 * values[3] - values[4]) / (12 * h * h)
    residual = -second + (part.potential(x)[None, :] - part.energies(n)[:, None]) * values[2]
    assert np.max(np.abs(residual)) < 1e-5
    eps = 1e-9
    left, right = part.states(n, np.array([a - eps])), part.states(n, np.array([a + eps]))
    np.testing.assert_allclose(left, right, atol=1e-7)
    slope_left = (part.states(n, np.array([a - eps])) - part.states(n, np.array([a - 1e-5]))) / (1e-5 - eps)
    slope_right = (part.states(n, np.array([a + 1e-5])) - part.states(n, np.array([a + eps]))) / (1e-5 - eps)
    np.testing.assert_allclose(slope_left, slope_right, atol=1e-3)


def test_axis_aligned_wells_match_the_transfer_matrix_route():
    """With the identity rotation the problem is the separable finite well in [-8, 8]^2: its
    transfer-matrix levels there (walls 7 from the wells) equal the free-space sums."""
    p = RotatedSeparable(parts=WELLS, rotation=[[1.0, 0.0], [0.0, 1.0]])
    boxed = Separable([{"name": "finite_well", "box_half_width": 8.0}] * 2)
    np.testing.assert_allclose(p.level_energies(8), boxed.level_energies(8), rtol=1e-13)
    assert not p.curved_interfaces and p.axis_breakpoints == ((-1.0, 1.0), (-1.0, 1.0))


# -- the reference against independent routes ---------------------------------------------------------
def test_rotated_finite_well_levels_match_an_independent_fine_grid():
    """A five-point grid on the box, V cell-averaged (8 x 8 midpoints: the jumps cut the cells),
    extrapolated from h to h/2. Its stated error is a third of the change from h to h/2 (about
    3e-4 of the ground level); the reference must lie within it, and within 1e-4 relative."""
    p = RotatedSeparable(parts=WELLS, rotation=TURN, box_half_width=6.0)
    coarse, fine = _grid_levels(p, 3, 99, sub=8)
    extrapolated = (4 * fine - coarse) / 3
    exact = p.level_energies(3)
    assert np.all(np.abs(extrapolated - exact) <= np.abs(fine - coarse) / 3)
    assert np.max(np.abs(extrapolated - exact) / exact) < 1e-4
    assert p.reference(3).rel_error_bound < 1e-11


def test_box_bound_holds_against_the_true_shift_of_a_narrow_box():
    """In a box this narrow the walls move the levels visibly (0.1% to 1%): an extrapolated grid
    (smooth V: error far below the shift) lies between the free level and the bound above it."""
    wide = RotatedSeparable(
        parts=[{"name": "harmonic_oscillator", "omega": 0.8}, {"name": "harmonic_oscillator", "omega": 1.5}],
        seed=3,
    )
    p = _narrow(wide, 3.0)
    bound = p.box_bounds(3)
    coarse, fine = _grid_levels(p, 3, 79)
    free = p.level_energies(3)
    shift = ((4 * fine - coarse) / 3 - free) / free
    assert np.all(shift > 1e-4)
    assert np.all(shift <= bound)
    assert np.all(bound < 20 * shift)  # and not vacuous


@pytest.mark.parametrize(("omega", "c"), [(1.0, 4.0), (2.0, 3.0)])
def test_oscillator_cube_levels_bound_the_exact_boxed_levels(omega, c):
    """The Ritz upper bounds on the oscillator between walls at +-c against exact levels (parabolic
    cylinder functions, mpmath: psi = D_nu(z) +- D_nu(-z), z = sqrt(2 omega) c): above them, by
    less than 1% of the walls' shift."""
    with mp.workdps(30):
        z = mp.sqrt(2 * omega) * c
        exact = []
        for n in range(4):
            sign = 1 if n % 2 == 0 else -1
            nu = mp.findroot(lambda nu, s=sign: mp.pcfd(nu, z) + s * mp.pcfd(nu, -z), n)
            exact.append(float(omega * (2 * nu + 1)))
    exact = np.array(exact)
    upper = _OscillatorPart(omega).cube_upper(4, c)
    free = (2 * np.arange(4) + 1) * omega
    assert np.all(upper >= exact)
    assert np.all(upper - exact <= 0.01 * (exact - free) + 2e-13 * exact)


def test_rotated_isotropic_oscillator_is_the_axis_aligned_one():
    rotated = RotatedSeparable(parts=["harmonic_oscillator"] * 3, seed=2, box_half_width=10.0)
    aligned = HarmonicOscillator(dim=3)
    np.testing.assert_array_equal(rotated.level_energies(10), aligned.level_energies(10))
    assert rotated.degenerate_groups(10) == [(0,), (1, 2, 3), (4, 5, 6, 7, 8, 9)]


def test_rotated_anisotropic_oscillator_is_the_coupled_oscillator():
    """The same frequencies and rotation through coupled_oscillator (Hermite functions of the normal
    modes, a walls' bound of its own): equal levels and states, and the same potential."""
    frequencies, q = [0.8, 1.5], qbench.problems.coupled.haar_rotation(2, 5)
    parts = [{"name": "harmonic_oscillator", "omega": w} for w in frequencies]
    rotated = RotatedSeparable(parts=parts, rotation=q.tolist(), box_half_width=9.0)
    coupled = CoupledOscillator(frequencies=frequencies, rotation=q.tolist(), box_half_width=9.0)
    np.testing.assert_allclose(rotated.level_energies(6), coupled.level_energies(6), rtol=1e-14)
    x = np.random.default_rng(1).uniform(-3, 3, size=(40, 2))
    np.testing.assert_allclose(rotated.potential(x), coupled.potential(x), rtol=1e-13)
    ours, theirs = rotated.reference(6).wavefunctions(x), coupled.reference(6).wavefunctions(x)
    signs = np.sign(np.sum(ours * theirs, axis=1))[:, None]  # levels are simple: equal up to sign
    np.testing.assert_allclose(ours, signs * theirs, atol=1e-12)
    terms = rotated.product_terms()
    values = sum(c * np.prod([f(x[:, a]) for a, f in fs.items()], axis=0) for c, fs in terms)
    np.testing.assert_allclose(values, rotated.potential(x), rtol=1e-12)


def test_reference_states_solve_the_equation_off_the_planes():
    p = RotatedSeparable(seed=4)
    reference = p.reference(4)
    x = np.random.default_rng(0).uniform(-2.5, 2.5, size=(400, 2))
    y = x @ p.rotation
    x = x[np.all(np.abs(np.abs(y) - 1.0) > 0.01, axis=1)][:60]  # stencils clear of the planes
    h = 1e-3
    lap = np.zeros((4, len(x)))
    for axis in range(2):
        e = np.zeros(2)
        e[axis] = h
        f = [reference.wavefunctions(x + k * e) for k in (-2, -1, 0, 1, 2)]
        lap += (-f[0] + 16 * f[1] - 30 * f[2] + 16 * f[3] - f[4]) / (12 * h * h)
    residual = -lap + (p.potential(x)[None, :] - reference.energies[:, None]) * f[2]
    assert np.max(np.abs(residual)) < 1e-5


# -- the bound ---------------------------------------------------------------------------------
def test_the_bound_is_small_at_the_defaults_and_grows_as_the_box_shrinks():
    p = RotatedSeparable()
    assert p.reference(8).rel_error_bound < 1e-12
    bounds = [RotatedSeparable(rotation=TURN, box_half_width=b).box_bounds(8) for b in (8.0, 7.0, 6.0, 5.5)]
    assert all(np.all(lo <= hi) for lo, hi in zip(bounds, bounds[1:]))
    assert bounds[-1][-1] > 1e3 * bounds[0][-1]
    # The worst rotation in 2D (45 degrees: c = B / sqrt(2)) still holds every bound level at the default box.
    half = math.sqrt(0.5)
    diagonal = RotatedSeparable(rotation=[[half, -half], [half, half]])
    assert diagonal.box_bounds(8).max() < MAX_BOX_ERROR


def test_a_box_too_small_is_refused_at_construction_and_per_state():
    narrow = RotatedSeparable(rotation=TURN, box_half_width=6.0)
    narrow.check_states(4)
    with pytest.raises(ValueError, match=r"box_half_width=6.0 is too small for state 4 .* widen the box"):
        narrow.reference(6)
    with pytest.raises(ValueError, match=r"box_half_width=4.5 is too small .* ground level"):
        RotatedSeparable(rotation=TURN, box_half_width=4.5)
    with pytest.raises(ValueError, match=r"box_half_width=1.0 is too small .* does not hold the well"):
        RotatedSeparable(rotation=TURN, box_half_width=1.0)


def test_degenerate_levels_are_grouped_and_the_continuum_refused():
    p = RotatedSeparable()
    energies = p.level_energies(8)
    assert p.degenerate_groups(8) == [(0,), (1, 2), (3,), (4, 5), (6, 7)]
    assert energies[1] == energies[2] and energies[4] == energies[5]  # bitwise: sums of sorted terms
    with pytest.raises(ValueError, match="splits the degenerate level"):
        p.check_states(2)
    p.check_states(8)
    # Above: (2, 2) at 27.8 lies beyond the continuum at V0 + E0 = 21.6.
    with pytest.raises(ValueError, match=r"n_states=9 reaches the continuum .* use n_states <= 8"):
        p.check_states(9)
    assert p.continuum_threshold == pytest.approx(20.0 + energies[0] / 2)


# -- planes and rules ---------------------------------------------------------------------------------
def test_planes_are_reported_and_the_potential_jumps_across_them():
    p = RotatedSeparable(seed=1)
    planes = p.interface_planes
    assert len(planes) == 4 and p.curved_interfaces and p.axis_breakpoints == ((), ())
    assert p.interface_circles == []
    for i in range(2):
        normal = p.rotation[:, i]
        assert planes[2 * i] == (tuple(normal), -1.0) and planes[2 * i + 1] == (tuple(normal), 1.0)
        inside, outside = (1.0 - 1e-9) * normal, (1.0 + 1e-9) * normal
        assert p.potential(np.array([inside, outside])).tolist() == [0.0, 20.0]
    with pytest.raises(ValueError, match="order=4"):
        qbench.solvers.get("fd", order=4).check_problem(p, 3)


def test_a_signed_permutation_keeps_its_planes_on_the_axes():
    parts = [{"name": "finite_well", "half_width": 0.5}, "finite_well"]
    p = RotatedSeparable(parts=parts, rotation=[[0.0, 1.0], [-1.0, 0.0]])
    assert not p.curved_interfaces
    assert p.axis_breakpoints == ((-1.0, 1.0), (-0.5, 0.5))


def test_the_rule_follows_the_planes():
    """The rotated-frame rule integrates the reference states to 1e-9 in 2D and 3D (5e-11 and 1e-10
    measured); the box-frame tensor Gauss rule with as many nodes, whose panels the planes cross,
    is off by 1e-4 or more."""
    p = RotatedSeparable(seed=1)
    nodes, weights = p.quadrature_rule()
    psi = p.reference(8).wavefunctions(nodes)
    assert np.max(np.abs((psi * weights) @ psi.T - np.eye(8))) < 1e-9
    assert abs(weights.sum() - 256.0) < 1e-10 * 256.0 and np.all(weights > 0)
    assert np.all(np.abs(nodes) <= 8.0)
    box_nodes, box_weights = grading_rule(p.box, p.axis_breakpoints, len(weights))
    psi = p.reference(8).wavefunctions(box_nodes)
    assert np.max(np.abs((psi * box_weights) @ psi.T - np.eye(8))) > 1e-4
    q = RotatedSeparable(parts=["finite_well"] * 3, seed=1)
    nodes, weights = q.quadrature_rule(48**3)
    psi = q.reference(7).wavefunctions(nodes)
    assert np.max(np.abs((psi * weights) @ psi.T - np.eye(7))) < 1e-9


def test_sampled_rule_above_four_dimensions_integrates_the_states():
    p = RotatedSeparable(parts=["finite_well"] * 10, box_half_width=12.0)
    nodes, weights = p.quadrature_rule()
    assert nodes.shape[1] == 10 and len(weights) <= 2**14
    psi = p.reference(11).wavefunctions(nodes)
    # A statistical rule: 0.005 measured at its fixed seed (0.003-0.004 over seeds 0-3).
    np.testing.assert_allclose((psi * weights) @ psi.T, np.eye(11), atol=0.02)
    other, _ = p.sampled_rule(2**10, 7)
    assert not np.array_equal(other, p.sampled_rule(2**10, 8)[0])


# -- parameters -------------------------------------------------------------------------------------
def test_params_round_trip_pickle_and_cli_spelling():
    p = RotatedSeparable(parts=[{"name": "finite_well", "V0": 30.0}, "harmonic_oscillator"], seed=3)
    assert p.params == {
        "parts": [{"name": "finite_well", "half_width": 1.0, "V0": 30.0}, "harmonic_oscillator"],
        "seed": 3,
        "box_half_width": 8.0,
    }
    assert RotatedSeparable(**p.params) == p
    clone = pickle.loads(pickle.dumps(p))
    assert clone == p and np.array_equal(clone.level_energies(3), p.level_energies(3))
    name, params = parse_spec('rotated:parts=["finite_well",{"name":"finite_well","V0":50}],seed=2')
    built = qbench.problems.get(name, **params)
    assert built.dim == 2 and qbench.problems.get(name, **built.params) == built
    given = RotatedSeparable(rotation=TURN)
    assert "seed" not in given.params and given.params["rotation"] == TURN


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"rotation": [[1.0, 0.0], [0.0, 1.1]]}, "rotation must be orthogonal"),
        ({"rotation": np.eye(3).tolist()}, "rotation must be 2x2"),
        ({"rotation": [1.0, 0.0]}, "rotation must be a square matrix"),
        (
            {"parts": ["infinite_well", "finite_well"]},
            r"parts\[0\].*allowed: finite_well, harmonic_oscillator",
        ),
        ({"parts": ["finite_well"]}, "parts must have 2 to 16 entries, got 1"),
        ({"parts": ["finite_well"] * 17}, "parts must have 2 to 16 entries, got 17"),
        ({"parts": [{"name": "finite_well", "box_half_width": 3.0}, "finite_well"]}, "unknown parameter"),
        ({"parts": ["finite_well", {"name": "harmonic_oscillator", "omega": -1.0}]}, r"parts\[1\].*omega"),
        ({"parts": "finite_well"}, "parts must be a list"),
        ({"box_half_width": 3.0}, "box_half_width=3.0 is too small"),
        ({"box_half_width": 1e5}, "box_half_width must be in"),
        ({"seed": -1}, "seed must be >= 0"),
    ],
)
def test_bad_input_is_one_line_naming_the_parameter(params, match):
    with pytest.raises(ValueError, match=match) as error:
        RotatedSeparable(**params)
    message = str(error.value)
    assert "\n" not in message and next(iter(params)) in message

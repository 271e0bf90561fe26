"""Smooth problems with closed-form spectra in a box: pinned values, the box error, the limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from mpmath import mp

import qbench
from qbench.cases import Case
from qbench.problems import DoubleWell, HarmonicOscillator, OscillatorAxis, PoschlTeller
from qbench.problems.analytic import BOX_ERROR_SAFETY, MAX_BOX_ERROR

SQRT3 = math.sqrt(3.0)


@pytest.mark.parametrize(
    "problem, first_three",
    [
        (HarmonicOscillator(), [1.0, 3.0, 5.0]),
        (HarmonicOscillator(omega=2.5, box_half_width=6.0), [2.5, 7.5, 12.5]),
        (PoschlTeller(), [-25.0, -16.0, -9.0]),
        (PoschlTeller(lam=2.5, alpha=2.0, box_half_width=20.0), [-25.0, -9.0, -1.0]),
        # Razavy, beta = 1/2, n_exact = 4: the 4x4 matrix's eigenvalues are 6, 14 -+ 4 sqrt(3), 14.
        (DoubleWell(), [6.0, 14.0 - 4.0 * SQRT3, 14.0]),
    ],
    ids=repr,
)
def test_first_three_reference_energies_are_pinned(problem, first_three):
    reference = problem.reference(3)
    np.testing.assert_allclose(reference.energies, first_three, rtol=1e-14)
    assert reference.method.startswith("analytic")
    assert reference.rel_error_bound <= 1e-13


def test_double_well_has_a_tunnelling_doublet_below_its_barrier():
    well = DoubleWell()
    energies = well.reference(4).energies
    assert well.barrier_height == 9.0 and np.all(energies[:2] < well.barrier_height)
    assert well.potential(np.array([0.0]))[0] == pytest.approx(9.0, rel=1e-14)
    minimum = math.acosh(4.0) / 2.0  # cosh(2x) = n_exact / (2 beta)
    assert well.potential(np.array([-minimum, minimum])) == pytest.approx([0.0, 0.0], abs=1e-12)
    # Ground pair even/odd: the odd one has a node at the centre.
    psi = well.reference(2).wavefunctions(np.array([-0.5, 0.0, 0.5]))
    assert psi[0, 0] == pytest.approx(psi[0, 2]) and psi[1, 0] == pytest.approx(-psi[1, 2])
    assert abs(psi[1, 1]) < 1e-14


def boxed_oscillator_energies(omega, half_width, n_states, dps=30):
    """Exact levels of V = omega^2 x^2 between hard walls at +-half_width, by parabolic cylinder
    functions (mpmath): psi = D_nu(z) +- D_nu(-z), z = sqrt(2 omega) x, E = omega (2 nu + 1)."""
    with mp.workdps(dps):
        z = mp.sqrt(2 * omega) * half_width
        energies = []
        for n in range(n_states):
            parity = 1 if n % 2 == 0 else -1

            def wall(nu, parity=parity):
                return mp.pcfd(nu, z) + parity * mp.pcfd(nu, -z)

            energies.append(float(omega * (2 * mp.findroot(wall, n) + 1)))
    return np.array(energies)


@pytest.mark.parametrize("half_width", [3.0, 3.5, 4.0])
def test_box_error_estimate_matches_the_exact_shift_of_a_narrow_oscillator_box(half_width):
    """The wall shift estimate, 2 kappa psi(w)^2 per wall, against exact boxed levels: within 5%."""
    problem = OscillatorAxis(box_half_width=half_width)
    exact = boxed_oscillator_energies(1.0, half_width, 3)
    actual = (exact - problem.free_energies(3)) / problem.free_energies(3)
    estimate = problem.box_error(3)
    np.testing.assert_allclose(estimate, actual, rtol=0.05)
    assert np.all(actual <= BOX_ERROR_SAFETY * estimate)


def test_box_error_estimate_matches_pyslise_on_narrow_smooth_boxes():
    pyslise = pytest.importorskip("pyslise")
    for problem in (PoschlTeller(box_half_width=4.0), DoubleWell(beta=0.25, box_half_width=2.0)):
        solver = pyslise.Pyslise(
            lambda x, p=problem: float(p.potential(np.array([x]))[0]), *problem.domain, tolerance=1e-13
        )
        boxed = np.array([e for _, e in solver.eigenvaluesByIndex(0, 3, (0, 1), (0, 1))])
        free = problem.free_energies(3)
        actual = (boxed - free) / np.abs(free)
        estimate = problem.box_error(3)
        significant = estimate > 1e-12  # below that pyslise's own rounding is the difference
        np.testing.assert_allclose(estimate[significant], actual[significant], rtol=0.05)


def test_a_box_too_narrow_for_the_states_is_refused_with_the_reason():
    narrow = HarmonicOscillator(box_half_width=4.0)
    with pytest.raises(ValueError, match=r"box_half_width=4.0 is too narrow for state 0 .* widen the box"):
        narrow.reference(1)
    with pytest.raises(ValueError, match="box_half_width"):
        Case.resolve("harmonic_oscillator", "fd", problem_params={"box_half_width": 4.0})
    # The default Pöschl-Teller box holds states 0-3 but not state 4 (at E = -1).
    PoschlTeller().check_states(4)
    with pytest.raises(ValueError, match="too narrow for state 4"):
        PoschlTeller().reference(5)
    PoschlTeller(box_half_width=17.0).check_states(5)
    assert max(PoschlTeller(box_half_width=17.0).box_error(5)) * BOX_ERROR_SAFETY <= MAX_BOX_ERROR


def test_states_without_a_closed_form_are_refused():
    with pytest.raises(ValueError, match=r"n_states must be <= 5 .* closed form"):
        PoschlTeller(box_half_width=30.0).reference(6)
    with pytest.raises(ValueError, match=r"n_states must be <= 4"):
        DoubleWell().reference(5)
    with pytest.raises(ValueError, match="n_states must be <= 4"):
        Case.resolve("double_well", "spectral", n_states=5)
    assert PoschlTeller(lam=2.5).max_states == 3 and DoubleWell(n_exact=6, beta=1.0).max_states == 6


def test_double_well_reference_matches_the_quasi_exact_form_for_more_states():
    """n_exact = 6: six exact states, each with k nodes, satisfying the equation (residual test
    over every problem lives in test_problems; here the count and the energies)."""
    well = DoubleWell(beta=1.0, n_exact=6)
    energies = well.reference(6).energies
    # The tridiagonal matrix's eigenvalues against the spectral solver (measured: <= 1.5e-12).
    independent = qbench.solvers.get("spectral", n_points=60).solve(well, 6).energies
    np.testing.assert_allclose(energies, independent, rtol=1e-10)
    x = np.linspace(*well.domain, 4001)[1:-1]
    psi = well.reference(6).wavefunctions(x)
    for k, row in enumerate(psi):
        visible = np.abs(row) > 1e-8 * np.abs(row).max()
        assert np.count_nonzero(np.diff(np.sign(row[visible])) != 0) == k


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: HarmonicOscillator(omega=0.0), "omega must be > 0"),
        (lambda: HarmonicOscillator(box_half_width=-1.0), "box_half_width must be > 0"),
        (lambda: PoschlTeller(lam=-1.0), "lam must be > 0"),
        (lambda: PoschlTeller(alpha=float("inf")), "alpha must be a finite"),
        (lambda: DoubleWell(beta=2.0), r"beta must be < n_exact / 2 = 2.0"),
        (lambda: DoubleWell(n_exact=0), "n_exact must be >= 1"),
        (lambda: DoubleWell(n_exact=2.5), "n_exact must be an integer"),
    ],
)
def test_bad_parameters_name_themselves(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("name", ["harmonic_oscillator", "poschl_teller", "double_well"])
def test_smooth_problems_have_no_breakpoints_and_say_how_the_reference_was_made(name):
    problem = qbench.problems.get(name)
    assert problem.breakpoints == () and problem.axis_breakpoints == ((),)
    assert problem.has_exact_reference
    reference = problem.reference(3)
    closed_form = problem.parts[0] if name == "harmonic_oscillator" else problem  # a separable sum
    assert closed_form.formula in reference.method
    assert reference.rel_error_bound == max(BOX_ERROR_SAFETY * closed_form.box_error(3).max(), 1e-15)

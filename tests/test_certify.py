"""The per-state certificate (qbench/harness/certify.py): honest intervals, and dishonest solutions caught.

Solutions here are built from exact references, perturbed: the tests know the answer, the
certificate does not (it never reads the reference in 1D; in d >= 2 only for the index).
"""

from __future__ import annotations

import numpy as np
import pytest

from qbench import problems
from qbench.harness.certify import certify
from qbench.numerics import enclosure
from qbench.solvers import Solution, Status

ONE_D = [
    "infinite_well",
    "finite_well",
    "finite_barrier",
    "harmonic_oscillator",
    "poschl_teller",
    "double_well",
]


def _bump(problem, points, frequency=7):
    """A smooth function vanishing on the walls: what a perturbation adds to psi."""
    out = np.ones(len(points))
    for axis, (a, b) in enumerate(problem.box):
        out *= np.sin(frequency * np.pi * (points[:, axis] - a) / (b - a))
    return out


def _solution(problem, n_states, perturbation=0.0, energy_shift=0.0, **fields):
    reference = problem.reference(n_states)

    def evaluate(points):
        return reference.wavefunctions(points) + perturbation * _bump(problem, points)[None, :]

    energies = np.asarray(reference.energies, dtype=float) * (1.0 + energy_shift)
    return Solution(energies, evaluate, **fields), np.asarray(reference.energies, dtype=float)


def test_weinstein_and_kato_temple_hold_the_eigenvalue_of_a_matrix():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    matrix = q @ np.diag(np.arange(30.0)) @ q.T  # unit gaps
    values, vectors = np.linalg.eigh(matrix)
    k = 7
    psi = vectors[:, k] + 0.002 * rng.normal(size=30)
    psi /= np.linalg.norm(psi)
    rho = psi @ matrix @ psi
    eps = np.linalg.norm(matrix @ psi - rho * psi)
    lo, hi = enclosure.weinstein(rho, eps)
    assert np.any((values >= lo) & (values <= hi))
    a, b = values[k - 1] + 1e-9, values[k + 1] - 1e-9
    assert a < rho < b
    lo_kt, hi_kt = enclosure.kato_temple(rho, eps, a, b)
    assert lo_kt <= values[k] <= hi_kt
    assert hi_kt - lo_kt < 0.1 * (hi - lo)
    with pytest.raises(ValueError, match="gap"):
        enclosure.kato_temple(rho, eps, rho + 1.0, rho + 2.0)


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("perturbation", [0.0, pytest.param(1e-3, marks=pytest.mark.slow), 3e-2])
def test_1d_intervals_hold_the_exact_level(name, perturbation):
    problem = problems.get(name)
    solution, exact = _solution(problem, 3, perturbation)
    certificates = certify(solution, problem, 1e-2)
    for k, certificate in enumerate(certificates):
        assert certificate.bound_lo <= exact[k] <= certificate.bound_hi, (k, certificate)
        assert certificate.index_checked_by == "sturm count"
        if certificate.status is None:  # ok: the returned energy is within the tolerance
            assert abs(exact[k] - solution.energies[k]) <= 1e-2 * abs(exact[k])
    if perturbation == 0.0:
        assert all(c.status is None for c in certificates)
        # Exact states: every end comes from a gap (Kato-Temple or Lehmann-Maehly) or Ritz values.
        assert all(
            c.verified_by.split(" + ")[0] in ("kato-temple", "lehmann-maehly") for c in certificates
        ), [c.verified_by for c in certificates]


@pytest.mark.parametrize(
    "name, params, n_states",
    [
        ("separable", {"parts": ["finite_well", "finite_well"]}, 3),
        ("harmonic_oscillator", {"dim": 2}, 3),
    ],
)
@pytest.mark.parametrize("perturbation", [0.0, pytest.param(1e-3, marks=pytest.mark.slow)])
def test_2d_intervals_hold_the_exact_level(name, params, n_states, perturbation):
    problem = problems.get(name, **params)
    solution, exact = _solution(problem, n_states, perturbation)
    certificates = certify(solution, problem, 1e-2, exact)
    for k, certificate in enumerate(certificates):
        assert certificate.bound_lo <= exact[k] <= certificate.bound_hi
        assert certificate.index_checked_by == "reference numbering"
    assert all(c.status is None for c in certificates) == (perturbation == 0.0)


def test_kato_temple_is_much_tighter_than_weinstein():
    problem = problems.get("finite_well")
    solution, exact = _solution(problem, 3, 1e-4)
    certificates = certify(solution, problem, 1e-2)
    for k in (0, 1):
        c = certificates[k]
        assert c.verified_by.split(" + ")[0] in ("kato-temple", "lehmann-maehly")
        half = 0.5 * (c.bound_hi - c.bound_lo)
        error = abs(c.rayleigh_quotient - exact[k])
        assert half <= 100 * error, (half, error)


def test_a_wrong_energy_is_caught_by_the_energy_test():
    problem = problems.get("finite_well")
    solution, _ = _solution(problem, 3, energy_shift=3e-2)
    certificates = certify(solution, problem, 1e-2)
    assert all(c.status == Status.FAILED and "energy:" in c.message for c in certificates)


def test_a_state_with_the_wrong_index_is_caught_by_the_sturm_count():
    """States 0, 2, 3 returned as the lowest three: the second and third have the wrong index."""
    problem = problems.get("finite_barrier")
    reference = problem.reference(4)
    keep = [0, 2, 3]
    solution = Solution(
        np.asarray(reference.energies)[keep], lambda points: reference.wavefunctions(points)[keep]
    )
    certificates = certify(solution, problem, 1e-2)
    assert certificates[0].status is None
    for c in certificates[1:]:
        assert c.status == Status.FAILED and "index: Sturm count" in c.message


def test_a_laplacian_that_is_not_psis_is_unverified():
    """The dishonest shortcut: (V - E) psi returned as the Laplacian of a psi that is not an eigenfunction."""
    problem = problems.get("finite_well")
    solution, exact = _solution(problem, 3, 3e-3)

    def dishonest(points):
        return (problem.potential(points)[None, :] - solution.energies[:, None]) * solution.wavefunctions(
            points
        )

    cheat = Solution(
        solution.energies, solution.wavefunctions, laplacian=dishonest, derivatives_by="equation"
    )
    certificates = certify(cheat, problem, 1e-2)
    for c in certificates:
        assert c.status == Status.UNVERIFIED and "disagrees with finite differences" in c.message
    honest_state = certify(solution, problem, 1e-2)
    assert all(c.bound_lo <= e <= c.bound_hi for c, e in zip(honest_state, exact))


def test_a_slightly_wrong_laplacian_cannot_tighten_the_interval():
    """A supplied Laplacian off by less than the check's tolerance still yields a valid interval:
    the disagreement it shows is added to the residual."""
    problem = problems.get("harmonic_oscillator")
    solution, exact = _solution(problem, 3, 1e-5)

    def nearly(points):
        values = solution.wavefunctions(points)
        return (problem.potential(points)[None, :] - exact[:, None]) * values

    cheat = Solution(solution.energies, solution.wavefunctions, laplacian=nearly)
    for k, c in enumerate(certify(cheat, problem, 1e-2)):
        assert c.status == Status.UNVERIFIED or c.bound_lo <= exact[k] <= c.bound_hi


def test_psi_that_cannot_be_differenced_is_unverified():
    problem = problems.get("infinite_well")
    reference = problem.reference(2)
    grid = np.linspace(*problem.box[0], 41)
    nodal = reference.wavefunctions(grid[:, None])

    def piecewise_linear(points):
        return np.vstack([np.interp(points[:, 0], grid, row) for row in nodal])

    solution = Solution(np.asarray(reference.energies), piecewise_linear)
    certificates = certify(solution, problem, 1e-2)
    assert all(c.status == Status.UNVERIFIED and "not smooth enough" in c.message for c in certificates)


def test_a_stated_error_estimate_is_the_interval_when_psi_cannot_be_certified():
    problem = problems.get("infinite_well")
    reference = problem.reference(2)
    energies = np.asarray(reference.energies) * (1 + 1e-4)
    solution = Solution(
        energies,
        reference.wavefunctions,
        error_estimates=np.abs(energies) * 3e-4,
        estimated_by="two resolutions",
    )
    certificates = certify(solution, problem, 1e-2)
    for k, c in enumerate(certificates):
        assert c.status is None and c.verified_by == "a-posteriori: two resolutions"
        assert c.bound_lo <= reference.energies[k] <= c.bound_hi


def test_a_wall_mismatch_is_counted():
    """psi that does not vanish at the right wall (shooting's mismatch): still a valid interval."""
    problem = problems.get("harmonic_oscillator")
    reference = problem.reference(2)
    a, b = problem.box[0]

    def shifted(points):
        return reference.wavefunctions(points) + 1e-3 * ((points[:, 0] - a) / (b - a))[None, :]

    solution = Solution(np.asarray(reference.energies), shifted)
    for k, c in enumerate(certify(solution, problem, 1e-2)):
        assert c.bound_lo <= reference.energies[k] <= c.bound_hi


def test_non_finite_psi_is_unverified():
    problem = problems.get("infinite_well")
    solution = Solution(np.array([1.0, 2.0]), lambda points: np.full((2, len(points)), np.nan))
    assert all(c.status == Status.UNVERIFIED for c in certify(solution, problem, 1e-2))


def test_a_kink_across_a_breakpoint_plane_is_unverified():
    """d >= 2: a psi whose normal derivative jumps across an interface is not in the domain of H."""
    problem = problems.get("separable", parts=["finite_well", "finite_well"])
    reference = problem.reference(1)
    cut = problem.axis_breakpoints[0][0]

    def kinked(points):
        return reference.wavefunctions(points) + 1e-2 * np.abs(points[:, 0] - cut) * _bump(problem, points, 1)

    solution = Solution(np.asarray(reference.energies), kinked)
    (certificate,) = certify(solution, problem, 1e-2, np.asarray(reference.energies))
    assert certificate.status == Status.UNVERIFIED and "jumps" in certificate.message


@pytest.mark.parametrize("name", ["finite_well", "finite_barrier"])
def test_high_frequency_errors_are_bounded_by_the_states_together(name):
    """An error in high modes (a network's wiggles) makes Kato-Temple's eps^2 / gap loose for the
    lower states; the states together (Lehmann-Maehly's gap to the level above all of them, and
    their Ritz values) stay within 100 times the true error for states 0 and 1, and hold the level.
    Kato-Temple alone gives about 200 times on the barrier here."""
    problem = problems.get(name)
    reference = problem.reference(3)

    def evaluate(points):
        return reference.wavefunctions(points) + 1e-4 * _bump(problem, points, frequency=25)[None, :]

    certificates = certify(Solution(np.asarray(reference.energies), evaluate), problem, 1e-2)
    exact = np.asarray(reference.energies)
    for k, c in enumerate(certificates):
        assert c.bound_lo <= exact[k] <= c.bound_hi
        error = abs(c.rayleigh_quotient - exact[k])
        if k < 2:
            assert c.verified_by.split(" + ")[0] in ("kato-temple", "lehmann-maehly")
            assert 0.5 * (c.bound_hi - c.bound_lo) <= 100 * error, (k, c, error)


def _mixed(problem, delta, energy_shift=0.0, state=0):
    """State ``state`` of the reference plus ``delta`` times the next: a smooth, localized error."""
    reference = problem.reference(state + 2)

    def evaluate(points):
        values = reference.wavefunctions(points)
        return values[state : state + 1] + delta * values[state + 1 : state + 2]

    energy = float(reference.energies[0]) * (1.0 + energy_shift)
    return Solution(np.array([energy]), evaluate)


def test_above_four_dimensions_the_interval_is_statistical_and_holds_the_level():
    problem = problems.get("coupled_oscillator", dim=6, seed=2)
    exact = problem.level_energies(2)
    solution = _mixed(problem, 0.05)
    (certificate,) = certify(solution, problem, 1e-2, exact[:1])
    assert certificate.verified_by.startswith("weinstein (statistical: 99% confidence")
    assert certificate.bound_lo <= exact[0] <= certificate.bound_hi
    # Weinstein's radius of psi_0 + delta psi_1 is delta (E1 - E0) / (1 + delta^2), and no less.
    radius = 0.05 * (exact[1] - exact[0]) / (1 + 0.05**2)
    half = 0.5 * (certificate.bound_hi - certificate.bound_lo)
    assert radius <= half < 1.5 * radius
    assert certificate.status is None and certificate.index_checked_by == "reference numbering"


def test_above_four_dimensions_a_wrong_state_or_energy_is_not_ok():
    problem = problems.get("coupled_oscillator", dim=6, seed=2)
    exact = problem.level_energies(3)
    # The first excited state, reported with the ground energy: its interval holds E1, not E0.
    (wrong_state,) = certify(_mixed(problem, 0.0, state=1), problem, 1e-2, exact[:1])
    assert wrong_state.status is Status.FAILED and "energy" in wrong_state.message
    # The right state with an energy 5% off.
    (wrong_energy,) = certify(_mixed(problem, 0.0, energy_shift=0.05), problem, 1e-2, exact[:1])
    assert wrong_energy.status is Status.FAILED and "energy" in wrong_energy.message

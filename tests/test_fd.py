"""fd in d = 1 to 4: convergence order (2 and 4) wherever the jumps are, Kronecker-sum energies,
eigensolvers, degeneracy, states, references, determinism, validation."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
import scipy.sparse.linalg
from derivatives import STEP, laplacian_mismatch, residual_norms

import qbench
import qbench.numerics.eigensolvers as eigensolvers
from qbench.metrics import rel_energy_error
from qbench.numerics.finite_volume import hamiltonian
from qbench.numerics.grids import tensor_grid
from qbench.numerics.quadrature import gauss_legendre_rule
from qbench.solvers.fd import MAX_UNKNOWNS

# Distinct parts, so the separable problem's low levels are simple and none splits a group.
MIXED_PARTS = ["finite_well", "step_well", "harmonic_oscillator", "finite_barrier"]
# Ground-state sequences: n_points + 1 intervals doubling, and a multiple of 3 so every piece of a
# finite well (widths 2, 2, 2) is bisected exactly. In 3D the shallower well (V0 = 5) is in its
# asymptotic range on grids a test can afford (at V0 = 20 the ratio 24 -> 48 is 3.49, 48 -> 96 3.86:
# the 1D ratios, since the errors are sums of 1D ones; bench_fd_3d.py runs those grids).
SEQUENCES = {1: (23, 47, 95), 2: (23, 47, 95), 3: (11, 23, 47)}
SEQUENCE_PARTS = {
    1: ["finite_well"],
    2: ["finite_well"] * 2,
    3: [{"name": "finite_well", "V0": 5.0}] * 3,
}


def separable(parts):
    """The separable problem of ``parts`` (names or ``{"name": ..., **params}``); one part is itself."""
    parts = list(parts)
    if len(parts) == 1:
        part = parts[0] if isinstance(parts[0], dict) else {"name": parts[0]}
        return qbench.problems.get(**part)
    return qbench.problems.get("separable", parts=parts)


def fd(problem, n_states, **options):
    return qbench.solvers.get("fd", **options).solve(problem, n_states)


def ground_state_error(problem, n_points, order=2):
    solution = fd(problem, 1, n_points=n_points, order=order)
    return rel_energy_error(solution.energies, problem.reference(1).energies)[0]


def one_d_levels(name: str, n_points: int) -> np.ndarray:
    """Every eigenvalue of the 1D fd matrix of a part on the same axis grid (no state-count check)."""
    part = qbench.problems.get(name)
    matrix, _, _ = hamiltonian(part.potential, tensor_grid(part.box, part.axis_breakpoints, n_points + 1))
    return np.linalg.eigvalsh(matrix.toarray())


def grid_of(problem, n_points: int):
    return tensor_grid(problem.box, problem.axis_breakpoints, n_points + 1)


def cell_rule(grid) -> tuple[np.ndarray, np.ndarray]:
    """Gauss points per interval of ``grid`` and axis that are exact for products of fd's states
    on it: four, for cubic splines."""
    rules = [gauss_legendre_rule(axis.nodes, 1, order=4) for axis in grid.axes]
    nodes = np.stack([m.ravel() for m in np.meshgrid(*[r[0] for r in rules], indexing="ij")], axis=-1)
    return nodes, functools.reduce(np.multiply.outer, [r[1] for r in rules]).ravel()


# -- order of convergence -------------------------------------------------------------------------


def test_second_order_halves_error_by_four(any_problem):
    """Doubling N cuts the error by ~4, for every placement of the jumps."""
    ratio = ground_state_error(any_problem, 200) / ground_state_error(any_problem, 400)
    assert 3.0 < ratio < 5.0


def test_fourth_order_on_infinite_well():
    problem = qbench.problems.InfiniteWell()
    ratio = ground_state_error(problem, 40, order=4) / ground_state_error(problem, 80, order=4)
    assert 12.0 < ratio < 20.0


def test_fourth_order_beats_second_order_on_jumps(any_problem):
    assert ground_state_error(any_problem, 400, order=4) < 1e-2 * ground_state_error(any_problem, 400)


@functools.cache
def ground_sequence(dim: int) -> tuple[float, np.ndarray]:
    """Exact ground energy of separable finite wells and fd's on the grids of ``SEQUENCES[dim]``."""
    problem = separable(SEQUENCE_PARTS[dim])
    energies = np.array([fd(problem, 1, n_points=n).energies[0] for n in SEQUENCES[dim]])
    return float(problem.reference(1).energies[0]), energies


SEQUENCE_DIMS = [1, 2, pytest.param(3, marks=pytest.mark.slow)]  # 3D: three grids up to 47^3


@pytest.mark.parametrize("dim", SEQUENCE_DIMS)
def test_second_order_on_separable_finite_wells(dim):
    exact, energies = ground_sequence(dim)
    errors = np.abs(energies - exact)
    assert errors[-2] / errors[-1] >= 3.5  # measured 3.86 (1D, 2D) and 3.90 (3D)


@pytest.mark.parametrize("dim", SEQUENCE_DIMS)
def test_richardson_of_fine_grids_agrees_with_the_sum_of_1d_references(dim):
    """The exact sum of 1D energies against fd at h, h/2 extrapolated.

    The tolerance is the observed convergence: the extrapolated value changes by ``delta``
    from the pair (h, h/2) to (h/2, h/4); converging at order 4 its own error is about
    delta / 15 (measured delta / 14 in 2D, delta / 15 in 3D), so it must be below delta.
    """
    exact, energies = ground_sequence(dim)
    extrapolated = (4.0 * energies[1:] - energies[:-1]) / 3.0
    delta = abs(extrapolated[1] - extrapolated[0])
    assert abs(extrapolated[1] - exact) <= delta
    assert abs(extrapolated[1] - exact) * 10 < abs(energies[-1] - exact)  # far ahead of order 2


@pytest.mark.parametrize("dim", [1, 2])
def test_order_4_is_the_richardson_extrapolation(dim):
    _, energies = ground_sequence(dim)
    solution = fd(separable(SEQUENCE_PARTS[dim]), 1, n_points=SEQUENCES[dim][0], order=4)
    np.testing.assert_allclose(solution.energies[0], (4 * energies[1] - energies[0]) / 3, rtol=1e-12)
    assert solution.info["matrix_size"] == [SEQUENCES[dim][0] ** dim, SEQUENCES[dim][1] ** dim]


# -- Kronecker sums and eigensolvers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("dim", "n_points", "eigensolver"),
    [
        *[(dim, n, solver) for dim, n in [(2, 24), (3, 12)] for solver in ("eigsh", "lobpcg")],
        # 4D: 9^4 unknowns (the mixed parts' fewest points), a sparse LU of seconds or LOBPCG's 0.8 s;
        # 2D and 3D check the same sums with both eigensolvers in the fast set, and the conformance
        # kit's 4D oscillator (8^4 points) runs LOBPCG there
        pytest.param(4, 9, "eigsh", marks=pytest.mark.slow),
        pytest.param(4, 9, "lobpcg", marks=pytest.mark.slow),
    ],
)
def test_separable_energies_are_sums_of_1d_energies(dim, n_points, eigensolver):
    """V = sum of 1D V's: the cell average is the sum of 1D ones, so E = sums of 1D fd energies."""
    parts = MIXED_PARTS[:dim]
    n_states = 3
    solution = fd(separable(parts), n_states, n_points=n_points, eigensolver=eigensolver)
    sums = np.sort([sum(c) for c in itertools.product(*(one_d_levels(p, n_points)[:4] for p in parts))])
    np.testing.assert_allclose(solution.energies, sums[:n_states], rtol=1e-10)
    assert solution.status == "ok"
    assert solution.info["eigensolver"] == eigensolver
    assert solution.info["matrix_size"] == [n_points**dim]
    assert solution.info["nnz"][0] == (2 * dim + 1) * n_points**dim - 2 * dim * n_points ** (dim - 1)


@pytest.mark.parametrize("eigensolver", ["eigsh", "lobpcg"])
# 3D: the cube's triple level on 20^3 unknowns, about 0.5 s per eigensolver; the square's pair stays fast
@pytest.mark.parametrize(("dim", "n_states"), [(2, 3), pytest.param(3, 4, marks=pytest.mark.slow)])
def test_degenerate_groups_of_the_square_box(dim, n_states, eigensolver):
    """Infinite square box: states 1..d share a level; both eigensolvers find the whole group."""
    problem = separable(["infinite_well"] * dim)
    assert problem.degenerate_groups(n_states) == [(0,), tuple(range(1, dim + 1))]
    solution = fd(problem, n_states, n_points=20, eigensolver=eigensolver)
    energies = solution.energies
    np.testing.assert_allclose(energies[1:], energies[1], rtol=1e-10)
    exact = problem.reference(n_states).energies
    np.testing.assert_allclose(energies, exact, rtol=1e-2)  # second order at 21 intervals
    assert np.all(energies <= exact)  # the 3-point Laplacian underestimates every sine level


@pytest.mark.parametrize(("dim", "n_points", "n_states"), [(1, 300, 4), (2, 60, 6)])
def test_eigsh_and_lobpcg_agree_on_several_states(dim, n_points, n_states):
    problem = separable(["finite_well"] * dim)
    a = fd(problem, n_states, n_points=n_points, eigensolver="eigsh")
    b = fd(problem, n_states, n_points=n_points, eigensolver="lobpcg")
    np.testing.assert_allclose(a.energies, b.energies, rtol=1e-10)
    assert b.info["iterations"][0] > 0
    assert max(b.info["residual_norms"][0]) <= eigensolvers.LOBPCG_RTOL
    # Any basis of a degenerate group is correct: compare the spanned spaces, exactly integrated.
    # The eigenvectors are orthonormal in the lumped (diagonal W) inner product, their interpolants
    # only to O(h^2) in L2, so each set is orthonormalized in L2 before the principal angles.
    nodes, weights = cell_rule(grid_of(problem, n_points))

    def orthonormal(psi):
        return np.linalg.solve(np.linalg.cholesky((psi * weights) @ psi.T), psi)

    overlap = (orthonormal(a.wavefunctions(nodes)) * weights) @ orthonormal(b.wavefunctions(nodes)).T
    np.testing.assert_allclose(np.linalg.svd(overlap, compute_uv=False), 1.0, atol=1e-6)


@pytest.mark.parametrize(("dim", "n_points"), [(1, 500), (2, 20), (3, 9), (4, 7)])
def test_auto_picks_by_size(dim, n_points):
    solution = fd(separable(["finite_well"] * dim), 1, n_points=n_points)
    limit = eigensolvers.AUTO_EIGSH_MAX[dim]
    assert solution.info["eigensolver"] == ("eigsh" if limit is None or n_points**dim <= limit else "lobpcg")
    assert eigensolvers.choose("auto", 1, 10**7) == "eigsh"  # a tridiagonal factor has no fill-in
    if limit is not None:
        assert eigensolvers.choose("auto", dim, limit + 1) == "lobpcg"


def test_lobpcg_that_stops_short_fails_honestly(monkeypatch):
    monkeypatch.setattr(eigensolvers, "LOBPCG_MAXITER", 2)
    solution = fd(separable(["finite_well"] * 2), 3, n_points=40, eigensolver="lobpcg")
    assert solution.status == "failed"
    assert "LOBPCG did not converge in 2 iterations" in solution.message
    assert np.all(np.isnan(solution.energies))
    assert np.all(np.isnan(solution.wavefunctions(np.zeros((2, 2)))))


def test_lobpcg_restarts_from_its_block_when_it_stops_early(monkeypatch):
    # lobpcg can stop on its own residual test while a returned vector misses ours (48^3, 4 states:
    # 1.55e-6 > 1e-6). Simulated cheaply: the first call stops after 3 iterations.
    calls = []

    def stops_early_once(*args, **kwargs):
        calls.append(kwargs["maxiter"])
        if len(calls) == 1:
            kwargs["maxiter"] = 3
        return scipy.sparse.linalg.lobpcg(*args, **kwargs)

    monkeypatch.setattr(eigensolvers, "lobpcg", stops_early_once)
    problem = separable(["finite_well"] * 2)
    solution = fd(problem, 3, n_points=40, eigensolver="lobpcg")
    assert solution.status == "ok" and len(calls) >= 2
    assert calls[1] == eigensolvers.LOBPCG_MAXITER - 3  # the restart gets what the cap leaves
    reference = fd(problem, 3, n_points=40, eigensolver="eigsh")
    np.testing.assert_allclose(solution.energies, reference.energies, rtol=1e-10)


# -- states ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [2, 4])
def test_states_are_orthonormal_and_accurate_in_1d(any_problem, order):
    n_states = 3
    solution = fd(any_problem, n_states, n_points=600, order=order)
    nodes, weights = any_problem.quadrature_rule()
    psi = solution.wavefunctions(nodes)
    gram = (psi * weights) @ psi.T
    np.testing.assert_allclose(gram, np.eye(n_states), atol=1e-4)
    assert np.allclose(np.diag(gram), 1.0, atol=1e-12)  # each state is normalized exactly
    reference = any_problem.reference(n_states)
    assert np.all(rel_energy_error(solution.energies, reference.energies) < 1e-3)
    assert solution.status == "ok"
    assert solution.info["matrix_size"][0] == 600


@pytest.mark.parametrize(
    ("dim", "n_points", "n_states", "atol"),
    [(2, 63, 3, 1e-3), pytest.param(3, 23, 4, 5e-3, marks=pytest.mark.slow)],
)
def test_states_are_orthonormal_and_match_the_reference(dim, n_points, n_states, atol):
    """Orthonormal on the grading rule up to the O(h^2) error of the nodal values (the spline through
    them measured 6.7e-5 in 2D at n=63, 1.7e-6 in 3D at n=23), and each group spans the exact one
    up to the same order (singular values of the overlaps within 1.5e-5 and 1.0e-3 of 1)."""
    problem = separable(["finite_well"] * dim)
    solution = fd(problem, n_states, n_points=n_points)
    nodes, weights = problem.quadrature_rule()
    psi = solution.wavefunctions(nodes)
    assert psi.shape == (n_states, len(nodes))
    np.testing.assert_allclose((psi * weights) @ psi.T, np.eye(n_states), atol=atol)
    overlap = (psi * weights) @ problem.reference(n_states).wavefunctions(nodes).T
    for group in problem.degenerate_groups(n_states):
        block = overlap[np.ix_(group, group)]
        np.testing.assert_allclose(np.linalg.svd(block, compute_uv=False), 1.0, atol=atol)


@pytest.mark.parametrize(("dim", "order"), [(1, 2), (1, 4), (2, 2), (2, 4), (3, 2)])
def test_interpolant_is_normalized_exactly(dim, order):
    problem = separable(["finite_well"] * dim)
    n_points = 15
    psi = fd(problem, 2, n_points=n_points, order=order).wavefunctions
    # Order 4 keeps the bisected grid's states above 1D; in 1D it extrapolates the nodal values.
    grid = grid_of(problem, n_points)
    nodes, weights = cell_rule(grid.bisected() if order == 4 and dim > 1 else grid)
    np.testing.assert_allclose(np.sum(psi(nodes) ** 2 * weights, axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_wavefunctions_vanish_outside_and_on_the_walls(dim):
    problem = separable(["finite_well"] * dim)
    solution = fd(problem, 2, n_points=20 if dim < 3 else 12)  # 20^3 unknowns: 0.4 s for the same checks
    box = np.array(problem.box)
    rng = np.random.default_rng(0)
    inside = box[:, 0] + (box[:, 1] - box[:, 0]) * rng.random((20, dim))
    walls, outside = inside.copy(), inside.copy()
    for k in range(20):
        walls[k, k % dim] = box[k % dim, k % 2]
        outside[k, k % dim] = box[k % dim, k % 2] + (1.0 if k % 2 else -1.0)
    values = solution.wavefunctions(np.vstack([outside, walls, np.zeros((1, dim))]))
    assert values.shape == (2, 41)
    np.testing.assert_array_equal(values[:, :20], 0.0)
    np.testing.assert_allclose(values[:, 20:40], 0.0, atol=1e-14)
    assert abs(values[0, 40]) > 0.1


def test_states_rise_from_the_left_wall_like_the_references(canonical):
    nodes, weights = canonical.quadrature_rule()
    psi = fd(canonical, 3, n_points=400).wavefunctions(nodes)
    assert np.all(np.diag((psi * weights) @ canonical.reference(3).wavefunctions(nodes).T) > 0.99)


@pytest.mark.parametrize(("dim", "eigensolver", "n_points"), [(1, "eigsh", 300), (3, "lobpcg", 12)])
def test_same_input_gives_bit_identical_output(dim, eigensolver, n_points):
    problem = separable(["finite_well"] * dim)
    first = fd(problem, 4, n_points=n_points, eigensolver=eigensolver)
    second = fd(problem, 4, n_points=n_points, eigensolver=eigensolver)
    np.testing.assert_array_equal(first.energies, second.energies)
    points = np.random.default_rng(1).uniform(-3, 3, (50, dim))
    np.testing.assert_array_equal(first.wavefunctions(points), second.wavefunctions(points))


# -- references in d dimensions ---------------------------------------------------------------------


@pytest.mark.slow
def test_circular_well_converges_to_the_matching_roots_at_its_observed_rate():
    """The circle is staircased by the cell averages: no h^2 expansion, so no extrapolation.

    The error is erratic (it follows how the grid cuts the circle: the sampled well's
    area is off by about +-6e-4 at n = 255 and 511) and stalls near 1e-4 relative from
    n = 127 on (``benchmarks/bench_fd_3d.py``). So the tolerance is what the sequence
    itself shows: the finest energy lies within the sequence's spread of the reference,
    and within the box-wall interval [E_free, E_disc] widened by that spread.
    """
    problem = qbench.problems.get("circular_well")
    n_states = 3
    energies = np.array([fd(problem, n_states, n_points=n).energies for n in (63, 127, 255)])
    spread = energies.max(axis=0) - energies.min(axis=0)
    exact = problem.reference(n_states).energies
    assert np.all(np.abs(energies[-1] - exact) <= spread)
    disc = problem.spectrum.disc_energies[:n_states]
    assert np.all(exact - spread <= energies[-1]) and np.all(energies[-1] <= disc + spread)
    np.testing.assert_allclose(energies[-1], exact, rtol=2e-4)  # measured 1.4e-4, 2.3e-5, 2.3e-5


# -- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"n_points": 4}, "n_points must be >= 5"),
        ({"n_points": 100.5}, "n_points must be an integer"),
        ({"n_points": True}, "n_points must be an integer"),
        ({"order": 3}, "order must be one of 2, 4"),
        ({"eigensolver": "arpack"}, "eigensolver must be one of 'auto', 'eigsh', 'lobpcg'"),
        ({"n_pts": 100}, "unknown option.*n_pts.*allowed: n_points, order"),
    ],
)
def test_bad_options_raise_at_construction(options, match):
    with pytest.raises(ValueError, match=match):
        qbench.solvers.get("fd", **options)


@pytest.mark.parametrize(
    ("options", "parts", "n_states", "match"),
    [
        ({"n_points": 10}, ["infinite_well"], 5, r"n_points must be >= 20 for 5 state\(s\) on a 1D problem"),
        ({"n_points": 6}, ["finite_well"] * 2, 1, r"n_points must be >= 7 for 1 state\(s\) on a 2D problem"),
        ({"n_points": 10}, ["infinite_well"] * 2, 10, r"n_points must be >= 16 for 10 state"),
        ({"n_points": 6000}, ["finite_well"] * 2, 1, r"n_points must be <= 5792 in 2D with order=2"),
        (
            {"n_points": 3000, "order": 4},
            ["finite_well"] * 2,
            1,
            r"n_points must be <= 2895 in 2D with order=4",
        ),
        ({"n_points": 77}, ["finite_well"] * 4, 1, r"n_points must be <= 76 in 4D with order=2"),
    ],
)
def test_grids_that_do_not_fit_are_refused(options, parts, n_states, match):
    with pytest.raises(ValueError, match=match):
        qbench.solvers.get("fd", **options).check_problem(separable(parts), n_states)


def test_the_largest_grid_that_fits_is_accepted():
    assert 76**4 <= MAX_UNKNOWNS < 77**4
    qbench.solvers.get("fd", n_points=76).check_problem(separable(["finite_well"] * 4), 1)


def test_order_4_is_refused_on_a_curved_interface():
    with pytest.raises(ValueError, match="order=4 needs every jump of V on grid nodes"):
        qbench.solvers.get("fd", order=4).solve(qbench.problems.get("circular_well"), 1)


# -- the states' Laplacian ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "n_points"),
    [
        (qbench.problems.get("harmonic_oscillator"), 50),
        (qbench.problems.get("finite_well"), 200),
        (qbench.problems.get("harmonic_oscillator", dim=2), 32),
        (separable(["finite_well"] * 2), 32),
        (separable(["finite_well"] * 3), 12),
    ],
    ids=["oscillator-1d", "finite-well-1d", "oscillator-2d", "finite-wells-2d", "finite-wells-3d"],
)
def test_supplied_laplacian_is_the_splines_own(problem, n_points):
    """Fourth-order differences of psi agree to ~1e-3 (measured <= 1.6e-3), and the gap is theirs:
    a C^2 cubic spline's third derivative jumps at each knot, which costs a stencil across one an
    error proportional to its step, so a 4 times smaller step shrinks the gap (measured 4.1 to 33x)."""
    solution = fd(problem, 2, n_points=n_points)
    assert solution.derivatives_by == "cubic spline"
    gap = laplacian_mismatch(solution, problem)
    finer = laplacian_mismatch(solution, problem, step=STEP / 4)
    assert np.all(gap < 5e-3)
    assert np.all(finer < gap / 2.5)


@pytest.mark.parametrize(
    ("problem", "sizes"),
    [
        (qbench.problems.get("harmonic_oscillator"), (100, 200)),
        (qbench.problems.get("harmonic_oscillator", dim=2), (32, 64)),
    ],
    ids=["1d", "2d"],
)
def test_equation_residual_falls_at_second_order(problem, sizes):
    """``||(H - E) psi|| / ||psi||`` with the spline's Laplacian falls 4x a halving (measured 3.98
    and 3.98 in 1D, 3.77 and 4.72 in 2D): psi and its Laplacian are the scheme's, to O(h^2)."""
    coarse, fine = (residual_norms(fd(problem, 2, n_points=n), problem) for n in sizes)
    assert np.all(coarse / fine > 3.5)
    assert np.all(fine < 0.05)

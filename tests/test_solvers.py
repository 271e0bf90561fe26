"""The solver interface and registry; the contract checked on every registered solver."""

from __future__ import annotations

import numpy as np
import pytest

import qbench
from qbench.numerics.quadrature import domain_rule
from qbench.solvers import Option, Solution, Solver, Status

#: Settings small enough to run each solver's whole solve path in about a second (not to be accurate).
SMALL = {
    "deepxde": dict(adam_steps=5, lbfgs_steps=0, n_collocation=64, width=8),
    "nn-galerkin": dict(adam_steps=5, n_points=64, width=8),
    "pinn": dict(n_points=64, warm_steps=5, warm_lbfgs_iterations=0, adam_steps=5, lbfgs_iterations=0),
    "pinn-residual-only": dict(n_points=64, adam_steps=5, lbfgs_iterations=0),
    "pinn-fixed": dict(adam_steps=5, n_points=64, width=8),
    "pinn-trainable": dict(adam_steps=5, n_points=64, width=8),
    "vmc": dict(walkers=64, steps=5, eval_samples=256, width=8),
}
#: Solvers whose library is an optional extra (gold, peers): skipped where it is not installed.
OPTIONAL = {"deepxde": "deepxde", "pyslise": "pyslise", "tt": "quimb"}
#: Solvers that reach the exact energies at their defaults: on each canonical problem; the trained
#: ones (at SMALL settings) on the finite well only.
EXACT_FAMILIES = ("classical", "reference")
#: deepxde is slow: importing DeepXDE alone takes seconds (its real runs are all marked slow).
CONTRACT_CASES = [
    pytest.param(problem, name, marks=pytest.mark.slow) if name == "deepxde" else (problem, name)
    for name in qbench.solvers.available()
    for problem in (
        ("infinite_well", "finite_well", "finite_barrier")
        if qbench.solvers.METHODS[name].family in EXACT_FAMILIES
        else ("finite_well",)
    )
]


def test_available_lists_the_built_in_solvers():
    assert {"fd", "shooting"} <= set(qbench.solvers.available())
    assert qbench.solvers.available() == sorted(qbench.solvers.available())


def test_unknown_solver_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown solver 'nope'; available: .*fd.*shooting"):
        qbench.solvers.get("nope")


@pytest.mark.parametrize("name", qbench.solvers.available())
@pytest.mark.parametrize("n_states", [0, -1, 1.5, True, "2"])
def test_bad_n_states_raises(name, n_states):
    with pytest.raises(ValueError, match="n_states"):
        qbench.solvers.get(name, **SMALL.get(name, {})).solve(qbench.problems.InfiniteWell(), n_states)


@pytest.mark.parametrize("problem_name, name", CONTRACT_CASES)
def test_solution_contract(problem_name, name):
    """Shapes, normalization, statuses and the info dict are what the harness relies on; the
    classical and reference solvers at their defaults also reach the exact energies."""
    if name in OPTIONAL:
        pytest.importorskip(OPTIONAL[name])
    canonical = qbench.problems.get(problem_name)
    n = min(2, qbench.solvers.METHODS[name].max_states or 2)  # vmc finds the ground state only
    solution = qbench.solvers.get(name, **SMALL.get(name, {})).solve(canonical, n)
    assert isinstance(solution, Solution)
    assert solution.energies.shape == (n,) and np.all(np.isfinite(solution.energies))
    x = np.linspace(*canonical.domain, 7)
    assert solution.wavefunctions(x).shape == (n, 7)
    assert solution.wavefunctions(0.5 * sum(canonical.domain)).shape == (n, 1)
    nodes, weights = domain_rule(canonical.domain, canonical.breakpoints)
    norms = (solution.wavefunctions(nodes) ** 2) @ weights
    statuses = solution.statuses()
    assert len(statuses) == n and all(isinstance(status, Status) for status, _ in statuses)
    for norm, (status, _) in zip(norms, statuses):
        if status is Status.OK:
            assert abs(norm - 1.0) < 1e-6, norms  # float32 networks normalize to ~1e-7
    assert isinstance(solution.info, dict) and solution.info
    if qbench.solvers.METHODS[name].family in EXACT_FAMILIES:
        assert solution.status is Status.OK and solution.status == "ok"
        exact = canonical.reference(n).energies
        assert np.all(qbench.metrics.rel_energy_error(solution.energies, exact) < 1e-4), solution.energies


def test_options_are_stored_and_repr_shows_them():
    solver = qbench.solvers.get("fd", n_points=321)
    assert solver.n_points == 321
    assert solver.options == {"n_points": 321, "order": 2, "eigensolver": "auto"}
    assert "n_points=321" in repr(solver)


def test_a_user_solver_plugs_in_by_subclassing_and_registering():
    class Constant(Solver):
        """Returns the flat-box energies shifted by min V: exact only for the infinite well."""

        name = "test-constant"
        options = {"shift": Option(0.0, lambda key, value: float(value), "added to every energy")}

        def _solve(self, problem, n_states):
            k = np.pi * np.arange(1, n_states + 1) / problem.length
            x0 = problem.domain[0]

            def wavefunctions(x):
                return np.sqrt(2 / problem.length) * np.sin(np.outer(k, x - x0))

            return Solution(k**2 + self.shift, wavefunctions, {"evaluations": 0})

    qbench.solvers.register(Constant)
    try:
        solution = qbench.solvers.get("test-constant", shift=1.0).solve(qbench.problems.InfiniteWell(), 2)
        np.testing.assert_allclose(solution.energies, [np.pi**2 + 1, 4 * np.pi**2 + 1])
        assert "test-constant" in qbench.solvers.available()
    finally:
        del qbench.solvers.METHODS["test-constant"]


def test_register_rejects_non_solvers():
    with pytest.raises(TypeError):
        qbench.solvers.register(object)


def test_a_solver_written_for_the_1d_only_contract_gets_flat_positions_and_a_deprecation_warning():
    """A plugin solver (defined outside qbench, 1D only, no ``takes_points``) whose wavefunctions
    take flat positions keeps working: ``solve`` hands its ``evaluate`` ``points[:, 0]``."""
    import types

    module = types.ModuleType("old_plugin")
    code = """
import numpy as np
from qbench.solvers import Solution, Solver


class OldBox(Solver):
    name = "old-box"

    def _solve(self, problem, n_states):
        (x0, x1), = problem.box
        k = np.arange(1, n_states + 1) * np.pi / (x1 - x0)

        def evaluate(x):
            assert x.ndim == 1  # flat positions, as the 1D-only contract promised
            return np.sqrt(2 / (x1 - x0)) * np.sin(np.outer(k, x - x0))

        return Solution(k**2, evaluate)
"""
    with pytest.warns(DeprecationWarning, match="1D-only contract"):
        exec(compile(code, "old_plugin.py", "exec"), module.__dict__)
    solution = module.OldBox().solve(qbench.problems.InfiniteWell(), 2)
    x = np.array([0.25, 0.5])
    np.testing.assert_allclose(solution.wavefunctions(x[:, None]), solution.wavefunctions(x))
    np.testing.assert_allclose(solution.wavefunctions(x)[0], np.sqrt(2) * np.sin(np.pi * x), rtol=1e-14)

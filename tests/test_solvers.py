"""The solver interface and registry, checked on every registered solver."""

from __future__ import annotations

import numpy as np
import pytest

import qbench
from qbench.solvers import Option, Solution, Solver, Status


def test_available_lists_the_built_in_solvers():
    assert {"fd", "shooting"} <= set(qbench.solvers.available())
    assert qbench.solvers.available() == sorted(qbench.solvers.available())


def test_unknown_solver_lists_the_available_ones():
    with pytest.raises(ValueError, match=r"unknown solver 'nope'; available: .*fd.*shooting"):
        qbench.solvers.get("nope")


@pytest.mark.parametrize("name", ["fd", "shooting"])
@pytest.mark.parametrize("n_states", [0, -1, 1.5, True, "2"])
def test_bad_n_states_raises(name, n_states):
    with pytest.raises(ValueError, match="n_states"):
        qbench.solvers.get(name).solve(qbench.problems.InfiniteWell(), n_states)


@pytest.mark.parametrize("name", ["fd", "shooting"])
def test_solution_contract(name, canonical):
    """Shapes, ordering, normalization and the info dict are what the harness relies on."""
    solution = qbench.solvers.get(name).solve(canonical, 2)
    assert isinstance(solution, Solution)
    assert solution.energies.shape == (2,)
    assert np.all(np.diff(solution.energies) > 0)
    x = np.linspace(*canonical.domain, 7)
    assert solution.wavefunctions(x).shape == (2, 7)
    assert solution.wavefunctions(0.5 * sum(canonical.domain)).shape == (2, 1)
    assert solution.status is Status.OK and solution.status == "ok"
    assert isinstance(solution.info, dict) and solution.info


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

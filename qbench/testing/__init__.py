"""Conformance checks for solver and problem classes, built-in or from a plugin.

In the spirit of scikit-learn's ``check_estimator``: :func:`check_solver` and
:func:`check_problem` run every check on a class and raise ``AssertionError``
naming the check and the class at the first failure; :func:`solver_checks` and
:func:`problem_checks` yield the same checks as ``(check_name, callable)``
pairs, so that pytest can run each as its own test::

    import pytest
    from qbench.testing import check_problem, check_solver, solver_checks

    def test_my_problem():
        check_problem(MyProblem)

    @pytest.mark.parametrize("name, check", solver_checks(MySolver, options={"steps": 5}))
    def test_my_solver(name, check):
        check()

The checks follow the contract of ``docs/contract.md``: points are arrays of
shape ``(n, d)``, a solution's and a reference's wavefunctions are
``(n_states, n)``, and every ``ValueError`` the user can meet is one line that
names the option or parameter at fault.

Bad values
----------
For every option of a solver and every constructor parameter of a problem
the checks try each value of :data:`BAD_VALUES` (an ``object()``, a string, a
list, ``None``, negative, zero, NaN, infinite and huge numbers, a string that
is no choice of anything) in place of a valid one. A value may be accepted
(``None`` where None means "automatic", a huge learning rate), but

* a rejected value must be rejected with a one-line ``ValueError`` whose
  message names the option (any other exception fails the check), and
* at least one of the values must be rejected: an option whose check accepts
  everything is taken for one that forgot to validate.

An option (a parameter) whose check accepts every value by design, say a
free-form label, is declared by the class in ``unvalidated_options``
(``unvalidated_params`` for a problem), a tuple of names; the search is then
skipped for it, and the names must be options (parameters) of the class.
"""

from .common import BAD_VALUES, N_SAMPLE_POINTS, ORTHONORMALITY_TOL, Check, CheckFailed
from .problems import check_problem, problem_checks
from .solvers import check_solver, solver_checks

__all__ = [
    "BAD_VALUES",
    "N_SAMPLE_POINTS",
    "ORTHONORMALITY_TOL",
    "Check",
    "CheckFailed",
    "check_problem",
    "check_solver",
    "problem_checks",
    "solver_checks",
]

"""Shared settings of the asv benchmarks: the problems, the solvers, their pinned options, the graded cases.

asv runs this checkout's ``benchmarks/`` against every commit it measures,
so everything here holds for old commits too:

* The parameter lists are literals. They never depend on the installed
  qbench, so a benchmark's parameters, and with them the positions of its
  values in asv's result files, are the same at every commit.
* The accuracy tracks' solver options are pinned here (:data:`SOLVER_OPTIONS`,
  equal to the ``quick`` suite's when they were pinned; ``tests/test_asv.py``
  says when the two drift apart). A commit whose solver lacks the solver, or
  rejects an option, leaves that benchmark out (asv's ``n/a``).
* Only qbench's public API is used: the registries (``qbench.solvers``,
  ``qbench.problems``), :class:`qbench.cases.Case`, the runner
  (``qbench.runner.create`` and ``execute`` with ``qbench.executors.InProcess``)
  and the store's loader (``qbench.store.load``). A graded row is therefore the
  row a ``qbench run`` of the same case stores.

asv runs every parameter combination in a fresh interpreter; this module
imports qbench (and with it torch, about 1.5 s) only inside functions, so the
``track_`` processes that only read a ``setup_cache`` start in a fraction of that.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROBLEMS = ["infinite_well", "finite_well", "finite_barrier"]
SEED = 0
N_STATES = 1

#: The benchmarked solvers of each family, in the order of the ``quick`` suite.
FAMILIES: dict[str, list[str]] = {
    "classical": ["fd", "shooting", "spectral"],
    "pinn": ["pinn", "pinn-residual-only", "pinn-fixed", "pinn-trainable"],
    "neural-variational": ["nn-galerkin"],
}

#: The family of each solver (``qbench.solvers.family``), known here without importing qbench.
FAMILY = {
    **{solver: family for family, solvers in FAMILIES.items() for solver in solvers},
    "pyslise": "reference",
    "deepxde": "pinn",
    "vmc": "neural-variational",
    "tt": "classical",
}

#: Options of the accuracy tracks' solvers: the ``quick`` suite's (its sweeps' solvers at their
#: defaults), pinned so that a change of the suite's budgets does not move the tracks' history.
SOLVER_OPTIONS: dict[str, dict[str, Any]] = {
    "fd": {},
    "shooting": {},
    "spectral": {},
    "pinn": {"warm_lbfgs_iterations": 200, "lbfgs_iterations": 300},
    "pinn-residual-only": {"lbfgs_iterations": 300},
    "nn-galerkin": {"adam_steps": 500},
    "pinn-fixed": {"adam_steps": 500},
    "pinn-trainable": {"adam_steps": 500},
}
SOLVERS = list(SOLVER_OPTIONS)

#: What a commit that lacks a problem, a solver, an option or a function raises when asked for it.
MISSING = (ImportError, AttributeError, KeyError, TypeError, ValueError)


def solvers_of(*families: str) -> list[str]:
    """The benchmarked solvers of these families, in suite order.

    Parameters
    ----------
    *families
        Family names (``"classical"``, ``"pinn"``, ``"neural-variational"``).

    Returns
    -------
    list of str
        Solver names, in the order of :data:`SOLVERS`.
    """
    return [name for name in SOLVERS if FAMILY[name] in families]


#: Solvers trained from a seed (families ``pinn`` and ``neural-variational``).
TRAINED_SOLVERS = solvers_of("pinn", "neural-variational")


@contextmanager
def absent_unless_supported() -> Iterator[None]:
    """Turn "this commit has no such problem, solver, option or function" into asv's skip.

    Wrap only the construction of what a benchmark measures (never the measured
    call): an exception of :data:`MISSING` becomes ``NotImplementedError``,
    which asv records as ``n/a`` for that commit.

    Raises
    ------
    NotImplementedError
        In place of any exception of :data:`MISSING`.
    """
    try:
        yield
    except MISSING as exc:
        raise NotImplementedError(f"not available here: {type(exc).__name__}: {exc}") from None


def case(problem: str, solver: str, **overrides: Any):
    """The benchmarked ``qbench.cases.Case``: pinned options, ground state, seed 0.

    Parameters
    ----------
    problem, solver
        Registered names.
    **overrides
        Solver options replacing the pinned ones (``device="cuda"``).

    Returns
    -------
    qbench.cases.Case
        The resolved case.

    Raises
    ------
    ValueError, TypeError
        Where the installed qbench lacks the problem, the solver or an option.
    """
    from qbench.cases import Case

    options = {**SOLVER_OPTIONS[solver], **overrides}
    seed = SEED if _takes_seed(solver) else None
    return Case.resolve(problem, solver, solver_options=options, seed=seed, n_states=N_STATES)


def _takes_seed(solver: str) -> bool:
    """Whether the solver takes a ``seed`` option, asked of the registry (as every qbench version answers)."""
    import qbench

    try:
        qbench.solvers.get(solver, seed=SEED)
    except (TypeError, ValueError):
        return False
    return True


def graded_rows(cases: Sequence[Any], executor: Any = None) -> dict[tuple[str, str], dict[str, Any]]:
    """Run the cases as ``qbench run`` does and return each case's stored row of state 0.

    Parameters
    ----------
    cases
        ``qbench.cases.Case`` objects; one run holds them all.
    executor
        A ``qbench.executors`` executor; default ``InProcess(timing_budget_s=0.0)``
        (one timed solve per case).

    Returns
    -------
    dict
        ``{(problem, solver): row}``, ``row`` the results table's row of state 0
        as a dict (``rel_error``, ``l2_error``, ``wall_time_s``, ``case_status``, ...).
    """
    from qbench import runner, store
    from qbench.executors import InProcess

    executor = InProcess(timing_budget_s=0.0) if executor is None else executor
    with tempfile.TemporaryDirectory(prefix="qbench-asv-") as folder:
        run = runner.create(
            list(cases),
            suite={"name": "asv", "source": "benchmarks/common.py", "description": "asv accuracy tracks"},
            out=Path(folder) / "run",
            command_line=["asv"],
        )
        runner.execute(run, executor)
        results = store.load(Path(folder) / "run").results
    by_id = {c.case_id: (c.problem, c.solver) for c in cases}
    ground = results[results["state"] == 0]
    return {by_id[row["case_id"]]: _plain(row) for row in ground.to_dict("records")}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """The row's scalars as Python objects (a track process then unpickles it without pandas)."""
    import numpy as np

    return {
        key: value.item() if isinstance(value, np.generic) else value
        for key, value in row.items()
        if value is None or isinstance(value, (str, int, float, bool, np.generic))
    }


def graded_row(problem: str, solver: str, **overrides: Any) -> dict[str, Any]:
    """The stored row of state 0 of one case (pinned options, seed 0), solved once.

    Parameters
    ----------
    problem, solver
        Registered names.
    **overrides
        Solver options replacing the pinned ones.

    Returns
    -------
    dict
        The row, as :func:`graded_rows` returns it.
    """
    return graded_rows([case(problem, solver, **overrides)])[(problem, solver)]


def family_rows(family: str) -> dict[tuple[str, str], dict[str, Any]]:
    """Every benchmarked solver of ``family`` on every problem, in one run.

    A case the installed qbench cannot build (a solver or an option it lacks)
    is left out, so its tracks are ``n/a`` at that commit.

    Parameters
    ----------
    family
        A key of :data:`FAMILIES`.

    Returns
    -------
    dict
        ``{(problem, solver): row}`` as :func:`graded_rows` returns it; empty when
        no case can be built.
    """
    cases = []
    for problem in PROBLEMS:
        for solver in FAMILIES[family]:
            try:
                cases.append(case(problem, solver))
            except MISSING:
                continue
    return graded_rows(cases) if cases else {}

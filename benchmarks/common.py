"""Shared settings of the asv benchmarks: the problems, the solver configurations, the graded cases.

Every asv benchmark goes through qbench's own harness (``qbench.harness``) or
solvers; nothing here solves or grades a second way. The solver
configurations are those of the ``quick`` suite, on the ground state, seed 0,
so an asv track and a ``qbench run`` of the same case report the same numbers.

asv runs every parameter combination in a fresh interpreter, so this module
reads the quick suite's TOML without importing qbench (whose import pulls in
torch, about 1.5 s); the ``track_`` processes that only read ``setup_cache``
then start in a fraction of that.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROBLEMS = ["infinite_well", "finite_well", "finite_barrier"]
SEED = 0
N_STATES = 1


def _quick_solver_options() -> dict[str, dict[str, Any]]:
    package = Path(importlib.util.find_spec("qbench").submodule_search_locations[0])
    quick = tomllib.loads((package / "suites" / "quick.toml").read_text(encoding="utf-8"))
    options: dict[str, dict[str, Any]] = {}
    for block in quick["block"]:
        for entry in block["solvers"]:
            name, given = (entry, {}) if isinstance(entry, str) else (entry["name"], entry.get("options", {}))
            options.setdefault(name, dict(given))
    return options


#: The family of each solver (``qbench.solvers.family``), known here without importing qbench;
#: a name missing from it is asked of qbench (slower), and ``tests/test_asv.py`` checks it.
FAMILY = {
    "fd": "classical",
    "shooting": "classical",
    "spectral": "classical",
    "pyslise": "reference",
    "nn-galerkin": "neural-variational",
    "pinn": "pinn",
    "pinn-fixed": "pinn",
    "pinn-trainable": "pinn",
    "deepxde": "pinn",
}


def family(solver: str) -> str:
    """The family of a solver: from :data:`FAMILY`, else from qbench's registry."""
    if solver not in FAMILY:
        import qbench

        FAMILY[solver] = qbench.solvers.family(solver)
    return FAMILY[solver]


SOLVER_OPTIONS = _quick_solver_options()
SOLVERS = list(SOLVER_OPTIONS)


def solvers_of(*families: str) -> list[str]:
    """The quick suite's solvers of these families, in suite order."""
    return [name for name in SOLVERS if family(name) in families]


#: Solvers trained from a seed (families ``pinn`` and ``neural-variational``).
TRAINED_SOLVERS = solvers_of("pinn", "neural-variational")


def case(problem: str, solver: str, **overrides: Any):
    """The benchmarked ``qbench.cases.Case``: quick-suite options, ground state, seed 0."""
    from qbench.cases import Case, solver_takes

    seed = SEED if solver_takes(solver, "seed") else None
    options = {**SOLVER_OPTIONS[solver], **overrides}
    return Case.resolve(problem, solver, solver_options=options, seed=seed, n_states=N_STATES)


def graded_row(problem: str, solver: str, **overrides: Any) -> dict[str, Any]:
    """The harness's results row of the case (state 0), solved once."""
    from qbench.harness import run_case

    return run_case(case(problem, solver, **overrides), timing_budget_s=0.0)["rows"][0]

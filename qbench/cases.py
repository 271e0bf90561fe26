"""A case: one problem x one solver configuration x one seed x n_states.

Cases are plain data so they can be written to ``provenance.json``, sent to a
worker process and rebuilt there. Their identity (``case_id``) is a hash of the
*resolved* problem parameters and solver options, so the same computation has
the same id in every run, whichever defaults or spellings produced it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from . import problems, solvers
from ._validation import check_int, check_positive
from .problems import Problem
from .solvers import Solver

DEFAULT_TIMEOUT_S = 600.0
#: Default relative tolerance of the status ``ok`` (docs/certificates.md).
DEFAULT_TOLERANCE = 1e-2
#: Fields that change how a case is judged or limited, not what it computes: not in its id.
_NOT_IDENTITY = ("timeout_s", "tolerance")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)


def solver_takes(solver: str, option: str) -> bool:
    """Whether registered solver ``solver`` has constructor option ``option``."""
    return option in solvers.METHODS[solver].options


@dataclass(frozen=True)
class Case:
    """One unit of work of a suite.

    Attributes
    ----------
    problem, problem_params
        Registered problem name and its parameters (all of them, resolved).
    solver, solver_options
        Registered solver name and its options (all of them, resolved, without ``seed``).
    seed
        Seed given to solvers that take one; ``None`` for deterministic solvers.
    n_states
        Lowest states to solve for and grade.
    timeout_s
        Wall-clock limit of the whole case (solve repeats included); not part of its identity.
    tolerance
        Relative tolerance of the status ``ok``: a state is ``ok`` when its certified eigenvalue
        interval lies within ``tolerance`` of its energy (docs/certificates.md). It changes
        verdicts, not the computation, so it is not part of the case's identity either.
    """

    problem: str
    solver: str
    problem_params: dict[str, Any] = field(default_factory=dict)
    solver_options: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    n_states: int = 3
    timeout_s: float = DEFAULT_TIMEOUT_S
    tolerance: float = DEFAULT_TOLERANCE

    @classmethod
    def resolve(
        cls,
        problem: str,
        solver: str,
        problem_params: dict[str, Any] | None = None,
        solver_options: dict[str, Any] | None = None,
        seed: int | None = None,
        n_states: int = 3,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        tolerance: float = DEFAULT_TOLERANCE,
    ) -> Case:
        """Validate a case by building it, and return it with every parameter and option spelled out.

        Raises
        ------
        ValueError
            Unknown names, bad values, a seed for a solver without one, more
            states than the problem's reference covers (``Problem.check_states``),
            or a problem the solver cannot take (``Solver.check_problem``).
        """
        options = dict(solver_options or {})
        built_problem = _problem_for(problem, dict(problem_params or {}))
        built_solver = solvers.get(solver, **options)
        takes_seed = solver_takes(solver, "seed")
        if seed is not None and not takes_seed:
            raise ValueError(f"solver {solver!r} takes no seed (it is deterministic)")
        if takes_seed:
            seed = built_solver.options["seed"] if seed is None else check_int("seed", seed, minimum=0)
        n_states = check_int("n_states", n_states, minimum=1)
        built_solver.check_dimension(built_problem)
        built_problem.check_states(n_states)
        built_solver.check_problem(built_problem, n_states)
        resolved = {k: v for k, v in built_solver.options.items() if k != "seed"}
        case = cls(
            problem,
            solver,
            _jsonable(built_problem.params),
            _jsonable(resolved),
            seed,
            n_states,
            check_positive("timeout_s", timeout_s),
            check_tolerance(tolerance),
        )
        case.build()  # the resolved spelling must rebuild the same thing
        return case

    @property
    def case_id(self) -> str:
        """Stable 12-hex-digit id of the computation (not of the timeout)."""
        # The fields themselves, not to_dict(): asdict's deep copy was most of a suite's load time.
        identity = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in _NOT_IDENTITY}
        return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:12]

    def build(self) -> tuple[Problem, Solver]:
        """The problem and the solver (seeded) this case runs.

        Problems are shared between cases of one process (they are immutable and
        cache their exact reference), so the reference is computed once per problem.
        """
        options = dict(self.solver_options)
        method = solvers.METHODS.get(self.solver)
        for key, value in getattr(method, "recorded_defaults", {}).items():
            options.setdefault(key, value)  # a record from before the option existed
        if self.seed is not None:
            options["seed"] = self.seed
        return _shared_problem(self.problem, canonical_json(self.problem_params)), solvers.get(
            self.solver, **options
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def label(self) -> str:
        """Short human-readable name: ``finite_well / pinn seed=3``."""
        seed = "" if self.seed is None else f" seed={self.seed}"
        return f"{self.problem} / {self.solver}{seed}"


def check_tolerance(value: Any, name: str = "tolerance") -> float:
    """``value`` as a float in (0, 1), or ``ValueError`` naming ``name`` and the range."""
    try:
        tolerance = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}") from None
    if not 0.0 < tolerance < 1.0:
        raise ValueError(f"{name} must be in (0, 1) (a relative energy tolerance), got {value!r}")
    return tolerance


def _shared_problem(name: str, params_json: str) -> Problem:
    """The problem ``name`` with these parameters, built once per registered class and parameters.

    Keyed by the class too: one registered anew under the name (a plugin loaded again) is built anew.
    """
    cls = problems.PROBLEMS.get(name) if isinstance(name, str) else None
    return _cached_problem(cls, name, params_json)


@functools.lru_cache(maxsize=128)
def _cached_problem(cls: type[Problem] | None, name: str, params_json: str) -> Problem:
    return problems.get(name, **json.loads(params_json))


def _problem_for(name: str, params: dict[str, Any]) -> Problem:
    """The shared problem (:func:`_shared_problem`) for ``params`` as given.

    A suite names the same few problems in many cases, and validating a case computes the
    problem's reference (``check_states``): sharing it computes each reference once. Parameters
    that do not survive JSON unchanged (a callable, an array, a tuple) get a problem of their
    own, built from exactly what was given.
    """
    try:
        key = canonical_json(params)
    except (TypeError, ValueError):
        key = None
    if key is None or json.loads(key) != params:
        return problems.get(name, **params)
    return _shared_problem(name, key)


def _jsonable(mapping: dict[str, Any]) -> dict[str, Any]:
    """Tuples to lists and floats kept exact, so the case survives a JSON round trip unchanged."""

    def convert(key: str, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            return [convert(key, v) for v in value]
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"non-finite value {value!r} cannot be part of a case")
        if callable(value):
            raise ValueError(
                f"{key} is a Python callable, which cannot be part of a case (cases are JSON, to reach "
                "workers and provenance.json); give it as an expression string, or register a Problem "
                "subclass in a plugin (docs/plugins.md)"
            )
        return value

    return {k: convert(k, v) for k, v in mapping.items()}

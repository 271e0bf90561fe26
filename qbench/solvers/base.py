"""The solver interface: ``Solver`` subclasses, ``Solution`` results, statuses."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .._validation import check_int
from ..problems import Problem


class Status(str, enum.Enum):
    """Outcome of a solve; the value is what the results table stores."""

    OK = "ok"
    FAILED = "failed"
    DIVERGED = "diverged"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class Option:
    """One constructor option of a solver.

    Attributes
    ----------
    default
        Value used when the option is not given.
    check
        ``check(name, value) -> value``: validates (raising ``ValueError`` that
        names the option and the allowed range) and normalizes the value.
    doc
        One line for ``qbench list`` and the docs.
    """

    default: Any
    check: Callable[[str, Any], Any]
    doc: str


@dataclass
class Solution:
    """What a solver returns.

    Attributes
    ----------
    energies : numpy.ndarray
        Eigenvalue estimates, shape ``(n_states,)``; NaN where a state failed.
    info : dict
        Method counters (matrix size, iterations, function evaluations),
        training history, memory figures; free-form per solver.
    status : Status
        ``ok`` unless the solver knows its answer is not to be trusted.
    message : str
        Why, when ``status`` is not ``ok``.
    """

    energies: np.ndarray
    _evaluate: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    info: dict[str, Any] = field(default_factory=dict)
    status: Status = Status.OK
    message: str = ""

    @property
    def n_states(self) -> int:
        return len(self.energies)

    def wavefunctions(self, x: np.ndarray) -> np.ndarray:
        """Normalized wavefunctions at ``x``, shape ``(n_states, len(x))``; sign arbitrary."""
        x = np.array(x, dtype=float, ndmin=1)  # a private copy: a solver may not touch the caller's array
        return np.asarray(self._evaluate(x), dtype=float).reshape(self.n_states, len(x))


class Solver(ABC):
    """Base class of every eigensolver in qbench.

    A subclass provides:

    * ``name`` (class attribute): the registry name;
    * ``options`` (class attribute): ``{option_name: Option}``; the constructor
      accepts exactly these keywords, validates each and stores it both in
      ``self.options`` and as an attribute;
    * ``_solve(problem, n_states) -> Solution``: the work. It may assume
      ``n_states`` is a positive int. It does not grade itself (metrics do) and
      never prints.

    Optionally it overrides ``check_problem(problem, n_states)`` to reject a
    problem/size combination it cannot handle, raising ``ValueError``.

    Register the class with ``qbench.solvers.register`` to make it available
    by name to ``qbench.solvers.get`` and to suites.
    """

    name: ClassVar[str]
    options: ClassVar[dict[str, Option]] = {}

    def __init__(self, **options: Any):
        spec = type(self).options
        unknown = sorted(set(options) - set(spec))
        if unknown:
            raise ValueError(
                f"unknown option(s) {', '.join(unknown)} for solver {self.name!r}; "
                f"allowed: {', '.join(spec) or 'none'}"
            )
        values = {}
        for key, option in spec.items():
            values[key] = option.check(key, options.get(key, option.default))
            setattr(self, key, values[key])
        self.options: dict[str, Any] = values

    def check_problem(self, problem: Problem, n_states: int) -> None:  # noqa: B027 - optional hook
        """Raise ``ValueError`` if this solver cannot solve ``problem`` for ``n_states``."""

    def solve(self, problem: Problem, n_states: int = 1) -> Solution:
        """Lowest ``n_states`` eigenpairs of ``problem``.

        Parameters
        ----------
        problem
            The problem to solve.
        n_states
            Number of lowest states, >= 1.

        Returns
        -------
        Solution
        """
        if not isinstance(problem, Problem):
            raise ValueError(f"problem must be a qbench Problem, got {type(problem).__name__}")
        n_states = check_int("n_states", n_states, minimum=1)
        self.check_problem(problem, n_states)
        return self._solve(problem, n_states)

    @abstractmethod
    def _solve(self, problem: Problem, n_states: int) -> Solution:
        """Do the work; see the class docstring."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({args})"

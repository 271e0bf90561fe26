"""The solver interface: ``Solver`` subclasses, ``Solution`` results, statuses."""

from __future__ import annotations

import enum
import warnings
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
    #: The state's certificate could not be computed: the solution gives no values, or supplies
    #: derivatives that disagree with qbench's own finite differences of its psi, or a psi that
    #: finite differences cannot differentiate. Never ``ok``; ``--strict`` counts it as not ok.
    UNVERIFIED = "unverified"


#: What a method is, for grouping tables, figures, findings and asv benchmarks:
#: ``classical`` (grids, shooting, spectral collocation), ``pinn`` (a network trained on the
#: residual of the equation), ``neural-variational`` (a network trained on an energy functional,
#: Ritz or Galerkin) and ``reference`` (gold-standard solvers used to cross-check references).
FAMILIES = ("classical", "pinn", "neural-variational", "reference")


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
    state_status : list of Status, optional
        One status per state, when the solver can tell states apart (a PINN
        whose state 1 collapsed while state 0 was learned). ``None`` means
        every state shares ``status``. When given, ``status`` should be ``ok``
        only if every entry is.
    state_messages : list of str, optional
        Why each state is not ``ok`` ("" where it is); same length as ``state_status``.
    laplacian : callable, optional
        ``points (n, d) -> (n_states, n)``: the Laplacian of the same normalized states that
        ``wavefunctions`` returns (autograd for a network, the polynomial's for collocation, the
        spline's for a spline interpolant). qbench checks it against its own finite differences
        of psi at fresh points before it certifies a state with it (docs/certificates.md);
        ``None`` lets qbench difference psi itself.
    derivatives_by : str
        How ``laplacian`` is computed, for the results table (``"autograd"``, ...).
    trained_energies : numpy.ndarray, optional
        For a method that trains E as a parameter (a PINN with a trainable energy): the trained
        values, per state, in the order of ``energies``. ``energies`` is then the estimator the
        method reports; both are graded.
    error_estimates : numpy.ndarray, optional
        A stated a-posteriori bound on ``|E - E_exact|`` per state, for a method that has no
        function in the domain of H (no smooth psi to certify); with ``estimated_by`` saying how
        it was found (``"two resolutions"``). Used only where the residual certificate cannot be.
    estimated_by : str
        How ``error_estimates`` was found.
    """

    energies: np.ndarray
    _evaluate: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    info: dict[str, Any] = field(default_factory=dict)
    status: Status = Status.OK
    message: str = ""
    state_status: list[Status] | None = None
    state_messages: list[str] | None = None
    laplacian: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    derivatives_by: str = ""
    trained_energies: np.ndarray | None = None
    error_estimates: np.ndarray | None = None
    estimated_by: str = ""

    def __post_init__(self) -> None:
        if self.state_status is not None:
            self.state_status = [Status(s) for s in self.state_status]
            if len(self.state_status) != len(self.energies):
                raise ValueError(
                    f"state_status has {len(self.state_status)} entries for {len(self.energies)} states"
                )
            if self.state_messages is None:
                self.state_messages = ["" for _ in self.state_status]
            if len(self.state_messages) != len(self.state_status):
                raise ValueError("state_messages must have one entry per state")

    def statuses(self) -> list[tuple[Status, str]]:
        """``(status, message)`` of each state: its own where the solver gave one, else the case's."""
        if self.state_status is None:
            return [(self.status, self.message)] * self.n_states
        return list(zip(self.state_status, self.state_messages))

    @property
    def n_states(self) -> int:
        return len(self.energies)

    def laplacians(self, points: np.ndarray) -> np.ndarray | None:
        """The supplied Laplacian of each state at ``points`` (as :meth:`wavefunctions`), or ``None``."""
        if self.laplacian is None:
            return None
        points = np.array(points, dtype=float, ndmin=1)
        if points.ndim == 1:
            points = points[:, None]
        return np.asarray(self.laplacian(points), dtype=float).reshape(self.n_states, len(points))

    def wavefunctions(self, points: np.ndarray) -> np.ndarray:
        """Normalized wavefunctions at ``points``, shape ``(n_states, n)``; sign arbitrary.

        ``points`` has shape ``(n, d)``; a flat ``(n,)`` array is taken as ``(n, 1)`` (d = 1).
        The solver's ``evaluate`` always receives an ``(n, d)`` array.
        """
        points = np.array(points, dtype=float, ndmin=1)  # a private copy: a solver may not touch it
        if points.ndim == 1:
            points = points[:, None]
        return np.asarray(self._evaluate(points), dtype=float).reshape(self.n_states, len(points))


class Solver(ABC):
    """Base class of every eigensolver in qbench.

    A subclass provides:

    * ``name`` (class attribute): the registry name;
    * ``family`` (class attribute): one of :data:`FAMILIES`, what kind of method it is
      (``classical`` unless set);
    * ``options`` (class attribute): ``{option_name: Option}``; the constructor
      accepts exactly these keywords, validates each and stores it both in
      ``self.options`` and as an attribute;
    * ``_solve(problem, n_states) -> Solution``: the work. It may assume
      ``n_states`` is a positive int. It does not grade itself (metrics do) and
      never prints.

    A solver that takes problems in more than one dimension lists them in ``dimensions``
    (default ``(1,)``). The ``Solution``'s ``evaluate`` receives points as an ``(n, d)``
    array in every dimension, d = 1 included. A 1D-only solver written for the contract
    before d > 1 existed (``evaluate`` taking flat positions, ``(n,)``) keeps working: it is
    recognized when its class is defined (outside qbench, ``dimensions == (1,)``, no
    ``takes_points`` attribute), warned about with a ``DeprecationWarning``, and handed flat
    positions; set ``takes_points = True`` once its ``evaluate`` takes ``(n, 1)`` points.

    Optionally it overrides ``check_problem(problem, n_states)`` to reject a
    problem/size combination it cannot handle, raising ``ValueError``.

    Register the class with ``qbench.solvers.register`` to make it available
    by name to ``qbench.solvers.get`` and to suites.
    """

    name: ClassVar[str]
    family: ClassVar[str] = "classical"
    options: ClassVar[dict[str, Option]] = {}
    #: The space dimensions this solver takes; a problem of another dimension is refused
    #: (``check_dimension``) before anything runs.
    dimensions: ClassVar[tuple[int, ...]] = (1,)
    #: The most states the method finds (``None``: any number); more is refused before anything runs.
    max_states: ClassVar[int | None] = None
    #: False for a solver whose 1D ``evaluate`` takes flat positions (the pre-d contract).
    takes_points: ClassVar[bool] = True
    #: Options added after runs were recorded, whose default computes something else than
    #: before: the value that reproduces a record without them (``Case.build`` fills it in; a
    #: new case records every option, so it is never affected).
    recorded_defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = any("takes_points" in vars(c) for c in cls.__mro__ if c is not Solver)
        if not declared and not cls.__module__.startswith("qbench.") and tuple(cls.dimensions) == (1,):
            warnings.warn(
                f"solver class {cls.__module__}.{cls.__qualname__} uses the 1D-only contract "
                "(its wavefunctions take positions of shape (n,)); make them take points of shape "
                "(n, d) and set takes_points = True (docs/contract.md)",
                DeprecationWarning,
                stacklevel=3,
            )
            cls.takes_points = False

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

    def check_dimension(self, problem: Problem) -> None:
        """Raise ``ValueError`` (one line) if ``problem``'s dimension is not in ``dimensions``."""
        if problem.dim not in self.dimensions:
            supported = ", ".join(str(d) for d in self.dimensions)
            only = " only" if len(self.dimensions) == 1 else ""
            raise ValueError(
                f"solver {self.name!r} supports dimension {supported}{only}; "
                f"problem {problem.name!r} is {problem.dim}-dimensional"
            )

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """One-time set-up that belongs to no solve, such as importing a training runtime.

        The harness calls it before it starts the clock and the memory measurement, so that a
        case's time and memory are the solve's. Default: nothing.
        """

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
        self.check_dimension(problem)
        if self.max_states is not None and n_states > self.max_states:
            raise ValueError(
                f"solver {self.name!r} finds at most {self.max_states} state(s), "
                f"asked for n_states={n_states}"
            )
        self.check_problem(problem, n_states)
        solution = self._solve(problem, n_states)
        if not self.takes_points and problem.dim == 1:
            evaluate, laplacian = solution._evaluate, solution.laplacian
            solution._evaluate = lambda points: evaluate(points[:, 0])
            if laplacian is not None:
                solution.laplacian = lambda points: laplacian(points[:, 0])
        return solution

    @abstractmethod
    def _solve(self, problem: Problem, n_states: int) -> Solution:
        """Do the work; see the class docstring."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({args})"

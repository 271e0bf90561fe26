"""Run one case: build it, solve it (timed, within its timeout), measure memory, grade every state.

The harness owns timing, memory and grading so that every solver is measured
the same way; solvers never grade themselves. :func:`run_case` never raises
for a solver's sake: an exception, a timeout or a solver's own verdict all
become the ``status`` and ``message`` of the case's rows.

Each state row carries its own ``status`` and ``message`` (the solver's verdict on that state,
:meth:`Solution.statuses`) beside the case's ``case_status`` and ``case_message``; the case is
``ok`` only if every state is. An exception or a timeout gives every state the case's status.
"""

from __future__ import annotations

import ctypes
import datetime as _dt
import functools
import math
import os
import signal
import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from . import solvers
from .cases import Case, canonical_json
from .memory import CpuPeak, GpuPeak
from .metrics import (
    WavefunctionGrades,
    abs_energy_error,
    grade_wavefunctions,
    rel_energy_error,
    sample_line,
    sorted_by_energy,
    state_groups,
)
from .problems import Problem, Reference
from .solvers import Solution, Solver, Status

TIMING_BUDGET_S = 0.2
MAX_REPEATS = 25
BLAS_THREADS = 1  # per case, whichever executor runs it
SAMPLE_POINTS = 201  # wavefunction samples per state kept for the report


@dataclass(frozen=True)
class Timing:
    """Wall time of repeated solves: median, min and max over ``repeats``.

    ``total_s`` is all the time spent in ``solve()``, the warm-up included.
    """

    median_s: float
    min_s: float
    max_s: float
    repeats: int
    total_s: float


class CaseTimeout(BaseException):
    """Raised inside a case when its wall-clock limit passes.

    A ``BaseException`` so that a solver's own ``except Exception`` cannot swallow it.
    """


def utc_now() -> str:
    """The current time, ISO 8601 in UTC with microseconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def time_solve(
    solver: Solver,
    problem: Problem,
    n_states: int,
    budget_s: float = TIMING_BUDGET_S,
    max_repeats: int = MAX_REPEATS,
) -> tuple[Solution, Timing]:
    """Solve, repeating sub-second solves to report a stable median.

    When a solve is faster than ``budget_s``, that first solve counts as a
    warm-up and is not reported (lazy imports, caches and page faults of a
    fresh process would otherwise inflate the first case of a run); timed solves run while the total
    stays under ``budget_s`` (auto-ranging, as ``timeit`` does), up to
    ``max_repeats``. A slower solve is timed once, as is every solve with
    ``budget_s=0``.
    """
    start = time.perf_counter()
    solution = solver.solve(problem, n_states)
    first = time.perf_counter() - start
    if not 0 < first < budget_s:
        return solution, Timing(first, first, first, 1, first)
    times = []  # the first solve was the warm-up
    while True:
        start = time.perf_counter()
        solution = solver.solve(problem, n_states)
        times.append(time.perf_counter() - start)
        if len(times) >= max_repeats or sum(times) + times[-1] > budget_s:
            break
    timing = Timing(statistics.median(times), min(times), max(times), len(times), first + sum(times))
    return solution, timing


def grade(solution: Solution, problem: Problem) -> list[dict[str, Any]]:
    """One row per state: energy, reference energy and its kind, absolute, relative and L2 errors,
    the state's degenerate group and the group's subspace sine (docs/results.md).

    In d >= 2 dimensions the rows follow ascending energy (NaN last,
    :func:`qbench.metrics.sorted_by_energy`), which is also the order of the statuses the harness
    records; in 1D the solver's own order.
    """
    return _graded(solution, problem)[0]


def _graded(solution: Solution, problem: Problem) -> tuple[list[dict[str, Any]], WavefunctionGrades]:
    """:func:`grade`'s rows and the wavefunction grades behind them (the samples reuse them)."""
    solution = sorted_by_energy(solution, problem)
    reference = problem.reference(solution.n_states)
    energy_errors = abs_energy_error(solution.energies, reference.energies)
    relative_errors = rel_energy_error(solution.energies, reference.energies)
    graded = grade_wavefunctions(solution, problem)
    rows = [
        {
            "state": state,
            "group": int(graded.group[state]),
            "energy": float(solution.energies[state]),
            "energy_ref": float(reference.energies[state]),
            **reference_columns(problem, reference),
            "abs_error": float(energy_errors[state]),
            "rel_error": float(relative_errors[state]),
            "l2_error": float(graded.l2_error[state]),
            "subspace_sine": float(graded.subspace_sine[state]),
        }
        for state in range(solution.n_states)
    ]
    return rows, graded


@contextmanager
def torch_state_kept() -> Iterator[None]:
    """Torch's thread-local grad mode, default dtype and thread count as they were, whatever happens.

    A timeout is an exception raised asynchronously (``SIGALRM``, or a timer thread). When it lands
    between a ``torch.no_grad()``'s switch and the start of its block, that block's exit never
    runs, and every later case of the process would train without gradients; so the harness puts
    back what a case may have changed.
    """
    torch = sys.modules.get("torch")  # the solvers import it; a process without it has nothing to keep
    if torch is None:
        yield
        return
    grad, dtype, threads = torch.is_grad_enabled(), torch.get_default_dtype(), torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_grad_enabled(grad)
        if torch.get_default_dtype() != dtype:
            torch.set_default_dtype(dtype)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the block after ``seconds`` of wall time.

    In the main thread of a POSIX process (the in-process run, every local
    worker process) it uses ``SIGALRM``. Elsewhere, as in a Dask worker, whose
    tasks run in a thread of the worker process, a timer thread raises the
    exception asynchronously in the calling thread. Either way Python raises
    it between bytecodes, so a long call into C finishes first.
    """
    if not math.isfinite(seconds):
        yield
        return
    if hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _timer_thread(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def expire(signum, frame):
        raise CaseTimeout(_timeout_message(seconds))

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _timer_thread(seconds: float) -> Iterator[None]:
    target = ctypes.c_ulong(threading.get_ident())
    lock, state = threading.Lock(), {"active": True, "fired": False}

    def expire():
        with lock:  # never inject once the block has ended
            if state["active"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(CaseTimeout))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    except CaseTimeout as exc:  # raised as a bare class: give it the message
        raise CaseTimeout(_timeout_message(seconds)) from exc
    finally:
        with lock:
            state["active"] = False
        timer.cancel()
        if state["fired"]:  # injected but not yet raised: drop it rather than raise it outside the block
            ctypes.pythonapi.PyThreadState_SetAsyncExc(target, None)


def _timeout_message(seconds: float) -> str:
    return f"case exceeded its timeout of {seconds:g} s"


@dataclass
class _Measured:
    """What the harness measured around the solves of one case."""

    timing: Timing = Timing(math.nan, math.nan, math.nan, 0, 0.0)
    peak_cpu_mb: float = math.nan  # absolute peak RSS of the process during the case
    cpu_at_start_mb: float = math.nan  # RSS when the case started
    peak_gpu_mb: float = math.nan

    @property
    def cpu_increase_mb(self) -> float:
        """What the case itself added to the process's resident set at its peak (NaN where unknown)."""
        return self.peak_cpu_mb - self.cpu_at_start_mb


def run_case(case: Case, timing_budget_s: float = TIMING_BUDGET_S, max_repeats: int = MAX_REPEATS) -> dict:
    """Build, solve, time, measure and grade one case.

    Returns
    -------
    dict
        The case record that the store persists: ``case_id``, ``case``
        (``Case.to_dict()``), ``rows`` (one per state, the columns of the
        results table), ``history`` (training history rows, possibly empty),
        ``started_at``/``finished_at`` (UTC ISO), ``host``, ``pid`` and
        ``wavefunctions`` (each state and the exact one sampled for plots).
    """
    # One BLAS thread per case: the same rounding in this process, a worker pool or a Dask worker
    # (Dask's nanny sets OMP_NUM_THREADS=1), and no oversubscription when cases run side by side.
    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        return _run_case(case, timing_budget_s, max_repeats)


def _run_case(case: Case, timing_budget_s: float, max_repeats: int) -> dict:
    started_at, started = utc_now(), time.perf_counter()
    problem, solver = case.build()
    cpu, gpu = CpuPeak(), GpuPeak()
    measured = _Measured(cpu_at_start_mb=cpu.start())
    gpu.start()
    solution: Solution | None = None
    states: list[tuple[Status, str]] | None = None
    try:
        with torch_state_kept(), deadline(case.timeout_s):
            solution, measured.timing = time_solve(
                solver, problem, case.n_states, timing_budget_s, max_repeats
            )
        # In d >= 2 the states are graded and recorded in ascending energy, each with its own status.
        solution = sorted_by_energy(solution, problem)
        status, message = solution.status, solution.message
        states = solution.statuses()
    except CaseTimeout as exc:
        status, message = Status.TIMEOUT, str(exc) or _timeout_message(case.timeout_s)
    except Exception as exc:
        status, message = Status.FAILED, f"{type(exc).__name__}: {exc}"
    measured.peak_cpu_mb = cpu.peak_mb()
    info = dict(solution.info) if solution is not None else {}
    measured.peak_gpu_mb = gpu.peak_mb(used_cuda=str(info.get("device", "cpu")).startswith("cuda"))
    graded, samples = None, []
    if solution is not None:
        try:
            graded, grades = _graded(solution, problem)
            samples = sample_wavefunctions(solution, problem, grades=grades)
        except Exception as exc:
            status, message = Status.FAILED, f"grading failed: {type(exc).__name__}: {exc}"
            states = None
    record = case_record(case, status, message, graded, info, measured, started_at, started, states)
    record["wavefunctions"] = [{"case_id": case.case_id, **row} for row in samples]
    return record


def sample_wavefunctions(
    solution: Solution,
    problem: Problem,
    n_points: int = SAMPLE_POINTS,
    grades: WavefunctionGrades | None = None,
) -> list[dict]:
    """Each state's psi beside the exact one on a uniform grid, for plots.

    One entry per state, ``{state, x, psi, psi_ref, line}`` with lists of values; a state the
    solver could not give is NaN. In 1D ``x`` runs from wall to wall, psi is sign-aligned with the
    exact state and ``line`` is ``""``. In d >= 2 dimensions (states in ascending energy) the
    samples lie on the line through the box centre parallel to axis 0 (``x`` is the coordinate
    along it, ``line`` the JSON ``{"axis": 0, "point": centre}``), and ``psi_ref`` is the exact
    function of the state's level nearest to psi (:func:`qbench.metrics.grade_wavefunctions`), so
    that a degenerate level, whose basis is any, is compared like with like; for a level of one
    state psi is sign-aligned with it as in 1D.
    """
    if problem.dim == 1:
        return _sample_1d(solution, problem, n_points)
    solution = sorted_by_energy(solution, problem)
    x, points, line = sample_line(problem, n_points)
    exact = _exact_samples(problem, solution.n_states, n_points)[1]
    values = solution.wavefunctions(points)
    nearest = (grades if grades is not None else grade_wavefunctions(solution, problem)).nearest
    groups = state_groups(problem, solution.n_states)
    rows = []
    for group in groups:
        for state in group:
            beta = nearest[state]
            reference = beta @ exact[list(group)] if np.isfinite(beta).all() else np.full(n_points, np.nan)
            # One state in its level: flip psi, not the exact state, as in 1D (beta_0 = +-1 / norm).
            sign = float(np.sign(beta[0])) if len(group) == 1 and np.isfinite(beta[0]) else 1.0
            rows.append(
                {
                    "state": state,
                    "x": x.tolist(),
                    "psi": (sign * values[state]).tolist(),
                    "psi_ref": (sign * reference).tolist(),
                    "line": canonical_json(line),
                }
            )
    return rows


def _sample_1d(solution: Solution, problem: Problem, n_points: int) -> list[dict]:
    x, exact = _exact_samples(problem, solution.n_states, n_points)
    values = solution.wavefunctions(x)
    rows = []
    for state in range(solution.n_states):
        sign = -1.0 if np.nansum(values[state] * exact[state]) < 0 else 1.0
        # Arrays, not a row per point: the store expands them into the long table.
        rows.append(
            {
                "state": state,
                "x": x.tolist(),
                "psi": (sign * values[state]).tolist(),
                "psi_ref": exact[state].tolist(),
                "line": "",
            }
        )
    return rows


def unfinished_record(case: Case, status: Status, message: str) -> dict:
    """The record of a case that produced nothing (its worker died, say): NaN energies, the reason."""
    return case_record(case, status, message, None, {}, _Measured(), utc_now(), time.perf_counter())


@functools.lru_cache(maxsize=64)
def _exact_samples(problem: Problem, n_states: int, n_points: int) -> tuple[np.ndarray, np.ndarray]:
    # The same for every solver on a problem; problems hash by their parameters.
    x, points, _ = sample_line(problem, n_points)
    return x, problem.reference(n_states).wavefunctions(points)


def case_status(status: Status, message: str, states: list[tuple[Status, str]]) -> tuple[Status, str]:
    """The case's verdict: the solver's own, but never ``ok`` while a state is not.

    A solver that says ``ok`` for the case but not for some state gets the first such state's
    status, and a message that names the states that are not ok.
    """
    status = Status(status)
    bad = [(k, Status(s), m) for k, (s, m) in enumerate(states) if Status(s) != Status.OK]
    if status != Status.OK or not bad:
        return status, message
    return bad[0][1], "; ".join(f"state {k}: {s.value}" + (f" ({m})" if m else "") for k, s, m in bad)


def case_record(
    case: Case,
    status: Status,
    message: str,
    graded: list[dict[str, Any]] | None,
    info: dict[str, Any],
    measured: _Measured,
    started_at: str,
    started: float,
    states: list[tuple[Status, str]] | None = None,
) -> dict:
    """Assemble the persisted record; ``graded=None`` gives NaN energies beside the exact ones.

    ``states`` is each state's ``(status, message)``; ``None`` (an exception, a timeout, a case
    that never ran) gives every state the case's status and message.
    """
    problem = case.build()[0]  # shared and cached per process (Case.build): no new reference
    if graded is None:
        reference = problem.reference(case.n_states)
        group = {k: g for g, members in enumerate(state_groups(problem, case.n_states)) for k in members}
        graded = [
            {
                "state": state,
                "group": group[state],
                "energy": math.nan,
                "energy_ref": float(reference.energies[state]),
                **reference_columns(problem, reference),
                "abs_error": math.nan,
                "rel_error": math.nan,
                "l2_error": math.nan,
                "subspace_sine": math.nan,
            }
            for state in range(case.n_states)
        ]
    history = info.pop("history", [])
    timing = measured.timing
    if states is None or len(states) != len(graded):
        states = [(Status(status), message)] * len(graded)
    status, message = case_status(status, message, states)
    common = {
        "case_id": case.case_id,
        "problem": case.problem,
        "problem_params": canonical_json(case.problem_params),
        "dim": problem.dim,
        "solver": case.solver,
        "family": solvers.family(case.solver, unregistered="unknown"),
        "solver_options": canonical_json(case.solver_options),
        "seed": case.seed,
        "device": str(info.get("device", "cpu")),
        "n_states": case.n_states,
    }
    measurements = {
        "wall_time_s": timing.median_s,
        "wall_time_min_s": timing.min_s,
        "wall_time_max_s": timing.max_s,
        "repeats": timing.repeats,
        "cpu_mem_increase_mb": measured.cpu_increase_mb,
        "peak_rss_mb": measured.peak_cpu_mb,
        "cpu_mem_at_start_mb": measured.cpu_at_start_mb,
        "peak_gpu_mem_mb": measured.peak_gpu_mb,
        "iterations": _count(info.get("iterations", math.nan)),
        "case_status": Status(status).value,
        "case_message": message,
        "case_time_s": time.perf_counter() - started,
        "solve_time_total_s": timing.total_s,
        "solver_info": canonical_json(_plain(info)),
    }
    return {
        "case_id": case.case_id,
        "case": case.to_dict(),
        "rows": [
            {**common, **row, **measurements, "status": Status(s).value, "message": m}
            for row, (s, m) in zip(graded, states)
        ],
        "history": [{"case_id": case.case_id, **_plain(row)} for row in history],
        "started_at": started_at,
        "finished_at": utc_now(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def _count(value: Any) -> float:
    """The solver's ``iterations`` as a number; NaN for anything else (a list of counts, say, which
    ``solver_info`` keeps), so that no solver's info can stop its case from being recorded."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def reference_columns(problem: Problem, reference: Reference) -> dict[str, Any]:
    """The results table's ``reference`` (exact, certified or approximate) and its stated bound."""
    return {"reference": problem.reference_kind, "reference_rel_bound": float(reference.rel_error_bound)}


def _plain(value: Any) -> Any:
    """numpy scalars and arrays to Python numbers and lists, so a record is plain JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)

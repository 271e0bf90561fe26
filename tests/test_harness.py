"""run_case: one case in, one graded and measured record out, whatever the solver does.

Each part has its own tests: test_harness_timing, _timeout, _grading, _sampling and _records.
"""

from __future__ import annotations

import json
import math
import mmap
import time

import numpy as np
import pytest
from harness_doubles import SQUARE, Rotates, registered

from qbench import progress, solvers
from qbench.cases import Case
from qbench.harness import run_case
from qbench.memory import CAN_RESET_PEAK
from qbench.problems import get as get_problem
from qbench.solvers import Solution, Solver, Status
from qbench.store import SCHEMA


@pytest.fixture
def exploding_solver():
    class Explodes(Solver):
        name = "test-explodes"
        takes_points = True

        def _solve(self, problem, n_states):
            raise RuntimeError("boom")

    solvers.register(Explodes)
    yield Explodes
    solvers.METHODS.pop(Explodes.name)


@pytest.fixture
def slow_solver():
    class Sleeps(Solver):
        name = "test-sleeps"
        takes_points = True

        def _solve(self, problem, n_states):
            # Pure-Python waiting, so the alarm is handled promptly; a solver that swallows
            # every Exception must still be stopped.
            end = time.perf_counter() + 30
            try:
                while time.perf_counter() < end:
                    pass
            except Exception:
                pass
            return Solution(np.zeros(n_states), lambda points: np.zeros((n_states, len(points))))

    solvers.register(Sleeps)
    yield Sleeps
    solvers.METHODS.pop(Sleeps.name)


@pytest.mark.parametrize("problem", ["infinite_well", "finite_well", "finite_barrier"])
@pytest.mark.parametrize("solver", ["fd", "shooting"])
def test_classical_case_rows_are_graded_against_the_exact_reference(problem, solver):
    case = Case.resolve(problem, solver, n_states=2)
    record = run_case(case, timing_budget_s=0.02)
    rows = record["rows"]
    assert [r["state"] for r in rows] == [0, 1]
    reference = get_problem(problem).reference(2).energies
    for row in rows:
        assert set(SCHEMA) - {"run_id"} <= set(row)
        assert row["status"] == "ok" and row["case_id"] == case.case_id and row["dim"] == 1
        assert row["energy_ref"] == reference[row["state"]]
        assert row["abs_error"] == abs(row["energy"] - row["energy_ref"])
        assert row["rel_error"] < 1e-4 and row["l2_error"] < 1e-3
        assert row["wall_time_min_s"] <= row["wall_time_s"] <= row["wall_time_max_s"]
        assert row["repeats"] >= 1
        assert math.isnan(row["peak_gpu_mem_mb"]) and row["device"] == "cpu"
        assert row["peak_rss_mb"] > 0 and row["family"] == "classical"
        assert row["case_status"] == "ok" and row["case_message"] == ""
        if CAN_RESET_PEAK:  # the case's own memory: a few MB at most for a classical solve, never the process
            assert row["cpu_mem_increase_mb"] == row["peak_rss_mb"] - row["cpu_mem_at_start_mb"]
            assert 0 <= row["cpu_mem_increase_mb"] < 0.5 * row["peak_rss_mb"]
        assert json.loads(row["problem_params"]) == case.problem_params
    assert record["history"] == []


def test_records_keep_wavefunction_samples_for_plots():
    record = run_case(Case.resolve("finite_barrier", "fd", n_states=2), timing_budget_s=0.0)
    samples = record["wavefunctions"]
    assert [(s["case_id"], s["state"]) for s in samples] == [(record["case_id"], 0), (record["case_id"], 1)]
    assert all(len(s["x"]) == len(s["psi"]) == len(s["psi_ref"]) == 201 for s in samples)


@pytest.mark.skipif(not CAN_RESET_PEAK, reason="per-case peak RSS needs Linux /proc/self/clear_refs")
def test_peak_cpu_memory_sees_a_large_allocation_inside_the_case():
    class Allocates(Solver):
        name = "test-allocates"
        takes_points = True

        def _solve(self, problem, n_states):
            # 40 MiB of fresh anonymous pages, touched: malloc could hand back heap memory that an
            # earlier test freed and that is still resident, which would not raise the RSS at all.
            block = mmap.mmap(-1, 40 * 2**20)
            np.frombuffer(block, dtype=np.uint8)[:] = 1
            energies = np.zeros(n_states)
            block.close()
            return Solution(energies, lambda p: np.repeat(np.sin(np.pi * p[:, 0])[None, :], n_states, axis=0))

    solvers.register(Allocates)
    try:
        row = run_case(Case.resolve("infinite_well", "test-allocates", n_states=1), 0.0)["rows"][0]
    finally:
        solvers.METHODS.pop(Allocates.name)
    assert row["cpu_mem_increase_mb"] >= 35
    assert row["peak_rss_mb"] - row["cpu_mem_at_start_mb"] == row["cpu_mem_increase_mb"]


def test_a_solver_that_raises_gives_failed_rows_with_the_message(exploding_solver):
    record = run_case(Case.resolve("finite_well", "test-explodes", n_states=2))
    for row in record["rows"]:
        assert row["status"] == "failed" and "RuntimeError: boom" in row["message"]
        assert row["case_status"] == "failed" and row["case_message"] == row["message"]
        assert math.isnan(row["energy"]) and math.isfinite(row["energy_ref"])


def test_a_case_past_its_timeout_is_recorded_as_timeout(slow_solver):
    start = time.perf_counter()
    record = run_case(Case.resolve("finite_well", "test-sleeps", n_states=1, timeout_s=0.1))
    assert time.perf_counter() - start < 5
    row = record["rows"][0]
    assert row["status"] == "timeout" and "0.1 s" in row["message"]
    assert row["case_status"] == "timeout"


def _state_solver(name, status, state_status, state_messages=None):
    class PerState(Solver):
        takes_points = True

        def _solve(self, problem, n_states):
            reference = problem.reference(n_states)
            return Solution(
                reference.energies,
                reference.wavefunctions,
                status=status,
                message="state 1 collapsed" if status != Status.OK else "",
                state_status=state_status,
                state_messages=state_messages,
            )

    PerState.name = name
    return PerState


@pytest.mark.parametrize(
    ("status", "expected_case", "expected_message"),
    [
        (Status.FAILED, "failed", "state 1 collapsed"),  # the solver's own verdict on the case
        (Status.OK, "failed", "state 1: failed (psi shrank)"),  # ok for the case, a state not: not ok
    ],
)
def test_each_state_carries_its_own_status_and_the_case_is_ok_only_if_every_state_is(
    status, expected_case, expected_message
):
    cls = _state_solver("test-per-state", status, [Status.OK, Status.FAILED], ["", "psi shrank"])
    solvers.register(cls)
    try:
        rows = run_case(Case.resolve("infinite_well", "test-per-state", n_states=2), 0.0)["rows"]
    finally:
        solvers.METHODS.pop(cls.name)
    assert [(r["status"], r["message"]) for r in rows] == [("ok", ""), ("failed", "psi shrank")]
    assert {r["case_status"] for r in rows} == {expected_case}
    assert {r["case_message"] for r in rows} == {expected_message}
    assert rows[0]["rel_error"] < 1e-12  # the ok state is graded as any other


def test_family_of_the_solver_is_in_every_row():
    row = run_case(
        Case.resolve("infinite_well", "pinn-fixed", solver_options={"adam_steps": 2}, seed=0, n_states=1), 0.0
    )["rows"][0]
    assert row["family"] == "pinn"


def test_pinn_case_records_history_iterations_and_progress():
    case = Case.resolve(
        "infinite_well", "nn-galerkin", solver_options={"adam_steps": 20, "log_every": 5}, seed=1, n_states=2
    )
    reports = []
    with progress.listening(lambda done, total: reports.append((done, total))):
        record = run_case(case, timing_budget_s=0.0)  # one training, whatever this machine's speed
    row = record["rows"][0]
    assert row["seed"] == 1 and row["iterations"] == 20 and row["repeats"] == 1
    steps = [h["step"] for h in record["history"]]
    assert steps[0] == 0 and steps[-1] == 20 and all(h["case_id"] == case.case_id for h in record["history"])
    assert reports[-1] == (20, 20) and len(reports) == 20
    assert [r["status"] for r in record["rows"]] == ["ok", "ok"] and row["case_status"] == "ok"


def test_a_case_that_leaves_torch_without_gradients_does_not_spoil_the_next_one():
    # What a timeout can do: land inside torch.no_grad() before its block starts, so its exit never
    # runs. The harness puts torch's thread-local state back after every case.
    import torch

    class LeavesNoGrad(Solver):
        name = "test-leaves-no-grad"
        takes_points = True

        def _solve(self, problem, n_states):
            torch.set_grad_enabled(False)
            torch.set_default_dtype(torch.float16)
            torch.set_num_threads(torch.get_num_threads() + 1)
            raise RuntimeError("interrupted half-way")

    solvers.register(LeavesNoGrad)
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    try:
        record = run_case(Case.resolve("infinite_well", LeavesNoGrad.name, n_states=1), timing_budget_s=0)
    finally:
        solvers.METHODS.pop(LeavesNoGrad.name)
    assert record["rows"][0]["status"] == "failed"
    assert torch.is_grad_enabled()
    assert torch.get_default_dtype() == dtype and torch.get_num_threads() == threads


def test_a_2d_case_is_recorded_in_ascending_energy_each_state_with_its_own_status():
    with registered(Rotates) as name:
        record = run_case(Case.resolve("separable", name, problem_params=SQUARE, n_states=4), 0.0)
    rows = record["rows"]
    assert [(r["dim"], r["state"], r["group"]) for r in rows] == [(2, 0, 0), (2, 1, 1), (2, 2, 1), (2, 3, 2)]
    assert all(r["l2_error"] < 1e-12 for r in rows)  # graded as the exact answer it is
    # Each state's status moved with it: the solver's second state is state 3 (level 2).
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "failed"]
    assert rows[3]["message"] == "listed second, level 2"
    assert rows[0]["case_status"] == "failed" and "state 3: failed" in rows[0]["case_message"]
    assert list(rows[0])[: list(rows[0]).index("solver")] == ["case_id", "problem", "problem_params", "dim"]
    assert [json.loads(s["line"])["point"] for s in record["wavefunctions"]] == [[0.5, 0.5625]] * 4


def test_a_2d_case_that_fails_has_groups_and_nan_grades(exploding_solver):
    exploding_solver.dimensions = (1, 2)
    case = Case.resolve("separable", "test-explodes", problem_params=SQUARE, n_states=3)
    rows = run_case(case)["rows"]
    assert [(r["dim"], r["group"]) for r in rows] == [(2, 0), (2, 1), (2, 1)]
    assert all(math.isnan(r["l2_error"]) and math.isnan(r["subspace_sine"]) for r in rows)


class _Prepares(Solver):
    """Exact answers after a slow one-time ``prepare`` (an import a neural runtime would do)."""

    name = "test-prepares"
    takes_points = True
    prepared = 0

    def prepare(self):
        time.sleep(0.3)
        type(self).prepared += 1

    def _solve(self, problem, n_states):
        reference = problem.reference(n_states)
        return Solution(reference.energies.copy(), reference.wavefunctions)


class _CannotPrepare(_Prepares):
    name = "test-cannot-prepare"

    def prepare(self):
        raise ImportError("no runtime here")


def test_prepare_runs_once_before_the_clock_and_a_failed_prepare_fails_the_case():
    with registered(_Prepares) as name:
        record = run_case(Case.resolve("infinite_well", name, n_states=1))
    assert _Prepares.prepared == 1
    row = record["rows"][0]
    assert row["status"] == "ok" and row["wall_time_s"] < 0.1  # the 0.3 s prepare is not the solve's
    with registered(_CannotPrepare) as name:
        row = run_case(Case.resolve("infinite_well", name, n_states=1))["rows"][0]
    assert row["status"] == "failed" and "ImportError: no runtime here" in row["message"]

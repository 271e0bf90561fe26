"""The harness: one case in, one graded and measured record out, whatever the solver does."""

from __future__ import annotations

import json
import math
import mmap
import threading
import time

import numpy as np
import pytest

from qbench import progress, solvers
from qbench.cases import Case
from qbench.harness import CaseTimeout, deadline, run_case, time_solve
from qbench.memory import CAN_RESET_PEAK
from qbench.problems import get as get_problem
from qbench.solvers import Solution, Solver, Status
from qbench.store import SCHEMA


@pytest.fixture
def exploding_solver():
    class Explodes(Solver):
        name = "test-explodes"

        def _solve(self, problem, n_states):
            raise RuntimeError("boom")

    solvers.register(Explodes)
    yield Explodes
    solvers.METHODS.pop(Explodes.name)


@pytest.fixture
def slow_solver():
    class Sleeps(Solver):
        name = "test-sleeps"

        def _solve(self, problem, n_states):
            # Pure-Python waiting, so the alarm is handled promptly; a solver that swallows
            # every Exception must still be stopped.
            end = time.perf_counter() + 30
            try:
                while time.perf_counter() < end:
                    pass
            except Exception:
                pass
            return Solution(np.zeros(n_states), lambda x: np.zeros((n_states, len(x))))

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
        assert row["status"] == "ok" and row["case_id"] == case.case_id
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


def test_records_keep_sign_aligned_wavefunction_samples_for_plots():
    record = run_case(Case.resolve("finite_barrier", "fd", n_states=2), timing_budget_s=0.0)
    samples = record["wavefunctions"]
    assert [s["state"] for s in samples] == [0, 1] and all(len(s["x"]) == 201 for s in samples)
    psi = np.array([s["psi"] for s in samples])
    exact = np.array([s["psi_ref"] for s in samples])
    assert np.max(np.abs(psi - exact)) < 1e-2  # the same sign, close to the exact one
    assert samples[0]["x"][0] == 0.0 and samples[0]["x"][-1] == 1.0


@pytest.mark.skipif(not CAN_RESET_PEAK, reason="per-case peak RSS needs Linux /proc/self/clear_refs")
def test_peak_cpu_memory_sees_a_large_allocation_inside_the_case():
    class Allocates(Solver):
        name = "test-allocates"

        def _solve(self, problem, n_states):
            # 40 MiB of fresh anonymous pages, touched: malloc could hand back heap memory that an
            # earlier test freed and that is still resident, which would not raise the RSS at all.
            block = mmap.mmap(-1, 40 * 2**20)
            np.frombuffer(block, dtype=np.uint8)[:] = 1
            energies = np.zeros(n_states)
            block.close()
            return Solution(energies, lambda x: np.repeat(np.sin(np.pi * x)[None, :], n_states, axis=0))

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
    record = run_case(Case.resolve("finite_well", "test-sleeps", n_states=1, timeout_s=0.3))
    assert time.perf_counter() - start < 5
    row = record["rows"][0]
    assert row["status"] == "timeout" and "0.3 s" in row["message"]
    assert row["case_status"] == "timeout"


def _state_solver(name, status, state_status, state_messages=None):
    class PerState(Solver):
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


def test_deadline_interrupts_and_cleans_up():
    with pytest.raises(CaseTimeout):
        with deadline(0.05):
            time.sleep(1)
    with deadline(1.0):
        pass
    time.sleep(1.1)  # the alarm was cancelled: nothing fires after the block


def test_deadline_holds_outside_the_main_thread():
    """Dask runs tasks in worker threads, where SIGALRM is unavailable: a timer thread raises there."""
    outcome = {}

    def busy():
        try:
            with deadline(0.1):
                while True:  # pure Python: interruptible between bytecodes
                    pass
        except CaseTimeout as exc:
            outcome["timeout"] = str(exc)
        with deadline(0.5):
            pass
        time.sleep(0.7)  # the timer was cancelled: nothing is raised after the block
        outcome["after"] = True

    worker = threading.Thread(target=busy)
    worker.start()
    worker.join(timeout=10)
    assert outcome == {"timeout": "case exceeded its timeout of 0.1 s", "after": True}


def test_time_solve_repeats_fast_solves_and_solves_once_with_zero_budget():
    solver, problem = solvers.get("fd", n_points=100), get_problem("infinite_well")
    _, timing = time_solve(solver, problem, 1, budget_s=0.05)
    assert timing.repeats > 1 and timing.min_s <= timing.median_s <= timing.max_s
    _, once = time_solve(solver, problem, 1, budget_s=0.0)
    assert once.repeats == 1


def test_the_first_of_repeated_solves_is_a_warm_up_and_not_reported():
    class SlowFirst(Solver):
        name = "test-slow-first"
        calls = 0

        def _solve(self, problem, n_states):
            type(self).calls += 1
            time.sleep(0.05 if type(self).calls == 1 else 0.001)
            return Solution(np.zeros(n_states), lambda x: np.zeros((n_states, len(x))))

    _, timing = time_solve(SlowFirst(), get_problem("infinite_well"), 1, budget_s=0.1)
    assert timing.max_s < 0.04 and timing.repeats >= 2
    assert timing.total_s >= 0.05 + timing.repeats * 0.001


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


def test_a_pinn_trains_inside_the_callers_no_grad():
    import torch

    solver = solvers.get("pinn", warm_steps=5, warm_lbfgs_iterations=2, lbfgs_iterations=2, seed=0)
    with torch.no_grad():
        solution = solver.solve(get_problem("infinite_well"), 1)
    assert np.isfinite(solution.energies).all() and solution.info["steps"][0] > 0


SQUARE = {"parts": ["infinite_well", "infinite_well"]}  # E = pi^2 (n1^2 + n2^2): states 1 and 2 one level


@pytest.fixture
def rotating_solver():
    """A 2D solver that returns the exact states, the degenerate pair (1, 2) rotated and the states out
    of energy order, one of them marked failed: grading must see an exact answer."""

    class Rotates(Solver):
        name = "test-rotates"
        dimensions = (1, 2, 3, 4)

        def _solve(self, problem, n_states):
            reference = problem.reference(n_states)
            c, s = np.cos(0.6), np.sin(0.6)
            order = [0, 3, 1, 2]  # listed as the solver found them, not ascending

            def evaluate(points):
                values = reference.wavefunctions(points)
                pair = np.array([c * values[1] + s * values[2], -s * values[1] + c * values[2]])
                values[1], values[2] = pair[0], pair[1]
                return values[order]

            return Solution(
                reference.energies[order],
                evaluate,
                state_status=[Status.OK, Status.FAILED, Status.OK, Status.OK],
                state_messages=["", "listed second, level 2", "", ""],
            )

    solvers.register(Rotates)
    yield Rotates.name
    solvers.METHODS.pop(Rotates.name)


def test_a_2d_case_is_graded_level_by_level_in_ascending_energy(rotating_solver):
    case = Case.resolve("separable", rotating_solver, problem_params=SQUARE, n_states=4)
    record = run_case(case, timing_budget_s=0.0)
    rows = record["rows"]
    assert [r["dim"] for r in rows] == [2] * 4
    assert [(r["state"], r["group"]) for r in rows] == [(0, 0), (1, 1), (2, 1), (3, 2)]
    energies = [r["energy"] for r in rows]
    assert energies == sorted(energies) and all(r["abs_error"] == 0.0 for r in rows)
    for row in rows:  # a rotated basis of a level is as exact as any
        assert row["l2_error"] < 1e-12 and row["subspace_sine"] < 1e-12
    # Each state's status moved with it: the solver's second state is state 3 (level 2).
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "failed"]
    assert rows[3]["message"] == "listed second, level 2"
    assert rows[0]["case_status"] == "failed" and "state 3: failed" in rows[0]["case_message"]
    assert list(rows[0])[: list(rows[0]).index("solver")] == ["case_id", "problem", "problem_params", "dim"]
    samples = record["wavefunctions"]
    line = json.loads(samples[0]["line"])
    assert line == {"axis": 0, "point": [0.5, 0.5625]} and samples[0]["x"][0] == 0.0  # off the nodal line
    for sample in samples:  # the rotated pair against the nearest function of its level: the same curve
        assert np.max(np.abs(np.array(sample["psi"]) - np.array(sample["psi_ref"]))) < 1e-12
    # The rotated state 1 is a mix: its nearest exact partner is not the (2, 1) state.
    assert np.max(np.abs(samples[1]["psi_ref"])) > 0.5


def test_a_1d_case_has_dim_1_and_one_state_per_group():
    row = run_case(Case.resolve("finite_well", "fd", n_states=2), timing_budget_s=0.0)["rows"]
    assert [(r["dim"], r["state"], r["group"]) for r in row] == [(1, 0, 0), (1, 1, 1)]
    assert all(0 < r["subspace_sine"] <= r["l2_error"] * 1.001 for r in row)  # sin(theta) vs 2 sin(theta/2)


def test_a_2d_case_that_fails_has_groups_and_nan_grades(exploding_solver):
    exploding_solver.dimensions = (1, 2)
    case = Case.resolve("separable", "test-explodes", problem_params=SQUARE, n_states=3)
    rows = run_case(case)["rows"]
    assert [(r["dim"], r["group"]) for r in rows] == [(2, 0), (2, 1), (2, 1)]
    assert all(math.isnan(r["l2_error"]) and math.isnan(r["subspace_sine"]) for r in rows)


def test_a_real_2d_solver_converges_at_its_order_in_every_graded_column():
    if 2 not in solvers.METHODS["fd"].dimensions:
        pytest.skip("fd does not take 2D problems here")
    errors = {}
    for n_points in (40, 80):
        case = Case.resolve("separable", "fd", SQUARE, {"n_points": n_points}, n_states=3)
        errors[n_points] = run_case(case, timing_budget_s=0.0)["rows"]
    for coarse, fine in zip(errors[40], errors[80]):
        assert coarse["group"] == fine["group"] and fine["status"] == "ok"
        for column in ("rel_error", "l2_error", "subspace_sine"):  # second order: h / 2 gives / 4
            assert 3.5 < coarse[column] / fine[column] < 4.5, (column, coarse[column], fine[column])
    # The degenerate pair, whatever basis fd returned: one level, one sine, the same distance by symmetry.
    pair = errors[80][1:]
    assert pair[0]["subspace_sine"] == pair[1]["subspace_sine"]
    assert pair[0]["l2_error"] == pytest.approx(pair[1]["l2_error"], rel=1e-6)

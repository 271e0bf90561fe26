"""Executors: a worker process that dies costs only the case that killed it."""

from __future__ import annotations

import os

import pytest

from qbench.cases import Case
from qbench.executors import InProcess, LocalPool
from qbench.harness import run_case


def dies_on_the_barrier(case, *settings):
    """A worker function (module level, so spawned workers import it) that kills its process."""
    if case.problem == "finite_barrier":
        os._exit(3)  # no exception, no cleanup: what a segfault or the OOM killer looks like
    return run_case(case, *settings)


def _cases():
    fd = [
        # 400 points: fd is certified to 1e-2 there (at 100 the finite well is not, honestly).
        Case.resolve(problem, "fd", solver_options={"n_points": 400}, n_states=1)
        for problem in ("infinite_well", "finite_barrier", "finite_well")
    ]
    return [*fd, Case.resolve("infinite_well", "shooting", n_states=1)]


@pytest.mark.slow
def test_a_dying_worker_fails_only_its_own_case():
    records = list(LocalPool(2, worker=dies_on_the_barrier, timing_budget_s=0.0).run(_cases()))
    by_problem = {(r["case"]["problem"], r["case"]["solver"]): r["rows"][0] for r in records}
    assert len(records) == 4 and len({r["case_id"] for r in records}) == 4
    died = by_problem[("finite_barrier", "fd")]
    assert died["status"] == "failed" and "worker process died" in died["message"]
    assert died["energy"] != died["energy"] and died["energy_ref"] > 0  # NaN energy beside the exact one
    others = [row for key, row in by_problem.items() if key != ("finite_barrier", "fd")]
    assert all(row["status"] == "ok" for row in others)


def test_in_process_yields_in_order():
    cases = _cases()
    records = list(InProcess(timing_budget_s=0.0).run(cases))
    assert [r["case_id"] for r in records] == [c.case_id for c in cases]

"""The record of a case: the case's verdict never ok while a state is not, and the record of a case
that never gave a solution."""

from __future__ import annotations

import math

import pytest

from qbench.cases import Case
from qbench.harness.records import case_status, unfinished_record
from qbench.problems import get as get_problem
from qbench.solvers import Status
from qbench.store import SCHEMA

OK, FAILED, DIVERGED, TIMEOUT = Status.OK, Status.FAILED, Status.DIVERGED, Status.TIMEOUT


@pytest.mark.parametrize(
    ("status", "states", "expected"),
    [
        (OK, [(OK, ""), (OK, "")], (OK, "solved")),
        (FAILED, [(OK, ""), (FAILED, "psi shrank")], (FAILED, "solved")),  # the solver's own verdict
        (OK, [(OK, ""), (FAILED, "psi shrank")], (FAILED, "state 1: failed (psi shrank)")),
        (
            OK,
            [(Status.DIVERGED, ""), (Status.TIMEOUT, "")],
            (Status.DIVERGED, "state 0: diverged; state 1: timeout"),
        ),
    ],
)
def test_the_case_is_ok_only_if_every_state_is(status, states, expected):
    assert case_status(status, "solved", states) == expected


def test_an_unfinished_case_has_a_row_per_state_with_the_reason_and_nan_grades():
    square = {"parts": ["infinite_well", "infinite_well"]}
    case = Case.resolve("separable", "fd", square, n_states=3)
    record = unfinished_record(case, Status.FAILED, "worker died")
    rows = record["rows"]
    assert [(r["dim"], r["state"], r["group"]) for r in rows] == [(2, 0, 0), (2, 1, 1), (2, 2, 1)]
    assert [r["energy_ref"] for r in rows] == get_problem("separable", **case.problem_params).reference(
        3
    ).energies.tolist()
    for row in rows:
        assert set(SCHEMA) - {"run_id"} <= set(row)
        assert (
            (row["status"], row["message"])
            == ("failed", "worker died")
            == (row["case_status"], row["case_message"])
        )
        assert math.isnan(row["energy"]) and math.isnan(row["l2_error"]) and row["repeats"] == 0
    assert record["history"] == [] and record["case_id"] == case.case_id

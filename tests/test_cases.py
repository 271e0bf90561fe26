"""Cases: validation at construction, resolved spelling, stable identity, JSON round trip."""

from __future__ import annotations

import hashlib
import json

import pytest

from qbench.cases import Case, canonical_json


def test_resolve_spells_out_every_parameter_and_option():
    case = Case.resolve("finite_well", "fd", {"V0": 50}, {"n_points": 400})
    assert case.problem_params == {"half_width": 1.0, "V0": 50.0, "box_half_width": 3.0}
    assert case.solver_options == {"n_points": 400, "order": 2, "eigensolver": "auto"}
    assert case.seed is None


def test_same_computation_same_id_whatever_the_spelling():
    implicit = Case.resolve("finite_well", "fd")
    explicit = Case.resolve(
        "finite_well", "fd", {"V0": 20.0, "half_width": 1}, {"n_points": 1000, "order": 2}
    )
    assert implicit.case_id == explicit.case_id
    assert Case.resolve("finite_well", "fd", {"V0": 21.0}).case_id != implicit.case_id
    assert Case.resolve("finite_well", "fd", n_states=2).case_id != implicit.case_id
    # The timeout limits the case; it is not part of what is computed.
    assert Case.resolve("finite_well", "fd", timeout_s=5).case_id == implicit.case_id


def test_seeded_solver_gets_its_seed_outside_the_options():
    case = Case.resolve("infinite_well", "pinn", solver_options={"adam_steps": 5}, seed=7)
    assert case.seed == 7 and "seed" not in case.solver_options
    _, solver = case.build()
    assert solver.seed == 7 and solver.adam_steps == 5
    assert (
        Case.resolve("infinite_well", "pinn", seed=8).case_id
        != Case.resolve("infinite_well", "pinn", seed=7).case_id
    )


def test_json_round_trip_rebuilds_the_same_case():
    case = Case.resolve("piecewise_constant", "pinn-fixed", {"edges": [0, 0.4, 1], "values": [0, 9]}, seed=2)
    again = Case.from_dict(json.loads(json.dumps(case.to_dict())))
    assert again == case and again.case_id == case.case_id


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(problem="nope", solver="fd"), "unknown problem 'nope'"),
        (dict(problem="finite_well", solver="nope"), "unknown solver 'nope'"),
        (dict(problem="finite_well", solver="fd", solver_options={"n_points": 2}), "n_points must be >= 5"),
        (dict(problem="finite_well", solver="fd", seed=1), "takes no seed"),
        (dict(problem="finite_well", solver="pinn", seed=-1), "seed must be >= 0"),
        (dict(problem="finite_well", solver="fd", n_states=0), "n_states must be >= 1"),
        (dict(problem="finite_well", solver="fd", timeout_s=0), "timeout_s must be > 0"),
    ],
)
def test_bad_cases_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Case.resolve(**kwargs)


def test_case_id_is_the_sha256_of_the_canonical_json_of_everything_but_the_timeout_and_tolerance():
    case = Case.resolve("finite_well", "fd", {"V0": 30.0}, {"n_points": 300}, n_states=2, timeout_s=7)
    identity = {k: v for k, v in case.to_dict().items() if k not in ("timeout_s", "tolerance")}
    expected = hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:12]
    assert case.case_id == expected and len(expected) == 12


def test_tolerance_changes_the_verdict_not_the_identity():
    loose = Case.resolve("finite_well", "fd", tolerance=0.5)
    strict = Case.resolve("finite_well", "fd", tolerance=1e-9)
    assert loose.case_id == strict.case_id
    assert (loose.tolerance, strict.tolerance) == (0.5, 1e-9)


@pytest.mark.parametrize("bad", [0, -1e-3, 1.0, float("nan"), "tight"])
def test_a_tolerance_outside_0_1_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match=r"tolerance must be .*\(0, 1\)"):
        Case.resolve("finite_well", "fd", tolerance=bad)


def test_a_record_from_before_an_option_existed_rebuilds_what_it_ran():
    # pinn's ``sampling`` (default "auto": adaptive points in d >= 2) came after runs were recorded;
    # a stored case without it trained on the fixed rules, and rebuilds so (reproduce re-runs it).
    new = Case.resolve("harmonic_oscillator", "pinn", {"dim": 2}, seed=0, n_states=1)
    assert new.solver_options["sampling"] == "auto" and new.build()[1].sampling == "auto"
    recorded = new.to_dict()
    del recorded["solver_options"]["sampling"]
    old = Case.from_dict(recorded)
    assert old.build()[1].sampling == "gauss"
    assert old.case_id != new.case_id  # a different computation, a different id

"""The committed baseline (results/baseline) is a quick run of this code, and reproduce guards it.

CI runs ``qbench reproduce results/baseline`` in full; here the classical cases
are re-run (fast), and an edited copy must fail.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qbench import store, suite
from qbench.cli import main

BASELINE = Path(__file__).resolve().parents[1] / "results" / "baseline"


def test_baseline_is_a_complete_run_of_the_current_quick_suite():
    data = store.load(BASELINE)
    assert data.provenance["status"] == "complete"
    assert data.provenance["suite"]["name"] == "quick"
    # Changing the quick suite or a solver default changes the case ids: regenerate the baseline.
    # It runs three seeds (--seeds 0-2), so the verdict counts failures over seeds.
    assert data.provenance["seeds"] == [0, 1, 2]
    quick = suite.load("quick", overrides={"seeds": [0, 1, 2]})
    assert [c.case_id for c in data.cases] == [c.case_id for c in quick.cases]
    assert data.results["case_id"].nunique() == len(data.cases)
    assert store.consistency_problems(data) == []


@pytest.mark.slow
def test_reproduce_the_classical_cases_of_the_baseline(capsys):
    assert main(["reproduce", str(BASELINE), "--solver", "fd", "--solver", "shooting"]) == 0
    assert "reproduced: all 63 energies, L2 errors and statuses match" in capsys.readouterr().out


@pytest.mark.slow
def test_a_baseline_with_one_energy_edited_fails_reproduce(tmp_path, capsys):
    edited = tmp_path / "baseline"
    shutil.copytree(BASELINE, edited)
    data = store.load(edited)
    fd_case = data.results.query("solver == 'fd'")["case_id"].iloc[0]
    record_file = edited / "cases" / f"{fd_case}.json"
    record = json.loads(record_file.read_text())
    record["rows"][1]["energy"] = float(record["rows"][1]["energy"]) * (1 + 1e-10)
    record_file.write_text(json.dumps(record))
    store.RunDirectory.open(edited).write_tables()
    assert main(["reproduce", str(edited), "--solver", "fd"]) == 1
    assert "1 of 36 states moved" in capsys.readouterr().err

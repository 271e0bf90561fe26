"""The CI accuracy gate (``benchmarks/accuracy_gate.py``) on synthetic asv results in a scratch git repo."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks import accuracy_gate  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="the gate reads git history")

COLUMNS = ["result", "params", "version", "started_at", "duration"]
PARAMS = [["'finite_well'", "'infinite_well'"], ["'fd'"]]


def _git(repo: Path, *args: str) -> str:
    return accuracy_gate.git(repo, *args).strip()


def _commit(repo: Path, message: str) -> str:
    _git(repo, "commit", "--allow-empty", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


def _write(results: Path, machine: str, commit: str, rel_error, time_solve=0.01) -> None:
    """One asv result file; ``rel_error`` None writes timings only."""
    folder = results / machine
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}))
    stored = {
        "commit_hash": commit,
        "result_columns": COLUMNS,
        "results": {"classical.Shooting.time_solve": [[time_solve], [["'finite_well'"]], "v", 0, 1.0]},
        "version": 2,
    }
    if rel_error is not None:
        stored["results"]["accuracy.Classical.track_rel_error"] = [rel_error, PARAMS, "v", 0, 1.0]
        stored["results"]["accuracy.Classical.track_wall_time"] = [[5.0, 5.0], PARAMS, "v", 0, 1.0]
    (folder / f"{commit[:8]}-virtualenv-py3.11.json").write_text(json.dumps(stored))


def _new_repo(repo: Path) -> Path:
    """An empty git repository at ``repo`` with a committer set."""
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.invalid")
    _git(repo, "config", "user.name", "t")
    return repo


@pytest.fixture
def history(tmp_path):
    """A git repository with a base commit (results on machine ``bench``) and a later HEAD."""
    repo = _new_repo(tmp_path / "repo")
    older = _commit(repo, "older, with results")
    base = _commit(repo, "base, with results")
    timings_only = _commit(repo, "timings only: not a base")
    _commit(repo, "no results here")
    results = tmp_path / "results"
    _write(results, "bench", older, [1.0, 1.0])
    _write(results, "bench", base, [1e-6, 0.0])
    _write(results, "bench", timings_only, None)
    return repo, results, base


def _gate(repo: Path, results: Path, capsys) -> tuple[int, str]:
    status = accuracy_gate.main(["--repo", str(repo), "--results", str(results), "--head-machine", "ci"])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_no_change_passes_and_compares_with_the_nearest_earlier_commit(history, capsys):
    repo, results, base = history
    head = _commit(repo, "head")
    _write(results, "ci", head, [1e-6 * (1 + 5e-10), 0.0], time_solve=0.05)
    status, out = _gate(repo, results, capsys)
    assert status == 0, out
    assert f"against {base[:8]}" in out and "no error track changed" in out
    assert "classical.Shooting.time_solve('finite_well'): 0.01 -> 0.05 (5.00x)" in out  # printed, not failed


def test_a_change_above_the_tolerance_fails_and_names_the_track(history, capsys):
    repo, results, _ = history
    head = _commit(repo, "head")
    _write(results, "ci", head, [1e-6 * (1 + 2e-9), 0.0])
    status, out = _gate(repo, results, capsys)
    assert status == 1
    assert "accuracy.Classical.track_rel_error('finite_well', 'fd')" in out
    assert "'infinite_well'" not in out.split("changed:", 1)[1]


def test_a_zero_error_allows_no_change(history, capsys):
    repo, results, _ = history
    head = _commit(repo, "head")
    _write(results, "ci", head, [1e-6, 1e-300])
    status, out = _gate(repo, results, capsys)
    assert status == 1 and "track_rel_error('infinite_well', 'fd'): 0.0 -> 1e-300" in out


def test_a_declared_accuracy_change_passes(history, capsys):
    repo, results, _ = history
    _commit(repo, "fd: fourth order\n\naccuracy-change: fd's default stencil is fourth order")
    head = _commit(repo, "head")
    _write(results, "ci", head, [1e-9, 0.0])
    status, out = _gate(repo, results, capsys)
    assert status == 0 and "declared by" in out and "fd: fourth order" in out


def test_a_declaration_before_the_base_does_not_count(tmp_path, capsys):
    repo = _new_repo(tmp_path / "repo")
    _commit(repo, "old\n\naccuracy-change: long ago")
    base = _commit(repo, "base")
    head = _commit(repo, "head")
    _write(tmp_path / "results", "bench", base, [1.0, 1.0])
    _write(tmp_path / "results", "ci", head, [2.0, 1.0])
    status, _ = _gate(repo, tmp_path / "results", capsys)
    assert status == 1


@pytest.mark.parametrize(("value", "state"), [(None, "failed"), (math.nan, "n/a")])
def test_a_track_that_lost_its_value_fails(history, capsys, value, state):
    repo, results, _ = history
    head = _commit(repo, "head")
    _write(results, "ci", head, [value, 0.0])
    status, out = _gate(repo, results, capsys)
    assert status == 1 and f"track_rel_error('finite_well', 'fd'): 1e-06 -> {state}" in out


@pytest.mark.parametrize("missing", [None, math.nan])  # failed, n/a
def test_a_track_without_a_value_at_the_base_is_reported_not_failed(history, capsys, missing):
    repo, results, base = history
    _write(results, "bench", base, [missing, 0.0])
    head = _commit(repo, "head")
    _write(results, "ci", head, [1e-6, 0.0])
    status, out = _gate(repo, results, capsys)
    assert status == 0, out
    assert "new: accuracy.Classical.track_rel_error('finite_well', 'fd')" in out


def test_no_earlier_results_pass_with_a_message(tmp_path, capsys):
    repo = _new_repo(tmp_path / "repo")
    head = _commit(repo, "first")
    _write(tmp_path / "results", "ci", head, [1.0, 1.0])
    _write(tmp_path / "results", "bench", head, [2.0, 1.0])  # HEAD's own results are not a base
    status, out = _gate(repo, tmp_path / "results", capsys)
    assert status == 0 and "no earlier commit has results" in out


def test_missing_head_results_are_a_usage_error(history, capsys):
    repo, results, _ = history
    status, out = _gate(repo, results, capsys)
    assert status == 2 and "no results of" in out


def test_read_values_expands_asv_parameter_grids():
    path = ROOT / "results" / "asv" / "xeon-2core-vm"
    files = sorted(p for p in path.glob("*.json") if p.name != "machine.json")
    assert files, "results/asv holds no results"
    read = [accuracy_gate.read_values(p)[1] for p in files]
    values = max(read, key=lambda v: sum(bool(accuracy_gate.ERROR_TRACKS.match(name)) for name, _ in v))
    classical = [params for name, params in values if name == "accuracy.Classical.track_rel_error"]
    assert len(classical) == 9 and ("'finite_well'", "'fd'") in classical

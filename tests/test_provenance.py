"""Provenance: the git state that a run records, and the environment fields."""

from __future__ import annotations

import subprocess

import pytest

from qbench.provenance import environment, fingerprint, git_state


def _git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "table.csv").write_text("a\n1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return tmp_path


def test_clean_checkout_is_not_dirty(repo):
    state = git_state(repo)
    assert len(state["commit"]) == 40 and state["dirty"] is False


def test_changed_code_is_dirty_but_results_and_untracked_files_are_not(repo):
    (repo / "results" / "table.csv").unlink()  # regenerating a committed baseline
    (repo / "notes.txt").write_text("untracked")
    assert git_state(repo)["dirty"] is False
    (repo / "code.py").write_text("x = 2\n")
    assert git_state(repo)["dirty"] is True


def test_outside_a_checkout_there_is_no_commit(tmp_path):
    assert git_state(tmp_path) == {"commit": None, "dirty": None}


def test_environment_names_versions_machine_and_determinism():
    env = environment()
    assert env["packages"]["numpy"] and env["cpu_count"] >= 1 and env["cpu_model"]
    assert set(fingerprint(env)) == {"torch", "numpy", "cpu_model"}
    assert "torch_threads" in env["determinism"]

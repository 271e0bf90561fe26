"""Provenance: the git state that a run records, and the environment fields."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess

import pytest
from fresh import run_python

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


def _environment_in_fresh_process(setup: str) -> dict:
    """``environment()`` in a new interpreter after ``setup`` (which may import torch; nothing else does)."""
    code = f"import json\n{setup}\nfrom qbench import provenance\nprint(json.dumps(provenance.environment()))"
    return json.loads(run_python(code).stdout)


def test_environment_leaves_torch_alone_when_nothing_imported_it():
    env = _environment_in_fresh_process("")
    assert env["torch_loaded"] is False
    # The installed distribution's version, so fingerprints of runs recorded with torch loaded still match.
    assert env["torch_build"] == env["packages"]["torch"] == importlib.metadata.version("torch")
    assert env["gpu"] == {"available": None, "name": None, "cuda_version": None, "count": None}
    assert env["determinism"]["torch_threads"] is None
    assert env["determinism"]["torch_deterministic_algorithms"] is None


@pytest.mark.slow  # a fresh interpreter that imports torch
def test_environment_inspects_torch_once_it_is_loaded():
    import torch

    env = _environment_in_fresh_process("import torch\ntorch.set_num_threads(3)")
    assert env["torch_loaded"] is True
    assert env["torch_build"] == torch.__version__
    assert env["determinism"]["torch_threads"] == 3
    assert env["determinism"]["torch_deterministic_algorithms"] is False
    assert isinstance(env["gpu"]["available"], bool) and env["gpu"]["count"] >= 0
    same = _environment_in_fresh_process("")
    assert fingerprint(env) == fingerprint(same)  # loaded or not, the same machine fingerprints alike


def test_environment_records_the_numerics_version_that_made_the_numbers():
    from qbench.numerics import NUMERICS_VERSION

    assert environment()["numerics_version"] == NUMERICS_VERSION >= 2

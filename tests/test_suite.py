"""Suites: the shipped ones, expansion of blocks, overrides, and errors that name the culprit."""

from __future__ import annotations

import pytest

from qbench import solvers, suite
from qbench.suite import SuiteError

CANONICAL = {"infinite_well", "finite_well", "finite_barrier"}


def test_shipped_suites_load():
    assert {"quick", "paper", "full"} <= set(suite.available())
    for name in suite.available():
        loaded = suite.load(name)
        assert loaded.cases and loaded.description
        assert len({c.case_id for c in loaded.cases}) == len(loaded.cases)


def test_quick_runs_every_solver_without_an_extra_on_the_canonical_problems_with_three_states():
    quick = suite.load("quick")
    # A ground-state-only solver (vmc) cannot take the suite's 3 states: bench_vmc.py measures it.
    built_in = [
        name
        for name in solvers.available()
        if not solvers.install_hint(name) and solvers.METHODS[name].max_states != 1
    ]
    assert {c.solver for c in quick.cases} == set(built_in)
    assert {c.problem for c in quick.cases} == CANONICAL
    # Short sweeps of the classical solvers (4 fd resolutions, 3 shooting tolerances, 3 spectral
    # sizes), one case per PINN.
    per_problem = {"fd": 4, "shooting": 3, "spectral": 3}
    expected = sum(per_problem.get(name, 1) for name in built_in)
    assert len(quick.cases) == len(CANONICAL) * expected
    assert all(c.n_states == 3 for c in quick.cases)
    assert {c.seed for c in quick.cases if c.seed is not None} == {0}


def test_paper_pairs_the_paper_pinns_with_their_problems_over_ten_seeds():
    paper = suite.load("paper")
    fixed = [c for c in paper.cases if c.solver == "pinn-fixed"]
    trainable = [c for c in paper.cases if c.solver == "pinn-trainable"]
    assert {c.problem for c in fixed} == {"infinite_well"}
    assert {c.problem for c in trainable} == {"finite_well", "finite_barrier"}
    assert sorted(c.seed for c in fixed) == list(range(10))
    # Full paper budgets: the preset defaults, not the quick suite's small ones.
    assert all(c.solver_options["adam_steps"] == 5000 for c in fixed + trainable)
    assert {"fd", "shooting"} <= {c.solver for c in paper.cases}


def test_full_sweeps_resolutions_and_every_pinn_variant_over_ten_seeds():
    full = suite.load("full")
    fd_points = {c.solver_options["n_points"] for c in full.cases if c.solver == "fd"}
    assert min(fd_points) == 100 and max(fd_points) == 10_000 and len(fd_points) >= 5
    assert len({c.solver_options["tol"] for c in full.cases if c.solver == "shooting"}) >= 4
    for name in ("pinn", "pinn-fixed", "pinn-trainable"):
        assert {c.seed for c in full.cases if c.solver == name} == set(range(10))
    assert {c.problem for c in full.cases} >= CANONICAL | {"piecewise_constant"}


def test_block_cross_product_with_sweep_and_seeds(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(
        """
n_states = 2
[[block]]
problems = ["infinite_well", { name = "finite_well", params = { V0 = 30.0 } }]
solvers = [{ name = "fd", sweep = { n_points = [100, 200] } },
           { name = "nn-galerkin", options = { adam_steps = 5 } }]
seeds = "3-4"
"""
    )
    loaded = suite.load(path)
    assert loaded.name == "mine"
    # 2 problems x (2 fd resolutions + nn-galerkin x 2 seeds)
    assert len(loaded.cases) == 2 * (2 + 2)
    assert {c.seed for c in loaded.cases if c.solver == "nn-galerkin"} == {3, 4}
    assert {c.problem_params.get("V0") for c in loaded.cases if c.problem == "finite_well"} == {30.0}
    assert all(c.n_states == 2 for c in loaded.cases)


def test_overrides_replace_settings_of_every_block():
    loaded = suite.load(
        "quick", overrides={"seeds": [1, 2], "n_states": 1, "solver_options": {"device": "cpu"}}
    )
    pinn_cases = [c for c in loaded.cases if c.solver == "pinn"]
    assert {c.seed for c in pinn_cases} == {1, 2}
    assert all(c.n_states == 1 for c in loaded.cases)
    assert "device" not in next(c for c in loaded.cases if c.solver == "fd").solver_options


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[block]\n", "malformed TOML"),
        ("n_states = 2\n", "needs at least one"),
        ('colour = "red"\n[[block]]\nproblems = ["finite_well"]\nsolvers = ["fd"]\n', "unknown key"),
        ('[[block]]\nproblems = ["finite_well"]\nsolvers = ["nope"]\n', "unknown solver 'nope'"),
        ('[[block]]\nproblems = ["nope"]\nsolvers = ["fd"]\n', "unknown problem 'nope'"),
        (
            '[[block]]\nproblems = ["finite_well"]\n'
            'solvers = [{ name = "fd", options = { n_points = 1 } }]\n',
            "block 1: n_points must be >= 5",
        ),
        ('[[block]]\nproblems = []\nsolvers = ["fd"]\n', "'problems' must be a non-empty list"),
        ('seeds = "9-3"\n[[block]]\nproblems = ["finite_well"]\nsolvers = ["pinn"]\n', "a <= b"),
        (
            '[[block]]\nproblems = ["finite_well"]\nsolvers = [{ name = "fd", sweep = { n_points = 5 } }]\n',
            "non-empty lists",
        ),
        (  # one value of a sweep out of range
            '[[block]]\nproblems = ["finite_well"]\n'
            'solvers = [{ name = "fd", sweep = { n_points = [100, 2] } }]\n',
            "block 1: n_points must be >= 5",
        ),
        (
            '[[block]]\nproblems = ["finite_well"]\nsolvers = [{ name = "fd", sweep = { n_points = [] } }]\n',
            "non-empty lists",
        ),
        (
            '[[block]]\nproblems = ["finite_well"]\nsolvers = [{ name = "fd", sweep = [1, 2] }]\n',
            "non-empty lists",
        ),
        (
            '[[block]]\nproblems = [{ name = "finite_well", sweep = { V0 = [10.0, "deep"] } }]\n'
            'solvers = ["fd"]\n',
            "V0 must be a finite real number",
        ),
    ],
)
def test_bad_suites_name_file_and_entry(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SuiteError, match=message) as caught:
        suite.load(path)
    assert str(path) in str(caught.value) or "unknown" in str(caught.value)


def test_unknown_suite_name_lists_the_shipped_ones():
    shipped = "dimensions, dimensions-long, full, paper, peers, quick"
    with pytest.raises(SuiteError, match=f"unknown suite 'nope'; available: {shipped}"):
        suite.load("nope")


FAMILY_SUITE = """
[[block]]
problems = ["infinite_well"]
solvers = [{ name = "fd", options = { n_points = 100 } }, "shooting",
           { name = "nn-galerkin", options = { adam_steps = 5 } },
           { name = "pinn-fixed", options = { adam_steps = 5 } }]
"""


def test_families_keep_only_the_solvers_of_those_families(tmp_path):
    path = tmp_path / "families.toml"
    path.write_text(FAMILY_SUITE)
    assert {c.solver for c in suite.load(path, families=("classical",)).cases} == {"fd", "shooting"}
    both = suite.load(path, families=("pinn", "neural-variational")).cases
    assert {c.solver for c in both} == {"nn-galerkin", "pinn-fixed"}
    with pytest.raises(SuiteError, match="has no solver of family reference"):
        suite.load(path, families=("reference",))
    with pytest.raises(SuiteError, match="unknown family nope; allowed: classical, pinn"):
        suite.load(path, families=("nope",))
    path.write_text(FAMILY_SUITE.replace('"shooting"', '"shootin"'))
    with pytest.raises(SuiteError, match="unknown solver 'shootin'"):  # a typo fails whatever the filter
        suite.load(path, families=("pinn",))

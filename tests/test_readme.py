"""The README's quick start and code examples match the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import qbench
import qbench.suite

README = Path(__file__).resolve().parents[1] / "README.md"


def section_code(title: str, language: str) -> str:
    text = README.read_text()
    start = text.index(title)
    match = re.compile(rf"```{language}\n(.*?)```", re.S).search(text, start)
    assert match, f"no {language} block after {title!r}"
    return match.group(1)


def test_quick_start_has_exactly_two_commands():
    commands = [line for line in section_code("## Quick start", "bash").splitlines() if line.strip()]
    assert len(commands) == 2
    assert commands[0].endswith("qbench run") and "pip install" in commands[0]
    assert commands[1].endswith("pytest") and ".[test]" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "## Quick start" in ci and "eval" in ci


@pytest.mark.parametrize("title", ["## Problems", "### Plug in your own solver", "### What a run stores"])
def test_python_examples_run(title, capsys, monkeypatch):
    monkeypatch.chdir(README.parent)  # examples name paths relative to the repository root
    try:
        exec(compile(section_code(title, "python"), str(README), "exec"), {})
    finally:
        qbench.solvers.METHODS.pop("dense-fd", None)
    if "own solver" in title:
        printed = capsys.readouterr().out
        energies = [float(v) for v in re.findall(r"[\d.]+(?:e[-+]?\d+)?", printed)]
        assert energies == pytest.approx([9.8696, 39.478], rel=1e-3)


def test_suite_file_example_loads(tmp_path):
    path = tmp_path / "my_suite.toml"
    path.write_text(section_code("### Suite files", "toml"))
    loaded = qbench.suite.load(path)
    # 2 problems x (shooting + 3 fd resolutions + pinn seed 0) + barrier x pinn-trainable x 10 seeds
    assert len(loaded.cases) == 2 * 5 + 10


def test_readme_names_every_shipped_suite_and_command():
    text = README.read_text()
    for name in qbench.suite.available():
        assert f"| `{name}`" in text
    for command in ("qbench show", "qbench compare", "qbench reproduce", "--resume", "--jobs"):
        assert command in text


def test_asv_section_has_the_commands():
    block = section_code("## Benchmark history (asv)", "bash")
    for command in (
        "asv machine --yes",
        "asv run -E existing --quick --set-commit-hash $(git rev-parse HEAD)",
        "asv run ",
        "asv continuous",
        "asv compare",
        "asv publish",
        "asv preview",
    ):
        assert command in block

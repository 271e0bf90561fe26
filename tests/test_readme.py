"""The README's quick start is what CI runs, and its links lead somewhere."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

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


@pytest.mark.skipif(shutil.which("awk") is None, reason="CI reads the README with awk")
def test_ci_reads_the_readme_test_command():
    """.ci/run's own awk line, run on the README, yields the quick start's test command."""
    ci = (README.parent / ".ci" / "run").read_text()
    (awk_line,) = re.findall(r"^test_command=\$\((awk .*)\)$", ci, re.M)
    extracted = subprocess.run(
        ["bash", "-c", awk_line], cwd=README.parent, capture_output=True, text=True, check=True
    ).stdout.strip()
    commands = [line for line in section_code("## Quick start", "bash").splitlines() if line.strip()]
    assert extracted == commands[1].strip()
    assert re.search(r'^eval "\$test_command"$', ci, re.M)


def test_links_lead_to_files_in_the_repository():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local, "the README links to its documentation"
    for link in local:
        assert (README.parent / link).exists(), link

"""The README's quick start matches CI, and its links lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

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


def test_links_lead_to_files_in_the_repository():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local, "the README links to its documentation"
    for link in local:
        assert (README.parent / link).exists(), link

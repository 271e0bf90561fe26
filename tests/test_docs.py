"""The documentation in docs/ matches the code: its examples run, its tables name what exists,
its links resolve, and nothing in the repository points outside it."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import qbench
import qbench.store
import qbench.suite

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def code_blocks(page: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", (DOCS / page).read_text(), re.S)


# solvers.md's one block is a fragment (no import), so it has nothing to run.
@pytest.mark.parametrize("page", ["problems.md", "potential.md", "results.md", "contract.md"])
def test_python_examples_run(page, monkeypatch):
    monkeypatch.chdir(ROOT)  # examples name paths relative to the repository root
    # A block without an import is a signature shown for reading, not a program.
    programs = [block for block in code_blocks(page, "python") if "import" in block]
    assert programs, f"{page} has no runnable example"
    for block in programs:
        exec(compile(block, f"{DOCS / page}", "exec"), {})


def test_the_plugin_guide_shows_the_example_plugin_verbatim():
    example = (DOCS / "examples" / "example_plugin.py").read_text()
    assert example in code_blocks("plugins.md", "python")


def test_suite_file_example_loads(tmp_path):
    path = tmp_path / "my_suite.toml"
    (toml,) = code_blocks("running.md", "toml")
    path.write_text(toml)
    loaded = qbench.suite.load(path)
    # 2 problems x (shooting + 3 fd resolutions + nn-galerkin seed 0) + barrier x pinn-trainable x 10 seeds
    assert len(loaded.cases) == 2 * 5 + 10


def test_running_names_every_shipped_suite():
    text = (DOCS / "running.md").read_text()
    for name in qbench.suite.available():
        assert f"| `{name}`" in text


@pytest.mark.slow  # 3-4 s: bootstraps the stored dimensions run and expands every shipped suite
def test_measured_page_and_suite_table_are_what_the_data_give(capsys, monkeypatch):
    """docs/measured.md and the suite table of docs/running.md are generated from the committed
    results and the built-in suites; regenerate them with `python benchmarks/measured_page.py`."""
    spec = importlib.util.spec_from_file_location("measured_page", ROOT / "benchmarks" / "measured_page.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, capsys.readouterr().out


def test_results_schema_documents_every_column():
    text = (DOCS / "results.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_0-9]+)`(?:, `([a-z_0-9]+)`)?", text, re.M))
    names = {name for pair in documented for name in pair if name}
    missing = [c for c in (*qbench.store.SCHEMA, *qbench.store.EXTRA_COLUMNS) if c not in names]
    assert not missing, f"docs/results.md does not describe {missing}"


def test_every_solver_and_problem_is_documented():
    solvers_page = (DOCS / "solvers.md").read_text()
    problems_page = (DOCS / "problems.md").read_text() + (DOCS / "potential.md").read_text()
    for name in qbench.solvers.available():
        assert f"`{name}`" in solvers_page, name
    for name in qbench.problems.available():
        assert f"`{name}`" in problems_page, name


def test_relative_links_resolve():
    for page in DOCS.glob("*.md"):
        for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in link:
                assert (page.parent / link).exists(), f"{page.name}: {link}"


#: The design notes this project started from live beside the repository, not in it (spelled in
#: pieces so that this file does not match itself).
OUTSIDE = re.compile(r"\.\./" + "shared" + "|" + "shared" + "/design")


def test_nothing_refers_outside_the_repository():
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=False
    ).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    offenders = []
    for name in tracked:
        path = ROOT / name
        if name.startswith("results/") or path.suffix not in {".py", ".md", ".toml", ".yml", ".json", ""}:
            continue
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if re.search(OUTSIDE, line):
                offenders.append(f"{name}:{number}")
    assert not offenders, offenders


def test_mkdocs_builds_the_site_strictly(tmp_path):  # about 0.3 s: in the fast set
    pytest.importorskip("mkdocs")
    mkdocs = shutil.which("mkdocs") or ""
    command = [mkdocs] if mkdocs else [sys.executable, "-m", "mkdocs"]
    result = subprocess.run(
        [*command, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "plugins" / "index.html").exists()


@pytest.mark.slow  # about a second: reads every stored run of results/baseline and results/dimensions
def test_readme_verdict_table_is_what_the_stored_runs_give(capsys):
    """README.md's verdict table is generated from results/baseline and results/dimensions;
    regenerate it with `python benchmarks/readme_tables.py`."""
    spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "benchmarks" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, capsys.readouterr().out

"""Start-up: ``import qbench`` and the commands that never train leave torch and the run machinery unloaded.

Each check runs in a fresh interpreter (tests/fresh.py), since this one has
imported everything long ago, and prints which of :data:`HEAVY` got imported
(the fast checks of import, help and list share one, step after step).
"""

from __future__ import annotations

import json

import pytest
from fresh import run_python

from qbench.cli import main
from qbench.solvers.builtin import LAZY_SOLVERS

#: Modules that cost a second or more to import, or that only running cases needs.
HEAVY = (
    "torch",
    "matplotlib",
    "seaborn",
    "pandas",
    "distributed",
    "tqdm",
    "quimb",  # the tt solver's optional extra: imported when a solve starts
    "deepxde",  # the deepxde solver's optional extra: seconds to import, imported when a solve starts
    "qbench.runner",
    "qbench.executors",
    "qbench.harness",
)
#: The modules of the lazily registered solvers.
LAZY_MODULES = tuple(sorted({target.partition(":")[0] for target in LAZY_SOLVERS.values()}))
#: The neural solvers' class modules (their networks and training live in modules of their own).
NEURAL_CLASS_MODULES = (
    "nn_galerkin",
    "pinn",
    "pinn_fixed",
    "pinn_trainable",
    "deepxde",
    "energy_modes",
    "base",
)


def loaded_after_each(*steps: str) -> list[dict[str, bool]]:
    """Which of :data:`HEAVY` and :data:`LAZY_MODULES` one fresh interpreter has imported after each
    of ``steps``, run one after the other (each step's list counts what the steps before it imported)."""
    names = (*HEAVY, *LAZY_MODULES)
    probe = f"import json, sys\nprint(json.dumps({{n: n in sys.modules for n in {names!r}}}))"
    code = "\n".join(f"{step}\n{probe}" for step in steps)
    lines = run_python(code).stdout.splitlines()
    return [json.loads(line) for line in lines[-len(steps) :]]


def loaded_after(code: str) -> dict[str, bool]:
    """Which of :data:`HEAVY` and :data:`LAZY_MODULES` a fresh interpreter has imported after ``code``."""
    return loaded_after_each(code)[0]


def _cli(*argv: str) -> str:
    """Code that runs ``qbench ARGV`` through :func:`qbench.cli.main` with its output silenced."""
    return (
        "import contextlib, io\nfrom qbench.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    assert main({list(argv)!r}) == 0"
    )


#: ``import qbench``, ``qbench --help``, ``qbench list``, then the neural class modules, in one fresh
#: interpreter (one start-up instead of four): each check below reads what was loaded after its step,
#: which includes what the steps before it loaded, so each is at least as strict as in its own interpreter.
STARTUP_STEPS = {
    "import": "import qbench",
    "help": (
        "import contextlib, io\nfrom qbench.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit as exc:\n        assert exc.code == 0"
    ),
    "list": _cli("list"),
    "neural classes": "\n".join(
        [*(f"import qbench.solvers.neural.{m}" for m in NEURAL_CLASS_MODULES), "qbench.solvers.get('pinn')"]
    ),
}


@pytest.fixture(scope="module")
def startup() -> dict[str, dict[str, bool]]:
    return dict(zip(STARTUP_STEPS, loaded_after_each(*STARTUP_STEPS.values())))


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("imports") / "run"
    argv = ["run", "--problem", "infinite_well", "--solver", "fd:n_points=64", "--states", "1"]
    assert main([*argv, "--no-report", "--out", str(out)]) == 0
    return out


@pytest.mark.slow  # a fresh interpreter each (about a second); the fast set keeps import, help and list
def test_the_probe_sees_what_was_imported():
    seen = loaded_after("import torch, qbench.runner")
    assert seen["torch"] and seen["qbench.runner"] and not seen["matplotlib"]


def test_import_qbench_imports_nothing_heavy(startup):
    seen = startup["import"]
    assert not any(seen.values()), sorted(n for n, v in seen.items() if v)


@pytest.mark.slow  # a fresh interpreter each (about a second); the fast set keeps import, help and list
def test_listing_solver_names_imports_no_solver_module():
    seen = loaded_after("import qbench\nnames = qbench.solvers.available()\nassert 'pinn' in names, names")
    assert not any(seen.values()), sorted(n for n, v in seen.items() if v)


@pytest.mark.slow  # a fresh interpreter each (about a second); the fast set keeps import, help and list
def test_a_lazy_solver_is_imported_at_its_first_lookup_and_a_classical_one_imports_none():
    seen = loaded_after("import qbench\nassert qbench.solvers.METHODS['fd'].family == 'classical'")
    assert not any(seen[m] for m in LAZY_MODULES)
    module = LAZY_SOLVERS["deepxde"].partition(":")[0]
    seen = loaded_after("import qbench\nassert qbench.solvers.family('deepxde') == 'pinn'")
    assert seen[module]


def test_help_imports_nothing_heavy(startup):
    seen = startup["help"]
    assert not any(seen.values()), sorted(n for n, v in seen.items() if v)


def test_list_leaves_torch_unloaded(startup):
    seen = startup["list"]
    assert not seen["torch"]


def test_the_neural_class_modules_import_without_torch(startup):
    """The neural solvers' class modules, and looking pinn up, import neither torch nor DeepXDE."""
    seen = startup["neural classes"]
    assert not seen["torch"] and not seen["deepxde"]


@pytest.mark.slow  # a fresh interpreter each (about a second); the fast set keeps import, help and list
def test_list_imports_no_run_machinery():
    seen = loaded_after(_cli("list"))
    heavy = [n for n in HEAVY if seen[n]]
    assert not heavy, heavy


@pytest.mark.slow  # a fresh interpreter each (about a second); the fast set keeps import, help and list
def test_show_needs_pandas_but_neither_torch_nor_matplotlib(stored_run):
    seen = loaded_after(_cli("show", str(stored_run)))
    assert seen["pandas"]  # the stored tables: the probe would notice a show that read nothing
    assert not any(seen[n] for n in ("torch", "matplotlib", "seaborn", "qbench.runner", "qbench.executors"))


@pytest.mark.slow  # a fresh interpreter each (about a second); the fast set keeps import, help and list
def test_compare_needs_pandas_but_neither_torch_nor_matplotlib(stored_run):
    seen = loaded_after(_cli("compare", str(stored_run), str(stored_run)))
    assert seen["pandas"]
    assert not any(seen[n] for n in ("torch", "matplotlib", "seaborn", "qbench.runner", "qbench.executors"))

"""The generic registry: the first-read hook, lazy ``"module:Class"`` entries, name rules and errors."""

from __future__ import annotations

import sys
import types

import pytest

from qbench import plugins, solvers
from qbench.registry import LazyEntry, Registry, check_name_free, class_name, unknown_name_error
from qbench.solvers.builtin import LAZY_SOLVERS


class Thing:
    name = "thing"


class Other:
    name = "other"


@pytest.fixture
def lazy_module(tmp_path, monkeypatch):
    """A module ``tr_lazy`` on ``sys.path``, not imported: ``"tr_lazy" in sys.modules`` says when it is."""
    classes = "class Thing:\n    name = 'lazy-thing'\n\n\nclass Misnamed:\n    name = 'wrong'\n"
    (tmp_path / "tr_lazy.py").write_text(f"{classes}\n\nnot_a_class = 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("tr_lazy", None)


def test_the_hook_runs_once_before_the_first_read_and_again_after_rearm():
    registry = Registry("thing")
    calls = []
    registry.before_first_read(lambda: calls.append(sorted(dict.keys(registry))))
    registry["thing"] = Thing  # writes do not run it
    assert calls == []
    assert "thing" in registry and registry["thing"] is Thing and len(registry) == 1
    assert calls == [["thing"]]
    registry.rearm()
    assert list(registry) == ["thing"] and registry.get("nope", 7) == 7
    assert calls == [["thing"], ["thing"]]


def test_the_hook_may_read_the_registry_it_serves():
    registry = Registry("thing")

    def hook():
        registry["other"] = Other
        assert "thing" not in registry  # no recursion: the hook is disarmed before it runs

    registry.before_first_read(hook)
    assert sorted(registry) == ["other"]


def test_a_lazy_entry_is_imported_at_its_first_lookup_only(lazy_module):
    registry = Registry("thing")
    registry.add_lazy("lazy-thing", "tr_lazy:Thing")
    assert "lazy-thing" in registry and list(registry.keys()) == ["lazy-thing"] and len(registry) == 1
    assert "tr_lazy" not in sys.modules  # names, membership and size import nothing
    entry = registry.raw()["lazy-thing"]
    assert isinstance(entry, LazyEntry) and entry.loaded is None
    cls = registry["lazy-thing"]
    assert cls is sys.modules["tr_lazy"].Thing
    assert registry.get("lazy-thing") is cls and registry.values() == [cls]
    assert registry.items() == [("lazy-thing", cls)]
    assert registry.raw()["lazy-thing"] is entry and entry.loaded is cls  # the entry stays, holding the class


def test_a_lazy_entry_goes_through_the_registrys_check_and_must_carry_its_name(lazy_module):
    refused = []

    def check(cls):
        refused.append(cls.__name__)
        raise TypeError(f"{cls.__name__} refused")

    registry = Registry("thing", check=check)
    registry.add_lazy("lazy-thing", "tr_lazy:Thing")
    for _ in range(2):  # a refused class is not kept: the next lookup checks it again
        with pytest.raises(TypeError, match="Thing refused"):
            registry["lazy-thing"]
    assert refused == ["Thing", "Thing"] and registry.raw()["lazy-thing"].loaded is None
    registry = Registry("thing")
    registry.add_lazy("misnamed", "tr_lazy:Misnamed")
    with pytest.raises(ImportError, match="tr_lazy:Misnamed is named 'wrong', but registered as 'misnamed'"):
        registry["misnamed"]
    registry.add_lazy("three", "tr_lazy:not_a_class")
    with pytest.raises(ImportError, match="tr_lazy:not_a_class is 3, not a class"):
        registry["three"]


@pytest.mark.parametrize("target", ["tr_lazy", ":Thing", "tr_lazy:", 3])
def test_a_lazy_entry_must_name_a_module_and_a_class(target):
    with pytest.raises(ValueError, match="must be 'module:Qualname'"):
        LazyEntry(target)


def test_names_are_taken_by_classes_and_by_lazy_entries():
    registry = Registry("thing")
    registry.add_lazy("thing", f"{__name__}:Thing")
    check_name_free("thing", registry, Thing)  # the class the entry names may register over it
    impostor = type("Thing", (), {"name": "thing", "__module__": "elsewhere"})
    with pytest.raises(ValueError) as taken:
        check_name_free("thing", registry, impostor)
    assert str(taken.value) == (
        f"thing name 'thing' is taken: {__name__}.Thing is registered under it, so elsewhere.Thing cannot be"
    )
    with pytest.raises(ValueError, match=f"thing name 'thing' is taken by {__name__}.Thing"):
        registry.add_lazy("thing", "elsewhere:Thing")
    registry.add_lazy("thing", f"{__name__}:Thing")  # the same target again: fine


def test_class_name_names_the_file_a_module_was_run_from(tmp_path):
    module = types.ModuleType("tr_from_file")
    module.__file__ = str(tmp_path / "mine.py")
    module.__spec__ = __import__("importlib.machinery").machinery.ModuleSpec("tr_from_file", None)
    cls = type("Mine", (), {"__module__": "tr_from_file"})
    sys.modules["tr_from_file"] = module
    try:
        assert class_name(cls) == f"tr_from_file.Mine (from {tmp_path / 'mine.py'})"
    finally:
        del sys.modules["tr_from_file"]
    assert class_name(Thing) == f"{__name__}.Thing"  # an imported module: its name says where


def test_unknown_name_errors_list_the_names_and_the_registrys_notes():
    registry = Registry("thing")
    registry["thing"] = Thing
    registry["other"] = Other
    assert (
        str(unknown_name_error("thing", "nope", registry)) == "unknown thing 'nope'; available: other, thing"
    )
    registry.explain_unknown(lambda: ("a broke", "b broke"))
    assert str(unknown_name_error("thing", "nope", registry)) == (
        "unknown thing 'nope'; available: other, thing; note: a broke; b broke"
    )


def test_the_solver_and_problem_registries_carry_the_plugin_hooks():
    assert plugins.Registry is Registry  # the public name still works
    assert solvers.METHODS._hook is plugins.entry_points._lazy_entry_points
    # Lazy until something in this process looks it up (other tests may have); either way it is
    # the entry of the one table of lazily registered built-ins.
    entry = solvers.METHODS.raw()["nn-galerkin"]
    target = entry.target if isinstance(entry, LazyEntry) else f"{entry.__module__}:{entry.__qualname__}"
    assert target == LAZY_SOLVERS["nn-galerkin"]
    assert solvers.METHODS["nn-galerkin"].family == "neural-variational"

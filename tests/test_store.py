"""The store: atomic case records, tables in Parquet and CSV that agree, loading, bad directories."""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest

from qbench import runner, store
from qbench.cases import Case
from qbench.executors import InProcess
from qbench.store import SCHEMA, RunDirectory, StoreError


def _cases():
    return [
        Case.resolve("infinite_well", "fd", solver_options={"n_points": 100}, n_states=2),
        Case.resolve("finite_well", "nn-galerkin", solver_options={"adam_steps": 10}, seed=0, n_states=2),
    ]


#: Columns of today's rows that older runs lack: the store fills them in.
NEWER = ("reference", "reference_rel_bound", "dim", "group", "subspace_sine")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("store") / "run"
    run = runner.create(_cases(), suite={"name": "t"}, out=out)
    runner.execute(run, InProcess(timing_budget_s=0.0))
    return out


def test_run_directory_layout_and_schema(finished_run):
    names = {p.name for p in finished_run.iterdir()}
    assert {
        "provenance.json",
        "cases",
        "results.parquet",
        "results.csv",
        "histories.parquet",
        "histories.csv",
        "wavefunctions.parquet",
    } <= names
    assert not [n for n in names if n.endswith(".tmp")]
    data = store.load(finished_run)
    assert list(data.results.columns[: len(SCHEMA)]) == list(SCHEMA)
    assert len(data.results) == 4 and set(data.results["run_id"]) == {data.run_id}
    assert data.results["seed"].dtype == "Int64" and data.results["seed"].isna().sum() == 2
    assert set(data.histories["case_id"]) == {_cases()[1].case_id}
    assert {"step", "loss", "energy", "time_s"} <= set(data.histories.columns)
    assert data.provenance["status"] == "complete"
    assert len(data.wavefunctions) == 2 * 2 * 201 and set(data.wavefunctions["state"]) == {0, 1}
    assert [c.case_id for c in data.cases] == [c.case_id for c in _cases()]
    assert data.results["family"].tolist() == ["classical"] * 2 + ["neural-variational"] * 2
    assert {"case_status", "case_message", "cpu_mem_increase_mb", "peak_rss_mb"} <= set(data.results.columns)
    assert data.results["dim"].tolist() == [1] * 4 and data.results["group"].tolist() == [0, 1] * 2
    assert data.results["dim"].dtype == "int64" and data.results["subspace_sine"].dtype == "float64"
    # 1D samples run wall to wall: the line along axis 0 through the centre, as in every d.
    assert set(data.wavefunctions["line"]) == {'{"axis":0,"point":[0.5]}', '{"axis":0,"point":[0.0]}'}


def test_parquet_csv_and_case_records_agree_bit_for_bit(finished_run):
    parquet = pd.read_parquet(finished_run / "results.parquet")
    csv = pd.read_csv(finished_run / "results.csv")
    for column in ("energy", "energy_ref", "rel_error", "l2_error", "subspace_sine", "wall_time_s"):
        assert parquet[column].tolist() == csv[column].tolist()
    assert store.consistency_problems(store.load(finished_run)) == []


def test_an_edited_number_is_an_inconsistency(finished_run, tmp_path):
    copy = tmp_path / "copy"
    os.system(f"cp -r {finished_run} {copy}")
    table = pd.read_csv(copy / "results.csv")
    table.loc[1, "energy"] = table.loc[1, "energy"] * (1 + 1e-9)
    table.to_csv(copy / "results.csv", index=False)
    problems = store.consistency_problems(store.load(copy))
    assert len(problems) == 1 and "results.csv row 1" in problems[0] and "energy" in problems[0]


def test_provenance_records_environment_command_and_cases(finished_run):
    prov = json.loads((finished_run / "provenance.json").read_text())
    env = prov["environment"]
    for key in (
        "qbench_version",
        "git",
        "python",
        "packages",
        "cpu_model",
        "cpu_count",
        "gpu",
        "determinism",
        "cpu_memory_measure",
    ):
        assert key in env
    assert {"torch", "numpy", "scipy", "pandas"} <= set(env["packages"])
    assert "commit" in env["git"] and "dirty" in env["git"]
    assert prov["command_line"] and prov["start_time"] <= prov["end_time"]
    assert prov["seeds"] == [0] and len(prov["cases"]) == 2
    assert prov["executor"]["name"] == "in-process"


def test_load_by_run_id_under_a_root(finished_run):
    data = store.load(finished_run.name, root=finished_run.parent)
    assert data.path == finished_run


@pytest.mark.parametrize("setup", ["file", "nonempty", "run"])
def test_unusable_output_directories_are_refused(tmp_path, setup):
    target = tmp_path / "out"
    if setup == "file":
        target.write_text("x")
    elif setup == "nonempty":
        target.mkdir()
        (target / "notes.txt").write_text("mine")
    else:
        RunDirectory.create(target, {"run_id": "r", "cases": []})
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(StoreError, match="out"):
        RunDirectory.check_new(target)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_run_being_created_elsewhere_is_taken_not_foreign(tmp_path):
    """A second process racing to create the same run finds the first one's empty ``cases`` folder
    and provenance temporary: the exclusive provenance write, not the emptiness check, refuses it,
    saying the run is taken; a foreign file is still refused as foreign, and nothing is written."""
    target = tmp_path / "out"
    (target / "cases").mkdir(parents=True)
    (target / ".provenance.json.abc123.tmp").write_text("{")
    RunDirectory.check_new(target)  # what the first process made so far is not foreign
    RunDirectory.create(target, {"run_id": "first", "cases": []})
    with pytest.raises(StoreError, match="already holds a run"):
        RunDirectory.create(target, {"run_id": "second", "cases": []})
    assert store.read_provenance(target)["run_id"] == "first"
    (target / "cases" / "note.txt").write_text("mine")
    other = tmp_path / "other"
    (other / "cases").mkdir(parents=True)
    (other / "cases" / "note.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a qbench run"):
        RunDirectory.check_new(other)


def test_an_output_below_a_file_is_not_writable(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="not writable"):
        RunDirectory.check_new(tmp_path / "file" / "run")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_a_read_only_parent_is_not_writable(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(StoreError, match="not writable"):
        RunDirectory.check_new(locked / "run")


def test_missing_runs_and_directories_without_provenance(tmp_path):
    with pytest.raises(StoreError, match="not found"):
        store.load(tmp_path / "nowhere")
    with pytest.raises(StoreError, match=r"no provenance\.json"):
        store.load(tmp_path)


def test_a_run_of_an_older_qbench_loads_in_todays_columns(finished_run, tmp_path):
    """Older runs: no family, one status per case, the absolute peak RSS as peak_cpu_mem_mb, no
    reference, no dim, group or subspace sine (1D only), no line in the wavefunction samples (or,
    later, ``""`` for a 1D problem): it reads as today's line."""
    old = tmp_path / "old"
    old.mkdir()
    (old / "cases").mkdir()
    (old / "provenance.json").write_text((finished_run / "provenance.json").read_text())
    for file in (finished_run / "cases").glob("*.json"):
        record = json.loads(file.read_text())
        for row in record["rows"]:
            row["peak_cpu_mem_mb"] = row.pop("peak_rss_mb")
            for column in ("family", "case_status", "case_message", "cpu_mem_increase_mb", *NEWER):
                row.pop(column)
        for k, entry in enumerate(record["wavefunctions"]):
            if k % 2:
                entry.pop("line")
            else:
                entry["line"] = ""
        (old / "cases" / file.name).write_text(json.dumps(record))
    RunDirectory.open(old).write_tables()
    new, upgraded = store.load(finished_run).results, store.load(old).results
    assert list(upgraded.columns[: len(SCHEMA)]) == list(SCHEMA)
    assert upgraded["dim"].tolist() == [1] * 4 and upgraded["group"].tolist() == upgraded["state"].tolist()
    assert upgraded["subspace_sine"].isna().all() and upgraded["reference"].eq("exact").all()
    lines = store.load(finished_run).wavefunctions["line"].tolist()
    for upgrade in (store.load(old), store.assemble(old, store.load(old).provenance)):  # Parquet, records
        assert upgrade.wavefunctions["line"].tolist() == lines
    assert upgraded["family"].tolist() == new["family"].tolist()
    assert upgraded["case_status"].tolist() == upgraded["status"].tolist()
    assert upgraded["peak_rss_mb"].tolist() == new["peak_rss_mb"].tolist()
    assert upgraded["cpu_mem_increase_mb"].tolist() == pytest.approx(new["cpu_mem_increase_mb"].tolist())
    assert "peak_cpu_mem_mb" not in upgraded
    assert store.consistency_problems(store.load(old)) == []


def test_an_edited_case_status_is_a_consistency_problem(finished_run, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in finished_run.iterdir():
        if item.is_file():
            (copy / item.name).write_bytes(item.read_bytes())
    (copy / "cases").mkdir()
    for file in (finished_run / "cases").glob("*.json"):
        (copy / "cases" / file.name).write_text(file.read_text())
    csv = pd.read_csv(copy / "results.csv")
    csv.loc[0, "case_status"] = "failed"
    csv.to_csv(copy / "results.csv", index=False)
    problems = store.consistency_problems(store.load(copy))
    assert len(problems) == 1 and "case_status" in problems[0] and problems[0].startswith("results.csv")


# -- faults: a full disk, a second writer, damaged records and tables ----------------------------
def test_a_failed_write_names_the_file_and_leaves_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / "file.json"
    store.write_atomic(target, "old")

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "fsync", full)
    with pytest.raises(store.StoreWriteError, match=f"cannot write {target}: No space left on device") as e:
        store.write_atomic(target, "new")
    assert e.value.errno == 28 and isinstance(e.value, OSError)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["file.json"]


def test_a_run_that_cannot_write_its_provenance_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(store.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space")))
    with pytest.raises(store.StoreWriteError):
        runner.create(_cases(), suite={"name": "t"}, out=tmp_path / "a" / "run")
    assert list(tmp_path.iterdir()) == []


def test_of_two_creators_of_one_run_only_one_succeeds(tmp_path, monkeypatch):
    provenance = {"run_id": "x", "cases": []}
    RunDirectory.create(tmp_path / "run", {**provenance, "run_id": "first"})
    # The second passed its check before the first wrote (a race): the exclusive write stops it.
    monkeypatch.setattr(RunDirectory, "check_new", staticmethod(lambda path: None))
    with pytest.raises(StoreError, match="already holds a run"):
        RunDirectory.create(tmp_path / "run", {**provenance, "run_id": "second"})
    assert store.read_provenance(tmp_path / "run")["run_id"] == "first"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["cases", "provenance.json"]


def test_corrupt_records_are_found_and_set_aside(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    files = sorted((copy / "cases").glob("*.json"))
    files[0].write_text(files[0].read_text()[:50])  # torn
    files[1].write_text(json.dumps({"case_id": "someone-else", "rows": [{}]}))  # not this case's
    run = RunDirectory.open(copy)
    assert run.corrupt_records() == files
    assert "JSONDecodeError" in store.record_problem(files[0])
    assert "case_id" in store.record_problem(files[1])
    with pytest.raises(StoreError, match="is corrupt"):
        store.assemble(copy, run.provenance)
    assert run.quarantine_corrupt_records() == [f.name for f in files]
    assert run.finished_ids() == set() and (copy / "cases" / f".{files[0].name}.corrupt").exists()


def test_unreadable_or_stale_tables_are_read_from_the_records(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    expected = store.load(finished_run).results
    (copy / "results.parquet").write_bytes(b"PAR1 not a table PAR1")
    with pytest.warns(store.StoreWarning, match="cannot be read"):
        data = store.load(copy)
    pd.testing.assert_frame_equal(data.results, expected)
    assert not RunDirectory.open(copy).tables_agree()
    assert any("results.parquet cannot be read" in p for p in store.consistency_problems(data))

    # Tables written for fewer records than are on disk are behind: the records win.
    provenance = json.loads((copy / "provenance.json").read_text())
    provenance["tables_cases"] = 1
    (copy / "provenance.json").write_text(json.dumps(provenance))
    (copy / "results.parquet").write_bytes((finished_run / "results.parquet").read_bytes())
    pd.testing.assert_frame_equal(store.load(copy).results, expected)

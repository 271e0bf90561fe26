"""The results store: one directory per run.

Layout of a run directory::

    provenance.json     environment, command line, times, status, and the full list of cases
    cases/<case_id>.json  one record per finished case (written atomically, the source of truth)
    results.parquet, results.csv      one row per case x state
    histories.parquet, histories.csv  PINN training histories, keyed by case_id
    wavefunctions.parquet  each state and the exact one on 201 points, for plots
    .writer.lock        held (flock) by the one process writing the run

Each finished case is written to a temporary file and renamed into
``cases/`` before the next case starts, so a crash, Ctrl-C or SIGKILL never
loses a finished case nor leaves a half-written one; the tables are rebuilt
from the case records whenever a run finishes or is interrupted, and
:func:`load` rebuilds them for a run that was killed before that. The store
knows nothing of how cases are executed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cases import Case, canonical_json
from .harness.certify import UNCERTIFIED_COLUMNS

PROVENANCE = "provenance.json"
LOCK = ".writer.lock"
CASES = "cases"
RESULTS = "results"
HISTORIES = "histories"
DEFAULT_ROOT = Path("results") / "runs"

#: The results columns, in order; more follow them. ``status``/``message`` are the state's own,
#: ``case_status``/``case_message`` the case's (ok only if every state is); ``cpu_mem_increase_mb``
#: is the peak RSS during the case minus the RSS at its start, ``peak_rss_mb`` the absolute peak;
#: ``reference`` says what graded the row (``exact`` or ``certified``), ``reference_rel_bound`` its bound;
#: ``dim`` is the problem's dimension, ``group`` the state's degenerate level and ``subspace_sine`` the
#: sine of the largest angle between the computed and the exact span of that level (docs/results.md).
SCHEMA = (
    "run_id",
    "case_id",
    "problem",
    "problem_params",
    "dim",
    "solver",
    "family",
    "solver_options",
    "seed",
    "device",
    "state",
    "group",
    "energy",
    "energy_ref",
    "reference",
    "reference_rel_bound",
    "abs_error",
    "rel_error",
    "l2_error",
    "subspace_sine",
    "tolerance",
    "residual",
    "rayleigh_quotient",
    "rq_rel_error",
    "bound_lo",
    "bound_hi",
    "verified_by",
    "index_checked_by",
    "trained_energy",
    "trained_rel_error",
    "consensus_spread",
    "wall_time_s",
    "cpu_mem_increase_mb",
    "peak_gpu_mem_mb",
    "iterations",
    "status",
    "message",
    "case_status",
    "case_message",
)
EXTRA_COLUMNS = (
    "peak_rss_mb",
    "n_states",
    "wall_time_min_s",
    "wall_time_max_s",
    "repeats",
    "solve_time_total_s",
    "case_time_s",
    "cpu_mem_at_start_mb",
    "certify_s",
    "solver_info",
)
HISTORY_COLUMNS = ("run_id", "case_id", "state", "step", "phase", "loss", "energy", "time_s")
#: ``line`` is the JSON ``{"axis": 0, "point": [...]}`` in every d: the samples lie on
#: ``point + t e_0``, and ``x`` is their coordinate 0 (in 1D the whole domain; older runs wrote ``""``
#: there, which reads as today's line, :func:`_upgrade_samples`).
WAVEFUNCTION_COLUMNS = ("run_id", "case_id", "state", "x", "psi", "psi_ref", "line")
WAVEFUNCTIONS = "wavefunctions"


class StoreError(ValueError):
    """A run directory that cannot be created, opened or read."""


class StoreWarning(UserWarning):
    """A stored run read a second way (its tables were unreadable, so its case records were used)."""


@dataclass(frozen=True)
class RunData:
    """A stored run: the results and histories tables and the provenance."""

    results: pd.DataFrame
    histories: pd.DataFrame
    provenance: dict[str, Any]
    path: Path
    wavefunctions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=WAVEFUNCTION_COLUMNS))

    @property
    def run_id(self) -> str:
        return str(self.provenance["run_id"])

    @property
    def cases(self) -> list[Case]:
        return [Case.from_dict(c) for c in self.provenance["cases"]]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files readable by the owner only; stored runs are meant to be shared.
_FILE_MODE = 0o666 & ~_current_umask()


class StoreWriteError(OSError):
    """A file of a run could not be written: a full disk, a read-only or vanished folder, a quota.

    An :class:`OSError` (``errno`` is the cause's); the message names the file.
    """

    def __init__(self, path: Path, cause: OSError):
        reason = cause.strerror or str(cause) or type(cause).__name__
        super().__init__(cause.errno, f"cannot write {path}: {reason}")
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.args[1])


def write_atomic(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never a part.

    With ``exclusive``, the file must not exist yet: of two processes that race to create it,
    exactly one succeeds and the other gets :class:`FileExistsError`. Any other failure to write
    raises :class:`StoreWriteError` and leaves ``path`` as it was.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise StoreWriteError(path, exc) from None
    try:
        os.chmod(temporary, _FILE_MODE)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if exclusive:
            os.link(temporary, path)  # fails if path exists, unlike replace
            os.unlink(temporary)
        else:
            os.replace(temporary, path)
    except FileExistsError:
        Path(temporary).unlink(missing_ok=True)
        raise
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise StoreWriteError(path, exc) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _made_before_provenance(entry: Path) -> bool:
    """Whether ``entry`` is what :meth:`RunDirectory.create` makes before ``provenance.json``
    exists: an empty ``cases`` folder, the provenance's temporary file. A second process that
    races to create the same run sees these; it goes on, and the exclusive write of the
    provenance then tells it that the run is taken (not that the folder is foreign)."""
    if entry.name == CASES and entry.is_dir():
        return not any(entry.iterdir())
    return entry.name.startswith(f".{PROVENANCE}.") and entry.name.endswith(".tmp")


def _dumps(value: Any, indent: int | None = 1) -> str:
    # NaN is legal in Python's JSON dialect; keeping it keeps failed states' NaN energies exact.
    return json.dumps(value, indent=indent, allow_nan=True)


class RunDirectory:
    """A run directory being written (see the module docstring for the layout)."""

    def __init__(self, path: Path, provenance: dict[str, Any]):
        self.path = Path(path)
        self.provenance = provenance

    # -- creating and opening ------------------------------------------------------
    @staticmethod
    def check_new(path: Path) -> None:
        """Raise :class:`StoreError` unless a new run can be created at ``path``."""
        path = Path(path)
        if path.exists():
            if not path.is_dir():
                raise StoreError(f"output {path} exists and is not a directory")
            if (path / PROVENANCE).exists():
                raise StoreError(f"output {path} already holds a run; use --resume {path} to finish it")
            if any(not _made_before_provenance(entry) for entry in path.iterdir()):
                raise StoreError(f"output {path} exists, is not empty and is not a qbench run")
        parent = path if path.exists() else _existing_ancestor(path)
        if not parent.is_dir():
            raise StoreError(f"output {path} is not writable ({parent} is not a directory)")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise StoreError(f"output {path} is not writable (no write permission on {parent})")

    @classmethod
    def create(cls, path: Path, provenance: dict[str, Any]) -> RunDirectory:
        """Create the directory and write ``provenance.json`` (which must list the cases).

        Of two processes creating a run at the same ``path``, one succeeds and the other gets a
        :class:`StoreError`. A folder that cannot be written raises :class:`StoreWriteError`, and
        whatever this call created is removed again.
        """
        cls.check_new(path)
        path = Path(path)
        created = [p for p in (path, *path.parents) if not p.exists()]
        try:
            (path / CASES).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreWriteError(path, exc) from None
        run = cls(path, dict(provenance))
        try:
            write_atomic(path / PROVENANCE, _dumps(run.provenance), exclusive=True)
        except FileExistsError:
            raise StoreError(f"output {path} already holds a run; use --resume {path} to finish it") from None
        except StoreWriteError:
            with contextlib.suppress(OSError):  # nothing this call made stays behind
                (path / CASES).rmdir()
                for folder in created:  # innermost first
                    folder.rmdir()
            raise
        return run

    @classmethod
    def open(cls, path: Path) -> RunDirectory:
        """Open an existing run directory."""
        return cls(Path(path), read_provenance(path))

    # -- writing -----------------------------------------------------------------
    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold the run's single-writer lock; :class:`StoreError` if another process holds it.

        Stops ``--resume`` of a run that is still being written elsewhere from
        writing the same cases twice. The kernel drops the lock when its holder
        dies, so a killed run can always be resumed. (POSIX ``flock``; a no-op
        where that does not exist.)
        """
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        with open(self.path / LOCK, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreError(f"run {self.path} is being written by another qbench process") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def cases(self) -> list[Case]:
        return [Case.from_dict(c) for c in self.provenance["cases"]]

    def save_provenance(self) -> None:
        write_atomic(self.path / PROVENANCE, _dumps(self.provenance))

    def finished_ids(self) -> set[str]:
        """Ids of the cases whose records are on disk."""
        return {p.stem for p in (self.path / CASES).glob("*.json")}

    def corrupt_records(self) -> list[Path]:
        """The case records that do not read back whole (:func:`record_problem`)."""
        return [f for f in sorted((self.path / CASES).glob("*.json")) if record_problem(f) is not None]

    def quarantine_corrupt_records(self) -> list[str]:
        """Move every case record that does not read back whole aside; return the files moved.

        A record is written atomically, so only a disk fault or a hand edit can break one. The
        broken file is renamed to a hidden ``.<case_id>.json.corrupt`` (kept, not deleted), so the
        case counts as unfinished and runs again.
        """
        moved = []
        for file in self.corrupt_records():
            os.replace(file, file.with_name(f".{file.name}.corrupt"))
            moved.append(file.name)
        return moved

    def tables_agree(self) -> bool:
        """Whether the results, histories and wavefunction tables exist and say what the records say."""
        if not all((self.path / f"{name}.parquet").exists() for name in (RESULTS, HISTORIES, WAVEFUNCTIONS)):
            return False
        return not _copies_disagree(self.path, assemble(self.path, self.provenance).results)

    def write_case(self, record: dict[str, Any]) -> None:
        """Persist one finished case atomically (:class:`StoreWriteError` if the disk refuses)."""
        write_atomic(self.path / CASES / f"{record['case_id']}.json", _dumps(record, indent=None))

    def write_tables(self) -> RunData:
        """(Re)build the results and histories tables from the case records, Parquet and CSV.

        Records in ``provenance["tables_cases"]`` how many case records the tables hold (saved with
        the provenance), so :func:`load` can tell tables that are behind the records.
        """
        data = assemble(self.path, self.provenance)
        for name, table in ((RESULTS, data.results), (HISTORIES, data.histories)):
            _write_table(self.path, name, table)
        # Plot samples only: Parquet, no CSV (it would be most of a run's size and nobody reads it by eye).
        _write_table(self.path, WAVEFUNCTIONS, data.wavefunctions, suffixes=(".parquet",))
        self.provenance["tables_cases"] = int(data.results["case_id"].nunique()) if len(data.results) else 0
        return data


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def _write_table(folder: Path, name: str, table: pd.DataFrame, suffixes=(".parquet", ".csv")) -> None:
    writers = {".parquet": _to_parquet, ".csv": _to_csv}
    for suffix, writer in ((suffix, writers[suffix]) for suffix in suffixes):
        target = folder / f"{name}{suffix}"
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=suffix)
        except OSError as exc:
            raise StoreWriteError(target, exc) from None
        os.close(handle)
        try:
            writer(table, temporary)
            os.chmod(temporary, _FILE_MODE)
            os.replace(temporary, target)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise StoreWriteError(target, exc) from None
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _to_parquet(table: pd.DataFrame, path: str) -> None:
    table.to_parquet(path, index=False)


def _to_csv(table: pd.DataFrame, path: str) -> None:
    # pandas writes the shortest repr of each float, which reads back bit-identical.
    table.to_csv(path, index=False)


# -- reading -----------------------------------------------------------------------
def read_provenance(path: Path) -> dict[str, Any]:
    """``provenance.json`` of a run directory, or :class:`StoreError` naming what is wrong."""
    path = Path(path)
    if not path.is_dir():
        raise StoreError(f"run {path} does not exist")
    file = path / PROVENANCE
    if not file.exists():
        raise StoreError(f"{path} is not a qbench run: it has no {PROVENANCE}")
    try:
        provenance = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"cannot read {file}: {exc}") from None
    if not isinstance(provenance, dict) or "cases" not in provenance or "run_id" not in provenance:
        raise StoreError(f"{file} is not a qbench provenance file (no run_id or cases)")
    return provenance


def resolve(run: str | os.PathLike, root: Path = DEFAULT_ROOT) -> Path:
    """A run given as a directory, or as a run id under ``root`` (``results/runs``)."""
    path = Path(run)
    if path.is_dir():
        return path
    candidate = Path(root) / str(run)
    if candidate.is_dir():
        return candidate
    raise StoreError(f"run {str(run)!r} not found (neither a directory nor a run id under {root})")


def _read_record(file: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The case record in ``file`` and ``None``, or ``None`` and why it is not a whole record of its case."""
    try:
        record = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if not isinstance(record, dict) or record.get("case_id") != Path(file).stem:
        return None, "it is not the record of this case (no matching case_id)"
    if not isinstance(record.get("rows"), list) or not record["rows"]:
        return None, "it has no result rows"
    if not isinstance(record.get("history", []), list):
        return None, "its history is not a list"
    return record, None


def record_problem(file: Path) -> str | None:
    """Why the case record ``file`` is not a whole record of its case, or ``None`` if it is."""
    return _read_record(file)[1]


def read_records(path: Path, provenance: dict[str, Any]) -> list[dict[str, Any]]:
    """The finished case records, in the order of the run's case list.

    Raises :class:`StoreError` naming a record that does not read back whole (``qbench run
    --resume`` sets such a record aside and runs its case again).
    """
    records = []
    for case in provenance["cases"]:
        case_id = Case.from_dict(case).case_id
        file = Path(path) / CASES / f"{case_id}.json"
        if file.exists():
            record, problem = _read_record(file)
            if problem is not None:
                raise StoreError(
                    f"case record {file} is corrupt ({problem}); qbench run --resume {path} sets it "
                    "aside and runs the case again"
                )
            records.append(record)
    return records


def assemble(path: Path, provenance: dict[str, Any]) -> RunData:
    """Build the tables from the case records on disk (finished cases only)."""
    records = read_records(path, provenance)
    run_id = provenance["run_id"]
    rows = [{"run_id": run_id, **upgrade_row(row)} for record in records for row in record["rows"]]
    history = [{"run_id": run_id, **row} for record in records for row in record["history"]]
    results = _typed(pd.DataFrame(rows, columns=_ordered(rows, (*SCHEMA, *EXTRA_COLUMNS))))
    histories = pd.DataFrame(history, columns=_ordered(history, HISTORY_COLUMNS))
    if "state" in histories:
        histories["state"] = histories["state"].astype(str)  # "all" (one network for all states) or k
    entries = [entry for record in records for entry in record.get("wavefunctions", [])]
    lengths = [len(entry["x"]) for entry in entries]
    # Whole arrays at once: a row dict or a DataFrame per state would dominate the cost of a run.
    wavefunctions = pd.DataFrame(
        {
            "run_id": run_id,
            "case_id": np.repeat([entry["case_id"] for entry in entries], lengths),
            "state": np.repeat([entry["state"] for entry in entries], lengths).astype("int64"),
            "line": np.repeat([entry.get("line", "") for entry in entries], lengths).astype(object),
            **{
                column: np.concatenate([entry[column] for entry in entries]) if entries else np.array([])
                for column in ("x", "psi", "psi_ref")
            },
        },
        columns=list(WAVEFUNCTION_COLUMNS),
    )
    return RunData(results, histories, provenance, Path(path), _upgrade_samples(wavefunctions))


#: Columns that older runs lack; a row or table that has them all needs no upgrade.
_UPGRADED = (
    "family",
    "case_status",
    "cpu_mem_increase_mb",
    "reference",
    "reference_rel_bound",
    "dim",
    "group",
    "subspace_sine",
    "verified_by",
)
#: The certificate's columns, NaN or "" in a run recorded before qbench certified states.
_CERTIFICATE_DEFAULTS = {**UNCERTIFIED_COLUMNS, "certify_s": math.nan, "consensus_spread": math.nan}


def upgrade_row(row: dict[str, Any]) -> dict[str, Any]:
    """A results row of an older qbench in today's columns (a row of this one comes back unchanged).

    Older runs had no ``family``, one status per case (``status``/``message`` on every row),
    ``peak_cpu_mem_mb`` (the absolute peak RSS) as their memory figure, no ``reference``
    column (every problem then had an exact reference; its bound was not stored), and no
    ``dim``, ``group`` or ``subspace_sine``: every problem was 1D, so each state was its own
    group; the subspace sine was not computed (NaN). Runs before certificates have none of their
    columns (NaN, and ``""`` for ``verified_by``: their ``ok`` was the solver's word).
    """
    if all(key in row for key in _UPGRADED):
        return row
    row = dict(row)
    if "family" not in row:
        cls = _solver_class(row.get("solver"))
        row["family"] = cls.family if cls is not None else "unknown"
    row.setdefault("case_status", row.get("status"))
    row.setdefault("case_message", row.get("message"))
    if "peak_cpu_mem_mb" in row:
        row.setdefault("peak_rss_mb", row.pop("peak_cpu_mem_mb"))
    start = row.get("cpu_mem_at_start_mb", math.nan)
    peak = row.get("peak_rss_mb", math.nan)
    row.setdefault("cpu_mem_increase_mb", float(peak) - float(start))
    row.setdefault("reference", "exact")
    row.setdefault("reference_rel_bound", math.nan)
    row.setdefault("dim", 1)
    row.setdefault("group", row.get("state"))
    row.setdefault("subspace_sine", math.nan)
    for key, value in _CERTIFICATE_DEFAULTS.items():
        row.setdefault(key, value)
    return row


def _solver_class(name: Any):
    from .solvers import METHODS  # the store itself does not need solvers; only old runs do

    return METHODS.get(name) if isinstance(name, str) else None


def _upgrade_table(results: pd.DataFrame) -> pd.DataFrame:
    """A results table read from an older run's Parquet, in today's columns."""
    if set(_UPGRADED) <= set(results.columns):
        return results
    rows = [upgrade_row(row) for row in results.to_dict("records")]
    return _typed(pd.DataFrame(rows, columns=_ordered(rows, (*SCHEMA, *EXTRA_COLUMNS))))


def _upgrade_samples(samples: pd.DataFrame) -> pd.DataFrame:
    """Wavefunction samples of an older run in today's columns.

    Older runs had no ``line`` column, then ``line == ""`` for a 1D problem, whose samples ran
    from wall to wall: the line ``{"axis": 0, "point": [centre]}`` that qbench writes today, the
    centre read off the samples' own ``x`` (its first and last values are the walls).
    """
    if "line" not in samples.columns:
        samples = samples.assign(line="")
    old = samples["line"].eq("").to_numpy()
    if not old.any():
        return samples
    samples = samples.copy()
    each = samples.loc[old].groupby(["case_id", "state"], sort=False)["x"]
    centre = 0.5 * (each.transform("min") + each.transform("max"))
    lines = {c: canonical_json({"axis": 0, "point": [float(c)]}) for c in centre.unique()}
    samples.loc[old, "line"] = centre.map(lines)
    return samples


def _ordered(rows: list[dict[str, Any]], first: tuple[str, ...]) -> list[str]:
    extra = sorted({k for row in rows for k in row} - set(first))
    return [*first, *extra]


def _typed(results: pd.DataFrame) -> pd.DataFrame:
    """Stable dtypes whatever the rows: nullable integer seeds, float metrics, string labels."""
    results["seed"] = results["seed"].astype("Int64")
    for column in ("dim", "state", "group", "n_states", "repeats"):
        results[column] = results[column].astype("int64")
    for column in results.columns:
        if column.endswith(("_s", "_mb", "_error", "_bound")) or column in (
            "energy",
            "energy_ref",
            "iterations",
            "subspace_sine",
            "tolerance",
            "residual",
            "rayleigh_quotient",
            "bound_lo",
            "bound_hi",
            "trained_energy",
            "consensus_spread",
        ):
            results[column] = results[column].astype("float64")
    return results


def load(run: str | os.PathLike, root: Path = DEFAULT_ROOT) -> RunData:
    """Read a stored run: ``load(run).results``, ``.histories``, ``.provenance``.

    ``run`` is a run directory or a run id under ``results/runs``. A run whose
    tables were written reads them from Parquet; a run killed before that
    (or still going) is rebuilt from its case records.
    """
    path = resolve(run, root)
    provenance = read_provenance(path)
    tables = [path / f"{name}.parquet" for name in (RESULTS, HISTORIES, WAVEFUNCTIONS)]
    if provenance.get("status") in ("complete", "interrupted") and all(t.exists() for t in tables):
        written = provenance.get("tables_cases")  # absent in runs of older qbench versions
        if written is None or written == len(list((path / CASES).glob("*.json"))):
            try:
                return RunData(
                    _upgrade_table(pd.read_parquet(tables[0])),
                    pd.read_parquet(tables[1]),
                    provenance,
                    path,
                    _upgrade_samples(pd.read_parquet(tables[2])),
                )
            except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
                warnings.warn(
                    f"the tables of {path} cannot be read ({type(exc).__name__}: {_first_line(exc)}); "
                    f"read from the case records instead; qbench run --resume {path} rewrites them",
                    StoreWarning,
                    stacklevel=2,
                )
    return assemble(path, provenance)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def consistency_problems(run: RunData) -> list[str]:
    """Where the stored copies of a run disagree: Parquet vs CSV vs case records.

    An edited number anywhere shows up here, so ``qbench reproduce`` cannot
    pass against tables that no longer say what the run computed.
    """
    return _copies_disagree(run.path, assemble(run.path, run.provenance).results)


def _copies_disagree(path: Path, records: pd.DataFrame) -> list[str]:
    """Where ``results.parquet`` and ``results.csv`` in ``path`` differ from the records' table."""
    problems: list[str] = []
    parquet_file, csv_file = path / f"{RESULTS}.parquet", path / f"{RESULTS}.csv"
    copies = {"case records": records}
    readers = {
        "results.parquet": (parquet_file, pd.read_parquet),
        "results.csv": (csv_file, lambda f: pd.read_csv(f, keep_default_na=False, na_values=[""])),
    }
    for name, (file, reader) in readers.items():
        if file.exists():
            try:
                copies[name] = _upgrade_table(reader(file))
            except (OSError, ValueError, KeyError) as exc:
                problems.append(f"{name} cannot be read ({type(exc).__name__}: {_first_line(exc)})")
    numeric = ("energy", "energy_ref", "abs_error", "rel_error", "l2_error", "subspace_sine")
    for name, copy in copies.items():
        if name == "case records":
            continue
        if len(copy) != len(records) or list(copy["case_id"]) != list(records["case_id"]):
            problems.append(f"{name} has {len(copy)} rows, the case records {len(records)}")
            continue
        for column in (*numeric, "status", "case_status"):
            for index, (a, b) in enumerate(zip(copy[column], records[column])):
                same = a == b or (column not in ("status", "case_status") and _both_nan(a, b))
                if not same:
                    problems.append(
                        f"{name} row {index} ({records['case_id'][index]} state {records['state'][index]}) "
                        f"{column} = {a!r}, case record says {b!r}"
                    )
    return problems


def _both_nan(a: Any, b: Any) -> bool:
    try:
        return math.isnan(float(a)) and math.isnan(float(b))
    except (TypeError, ValueError):
        return False

"""``qbench run``: run a suite (or an ad hoc set of cases), persist it, print a summary.

The parser and the shared helpers of the other commands live here too, so the
run machinery (runner, store, executors, report, tqdm) is imported inside the
functions that use it: ``qbench --help`` and ``qbench list`` never load it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import plugins, problems, solvers, suite
from ..cases import check_tolerance
from ..interruption import exit_code, signal_name
from .exits import EXIT_CODES_HELP, EXIT_FAILED, EXIT_IO, one_line, os_error
from .specs import UsageError, parse_seeds, parse_spec

if TYPE_CHECKING:
    from tqdm import tqdm

    from ..executors import Executor
    from ..store import RunData, RunDirectory

CANONICAL_PROBLEMS = ("infinite_well", "finite_well", "finite_barrier")


def add_parsers(commands) -> None:
    parser = commands.add_parser(
        "run",
        help="run a suite and store its results (default: the quick suite)",
        description=(
            "Run every case of a suite (problem x solver x seed), grade every state against the exact "
            "reference and store one row per case x state under results/runs/<run_id>/ (Parquet, CSV, "
            "provenance.json). Each finished case is on disk before the next starts; an interrupted "
            "run is finished with --resume. --problem/--solver instead of --suite run their cross "
            "product (problems default to the three canonical ones, solvers to those of the quick suite). "
            "--plugin loads your own solvers and problems (a .py file or a module; a suite file's "
            "plugins key does the same), here and in every worker; provenance records each plugin's "
            "sha256, and --resume refuses a plugin file that changed unless --allow-changed-plugins. "
            "Cases run in worker processes (one with --jobs 1), so SIGTERM, SIGHUP and Ctrl-C stop the "
            "run within seconds even mid-case: the finished cases are kept, the tables are built from "
            "them, provenance says interrupted and names the signal, and --resume runs the rest. "
            + EXIT_CODES_HELP
        ),
    )
    parser.add_argument(
        "--suite",
        metavar="NAME|PATH",
        help=f"shipped suite ({', '.join(suite.available())}) or a suite TOML file (default quick)",
    )
    add_plugin_argument(parser)
    parser.add_argument(
        "--problem",
        action="append",
        metavar="NAME[:k=v,...]",
        help="problem with parameter overrides, e.g. finite_well:V0=50 (repeatable)",
    )
    parser.add_argument(
        "--solver",
        action="append",
        metavar="NAME[:k=v,...]",
        help="solver with options, e.g. fd:n_points=2000,order=4 (repeatable)",
    )
    parser.add_argument(
        "--family",
        action="append",
        metavar="NAME",
        help=f"keep only the solvers of this family ({', '.join(solvers.FAMILIES)}; repeatable)",
    )
    parser.add_argument(
        "--seeds",
        metavar="N|a-b",
        help="seeds of seeded solvers: N = seeds 0..N-1, a-b = a..b inclusive (default: suite's)",
    )
    parser.add_argument("--states", type=int, metavar="N", help="lowest states per case (default: suite's)")
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda", "auto"),
        help="device of solvers that have a device option (default: suite's, i.e. cpu)",
    )
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="per-case wall-clock limit in seconds (default: suite's)"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        metavar="TAU",
        help="relative tolerance of the status ok, in (0, 1): a state is ok when its certified "
        "eigenvalue interval lies within TAU of its energy (default: suite's, else 1e-2)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="local: run cases in N worker processes (default 1); "
        "dask without --scheduler: the LocalCluster's workers (default: one per CPU)",
    )
    parser.add_argument(
        "--executor",
        choices=("local", "dask"),
        default="local",
        help="where cases run: this machine (default), or a Dask cluster (needs qbench[dask])",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --executor dask: a running scheduler, e.g. tcp://10.0.0.5:8786 "
        "(default: start a LocalCluster on this machine for the run)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        metavar="N",
        help="with --executor dask: resubmit a case whose worker died up to N times, then record it "
        "failed (default 1)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="the run directory (default results/runs/<run_id>); must not exist or be empty",
    )
    parser.add_argument(
        "--resume",
        metavar="RUN",
        help="finish an interrupted run (run id or directory): only its missing cases run",
    )
    add_allow_changed_argument(parser, "with --resume: ")
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="do not write the HTML/Markdown report into RUN/report at the end",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if any case is not ok (default: exit 0 once every case ran and was recorded)",
    )
    parser.set_defaults(handler=command_run)


def add_plugin_argument(parser: argparse.ArgumentParser) -> None:
    """``--plugin FILE.py|MODULE`` (repeatable), shared by run, list, reproduce and report."""
    parser.add_argument(
        "--plugin",
        action="append",
        metavar="FILE.py|MODULE",
        help="load solvers and problems from a plugin: a .py file or an importable module name "
        "(repeatable; see docs/plugins.md)",
    )


def add_allow_changed_argument(parser: argparse.ArgumentParser, prefix: str = "") -> None:
    """``--allow-changed-plugins``, of run (with --resume) and reproduce."""
    parser.add_argument(
        "--allow-changed-plugins",
        action="store_true",
        help=f"{prefix}use the run's plugins even if a plugin file's sha256 differs from the recorded one "
        "(default: refuse, exit 2)",
    )


def load_plugins(args: argparse.Namespace) -> tuple[plugins.Plugin, ...]:
    """The ``--plugin`` plugins, loaded, after checking that every installed entry point loads.

    Raises :class:`qbench.plugins.PluginError` (exit 2) for a broken entry point or a plugin that
    does not load; the registries are then as they were.
    """
    plugins.check_entry_points()
    return plugins.load_all(getattr(args, "plugin", None) or [], origin="cli")


def parse_families(given: list[str] | None) -> tuple[str, ...] | None:
    """``--family`` values, checked against :data:`qbench.solvers.FAMILIES`; ``None`` when not given."""
    if not given:
        return None
    unknown = [f for f in given if f not in solvers.FAMILIES]
    if unknown:
        raise UsageError(
            f"--family {', '.join(unknown)}: unknown family; allowed: {', '.join(solvers.FAMILIES)}"
        )
    return tuple(dict.fromkeys(given))


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.states is not None:
        if args.states < 1:
            raise UsageError(f"--states must be >= 1, got {args.states}")
        overrides["n_states"] = args.states
    if args.seeds is not None:
        overrides["seeds"] = parse_seeds(args.seeds)
    if args.timeout is not None:
        if not args.timeout > 0:
            raise UsageError(f"--timeout must be > 0 seconds, got {args.timeout}")
        overrides["timeout_s"] = args.timeout
    if args.tolerance is not None:
        try:
            overrides["tolerance"] = check_tolerance(args.tolerance, "--tolerance")
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.device is not None:
        overrides["solver_options"] = {"device": args.device}
    return overrides


def _as_entry(spec: str, field: str) -> Any:
    name, kwargs = parse_spec(spec)
    return {"name": name, field: kwargs} if kwargs else name


def select_suite(args: argparse.Namespace) -> suite.Suite:
    """The suite that --suite / --problem / --solver, --family and the overrides describe (validated)."""
    overrides = _overrides(args)
    families = parse_families(getattr(args, "family", None))
    if args.problem or args.solver:
        if args.suite:
            raise UsageError("give either --suite or --problem/--solver, not both")
        problems = (
            [_as_entry(s, "params") for s in args.problem] if args.problem else list(CANONICAL_PROBLEMS)
        )
        solver_entries = (
            [_as_entry(s, "options") for s in args.solver]
            if args.solver
            else suite.block_entries(suite.DEFAULT_SUITE, "solvers")
        )
        return suite.cross_product(problems, solver_entries, overrides=overrides, families=families)
    return suite.load(args.suite or suite.DEFAULT_SUITE, overrides=overrides, families=families)


def registered_here_only(cases, used: Sequence[plugins.Plugin]) -> list[str]:
    """The solvers and problems of ``cases`` that a fresh worker process would not know.

    A worker knows qbench's own classes and the plugins' (and entry points'); a class that
    a Python caller registered in this process by hand is known here only.
    """
    from_plugins = {name for p in (*used, *plugins.load_entry_points()) for name in (*p.solvers, *p.problems)}
    unknown = []
    for kind, registry, names in (
        ("solver", solvers.METHODS, {c.solver for c in cases}),
        ("problem", problems.PROBLEMS, {c.problem for c in cases}),
    ):
        for name in sorted(names):
            cls = registry.get(name)
            module = getattr(cls, "__module__", "") or ""
            if cls is not None and name not in from_plugins and not module.startswith("qbench."):
                unknown.append(f"{kind} {name!r}")
    return unknown


def make_executor(args: argparse.Namespace, here_only: Sequence[str] = (), **settings: Any) -> Executor:
    """The executor that --executor/--jobs/--scheduler/--retries describe (validated, not started).

    ``here_only`` (:func:`registered_here_only`) names what only this process can build: such
    cases run in this process with ``--jobs 1``, and are refused with more.
    """
    from ..executors import DaskCluster, LocalPool

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if here_only and (args.executor == "dask" or (args.jobs or 1) > 1):
        raise UsageError(
            f"{', '.join(here_only)} is registered in this process only, so worker processes cannot "
            "build it: load it with --plugin (docs/plugins.md)"
        )
    if args.executor == "dask":
        if args.scheduler is not None and args.jobs is not None:
            raise UsageError("--jobs sizes the LocalCluster qbench starts; with --scheduler, its workers run")
        retries = 1 if args.retries is None else args.retries
        if retries < 0:
            raise UsageError(f"--retries must be >= 0, got {retries}")
        return DaskCluster(scheduler=args.scheduler, n_workers=args.jobs, retries=retries, **settings)
    for option in ("scheduler", "retries"):
        if getattr(args, option) is not None:
            raise UsageError(f"--{option} needs --executor dask")
    if (args.jobs or 1) == 1:
        return one_worker(here_only, **settings)
    return LocalPool(args.jobs, **settings)


def one_worker(here_only: Sequence[str] = (), **settings: Any) -> Executor:
    """Cases one at a time in one worker process; in this process if ``here_only`` names anything.

    The worker process leaves this one free to act on a signal at once, also while a case
    sits in a long call into C, and to stop the worker. A solver or problem registered by hand
    in this process (:func:`registered_here_only`) exists only here, so its cases run here.
    """
    if here_only:
        warnings.warn(
            f"{', '.join(here_only)} is registered in this process only (not by a plugin): the cases run "
            "in this process, where a stop signal waits for a running call into C to return",
            stacklevel=3,
        )
        from ..executors import InProcess

        return InProcess(**settings)
    from ..executors import LocalPool

    return LocalPool(1, **settings)


class Progress:
    """Two tqdm bars on stderr (only on a terminal): cases, and steps inside the current case."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm
        self.enabled = sys.stderr.isatty()
        self.cases: tqdm | None = None
        self.steps: tqdm | None = None

    def start(self, pending: int, total: int) -> None:
        self.cases = self._bar(
            total=total,
            initial=total - pending,
            desc="cases",
            unit="case",
            file=sys.stderr,
            disable=not self.enabled,
        )

    def step(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.steps is None or self.steps.total != total:
            if self.steps is not None:
                self.steps.close()
            self.steps = self._bar(
                total=total,
                desc="  steps",
                unit="step",
                file=sys.stderr,
                leave=False,
                position=1,
                mininterval=0.25,
            )
        self.steps.n = done
        if done == total:
            self.steps.refresh()
        else:
            self.steps.update(0)  # redraws at most every mininterval

    def case(self, record: dict[str, Any]) -> None:
        if self.steps is not None:
            self.steps.close()
            self.steps = None
        if self.cases is not None:
            row = record["rows"][0]
            self.cases.set_postfix_str(
                f"{row['problem']} / {row['solver']}: {row.get('case_status', row['status'])}"
            )
            self.cases.update(1)

    def close(self) -> None:
        for bar in (self.steps, self.cases):
            if bar is not None:
                bar.close()


def command_run(args: argparse.Namespace) -> int:
    if args.allow_changed_plugins and not args.resume:
        raise UsageError("--allow-changed-plugins needs --resume (a new run records the plugins it loads)")
    make_executor(args)  # checks --jobs/--executor/--scheduler/--retries before any work
    from .. import report, runner, store
    from ..executors import ExecutorError

    given = load_plugins(args)
    if args.executor == "dask":
        # Its client logs tracebacks on a lost connection; qbench reports what happened in one line.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
    run = None
    if args.resume:
        given = [
            f"--{k}"
            for k in (
                "suite",
                "problem",
                "solver",
                "family",
                "seeds",
                "states",
                "device",
                "timeout",
                "tolerance",
                "out",
            )
            if getattr(args, k) is not None
        ]
        if given:
            raise UsageError(f"--resume takes its cases from the run; drop {', '.join(given)}")
        run = store.RunDirectory.open(store.resolve(args.resume))
        if (
            run.provenance.get("status") == "complete"
            and not set(c.case_id for c in run.cases) - run.finished_ids()
            and not run.corrupt_records()
        ):
            print(f"run {run.provenance['run_id']} is already complete: {run.path}", file=sys.stderr)
            if not run.tables_agree():  # damaged or missing tables: the records are the source of truth
                with run.writer_lock():
                    run.write_tables()
                    run.save_provenance()
                print(f"rebuilt its tables from the case records: {run.path}", file=sys.stderr)
            return _report(store.load(run.path), args.strict)
        # The recorded plugins (sha256 checked before any changed code runs), with --plugin's.
        used = plugins.load_recorded(
            run.provenance.get("plugins", []),
            allow_changed=args.allow_changed_plugins,
            given=given,
            run=f"run {run.provenance['run_id']}",
        )
        for case in run.cases:  # the recorded cases must still build with this qbench
            validate(case)
    else:
        chosen = select_suite(args)
        used = plugins.combine(given, chosen.plugins)
    cases = run.cases if run is not None else chosen.cases
    executor = make_executor(args, here_only=registered_here_only(cases, used), plugins=used)
    # Started before anything is written: an unreachable scheduler or mismatched workers exit 2.
    with executor:
        if run is None:
            run = runner.create(
                chosen.cases,
                suite={"name": chosen.name, "source": chosen.source, "description": chosen.description},
                out=args.out,
                command_line=args.command_line,
                settings={
                    "jobs": args.jobs,
                    "executor": args.executor,
                    "scheduler": args.scheduler,
                    "overrides": _overrides(args),
                    "families": list(parse_families(args.family) or []),
                },
                # What the cases may need: --plugin's, the suite's and the installed entry points.
                plugins=plugins.combine(used, plugins.load_entry_points()),
            )
        print(f"qbench run {run.provenance['run_id']}: {len(run.cases)} cases -> {run.path}", file=sys.stderr)
        bars = Progress()
        try:
            data = runner.execute(
                run,
                executor,
                on_start=bars.start,
                on_case=bars.case,
                on_step=bars.step,
                command_line=args.command_line,
            )
        except (KeyboardInterrupt, ExecutorError, store.StoreWriteError) as exc:
            bars.close()
            print(f"qbench: {_stopped(exc, run)}", file=sys.stderr)
            if isinstance(exc, KeyboardInterrupt):
                return exit_code(exc)
            return EXIT_IO if isinstance(exc, store.StoreWriteError) else EXIT_FAILED
        finally:
            bars.close()
    code = _report(data, args.strict)
    if not args.no_report:
        try:
            written = report.build(data, run.path / "report")
        except Exception as exc:
            if getattr(args, "debug", False):
                raise
            message = os_error(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {one_line(exc)}"
            print(
                f"qbench: run complete, report not written: {message}; "
                f"write it with: qbench report {run.path}",
                file=sys.stderr,
            )
            return EXIT_IO
        print(f"report: {written.folder / 'index.html'}", file=sys.stderr)
    return code


def _stopped(exc: BaseException, run: RunDirectory) -> str:
    """One line: why the run stopped, what is kept, and how to finish it."""
    from .. import store

    done, total = len(run.finished_ids()), len(run.cases)
    if isinstance(exc, KeyboardInterrupt):
        reason = f"interrupted ({signal_name(exc)})"
    else:
        reason = " ".join(str(exc).split())
    kept = f"{done} of {total} cases are kept in {run.path}"
    fix = "free space or fix the folder, then " if isinstance(exc, store.StoreWriteError) else ""
    return f"{reason}; {kept}; {fix}finish with: qbench run --resume {run.path}"


def validate(case) -> None:
    problem, solver = case.build()
    solver.check_dimension(problem)
    solver.check_problem(problem, case.n_states)


def _report(data: RunData, strict: bool = False) -> int:
    """Print the summary and the cases not ok; exit 0 (every case was recorded), or 1 with ``strict``
    when a case is not ok."""
    from ..analysis import solver_label
    from .tables import summary_text

    print(summary_text(data.results))
    results = data.results
    not_ok = results[(results["case_status"] != "ok") | (results["status"] != "ok")]
    print(f"\nresults: {data.path}  (qbench show {data.path})")
    if not_ok.empty:
        return 0
    cases = not_ok.drop_duplicates("case_id")
    print(
        f"{len(cases)} of {results['case_id'].nunique()} cases not ok (recorded with their status "
        "and message" + ("" if strict else "; exit status 0: --strict makes it 1") + "):",
        file=sys.stderr,
    )
    for _, row in cases.iterrows():
        label = solver_label(row["solver"], row["solver_options"])
        print(
            f"  {row['problem']} / {label} seed={row['seed']}: {row['case_status']}: {row['case_message']}",
            file=sys.stderr,
        )
    return 1 if strict else 0

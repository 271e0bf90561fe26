"""Commands on stored runs: ``show``, ``report``, ``compare`` and ``reproduce``.

Each command imports what it needs (pandas through the store; matplotlib only for
``report``; the runner and executors only for ``reproduce``), so building the
parser imports none of it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from .. import plugins
from .run import (
    add_allow_changed_argument,
    add_plugin_argument,
    load_plugins,
    one_worker,
    registered_here_only,
    validate,
)
from .specs import UsageError


def _command(commands, name: str, handler, help: str, description: str):
    """A subcommand that takes one stored run as its first argument."""
    parser = commands.add_parser(name, help=help, description=description)
    parser.add_argument("run", metavar="RUN", help="run directory or run id under results/runs")
    parser.set_defaults(handler=handler)
    return parser


def add_parsers(commands) -> None:
    _command(
        commands,
        "show",
        command_show,
        help="summarize a stored run per problem x solver",
        description="Per problem x family x solver configuration: cases ok (every state, and state by "
        "state over seeds), median [min, max] of relative energy error, L2 error and wall time, the "
        "case's CPU memory increase, peak RSS and peak GPU memory.",
    )
    report_parser = _command(
        commands,
        "report",
        command_report,
        help="write a run's HTML and Markdown report with figures",
        description="Turn a stored run into a self-contained index.html (figures embedded), report.md and "
        "the figures as PNG and SVG. It leads with the verdict per problem and method (best median "
        "error; expected time per success to 1e-2 and 1e-6 with the success rate over seeds; ratio to "
        "the strongest classical method at equal accuracy), then the work-precision diagram, accuracy "
        "versus time, "
        "sensitivity heatmaps of two-option sweeps, then the details: findings, summary, success over "
        "seeds, cases not ok, wavefunctions, training, convergence, provenance. Never solves anything; "
        "it loads the run's recorded plugins (changes allowed: figures rebuild problems), and warns "
        "and carries on if it cannot.",
    )
    add_plugin_argument(report_parser)
    report_parser.add_argument(
        "--out", type=Path, metavar="DIR", help="output directory (default RUN/report)"
    )
    report_parser.add_argument("--format", default="html,md", help="html, md or html,md (default html,md)")

    compare = commands.add_parser(
        "compare",
        help="per-case deltas between two runs; exit 1 if B got worse",
        description="Match the cases of RUN_A and RUN_B by case id and state and compare their "
        "metrics. A metric is worse when B > A (1 + rtol) + atol. Exit 1 when any accuracy metric "
        "got worse, a state's status went from ok to anything else, or a case of A is missing from B; "
        "wall time and memory count only with --time-rtol / --mem-rtol.",
    )
    compare.add_argument("run_a", metavar="RUN_A")
    compare.add_argument("run_b", metavar="RUN_B")
    compare.add_argument(
        "--rtol", type=float, default=0.1, help="relative tolerance of rel_error and l2_error (default 0.1)"
    )
    compare.add_argument(
        "--atol",
        type=float,
        default=1e-12,
        help="absolute floor of rel_error and l2_error changes (default 1e-12)",
    )
    compare.add_argument(
        "--time-rtol", type=float, help="relative tolerance of wall time (default: not checked)"
    )
    compare.add_argument(
        "--mem-rtol",
        type=float,
        help="relative tolerance of the case's CPU memory, the increase of its peak RSS over its start "
        "(cpu_mem_increase_mb; changes under 1 MB never count) (default: not checked)",
    )
    compare.add_argument("--all", action="store_true", help="print every delta, not only the worse ones")
    compare.set_defaults(handler=command_compare)

    reproduce = _command(
        commands,
        "reproduce",
        command_reproduce,
        help="re-run a stored run's cases and check every energy; exit 1 on a mismatch",
        description="Check that the run's stored copies agree (Parquet, CSV, case records), re-run "
        "its recorded cases (each solved once) and compare energies, L2 errors and statuses (each state's "
        "and the case's): deterministic "
        "solvers to 1e-12 relative; seeded solvers bit-identical on CPU when CPU model, torch and "
        "numpy match the recorded ones, else to 1e-6 relative. The run's recorded plugins are "
        "loaded again (a moved file is found with --plugin NEW/PATH/same_name.py); one whose file's "
        "sha256 changed is refused (exit 2) unless --allow-changed-plugins.",
    )
    add_plugin_argument(reproduce)
    add_allow_changed_argument(reproduce)
    reproduce.add_argument(
        "--solver", action="append", metavar="NAME", help="re-run only the cases of this solver (repeatable)"
    )
    reproduce.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where the re-run is stored (default: a new temporary directory)",
    )


def command_report(args: argparse.Namespace) -> int:
    from .. import report, store

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    unknown = sorted(set(formats) - set(report.FORMATS))
    if unknown or not formats:
        raise UsageError(
            f"--format takes {' and/or '.join(report.FORMATS)}, comma-separated; got {args.format!r}"
        )
    given = load_plugins(args)
    data = store.load(args.run)
    try:  # figures rebuild problems, which may be a plugin's; a report needs them, not their exact code
        plugins.load_recorded(
            data.provenance.get("plugins", []), allow_changed=True, given=given, run=f"run {data.run_id}"
        )
    except plugins.PluginError as exc:
        reason = " ".join(str(exc).split())
        print(f"qbench: warning: {reason}; figures of its problems may be missing", file=sys.stderr)
    out = args.out if args.out is not None else data.path / "report"
    written = report.build(data, out, formats)
    top = ", ".join(p.name for p in written.files if p.parent == Path(out))
    print(f"report of {data.run_id}: {written.folder}  ({top}, figures/)")
    return 0


def command_show(args: argparse.Namespace) -> int:
    from .. import store
    from .tables import summary_text

    data = store.load(args.run)
    prov = data.provenance
    env = prov.get("environment", {})
    finished, total = data.results["case_id"].nunique(), len(prov["cases"])
    print(
        f"run {prov['run_id']}  suite {prov.get('suite', {}).get('name')}  status {prov.get('status')}  "
        f"{finished}/{total} cases finished"
    )
    git = env.get("git", {})
    dirty = " (dirty)" if git.get("dirty") else ""
    print(f"started {prov.get('start_time')}  ended {prov.get('end_time')}")
    print(f"commit {git.get('commit')}{dirty}")
    print(
        f"machine {env.get('cpu_model')} x{env.get('cpu_count')}  torch {env.get('torch_build')}  "
        f"gpu {env.get('gpu', {}).get('name')}\n"
    )
    print(summary_text(data.results))
    return 0


def command_compare(args: argparse.Namespace) -> int:
    from .. import store
    from ..analysis import Tolerances, compare_runs
    from .tables import render, sci

    for name in ("rtol", "atol", "time_rtol", "mem_rtol"):
        value = getattr(args, name)
        if value is not None and not value >= 0:
            raise UsageError(f"--{name.replace('_', '-')} must be >= 0, got {value}")
    a, b = store.load(args.run_a), store.load(args.run_b)
    deltas = compare_runs(
        a.results, b.results, Tolerances(args.rtol, args.atol, args.time_rtol, args.mem_rtol)
    )
    worse = deltas[deltas["worse"]]
    shown = deltas if args.all else worse
    if not shown.empty:
        print(render(shown, {"a": sci, "b": sci, "ratio": lambda v: sci(v)}))
    if worse.empty:
        print(
            f"no regressions: {len(deltas)} metric values of {a.results['case_id'].nunique()} cases "
            f"compared ({a.run_id} -> {b.run_id})"
        )
        return 0
    print(f"{len(worse)} metric value(s) worse in {b.run_id} than in {a.run_id}", file=sys.stderr)
    return 1


def command_reproduce(args: argparse.Namespace) -> int:
    from .. import runner, store
    from ..analysis import reproduction_diff
    from ..provenance import environment, fingerprint
    from .tables import render, sci

    given = load_plugins(args)
    recorded = store.load(args.run)
    # The recorded plugins, their sha256 checked before any changed code runs.
    used = plugins.load_recorded(
        recorded.provenance.get("plugins", []),
        allow_changed=args.allow_changed_plugins,
        given=given,
        run=f"run {recorded.run_id}",
    )
    cases = recorded.cases
    if args.solver:
        unknown = sorted(set(args.solver) - {c.solver for c in cases})
        if unknown:
            raise UsageError(
                f"--solver {', '.join(unknown)}: no such solver in run {recorded.run_id}; "
                f"it has {', '.join(sorted({c.solver for c in cases}))}"
            )
        cases = [c for c in cases if c.solver in args.solver]
    finished = set(recorded.results["case_id"])
    cases = [c for c in cases if c.case_id in finished]
    if not cases:
        raise UsageError(f"run {recorded.run_id} has no finished cases to reproduce")
    for case in cases:
        validate(case)
    inconsistent = store.consistency_problems(recorded)
    if inconsistent:
        print("the stored run does not agree with itself (edited or damaged):", file=sys.stderr)
        for line in inconsistent[:20]:
            print(f"  {line}", file=sys.stderr)
        return 1
    scratch = None if args.out is not None else Path(tempfile.mkdtemp(prefix="qbench-reproduce-"))
    out = args.out if scratch is None else scratch / "run"
    rerun_dir = runner.create(
        cases,
        suite={
            "name": f"reproduce-{recorded.run_id}",
            "source": str(recorded.path),
            "description": "reproduce",
        },
        out=out,
        command_line=args.command_line,
        plugins=plugins.combine(used, plugins.load_entry_points()),
    )
    print(f"re-running {len(cases)} case(s) of {recorded.run_id} into {rerun_dir.path}", file=sys.stderr)
    executor = one_worker(registered_here_only(cases, used), timing_budget_s=0.0, plugins=used)
    with executor:
        rerun = runner.execute(rerun_dir, executor, command_line=args.command_line)
    recorded_rows = recorded.results[recorded.results["case_id"].isin({c.case_id for c in cases})]
    same_machine = fingerprint(recorded.provenance.get("environment", {})) == fingerprint(environment())
    diff = reproduction_diff(recorded_rows, rerun.results, same_machine)
    print(
        render(
            diff.drop(columns=["case_id"]),
            {
                "energy_recorded": "{:.15g}".format,
                "energy_now": "{:.15g}".format,
                "rel_diff": sci,
                "l2_diff": sci,
                "tolerance": sci,
            },
        )
    )
    mismatches = diff[~diff["match"]]
    where = "the recorded machine and libraries" if same_machine else "a different machine or libraries"
    if mismatches.empty:
        print(f"reproduced: all {len(diff)} energies, L2 errors and statuses match (on {where})")
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)  # nothing to look at
        return 0
    print(
        f"{len(mismatches)} of {len(diff)} states moved (energy, L2 error or status; on {where}); "
        f"re-run kept in {rerun_dir.path}",
        file=sys.stderr,
    )
    recorded_version = recorded.provenance.get("environment", {}).get("numerics_version", 1)
    now_version = environment()["numerics_version"]
    if recorded_version != now_version:
        print(
            f"the run was made with numerics version {recorded_version} and this qbench has "
            f"{now_version}: numbers may move between versions (qbench.numerics.NUMERICS_VERSION)",
            file=sys.stderr,
        )
    return 1

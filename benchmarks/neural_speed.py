"""Training time of each neural family at its default settings, in machine-independent units.

The unit is ``calib_seconds()`` of ``benchmarks/calibration.py`` (``--calib`` names another
script defining it): 1000 Adam steps of a 2 x 64 tanh MLP on 512 points, float64, one thread. It is
measured in this process before and after each family's runs (both are printed; the unit is
their mean), so a ratio does not depend on how fast or how busy the machine is.

Each family trains at its defaults (seed 0, ground state, one thread) on the validation
problems of the tuning protocols (``validation.ALL``: problems the defaults were not tuned
on); a run is one solve per problem, and its value is the mean training time per problem
divided by the unit. Printed per family: the median over the runs, and every run.

    python benchmarks/neural_speed.py                      # 3 runs of every family
    python benchmarks/neural_speed.py --families nn-galerkin --runs 5
    python benchmarks/neural_speed.py --quick              # the step well only
    python benchmarks/neural_speed.py --deepxde            # DeepXDE too, if installed

It uses only the public API, so ``PYTHONPATH=<another checkout>`` times that checkout's
solvers with the same script. asv imports every module here; this one defines no asv
benchmark, and all the work happens under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

FAMILIES = ("nn-galerkin", "pinn", "pinn-fixed", "pinn-trainable")
CALIB = str(Path(__file__).resolve().parent / "calibration.py")


def load_calib(path: str):
    """``calib_seconds`` of the calibration script at ``path``."""
    spec = importlib.util.spec_from_file_location("neural_speed_calib", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no calibration script at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.calib_seconds


def train_seconds(family: str, problem) -> float:
    """Wall seconds of one default solve (ground state) of ``problem``."""
    import qbench

    solver = qbench.solvers.get(family)
    start = time.perf_counter()
    solver.solve(problem, 1)
    return time.perf_counter() - start


def measure(family: str, problems: dict, runs: int, calib_seconds) -> dict:
    """``runs`` runs of ``family`` over ``problems``, between two calibrations."""
    before = calib_seconds()
    seconds = [[train_seconds(family, problem) for problem in problems.values()] for _ in range(runs)]
    after = calib_seconds()
    unit = 0.5 * (before + after)
    ratios = [statistics.fmean(run) / unit for run in seconds]
    return {"family": family, "calib": (before, after), "ratios": ratios, "median": statistics.median(ratios)}


def main(argv: list[str] | None = None) -> None:
    try:
        from .validation import ALL, build
    except ImportError:  # run as a script, python benchmarks/neural_speed.py
        from validation import ALL, build
    import qbench

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=3, help="runs per family (>= 3 for a median worth quoting)"
    )
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), help="registered neural solvers")
    parser.add_argument("--quick", action="store_true", help="the step well only")
    parser.add_argument("--deepxde", action="store_true", help="time deepxde too, where it is installed")
    parser.add_argument("--calib", default=CALIB, help="the calibration script (calib_seconds)")
    args = parser.parse_args(argv)
    families = list(args.families)
    if args.deepxde and "deepxde" not in families:
        if qbench.solvers.install_hint("deepxde") and importlib.util.find_spec("deepxde") is None:
            print("deepxde is not installed: skipped")
        else:
            families.append("deepxde")
    specs = {"step_well": ALL["step_well"]} if args.quick else ALL
    problems = {label: build(spec) for label, spec in specs.items()}
    calib_seconds = load_calib(args.calib)
    print(f"qbench from {qbench.__file__}; problems: {', '.join(problems)}; {args.runs} runs")
    for family in families:
        row = measure(family, problems, args.runs, calib_seconds)
        runs = ", ".join(f"{r:.2f}" for r in row["ratios"])
        before, after = row["calib"]
        print(
            f"{family:15s} median {row['median']:6.2f} units  (runs: {runs}; "
            f"calib before {before:.3f} s, after {after:.3f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()

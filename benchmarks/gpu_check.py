"""CUDA path check for the PINN solvers: device selection, placement, peak GPU memory, timings.

Run on a machine with a GPU: ``python benchmarks/gpu_check.py [--out FILE]``. It
trains ``pinn`` (and a short ``pinn-trainable``) on ``cuda`` and on the CPU of
the same machine with the same seeds, and prints one JSON document. asv imports
every module here; this one defines no asv benchmark and does its work only
under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

import qbench
from qbench.metrics import rel_energy_error


def trial(solver_name, problem_name, n_states, **options):
    problem = qbench.problems.get(problem_name)
    solver = qbench.solvers.get(solver_name, **options)
    start = time.perf_counter()
    solution = solver.solve(problem, n_states)
    wall = time.perf_counter() - start
    errors = rel_energy_error(solution.energies, problem.reference(n_states).energies)
    return {
        "solver": solver_name,
        "problem": problem_name,
        "n_states": n_states,
        "options": options,
        "device": solution.info["device"],
        "dtype": solution.info["dtype"],
        "status": solution.status.value,
        "rel_errors": [float(e) for e in errors],
        "wall_time_s": wall,
        "peak_gpu_mem_mb": solution.info["peak_gpu_mem_mb"],
        "gpu_name": solution.info.get("gpu_name"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    report = {
        "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(),
        "cuda_version": torch.version.cuda,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "runs": [],
    }
    # Placement: with device="auto" the trained networks must live on the GPU.
    auto = qbench.solvers.get("pinn", device="auto", adam_steps=50).solve(qbench.problems.InfiniteWell(), 1)
    report["auto_device"] = auto.info["device"]
    runs = [
        ("pinn", "finite_well", 1, {}),
        ("pinn", "finite_well", 3, {}),
        ("pinn", "finite_barrier", 1, {}),
        ("pinn", "finite_well", 1, {"dtype": "float32"}),
        ("pinn-trainable", "infinite_well", 1, {"adam_steps": 1000}),
    ]
    for solver_name, problem_name, n_states, options in runs:
        for device in ("cuda", "cpu"):
            if device == "cuda" and not torch.cuda.is_available():
                continue
            report["runs"].append(trial(solver_name, problem_name, n_states, device=device, **options))
            print(json.dumps(report["runs"][-1]), flush=True)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()

"""Where and how a run was made: versions, machine, git state, determinism settings.

Everything here is read, never set; the harness records it in
``provenance.json`` so a run can be re-run (``qbench reproduce``) and its
numbers trusted.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from . import __version__
from .harness import BLAS_THREADS
from .memory import CPU_MEASURE
from .numerics import NUMERICS_VERSION

_PACKAGES = ("torch", "numpy", "scipy", "pandas", "pyarrow")
_ENVIRONMENT = ("PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUBLAS_WORKSPACE_CONFIG")


def _package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo`` on Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_state(path: Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the git checkout that holds qbench; ``None``s outside one."""
    where = path or Path(__file__).resolve().parent.parent
    state: dict[str, Any] = {"commit": None, "dirty": None}
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        if commit.returncode != 0:
            return state
        # Dirty means the *code* differs from the commit: untracked files and stored results
        # (a run being written, a baseline being regenerated) do not count.
        changes = subprocess.run(
            [
                "git",
                "-C",
                str(where),
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)results",
            ],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return state
    state["commit"] = commit.stdout.strip()
    state["dirty"] = bool(changes.stdout.strip()) if changes.returncode == 0 else None
    return state


def environment() -> dict[str, Any]:
    """Versions, machine, GPU and determinism settings of this process.

    torch is inspected only if something in this process imported it already
    (``torch_loaded``): importing it here would cost its start-up time in commands
    that never train (``reproduce`` compares fingerprints, a run's client may hand
    every case to workers). Without it, ``torch_build`` is the installed
    distribution's version (the same string), and the fields only a live torch
    knows (GPU, threads, deterministic flags) are ``None``: not inspected.
    """
    torch = sys.modules.get("torch")
    try:
        available_cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available_cores = os.cpu_count()
    packages = {name: _package_version(name) for name in _PACKAGES}
    return {
        "qbench_version": __version__,
        "numerics_version": NUMERICS_VERSION,
        "git": git_state(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": packages,
        "torch_build": torch.__version__ if torch is not None else packages["torch"],
        "torch_loaded": torch is not None,
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_count_available": available_cores,
        "gpu": _gpu(torch),
        "determinism": {
            "torch_deterministic_algorithms": (
                torch.are_deterministic_algorithms_enabled() if torch is not None else None
            ),
            "cudnn_deterministic": torch.backends.cudnn.deterministic if torch is not None else None,
            "torch_threads": torch.get_num_threads() if torch is not None else None,
            "blas_threads_per_case": BLAS_THREADS,
            "environment": {name: os.environ.get(name) for name in _ENVIRONMENT},
            "note": "PINN solvers seed torch, numpy and random from the case seed and train on "
            "`threads` torch threads (option, default 1); every case runs with one BLAS thread, so "
            "classical solvers give the same rounding in any executor.",
        },
        "cpu_memory_measure": CPU_MEASURE,
        "gpu_memory_measure": "torch.cuda.max_memory_allocated per case (NaN when the case ran on CPU)",
    }


def _gpu(torch: Any) -> dict[str, Any]:
    """The GPU torch sees; every field ``None`` (not inspected) when torch is not loaded."""
    if torch is None:
        return {"available": None, "name": None, "cuda_version": None, "count": None}
    cuda = torch.cuda.is_available()
    return {
        "available": cuda,
        "name": torch.cuda.get_device_name(0) if cuda else None,
        "cuda_version": torch.version.cuda,
        "count": torch.cuda.device_count() if cuda else 0,
    }


def fingerprint(env: dict[str, Any]) -> dict[str, Any]:
    """What must match for seeded CPU training to be bit-identical: libraries and CPU."""
    return {
        "torch": env.get("torch_build"),
        "numpy": env.get("packages", {}).get("numpy"),
        "cpu_model": env.get("cpu_model"),
    }

"""What every neural solver shares around its training: device, seeding, threads, info, evaluation."""

from __future__ import annotations

import math
import random
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from ..._validation import check_choice, check_positive
from ...problems import Problem
from ..base import Solution, Solver

#: Gauss points of the grade-free diagnostics every neural solver runs: energies, norms, node counts.
FINE_POINTS = 4096
#: An integral of psi^2 below this (trained toward 1) means psi collapsed to zero.
COLLAPSE_NORM = 1e-2


def check_device(name: str, value: Any) -> str:
    """Option check of ``device``: cpu, cuda (only where CUDA is available) or auto."""
    check_choice(name, value, ("cpu", "cuda", "auto"))
    if value == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}='cuda' but CUDA is not available here; use 'cpu' or 'auto'")
    return value


def check_time_limit(name: str, value: Any) -> float:
    """Option check of ``time_limit_s``: 0 or None means no limit, else > 0."""
    return 0.0 if value in (None, 0) else check_positive(name, value)


def torch_setup(device: str, seed: int, dtype: str) -> tuple[torch.device, torch.dtype]:
    """Resolve ``device`` ('auto' picks CUDA where there is one) and seed every generator."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds code that uses the legacy global state
    torch.manual_seed(seed)
    resolved = torch.device(device)
    if resolved.type == "cuda":
        torch.cuda.reset_peak_memory_stats(resolved)
    return resolved, getattr(torch, dtype)


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Train on ``count`` CPU threads, restoring the previous count after.

    Small networks train fastest on one thread, and a fixed count keeps CPU
    results bit-identical from run to run.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class NeuralSolver(Solver):
    """Base of the solvers that train networks: each solve runs on ``self.threads`` torch threads.

    A subclass has a ``threads`` option and implements ``_solve_with_threads``.
    """

    takes_points = False  # its 1D wavefunctions take flat positions (being unified for every d)

    threads: int

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        # Training needs gradients whatever the caller's grad mode (a solve inside torch.no_grad()).
        with torch.enable_grad(), torch_threads(self.threads):
            return self._solve_with_threads(problem, n_states)

    def _solve_with_threads(self, problem: Problem, n_states: int) -> Solution:
        raise NotImplementedError


def training_info(
    records: list, networks: list, device: torch.device, dtype: str, seed: int, start: float
) -> dict[str, Any]:
    """The ``info`` entries every neural solver records: history, steps, losses, sizes, device, memory."""
    peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info: dict[str, Any] = {
        "history": [row for record in records for row in record.history],
        "steps": [r.steps for r in records],
        "iterations": sum(r.steps for r in records),
        "final_loss": [r.final_loss for r in records],
        "n_parameters": sum(p.numel() for network in networks for p in network.parameters()),
        "wall_time_s": time.perf_counter() - start,
        "device": str(device),
        "dtype": dtype,
        "seed": seed,
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "torch_threads": torch.get_num_threads(),
        # ru_maxrss is the process's high-water mark: KiB on Linux, bytes on macOS.
        "peak_rss_mb_process": peak_rss_kb / (2**20 if sys.platform == "darwin" else 2**10),
        "peak_gpu_mem_mb": math.nan,
    }
    if device.type == "cuda":
        info["peak_gpu_mem_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        info["gpu_name"] = torch.cuda.get_device_name(device)
    return info


class Evaluator:
    """Normalized wavefunctions of trained states as a numpy callable ``x -> (n_states, len(x))``.

    Each state is a callable ``x -> (psi, psi')`` on tensors; ``norms`` are the
    square roots of their integrals of psi^2.
    """

    def __init__(self, states, norms, device, dtype):
        self.states, self.norms, self.device, self.dtype = states, norms, device, dtype

    def __call__(self, x: np.ndarray) -> np.ndarray:
        t = torch.as_tensor(np.asarray(x, dtype=float), dtype=self.dtype, device=self.device)
        rows = []
        for state, norm in zip(self.states, self.norms):
            psi, _ = state(t)
            rows.append((psi.detach() / norm).double().cpu().numpy())
        return np.array(rows)

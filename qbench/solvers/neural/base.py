"""What every neural solver shares: the ``NeuralSolver`` base, common options, torch set-up.

Importing this module does not import torch: option tables and solver classes are read by
``qbench list`` and the registry, which need no network. torch is imported when a solve
starts (or when ``device='cuda'`` is validated).
"""

from __future__ import annotations

import importlib
import math
import random
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..._validation import check_choice, check_nonnegative, check_positive, check_positive_int
from ...problems import Problem
from ...problems.base import MAX_DIM
from ..base import Option, Solution, Solver

if TYPE_CHECKING:
    import torch

#: The network activations (their torch forms live in :mod:`.trial`).
ACTIVATION_NAMES = ("tanh", "sin", "silu")
#: How to install the optional extra of the peer solvers (DeepXDE).
PEERS_INSTALL_HINT = "pip install 'qbench[peers]'"
#: An integral of psi^2 below this (trained toward 1) means psi collapsed to zero.
COLLAPSE_NORM = 1e-2
#: The largest d of ``pinn`` and ``nn-galerkin``. Above ``MAX_DIM`` (4) they measure on the problem's
#: grading rule, a sampled one there (``sampled_rule``), and train on drawn points.
MAX_SAMPLED_NEURAL_DIM = 10
#: The training points of ``pinn`` and ``PINN``'s presets (:func:`~.rules.training_rule`,
#: :class:`~.rules.AdaptiveRule`); ``auto`` is :func:`resolve_sampling`'s.
SAMPLINGS = ("auto", "gauss", "uniform", "random", "adaptive")


def resolve_sampling(sampling: str, dim: int) -> str:
    """``sampling`` as the trainings read it: ``"auto"`` is ``"gauss"`` in 1D (a Gauss rule on
    panels, spectrally accurate on one axis) and ``"adaptive"`` in d >= 2 (points that follow
    the trained states, :class:`~.rules.AdaptiveRule`), where a fixed rule can be fitted; any
    other value is itself."""
    if sampling == "auto":
        return "gauss" if dim == 1 else "adaptive"
    return sampling


def no_sampled_rule_message(problem: Problem) -> str:
    """Why a problem above ``MAX_DIM`` without ``sampled_rule`` cannot be trained or measured."""
    return (
        f"{problem.name} in d = {problem.dim} has no sampled_rule: above d = {MAX_DIM} the neural "
        "solvers train and measure on Monte Carlo points drawn from it (no tensor rule fits)"
    )


def check_sampled_rule(problem: Problem) -> None:
    """Above ``MAX_DIM``, refuse (``ValueError``, one line) a problem that has no ``sampled_rule``."""
    if problem.dim > MAX_DIM and problem.sampled_rule(2, 0) is None:
        raise ValueError(no_sampled_rule_message(problem))


def check_device(name: str, value: Any) -> str:
    """Option check of ``device``: cpu, cuda (only where CUDA is available) or auto."""
    check_choice(name, value, ("cpu", "cuda", "auto"))
    if value == "cuda":
        import torch  # only a CUDA request needs to ask torch

        if not torch.cuda.is_available():
            raise ValueError(f"{name}='cuda' but CUDA is not available here; use 'cpu' or 'auto'")
    return value


def check_time_limit(name: str, value: Any) -> float:
    """Option check of ``time_limit_s``: 0 or None means no limit, else > 0."""
    return 0.0 if value in (None, 0) else check_positive(name, value)


def check_flag(name: str, value: Any) -> bool:
    """Option check of a strict bool (``check_choice`` would let 1.0 or 0 through, as 1.0 == True)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_activation(name: str, value: Any) -> str:
    """Option check of ``activation``: one of :data:`ACTIVATION_NAMES`."""
    return check_choice(name, value, ACTIVATION_NAMES)


# Options with the same meaning, default and text in every neural solver.
ACTIVATION = Option("tanh", check_activation, "tanh, sin or silu")
DEVICE = Option("cpu", check_device, "cpu, cuda or auto")
DTYPE = Option("float64", lambda k, v: check_choice(k, v, ("float64", "float32")), "float64, float32")
TIME_LIMIT = Option(0.0, check_time_limit, "stop training after this many seconds (0 = none)")
THREADS = Option(1, check_positive_int, "torch CPU threads while training (restored after), >= 1")


def network_options(width: int) -> dict[str, Option]:
    """The options of the trial function's network (:mod:`.trial`): ``width`` (this default),
    ``depth`` (2) and ``activation`` (tanh)."""
    return {
        "width": Option(width, check_positive_int, "hidden units per layer, >= 1"),
        "depth": Option(2, check_positive_int, "hidden layers, >= 1"),
        "activation": ACTIVATION,
    }


def _check_decay(name: str, value: Any) -> float:
    value = check_positive(name, value)
    if value > 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value!r}")
    return value


#: Adam's learning rate at its last step relative to its first (exponential decay; 1 = constant).
LEARNING_RATE_DECAY = Option(
    1.0, _check_decay, "Adam's learning rate at its last step over its first (exponential), in (0, 1]"
)


#: kappa of the trial function's Gaussian factor exp(-kappa |t|^2), t the coordinates scaled to
#: [-1, 1] by the box: its width comes from the box alone (``vmc``'s envelope has kappa = 8).
ENVELOPE_DECAY = Option(
    0.0,
    check_nonnegative,
    "kappa of a Gaussian factor exp(-kappa |t|^2) of psi, t the box-scaled coordinates (0 = none), >= 0",
)


def torch_setup(device: str, seed: int, dtype: str) -> tuple[torch.device, torch.dtype]:
    """Resolve ``device`` ('auto' picks CUDA where there is one) and seed every generator."""
    import torch

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
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class NeuralSolver(Solver):
    """Base of the solvers that train networks: each solve runs on ``self.threads`` torch threads.

    A subclass has a ``threads`` option and implements ``_solve_with_threads``, where it
    imports its training module (and so torch).
    """

    threads: int
    #: The module of this package that trains it (imported by ``prepare`` and at the first solve).
    runtime: ClassVar[str]

    def prepare(self) -> None:
        """Import torch and the training runtime, which ``import qbench`` leaves unloaded."""
        importlib.import_module(f"{__package__}.{self.runtime}")

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        import torch

        # Training needs gradients whatever the caller's grad mode (a solve inside torch.no_grad()).
        with torch.enable_grad(), torch_threads(self.threads):
            return self._solve_with_threads(problem, n_states)

    def _solve_with_threads(self, problem: Problem, n_states: int) -> Solution:
        raise NotImplementedError


def training_info(
    records: list, networks: list, device: torch.device, dtype: str, seed: int, start: float
) -> dict[str, Any]:
    """The ``info`` entries every neural solver records: history, steps, losses, sizes, device, memory."""
    import torch

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

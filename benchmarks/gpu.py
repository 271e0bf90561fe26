"""asv: training on CUDA, one class per trained family (skipped on machines without a GPU)."""

from __future__ import annotations

import torch

from .common import FAMILIES, PROBLEMS, absent_unless_supported, graded_row


class _CudaTraining:
    """Peak GPU memory and wall time of one training on ``cuda`` (ground state, seed 0)."""

    param_names = ["problem", "solver"]
    timeout = 600

    def setup(self, problem, solver):
        if not torch.cuda.is_available():
            raise NotImplementedError("no CUDA device")  # asv marks the benchmark skipped
        with absent_unless_supported():
            self.row = graded_row(problem, solver, device="cuda")

    def track_peak_gpu_memory(self, problem, solver):
        return self.row["peak_gpu_mem_mb"]

    track_peak_gpu_memory.unit = "MiB"

    def track_wall_time(self, problem, solver):
        return self.row["wall_time_s"]

    track_wall_time.unit = "seconds"


class PinnTraining(_CudaTraining):
    """Family ``pinn``."""

    params = [PROBLEMS, FAMILIES["pinn"]]


class NeuralVariationalTraining(_CudaTraining):
    """Family ``neural-variational``."""

    params = [PROBLEMS, FAMILIES["neural-variational"]]

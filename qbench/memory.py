"""Peak memory of one case: CPU resident-set high-water mark and GPU allocations.

CPU: on Linux the kernel's high-water mark of the resident set (``VmHWM``) is
reset before each case by writing ``5`` to ``/proc/self/clear_refs``, so the
peak RSS is the peak *while that case ran* in a process that may have run
others before. The headline figure of a case (``cpu_mem_increase_mb`` in the
results) is that peak minus the RSS at the case's start: what the case itself
added, without the interpreter and the libraries already loaded (torch alone is
a few hundred MB). The absolute peak is kept beside it (``peak_rss_mb``). Where
the reset is unavailable, the process's lifetime peak (``ru_maxrss``) is the
absolute figure, the increase is unknown (NaN), and the measure's name says so.

GPU: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``,
i.e. tensors allocated by PyTorch's caching allocator (not the CUDA context).
"""

from __future__ import annotations

import math
import resource
import sys
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_mb(field: str) -> float:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0  # the kernel reports kB
    raise OSError(f"{field} not in {_STATUS}")


def _can_reset() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        _status_mb("VmHWM")
    except OSError:
        return False
    return True


CAN_RESET_PEAK = _can_reset()
CPU_MEASURE = (
    "increase of the peak RSS over the RSS at the case's start (Linux VmHWM, reset per case via "
    "/proc/self/clear_refs); peak_rss_mb is the absolute peak"
    if CAN_RESET_PEAK
    else "peak RSS of the process since it started (ru_maxrss; not reset per case on this platform, "
    "so the per-case increase is not measured)"
)


class CpuPeak:
    """Measure the peak resident set across a block of work: ``start()``, work, ``peak_mb()``."""

    def start(self) -> float:
        """Reset the high-water mark where possible; return the current RSS in MB."""
        if CAN_RESET_PEAK:
            _CLEAR_REFS.write_text("5")
            return _status_mb("VmRSS")
        return math.nan

    def peak_mb(self) -> float:
        if CAN_RESET_PEAK:
            return _status_mb("VmHWM")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 2**10)  # bytes on macOS, KiB elsewhere


class GpuPeak:
    """Peak bytes PyTorch allocated on the current CUDA device; NaN when CUDA was not used."""

    def __init__(self) -> None:
        torch = sys.modules.get("torch")
        self._cuda = torch.cuda if torch is not None and torch.cuda.is_available() else None

    def start(self) -> None:
        if self._cuda is not None:
            self._cuda.reset_peak_memory_stats()

    def peak_mb(self, used_cuda: bool) -> float:
        if self._cuda is None or not used_cuda:
            return math.nan
        return self._cuda.max_memory_allocated() / 2**20

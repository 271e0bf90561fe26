"""qbench: PINNs and classical eigensolvers on the 1D Schrödinger equation, side by side."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import metrics, problems, solvers

try:
    __version__ = version("qbench")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "metrics", "problems", "solvers"]

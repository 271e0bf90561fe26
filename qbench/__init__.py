"""qbench: PINNs, neural variational and classical eigensolvers on the Schrödinger equation in d = 1 to 4."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import metrics, problems, solvers

try:
    __version__ = version("qbench")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "metrics", "problems", "solvers"]

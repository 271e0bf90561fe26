"""qbench: PINNs, neural variational and classical eigensolvers on the Schrödinger equation in d = 1 to 4."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

# plugins: installs the entry-point loading into the registries (it runs at their first read).
from . import metrics, plugins, problems, solvers

try:
    __version__ = version("qbench")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "metrics", "plugins", "problems", "solvers"]

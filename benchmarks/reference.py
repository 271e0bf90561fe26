"""asv: cost of the exact references (transfer-matrix roots and eigenfunctions)."""

from __future__ import annotations

import numpy as np

import qbench

from .common import PROBLEMS, absent_unless_supported


class ExactReference:
    """Energies of states 0-4 and the eigenfunctions on 4096 points, from a fresh problem (no cache)."""

    params = [PROBLEMS]
    param_names = ["problem"]

    def setup(self, problem):
        with absent_unless_supported():
            self.x = np.linspace(*qbench.problems.get(problem).domain, 4096)

    def time_reference(self, problem):
        qbench.problems.get(problem).reference(5).wavefunctions(self.x)

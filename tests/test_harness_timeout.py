"""A case's wall-clock limit, in the main thread and outside it, and the torch state it may spoil."""

from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

from qbench import solvers
from qbench.harness.timeout import CaseTimeout, deadline, torch_state_kept
from qbench.problems import get as get_problem


def test_deadline_interrupts_and_cleans_up():
    with pytest.raises(CaseTimeout):
        with deadline(0.05):
            time.sleep(1)
    with deadline(0.2):
        pass
    time.sleep(0.3)  # the alarm was cancelled: nothing fires after the block (0.1 s past it)


def test_deadline_holds_outside_the_main_thread():
    """Dask runs tasks in worker threads, where SIGALRM is unavailable: a timer thread raises there."""
    outcome = {}

    def busy():
        try:
            with deadline(0.1):
                while True:  # pure Python: interruptible between bytecodes
                    pass
        except CaseTimeout as exc:
            outcome["timeout"] = str(exc)
        with deadline(0.2):
            pass
        time.sleep(0.4)  # the timer was cancelled: nothing is raised after the block (0.2 s past it)
        outcome["after"] = True

    worker = threading.Thread(target=busy)
    worker.start()
    worker.join(timeout=10)
    assert outcome == {"timeout": "case exceeded its timeout of 0.1 s", "after": True}


def test_torch_state_is_put_back_whatever_the_block_left():
    import torch

    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    with pytest.raises(RuntimeError), torch_state_kept():
        torch.set_grad_enabled(False)
        torch.set_default_dtype(torch.float16)
        torch.set_num_threads(threads + 1)
        raise RuntimeError("interrupted half-way")
    assert torch.is_grad_enabled()
    assert torch.get_default_dtype() == dtype and torch.get_num_threads() == threads


def test_torch_state_kept_does_not_import_torch(monkeypatch):
    """A process that never imported torch has no torch state, and should not pay for the import."""
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    with torch_state_kept():
        assert "torch" not in sys.modules
    assert "torch" not in sys.modules


def test_a_pinn_trains_inside_the_callers_no_grad():
    """The other half of the torch state: a solver must not depend on the caller's grad mode."""
    import torch

    solver = solvers.get("pinn", warm_steps=5, warm_lbfgs_iterations=2, lbfgs_iterations=2, seed=0)
    with torch.no_grad():
        solution = solver.solve(get_problem("infinite_well"), 1)
    assert np.isfinite(solution.energies).all() and solution.info["steps"][0] > 0

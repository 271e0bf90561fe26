"""Shared fixtures: the canonical problems, piecewise problems with jumps anywhere, a collapsed network."""

from __future__ import annotations

import sys

import pytest
from threadpoolctl import threadpool_limits

import qbench

# One BLAS thread for the session, as qbench.harness gives every case: a solver called directly rounds
# as it does in a run, and on a small busy machine OpenBLAS's second thread costs more than it gives on
# matrices of this size (2 loaded cores: the 1D spectral solves took 3x the wall time with two threads).
BLAS_LIMIT = threadpool_limits(limits=1, user_api="blas")

#: Set once torch's session thread count is 1 (pytest_runtest_setup below).
_TORCH_ONE_THREAD = pytest.StashKey[bool]()


def pytest_runtest_setup(item):
    """One torch thread too, once a test module has imported torch: a neural solver trains and
    evaluates on its own ``threads`` (1 by default) and puts the caller's count back, so only what
    a test runs outside a solve sees this. On 2 loaded cores each of torch's parallel regions there
    waited milliseconds for the second thread once a solve had set the count back to 2 (the
    forward-mode derivative checks of test_neural_trial took 5-9 s instead of under 1)."""
    torch = sys.modules.get("torch")
    if torch is not None and not item.config.stash.get(_TORCH_ONE_THREAD, False):
        torch.set_num_threads(1)
        item.config.stash[_TORCH_ONE_THREAD] = True


#: Faults injected by tests/test_faults.py: (what, finished cases lost), summed up at the end.
_FAULTS = pytest.StashKey[list]()


@pytest.fixture
def fault_ledger(request):
    """``record(fault, lost)``: count one injected fault and the finished cases it lost."""
    ledger = request.config.stash.setdefault(_FAULTS, [])

    def record(fault: str, lost: int) -> None:
        ledger.append((fault, lost))

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ledger = config.stash.get(_FAULTS, [])
    if ledger:
        terminalreporter.write_line(
            f"fault injection: {len(ledger)} faults injected, "
            f"{sum(lost for _, lost in ledger)} finished cases lost"
        )


CANONICAL = ("infinite_well", "finite_well", "finite_barrier")

# Asymmetric problems whose jumps sit at "awkward" positions relative to any grid.
IRREGULAR = {
    "asymmetric_step": dict(edges=[0.0, 0.3137, 1.0], values=[0.0, 37.0]),
    "double_barrier": dict(edges=[-1.0, -0.2718, -0.1414, 0.1732, 0.3, 1.1], values=[0, 80, 0, 55, -5]),
}


@pytest.fixture(params=CANONICAL)
def canonical(request):
    return qbench.problems.get(request.param)


@pytest.fixture(params=[*CANONICAL, *IRREGULAR])
def any_problem(request):
    if request.param in IRREGULAR:
        return qbench.problems.PiecewiseConstant(**IRREGULAR[request.param])
    return qbench.problems.get(request.param)


# Problems that have required parameters, at a representative setting.
REQUIRED = {"potential": dict(V="x**4 - 3*x**2", domain=[-4.0, 4.0])}


# The 1D problems (at their defaults): the d-dimensional ones have their own tests
# (test_multidim_problems.py).
ONE_D = [
    n
    for n in qbench.problems.available()
    if n not in ("piecewise_constant", "separable") and qbench.problems.get(n, **REQUIRED.get(n, {})).dim == 1
]


@pytest.fixture(params=[*ONE_D, *IRREGULAR])
def every_problem(request):
    """Every registered 1D problem at its defaults (or at :data:`REQUIRED`), and the irregular ones."""
    if request.param in IRREGULAR:
        return qbench.problems.PiecewiseConstant(**IRREGULAR[request.param])
    return qbench.problems.get(request.param, **REQUIRED.get(request.param, {}))


@pytest.fixture
def second_network_zeroed():
    """Wrap a network builder so that the second network it builds starts (and so stays) at psi = 0:
    its output layer is zeroed, so every gradient through it vanishes."""

    def wrap(build):
        import torch

        built = []

        def wrapped(*args, **kwargs):
            network = build(*args, **kwargs)
            built.append(network)
            if len(built) == 2:
                with torch.no_grad():
                    network.output.weight.zero_()
                    network.output.bias.zero_()
            return network

        return wrapped

    return wrap

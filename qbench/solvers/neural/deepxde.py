"""``deepxde``: DeepXDE (PyTorch backend) as a peer PINN, set up the way its documentation does.

qbench's own PINNs are written here; this solver lets anyone check them against the
PINN library most people use. DeepXDE is an optional extra (``pip install 'qbench[peers]'``).
This module holds the class and its options and imports neither DeepXDE nor torch; a solve
imports :mod:`.deepxde_runtime`, which loads them.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from ..._validation import check_choice, check_int, check_nonnegative_int, check_positive, check_positive_int
from ...problems import Problem
from ..base import Option, Solution
from .base import DEVICE, PEERS_INSTALL_HINT, THREADS, TIME_LIMIT, NeuralSolver

ACTIVATIONS = ("tanh", "sin", "silu", "sigmoid")


def _find_spec(name: str):
    """importlib's spec lookup (a seam for tests); None when the package is not installed."""
    return importlib.util.find_spec(name)


def check_available() -> None:
    """Raise ``ValueError`` saying how to install DeepXDE if it is not installed (does not import it)."""
    if "deepxde" in sys.modules:
        return
    try:
        spec = _find_spec("deepxde")
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise ValueError(
            f"solver 'deepxde' needs the optional package deepxde ({PEERS_INSTALL_HINT}); it is not installed"
        )


class DeepXDE(NeuralSolver):
    """DeepXDE's PINN for the lowest states, one network and one trainable E per state.

    Setup, after DeepXDE's inverse-problem example ``examples/pinn_inverse/brinkman_forchheimer.py``
    (a 1D ``Interval``, ``dde.grad.hessian``, walls by an output transform, unknown constants as
    ``dde.Variable`` handed to ``compile(external_trainable_variables=...)``) and its usual
    schedule of Adam followed by ``model.compile("L-BFGS")`` (e.g. ``examples/pinn_forward/Burgers.py``):

    * **Network** ``dde.nn.FNN([1] + [width] * depth + [1], activation, "Glorot uniform")``, with
      ``net.apply_feature_transform`` mapping x to t = 2 (x - x0) / L - 1 in [-1, 1] and
      ``net.apply_output_transform`` giving psi = (x - x0)(x1 - x) / L^2 * N(t): the walls hold
      exactly, as in the example's ``x * (1 - x) * y``.
    * **Data** ``dde.data.PDE(dde.geometry.Interval(x0, x1), pde, [], num_domain=n_collocation,
      num_boundary=0, train_distribution="uniform", auxiliary_var_function=...)``. The auxiliary
      variables (DeepXDE's way to feed coefficient fields to ``pde``) carry V at the collocation
      points and the already-trained lower states there.
    * **Losses** (``pde`` returns a list; DeepXDE takes the mean square of each entry and sums them
      with ``compile(loss_weights=...)``):

      - the residual r = -psi'' + (V - E) psi, weighted 1 / S^2 with the energy scale
        S = (max V - min V) + ((k + 1) pi / L)^2 (ours: the residual of a normalized psi is of size
        S, so this makes the weights below mean the same on every problem);
      - normalization L mean(psi^2) - 1, weight ``norm_weight`` (ours, as in every residual
        PINN: without it psi = 0 zeroes the residual);
      - for state k > 0, orthogonality L mean(psi phi_j) to each trained lower state phi_j
        (normalized on the same points), weight ``norm_weight`` (ours; the deflation used in the
        PINN eigenvalue literature, e.g. Jin, Mattheakis & Protopapas 2022).

    * **Energy** E is a ``dde.Variable(E_start)`` in ``external_trainable_variables``, as in the
      example; Adam moves it by about ``learning_rate`` per step (3 energy units over the default
      3000 steps), L-BFGS without a step size. A rescaled E = E_start + u e was tried on the
      validation problems and dropped: with u = S (fast) it jumped within a few hundred steps to
      the energy of the random initial network on ``step_well`` (states 0 and 2 landed on levels
      with 3 and 0 nodes); with u = ((k + 1) pi / L)^2 (the box level) it barely moved on
      ``harmonic_oscillator`` (box [-8, 8]: u = 0.04; E_0 = 0.12 for 1.00 while the Rayleigh
      quotient of the same psi was 1.001).
    * **Start** E_start = min V + ((k + 1) pi / L)^2, the k-th level of a hard-wall box of the
      domain's length on the potential's floor (pinn-trainable's ``box`` rule). It reads nothing of
      the answer and is a lower bound of E_k (V >= min V), so E climbs toward state k.
    * **Schedule** ``compile("adam", lr=learning_rate)`` and ``train(iterations=adam_steps)``, then
      ``compile("L-BFGS")`` and ``train()`` for ``lbfgs_steps`` iterations, with DeepXDE's own
      L-BFGS settings (``set_LBFGS_options`` defaults) run in chunks of 50 iterations so that
      progress, the time limit and the history are updated between chunks. Float64 throughout
      (``dde.config.set_default_float("float64")``, restored afterwards).

    Defaults: DeepXDE's example scale (tanh, Glorot uniform, 3 hidden layers, Adam at 1e-3 as in
    ``brinkman_forchheimer.py``) with a budget of about 20 s of one CPU core per state (3000 Adam
    steps, 1000 L-BFGS iterations, 256 points); ``norm_weight`` 1 was not tuned (time). They were
    checked on validation problems only, never on the canonical three: seed 0, states 0-2, relative
    energy errors 3e-3, 4e-3, 3e-2 on ``harmonic_oscillator``, 3e-3, 9e-4, 2e-4 on the asymmetric
    well ``piecewise_constant`` (edges 0, 0.37, 0.81, 1; values 30, 0, 12), and on ``step_well``
    2e-2 and 3e-3 for states 0 and 1 while state 2 landed on a 3-node level (``failed``).

    The returned energy of each state is the Rayleigh quotient of its psi on a fine Gauss rule
    (``info["rayleigh_energy"]``), the estimator every neural solver reports; its trained E
    (DeepXDE's answer to the inverse problem; the errors quoted above are of it) is
    ``Solution.trained_energies`` and ``info["trained_energy"]``, graded beside it. The
    Laplacian of each returned psi (``Solution.laplacian``) is by autograd. Wavefunctions are
    normalized on that rule and signed to rise from the left wall.
    Per-state status: the training outcome (``diverged`` for a non-finite loss or E, ``timeout``
    past ``time_limit_s``), then ``failed`` for a psi that collapsed to zero or whose sign changes
    do not number k (the Sturm check the other PINNs use; it reads no reference). ``info`` has the
    training history (step, phase, loss, energy, time_s, state), steps, final losses, initial
    energies, node counts, parameter count, device, dtype, seed and versions.
    """

    runtime = "deepxde_runtime"

    name = "deepxde"
    family = "pinn"
    #: Shown by ``qbench list`` and in errors: the solver needs an optional extra.
    install_hint = PEERS_INSTALL_HINT
    options = {
        "width": Option(32, check_positive_int, "hidden units per layer, >= 1"),
        "depth": Option(3, check_positive_int, "hidden layers, >= 1"),
        "activation": Option("tanh", lambda k, v: check_choice(k, v, ACTIVATIONS), ", ".join(ACTIVATIONS)),
        "n_collocation": Option(
            256, lambda k, v: check_int(k, v, minimum=16), "collocation points in the domain, >= 16"
        ),
        "adam_steps": Option(3000, check_nonnegative_int, "Adam steps, >= 0"),
        "learning_rate": Option(1e-3, check_positive, "Adam learning rate, > 0"),
        "lbfgs_steps": Option(1000, check_nonnegative_int, "L-BFGS iterations after Adam, >= 0"),
        "norm_weight": Option(
            1.0, check_positive, "weight of the normalization and orthogonality losses, > 0"
        ),
        "device": DEVICE,
        "seed": Option(0, check_nonnegative_int, "seeds DeepXDE, torch, numpy and random, >= 0"),
        "log_every": Option(
            100, check_positive_int, "history row (and DeepXDE's loss check) every N Adam steps, >= 1"
        ),
        "threads": THREADS,
        "time_limit_s": TIME_LIMIT,
    }

    def __init__(self, **options: Any):
        super().__init__(**options)
        check_available()  # at construction, so a suite without DeepXDE fails before it starts

    def check_problem(self, problem: Problem, n_states: int) -> None:
        if self.adam_steps + self.lbfgs_steps == 0:
            raise ValueError("adam_steps and lbfgs_steps are both 0: nothing would be trained")

    # -- solve -------------------------------------------------------------------
    def _solve_with_threads(self, problem: Problem, n_states: int) -> Solution:
        from .deepxde_runtime import solve

        return solve(self, problem, n_states)

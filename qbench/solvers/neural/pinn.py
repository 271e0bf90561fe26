"""``pinn``: the residual-loss PINN at its best (scale-free residual, Rayleigh energy, projection).

The loss is built from the residual r = -Laplacian psi + (V - E) psi of the equation alone,
with each ingredient chosen so that the residual formulation works as well as it can (see
:class:`ResidualPinn` for the why of each). This module holds the class and its options and
imports no torch; the training is :mod:`.residual_training`.
"""

from __future__ import annotations

from ..._validation import check_choice, check_int, check_nonnegative_int, check_positive, check_positive_int
from ...problems import Problem
from ..base import Option, Solution
from .base import (
    DEVICE,
    DTYPE,
    ENVELOPE_DECAY,
    LEARNING_RATE_DECAY,
    MAX_SAMPLED_NEURAL_DIM,
    THREADS,
    TIME_LIMIT,
    NeuralSolver,
    check_flag,
    check_sampled_rule,
    network_options,
)

#: ``pinn``'s choices of training points (see :func:`~.base.resolve_sampling`).
PINN_SAMPLINGS = ("auto", "gauss", "adaptive")


class ResidualPinn(NeuralSolver):
    """Residual-loss PINN: one network per state, trained on r = -Laplacian psi + (V - E) psi, d = 1-10.

    Formulation (every choice below was kept because it helps the residual loss
    reach the right state accurately; see the benchmark ``bench_pinn_residual.py``):

    * **Trial function.** psi(x) = prod_i (x_i - lo_i)(hi_i - x_i)/L_i^2 * N(t, s_1, ..., s_m)
      with the coordinates t scaled to [-1, 1] and the kink features s_j = (t - t_j)|t - t_j|
      at every breakpoint of V (a radial one at a circular interface;
      :class:`~.trial.TrialFunction`): the walls hold exactly, and psi'' can jump at the
      breakpoints as the equation demands, which a smooth network cannot.
    * **Scale-free loss.** ``loss = sum(w r^2) / sum(w psi^2)``: the residual
      relative to the size of psi. It is invariant under psi -> c psi, so psi = 0
      is not a minimum (the trivial solution that sinks the paper's
      residual + (|psi|^2 - 1)^2 loss), and needs no normalization weight.
    * **Energy = Rayleigh quotient** E = sum(w (|grad psi|^2 + V psi^2)) / sum(w psi^2).
      It is the E that minimizes the loss above for the current psi (the loss is
      then the energy variance <H psi, H psi>/<psi, psi> - E^2), so E needs no
      learning rate of its own and is accurate to second order in psi's error.
    * **Training points** (``sampling``). ``"auto"`` (default): in 1D Gauss points on panels
      that end at the breakpoints (the integrands are smooth on each panel, so the quadrature
      is spectral); in d >= 2 the adaptive rule (:class:`~.rules.AdaptiveRule`): a uniform
      share of the box plus a Gaussian refitted, before every draw, to the network in
      training and the lower states (their own |psi|^2; nothing of the answer), with unbiased
      importance weights, ``n_points`` per draw, a fresh draw before every Adam step and every
      chunk of L-BFGS iterations (L-BFGS restarts on each), so no fixed set can be fitted; the
      lower states are re-orthonormalized on each draw. ``"gauss"``: the fixed rules (1D
      panels, a 2D tensor rule, the problem's own rule for a curved interface, one scrambled
      Sobol set in 3D and 4D) and above d = 4 draws of the problem's ``sampled_rule``.
      Above d = 4 the energies are measured on the problem's grading rule, a sampled one
      there (:func:`~.rules.fine_rule`; a problem without one is refused). As in every d, a
      training whose Rayleigh quotient on its points falls below min V plus the empty box's
      ground level (a lower bound on E0) stops as ``failed`` ("quadrature exploited"); on
      drawn points the test is statistical (:func:`~.training.below_floor`).
    * **Envelope and schedule.** ``envelope_decay`` kappa multiplies psi by exp(-kappa |t|^2),
      t the box-scaled coordinates (a width from the box alone); ``learning_rate_decay``
      lowers Adam's rate exponentially to that fraction at its last step.
    * **Landing on state k.** The network output has the trained lower states
      projected out exactly (in the training rule's inner product), with the
      same coefficients for psi, its gradient and its Laplacian. A warm start minimizes the
      Rayleigh quotient in that complement (whose minimum is state k) before the
      residual takes over; the residual alone is zero at *every* eigenstate
      and converges to whichever one is nearest to the initial network.
    * **Adam, then L-BFGS**, in float64: Adam (``warm_steps``) then L-BFGS
      (``warm_lbfgs_iterations``) on the Rayleigh quotient find the basin of
      state k; L-BFGS on the residual (``lbfgs_iterations``) then refines it
      (on the validation problems, from ~1e-5 relative energy error after the
      warm start to ~1e-7 - 1e-6). Residual Adam steps (``adam_steps``) are off
      by default: at the warm start's learning rate they walked away to another
      eigenstate (step well: E = 32.4 with 6 nodes instead of 3.97), and at a
      small one (``residual_learning_rate``) they cost time without gain.
    * **Subspace rotation** (``n_states > 1``). The residual barely penalizes a
      mixture of two close levels (by a^2 b^2 (E_2 - E_1)^2), so near-degenerate
      states can end up mixed; a Rayleigh-Ritz step among the trained states
      (the Hamiltonian in their span, on the fine rule ``problem.quadrature_rule()``)
      un-mixes them, and turns a degenerate group into an orthonormal basis of its level.
    * **Sturm check** (1D). State k must have exactly k sign changes inside the box;
      a state that does not is ``failed`` (per state, in ``state_status``),
      without looking at any reference. In d > 1 state k need not have k nodal domains,
      so ``node_check`` is ignored there (``info["node_check"]`` says it was skipped).

    The returned energy of each state is its Rayleigh quotient on the fine rule
    (after the rotation: the Ritz values). ``info`` records the
    training history (rows with step, phase, loss, energy, time_s and state;
    phases ``rayleigh-adam``, ``rayleigh-lbfgs``, ``residual-adam``,
    ``residual-lbfgs``), steps, iterations, final losses, ``trained_energy``
    (each state's Rayleigh quotient before the rotation), ``node_count`` (1D),
    ``relative_residual`` (|r| / |psi| on the fine rule), parameter count,
    device, dtype, seed and peak GPU memory. Training never raises: a NaN loss gives ``diverged``, the time
    limit ``timeout``, a wrong node count ``failed``.
    """

    runtime = "residual_training"
    # Runs recorded before ``sampling`` existed trained on the fixed Gauss/Sobol rules.
    recorded_defaults = {"sampling": "gauss"}

    name = "pinn"
    family = "pinn"
    dimensions = tuple(range(1, MAX_SAMPLED_NEURAL_DIM + 1))
    options = {
        **network_options(32),
        "envelope_decay": ENVELOPE_DECAY,
        "kink_features": Option(True, check_flag, "breakpoint inputs (t - t_j)|t - t_j|"),
        "n_points": Option(
            512, lambda k, v: check_int(k, v, minimum=16), "training points (per draw above d = 4), >= 16"
        ),
        "sampling": Option(
            "auto",
            lambda k, v: check_choice(k, v, PINN_SAMPLINGS),
            "auto (gauss in 1D, adaptive in d >= 2), gauss (fixed Gauss/Sobol points up to d = 4) "
            "or adaptive (drawn points that follow the trained states)",
        ),
        "warm_steps": Option(
            500, check_nonnegative_int, "Adam steps on the Rayleigh quotient before the residual, >= 0"
        ),
        "warm_lbfgs_iterations": Option(
            1000,
            check_nonnegative_int,
            "L-BFGS iterations on the Rayleigh quotient after its Adam steps, >= 0",
        ),
        "learning_rate_decay": LEARNING_RATE_DECAY,
        "adam_steps": Option(0, check_nonnegative_int, "Adam steps on the residual loss, >= 0"),
        "learning_rate": Option(3e-3, check_positive, "Adam learning rate of the warm start, > 0"),
        "residual_learning_rate": Option(1e-4, check_positive, "Adam learning rate on the residual, > 0"),
        "lbfgs_iterations": Option(
            1500, check_nonnegative_int, "L-BFGS iterations on the residual loss, >= 0"
        ),
        "subspace_rotation": Option(
            True, check_flag, "Rayleigh-Ritz among the trained states (un-mixes close levels)"
        ),
        "node_check": Option(True, check_flag, "state k must have k sign changes (Sturm), else failed"),
        "dtype": DTYPE,
        "device": DEVICE,
        "seed": Option(0, check_nonnegative_int, "seeds torch, numpy and random, >= 0"),
        "log_every": Option(10, check_positive_int, "history row every N Adam steps, >= 1"),
        "threads": THREADS,
        "time_limit_s": TIME_LIMIT,
    }

    def check_problem(self, problem: Problem, n_states: int) -> None:
        check_sampled_rule(problem)
        if self.adam_steps + self.lbfgs_iterations == 0:
            raise ValueError("adam_steps and lbfgs_iterations are both 0: the residual is never trained")

    def _solve_with_threads(self, problem: Problem, n_states: int) -> Solution:
        from .residual_training import solve

        return solve(self, problem, n_states)

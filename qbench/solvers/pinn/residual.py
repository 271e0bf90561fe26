"""``pinn``: the residual-loss PINN at its best (scale-free residual, Rayleigh energy, projection).

The loss is built from the residual r = -psi'' + (V - E) psi of the equation
alone, with each ingredient chosen so that the residual formulation works as
well as it can (see :class:`ResidualPinn` for the why of each).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import scipy.linalg
import torch

from ... import progress
from ..._validation import check_choice, check_int, check_nonnegative_int, check_positive, check_positive_int
from ...numerics.quadrature import domain_rule
from ...problems import Problem
from ..base import Option, Solution, Status
from . import objectives
from .network import ACTIVATIONS, TrialFunction
from .objectives import NODE_FLOOR, count_nodes  # noqa: F401 - count_nodes is part of this module's API
from .runtime import (
    FINE_POINTS,
    Evaluator,
    NeuralSolver,
    check_device,
    check_time_limit,
    torch_setup,
    training_info,
)
from .training import TrainingRecord, train


def _flag(name: str, value: Any) -> bool:
    # Strictly a bool: check_choice would let 1.0 or 0 through, since 1.0 == True.
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


class LowerStates:
    """The trained lower states on the training rule, orthonormal in its weights.

    ``values[d]`` is ``(n_lower, n_points, ...)``: the d-th derivative of each lower state
    (normalized so that sum(w psi_j^2) = 1), detached; in d dimensions the gradient has a
    trailing axis of length d.
    """

    def __init__(self, values: list[torch.Tensor]):
        self.values = values

    def project(self, phi: list[torch.Tensor], w: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """phi minus its components along the lower states (same coefficients for every derivative).

        Returns the projected derivatives and the coefficients c_j = <phi, psi_j>.
        """
        if self.values[0].shape[0] == 0:
            return phi, phi[0].new_zeros(0)
        c = self.values[0] @ (w * phi[0])
        # Flattened so that one product serves every shape (a gradient's (L, n, d) included).
        return [f - (c @ p.reshape(len(p), -1)).reshape(f.shape) for f, p in zip(phi, self.values)], c


class ResidualPinn(NeuralSolver):
    """Residual-loss PINN: one network per state, trained on r = -psi'' + (V - E) psi.

    Formulation (every choice below was kept because it helps the residual loss
    reach the right state accurately; see the benchmark ``bench_pinn_residual.py``):

    * **Trial function.** psi(x) = (x - x0)(x1 - x)/L^2 * N(t, s_1, ..., s_m)
      with the kink features s_j = (t - t_j)|t - t_j| at every breakpoint of V
      (``TrialFunction``): the walls hold exactly, and psi'' can jump at the
      breakpoints as the equation demands, which a smooth network cannot.
    * **Scale-free loss.** ``loss = sum(w r^2) / sum(w psi^2)``: the residual
      relative to the size of psi. It is invariant under psi -> c psi, so psi = 0
      is not a minimum (the trivial solution that sinks the paper's
      residual + (|psi|^2 - 1)^2 loss), and needs no normalization weight.
    * **Energy = Rayleigh quotient** E = sum(w (psi'^2 + V psi^2)) / sum(w psi^2).
      It is the E that minimizes the loss above for the current psi (the loss is
      then the energy variance <H psi, H psi>/<psi, psi> - E^2), so E needs no
      learning rate of its own and is accurate to second order in psi's error.
    * **Gauss points** on panels that end at the breakpoints (``domain_rule``):
      the integrands are smooth on each panel, so the quadrature is spectral.
    * **Landing on state k.** The network output has the trained lower states
      projected out exactly (in the training rule's inner product), with the
      same coefficients for psi, psi' and psi''. A warm start minimizes the
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
      (the Hamiltonian in their span, on the fine rule) un-mixes them.
    * **Sturm check.** State k must have exactly k sign changes inside the box;
      a state that does not is ``failed`` (per state, in ``state_status``),
      without looking at any reference.

    The returned energy of each state is its Rayleigh quotient on a fine
    Gauss rule (after the rotation: the Ritz values). ``info`` records the
    training history (rows with step, phase, loss, energy, time_s and state;
    phases ``rayleigh-adam``, ``rayleigh-lbfgs``, ``residual-adam``,
    ``residual-lbfgs``), steps, iterations, final losses, ``trained_energy``
    (each state's Rayleigh quotient before the rotation), ``node_count``,
    ``relative_residual`` (|r| / |psi| on the fine rule), parameter count,
    device, dtype, seed and peak GPU memory. Training never raises: a NaN loss gives ``diverged``, the time
    limit ``timeout``, a wrong node count ``failed``.

    **d = 2, 3, 4** (:mod:`.multidim_train`): the same method with a network of d inputs,
    the wall factor prod_i (x_i - lo_i)(hi_i - x_i) / L_i^2, per-axis kink inputs (and a
    radial one at a circular interface), the Laplacian for psi'' and |grad psi|^2 for
    psi'^2. ``n_points`` is the *total* number of training points: a tensor Gauss rule for
    d <= 2 (the problem's own rule for a curved interface), scrambled Sobol points (seeded)
    for d >= 3. The rotation and the energies use the fine rule ``problem.quadrature_rule()``,
    so a degenerate group comes out as an orthonormal basis of its level. ``node_check`` is
    ignored there: state k of a d-dimensional problem need not have k nodal domains, so the
    Sturm check does not hold (``info["node_check"]`` says it was skipped).
    """

    name = "pinn"
    family = "pinn"
    dimensions = (1, 2, 3, 4)
    options = {
        "width": Option(32, check_positive_int, "hidden units per layer, >= 1"),
        "depth": Option(2, check_positive_int, "hidden layers, >= 1"),
        "activation": Option(
            "tanh", lambda k, v: check_choice(k, v, tuple(ACTIVATIONS)), "tanh, sin or silu"
        ),
        "kink_features": Option(True, _flag, "breakpoint inputs (t - t_j)|t - t_j|"),
        "n_points": Option(512, lambda k, v: check_int(k, v, minimum=16), "Gauss training points, >= 16"),
        "warm_steps": Option(
            500, check_nonnegative_int, "Adam steps on the Rayleigh quotient before the residual, >= 0"
        ),
        "warm_lbfgs_iterations": Option(
            1000,
            check_nonnegative_int,
            "L-BFGS iterations on the Rayleigh quotient after its Adam steps, >= 0",
        ),
        "adam_steps": Option(0, check_nonnegative_int, "Adam steps on the residual loss, >= 0"),
        "learning_rate": Option(3e-3, check_positive, "Adam learning rate of the warm start, > 0"),
        "residual_learning_rate": Option(1e-4, check_positive, "Adam learning rate on the residual, > 0"),
        "lbfgs_iterations": Option(
            1500, check_nonnegative_int, "L-BFGS iterations on the residual loss, >= 0"
        ),
        "subspace_rotation": Option(
            True, _flag, "Rayleigh-Ritz among the trained states (un-mixes close levels)"
        ),
        "node_check": Option(True, _flag, "state k must have k sign changes (Sturm), else failed"),
        "dtype": Option(
            "float64", lambda k, v: check_choice(k, v, ("float64", "float32")), "float64, float32"
        ),
        "device": Option("cpu", check_device, "cpu, cuda or auto"),
        "seed": Option(0, check_nonnegative_int, "seeds torch, numpy and random, >= 0"),
        "log_every": Option(10, check_positive_int, "history row every N Adam steps, >= 1"),
        "threads": Option(1, check_positive_int, "torch CPU threads while training (restored after), >= 1"),
        "time_limit_s": Option(0.0, check_time_limit, "stop training after this many seconds (0 = none)"),
    }

    def check_problem(self, problem: Problem, n_states: int) -> None:
        if self.adam_steps + self.lbfgs_iterations == 0:
            raise ValueError("adam_steps and lbfgs_iterations are both 0: the residual is never trained")

    # -- solve -------------------------------------------------------------------
    def _solve_with_threads(self, problem: Problem, n_states: int) -> Solution:
        if problem.dim > 1:
            from .multidim_train import solve_residual  # it imports this package's solver module

            return solve_residual(self, problem, n_states)
        device, dtype = torch_setup(self.device, self.seed, self.dtype)
        start = time.perf_counter()
        as_tensor = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
        x_np, w_np = objectives.rule(problem, "gauss", self.n_points, True, np.random.default_rng(self.seed))
        x, w, v = as_tensor(x_np), as_tensor(w_np), as_tensor(problem.potential(x_np))

        networks: list[TrialFunction] = []
        # psi_k = sum_i mix[k][i] * network_i: state k is its network minus its projections.
        mix: list[list[float]] = []
        lower = [x.new_zeros((0, len(x))) for _ in range(3)]
        records: list[TrainingRecord] = []
        per_state = self.warm_steps + self.warm_lbfgs_iterations + self.adam_steps + self.lbfgs_iterations
        for k in range(n_states):
            network = self._network(problem, device, dtype)
            record = self._train_state(network, LowerStates(lower), x, w, v, k, n_states, per_state, start)
            records.append(record)
            networks.append(network)
            with torch.no_grad():
                phi = network.derivatives(x, 2)
                projected, c = LowerStates(lower).project(phi, w)
                norm = torch.sqrt((w * projected[0] ** 2).sum())
            # psi_k = (phi_k - sum_j c_j psi_j) / norm, each psi_j itself a mix of networks.
            row = [0.0] * (k + 1)
            row[k] = 1.0
            for j, cj in enumerate(c.tolist()):
                for i, coefficient in enumerate(mix[j]):
                    row[i] -= cj * coefficient
            mix.append([r / float(norm) for r in row])
            lower = [torch.cat([previous, (f / norm)[None, :]]) for previous, f in zip(lower, projected)]

        return self._solution(problem, n_states, networks, mix, records, device, dtype, start)

    def _network(self, problem: Problem, device: torch.device, dtype: torch.dtype) -> TrialFunction:
        kinks = problem.breakpoints if self.kink_features else ()
        network = TrialFunction(problem.domain, kinks, self.width, self.depth, self.activation)
        return network.to(device=device, dtype=dtype)

    def _train_state(
        self,
        network,
        lower: LowerStates,
        x,
        w,
        v,
        k,
        n_states,
        per_state,
        start,
        rayleigh=None,
        relative_residual=None,
    ) -> TrainingRecord:
        """Warm start on the Rayleigh quotient, then the residual: Adam, then L-BFGS.

        ``rayleigh`` and ``relative_residual`` are the energy functionals on the rule (default:
        the 1D ones of :mod:`.objectives`, looked up at call time); the d-dimensional path
        (:mod:`.multidim_train`) passes its own, which take gradients.
        """
        rayleigh = rayleigh or objectives.rayleigh_quotient
        relative_residual = relative_residual or objectives.relative_residual
        total = per_state * n_states

        def on_step(offset):
            return lambda steps: progress.report(min(k * per_state + offset + steps, total), total)

        def remaining() -> float:
            if not self.time_limit_s:
                return 0.0
            # A tiny positive floor: train() treats 0 as "no limit".
            return max(self.time_limit_s - (time.perf_counter() - start), 1e-9)

        def rayleigh_objective():
            psi, dpsi = lower.project(network.derivatives(x, 1), w)[0]
            energy = rayleigh(psi, dpsi, v, w)
            return energy, energy.detach()

        def residual_objective():
            loss, energy = relative_residual(*lower.project(network.derivatives(x, 2), w)[0], v, w)
            return loss, energy.detach()

        parameters = list(network.parameters())
        history: list[dict] = []
        steps = 0
        record = TrainingRecord()
        phases = [
            ("rayleigh", rayleigh_objective, self.warm_steps, self.learning_rate, self.warm_lbfgs_iterations),
            (
                "residual",
                residual_objective,
                self.adam_steps,
                self.residual_learning_rate,
                self.lbfgs_iterations,
            ),
        ]
        for label, objective, adam_steps, learning_rate, lbfgs_iterations in phases:
            if adam_steps + lbfgs_iterations == 0:
                continue
            record = train(
                parameters,
                objective,
                adam_steps=adam_steps,
                learning_rate=learning_rate,
                lbfgs_iterations=lbfgs_iterations,
                log_every=self.log_every,
                time_limit_s=remaining(),
                on_step=on_step(steps),
            )
            offset_time = history[-1]["time_s"] if history else 0.0
            for row in record.history:
                row["step"] += steps
                row["time_s"] += offset_time
                row["state"] = k
                row["phase"] = f"{label}-{row['phase']}"
            history.extend(record.history)
            steps += record.steps
            if record.status is not Status.OK:
                break
        record.history, record.steps = history, steps
        return record

    def _solution(self, problem, n_states, networks, mix, records, device, dtype, start) -> Solution:
        """Energies, grade-free per-state checks and info on a fine rule."""
        fine_x, fine_w = domain_rule(problem.domain, problem.breakpoints, n_points=FINE_POINTS)
        as_tensor = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
        x, w, v = as_tensor(fine_x), as_tensor(fine_w), as_tensor(problem.potential(fine_x))
        states = [_State(networks, row) for row in mix]
        trained_energies = []
        for state in states:
            with torch.no_grad():
                psi, dpsi = state.derivatives(x, 1)
                trained_energies.append(float(objectives.rayleigh_quotient(psi, dpsi, v, w)))
        if self.subspace_rotation and n_states > 1 and np.all(np.isfinite(trained_energies)):
            states = self._rotate(networks, mix, states, x, w, v)
        energies, nodes, residuals, norms = [], [], [], []
        state_status, state_messages = [], []
        for k, (state, record) in enumerate(zip(states, records)):
            with torch.no_grad():
                psi, dpsi, d2psi = state.derivatives(x, 2)
                norm = float((w * psi**2).sum())
                energy = float(objectives.rayleigh_quotient(psi, dpsi, v, w))
                residual = float(objectives.relative_residual(psi, dpsi, d2psi, v, w)[0])
            n_nodes = count_nodes(psi.double().cpu().numpy())
            energies.append(energy)
            nodes.append(n_nodes)
            residuals.append(math.sqrt(residual) if residual >= 0 else math.nan)
            norms.append(norm)
            status, message = record.status, record.message
            if status is Status.OK and not (math.isfinite(energy) and norm > 0):
                status, message = Status.DIVERGED, f"energy {energy} or norm {norm} is not finite, > 0"
            if status is Status.OK and self.node_check and n_nodes != k:
                status = Status.FAILED
                message = f"has {n_nodes} sign changes where state {k} has {k} (Sturm): it is not state {k}"
            state_status.append(status)
            state_messages.append(message)

        bad = [k for k, s in enumerate(state_status) if s is not Status.OK]
        status = state_status[bad[0]] if bad else Status.OK
        message = "; ".join(f"state {k}: {state_messages[k]}" for k in bad)
        info = training_info(records, networks, device, self.dtype, self.seed, start)
        info["rayleigh_energy"], info["norm_integral"] = energies, norms
        # Each state's Rayleigh quotient as trained, before the subspace rotation; state 0's
        # equals the energy of an n_states=1 solve with the same seed, bit for bit.
        info["trained_energy"] = trained_energies
        info["node_count"] = nodes
        info["relative_residual"] = residuals
        evaluator = Evaluator(
            [s.value_and_derivative for s in states],
            [math.sqrt(n) if n > 0 else math.nan for n in norms],
            device,
            dtype,
        )
        return Solution(np.array(energies), evaluator, info, status, message, state_status, state_messages)

    @staticmethod
    def _rotate(networks, mix, states, x, w, v) -> list[_State]:
        """Rayleigh-Ritz in the span of the trained states: the lowest combinations, in order.

        The residual hardly tells two close levels apart: a mixture a psi_1 + b psi_2 has
        residual variance a^2 b^2 (E_2 - E_1)^2, which is no larger than the residual's other
        errors when the gap is small, so training can end on a mixture (three-well Kronig-Penney
        chain, seed 1: states 1 and 2 both 7e-3 off, gap 1.5%). Diagonalizing the Hamiltonian
        in the span of the trained functions un-mixes them without a reference.
        """
        with torch.no_grad():
            values = [state.derivatives(x, 1) for state in states]
            psi = torch.stack([d[0] for d in values])
            dpsi = torch.stack([d[1] for d in values])
            mass = ((psi * w) @ psi.T).double().cpu().numpy()
            stiffness = ((dpsi * w) @ dpsi.T + (psi * (w * v)) @ psi.T).double().cpu().numpy()
        _, vectors = scipy.linalg.eigh(0.5 * (stiffness + stiffness.T), 0.5 * (mass + mass.T))
        n = len(states)
        square = np.zeros((n, n))
        for k, row in enumerate(mix):
            square[k, : len(row)] = row
        rotated = vectors.T @ square  # new state k = sum_j vectors[j, k] * old state j
        return [_State(networks, list(row)) for row in rotated]


class _State:
    """psi_k = sum_i mix_i * network_i (the network of state k with the lower states projected out)."""

    def __init__(self, networks: list[TrialFunction], mix: list[float]):
        self.terms = [(c, net) for c, net in zip(mix, networks) if c != 0.0]

    def derivatives(self, x: torch.Tensor, order: int) -> list[torch.Tensor]:
        total = None
        for c, network in self.terms:
            values = [c * d for d in network.derivatives(x, order)]
            total = values if total is None else [a + b for a, b in zip(total, values)]
        return total

    def value_and_derivative(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        psi, dpsi = self.derivatives(x, 1)
        return psi, dpsi

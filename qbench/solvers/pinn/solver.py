"""Physics-informed neural network eigensolvers: one implementation, presets by name."""

from __future__ import annotations

import math
import random
import resource
import sys
import time
from typing import Any

import numpy as np
import torch

from ... import progress
from ..._validation import check_choice, check_int, check_positive, check_real
from ...problems import Problem
from ...quadrature import domain_rule
from ...sturm import energy_upper_bound
from ..base import Option, Solution, Solver, Status
from . import objectives
from .network import ACTIVATIONS, TrialFunction
from .training import train

ENERGY_MODES = ("galerkin", "ritz", "rayleigh", "trainable", "fixed")
OPTIMIZERS = ("adam", "lbfgs", "adam+lbfgs")
SAMPLINGS = ("gauss", "uniform", "random")
COLLAPSE_NORM = 1e-2  # integral of psi^2 below this (normalized target 1) means psi -> 0


def _positive_int(name, value):
    return check_int(name, value, minimum=1)


def _nonnegative_int(name, value):
    return check_int(name, value, minimum=0)


def _optional_positive(name, value):
    return None if value is None else check_positive(name, value)


def _initial_energy(name, value):
    if value == "box":
        return value
    if isinstance(value, str):
        raise ValueError(f"{name} must be 'box' or a finite number, got {value!r}")
    return check_real(name, value)


def _device(name, value):
    check_choice(name, value, ("cpu", "cuda", "auto"))
    if value == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name}='cuda' but CUDA is not available here; use 'cpu' or 'auto'")
    return value


def _time_limit(name, value):
    return 0.0 if value in (None, 0) else check_positive(name, value)


class PINN(Solver):
    """A physics-informed neural network for the lowest states.

    The trial function is psi(x) = (x - x0)(x1 - x) N(x), so the walls hold
    exactly. Energy modes (option ``energy``):

    * ``"galerkin"`` (default, the ``pinn`` preset): the last hidden layer times
      the wall factor is a basis and the output layer is the exact Ritz-Galerkin
      solution in it; the basis is trained on the sum of the lowest
      ``n_states`` Ritz values, so one network gives every state, each energy
      an upper bound of its exact level (min-max);
    * ``"fixed"``: residual loss with E held at the problem's exact value (the
      reference paper's infinite-well setting; its energy error is zero by
      construction, the wavefunction is what it learns);
    * ``"trainable"``: residual loss with E a trainable parameter (the paper's
      finite-well and barrier setting), started at ``initial_energy``;
    * ``"rayleigh"``: residual loss with E the Rayleigh quotient of the current psi;
    * ``"ritz"``: the loss *is* the Rayleigh quotient (Deep Ritz); it needs
      only psi', is scale-free, and bounds E from above for the ground state.

    The other modes train one network per state. Residual modes minimize
    ``sum(w r^2) / L + norm_weight (sum(w psi^2) - 1)^2`` with
    r = -psi'' + (V - E) psi. State k > 0 adds
    ``overlap_weight * sum_j <psi, psi_j>^2 / (|psi|^2 |psi_j|^2)`` over the
    trained states j < k (deflation), except in ``fixed`` mode, where E = E_k
    alone selects state k (as in the reference paper) unless ``overlap_weight``
    is given.

    The returned energy is E for ``fixed``/``trainable``, the Rayleigh
    quotient for ``rayleigh``/``ritz`` and the Ritz value for ``galerkin``;
    ``info`` also holds every state's Rayleigh quotient on a fine rule, the
    training history (step, phase, loss, energy, time), steps, final loss,
    parameter count, memory and device.
    Training never raises: a NaN loss gives status ``diverged``, a psi that
    collapsed to zero ``failed``, the time limit ``timeout``.
    """

    name = "pinn-base"
    options = {
        "width": Option(64, _positive_int, "hidden units per layer, >= 1"),
        "depth": Option(2, _positive_int, "hidden layers, >= 1"),
        "activation": Option(
            "tanh", lambda k, v: check_choice(k, v, tuple(ACTIVATIONS)), "tanh, sin or silu"
        ),
        "energy": Option(
            "galerkin",
            lambda k, v: check_choice(k, v, ENERGY_MODES),
            "galerkin, ritz, rayleigh, trainable, fixed",
        ),
        "initial_energy": Option(
            "box", _initial_energy, "trainable E start: 'box' = min V + ((k+1) pi / L)^2, or a number"
        ),
        "kink_features": Option(True, lambda k, v: check_choice(k, v, (True, False)), "breakpoint inputs"),
        "sampling": Option("gauss", lambda k, v: check_choice(k, v, SAMPLINGS), "gauss, uniform or random"),
        "n_points": Option(512, lambda k, v: check_int(k, v, minimum=8), "training points, >= 8"),
        "breakpoint_panels": Option(
            True, lambda k, v: check_choice(k, v, (True, False)), "gauss panels end at the breakpoints"
        ),
        "resample_every": Option(0, _nonnegative_int, "new random points every N Adam steps (0 = never)"),
        "optimizer": Option("adam", lambda k, v: check_choice(k, v, OPTIMIZERS), "adam, lbfgs, adam+lbfgs"),
        "adam_steps": Option(2000, _positive_int, "Adam steps, >= 1"),
        "learning_rate": Option(3e-3, check_positive, "Adam learning rate, > 0"),
        "lbfgs_iterations": Option(1000, _positive_int, "L-BFGS iterations, >= 1"),
        "norm_weight": Option(1.0, check_positive, "weight of (integral psi^2 - 1)^2 in residual losses"),
        "overlap_weight": Option(
            None,
            _optional_positive,
            "deflation weight; None = 2 (E_upper_k - min V), squared for residual; none for fixed",
        ),
        "dtype": Option(
            "float64", lambda k, v: check_choice(k, v, ("float64", "float32")), "float64, float32"
        ),
        "device": Option("cpu", _device, "cpu, cuda or auto"),
        "seed": Option(0, _nonnegative_int, "seeds torch, numpy and random"),
        "log_every": Option(10, _positive_int, "history row every N Adam steps"),
        "threads": Option(1, _positive_int, "torch CPU threads while training (restored after)"),
        "time_limit_s": Option(0.0, _time_limit, "stop training after this many seconds (0 = none)"),
    }

    def check_problem(self, problem: Problem, n_states: int) -> None:
        if self.energy == "fixed" and not getattr(problem, "has_exact_reference", False):
            raise ValueError(
                f"energy='fixed' needs a problem whose exact energies are known; {problem.name} has none"
            )

    # -- setup -------------------------------------------------------------------
    def _torch_setup(self) -> tuple[torch.device, torch.dtype]:
        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        random.seed(self.seed)
        np.random.seed(self.seed)  # noqa: NPY002 - seeds code that uses the legacy global state
        torch.manual_seed(self.seed)
        return torch.device(device), getattr(torch, self.dtype)

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        # Small networks train fastest on one thread, and a fixed count keeps CPU results
        # bit-identical from run to run.
        threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return self._solve_with_threads(problem, n_states)
        finally:
            torch.set_num_threads(threads)

    def _solve_with_threads(self, problem: Problem, n_states: int) -> Solution:
        device, dtype = self._torch_setup()
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        start = time.perf_counter()
        rng = np.random.default_rng(self.seed)
        fine_x, fine_w = domain_rule(problem.domain, problem.breakpoints, n_points=4096)
        fine_v = problem.potential(fine_x)
        context = {
            "problem": problem,
            "device": device,
            "dtype": dtype,
            "rng": rng,
            "v_min": float(np.min(fine_v)),
            "v_max": float(np.max(fine_v)),
        }
        if self.energy == "galerkin":
            states, energies, records, networks = self._train_galerkin(n_states, context)
        else:
            states, energies, records, networks = self._train_deflated(n_states, context)

        # Grade-free diagnostics on a fine rule: normalization and each state's Rayleigh quotient.
        as_tensor = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
        x, w, v = as_tensor(fine_x), as_tensor(fine_w), as_tensor(fine_v)
        rayleigh, norms = [], []
        for state in states:
            psi, dpsi = state(x)
            norms.append(float((w * psi**2).sum().detach()))
            rayleigh.append(float(objectives.rayleigh_quotient(psi, dpsi, v, w).detach()))
        status, message = Status.OK, ""
        for k, record in enumerate(records):
            if record.status is not Status.OK:
                status, message = record.status, f"state {k}: {record.message}"
                break
        collapse_floor = COLLAPSE_NORM if self.energy in ("fixed", "trainable", "rayleigh") else 0.0
        for k, norm in enumerate(norms):
            if status is Status.OK and not norm > collapse_floor:
                status = Status.FAILED
                message = f"state {k}: collapsed to psi = 0 (integral of psi^2 = {norm:.3g})"
        info = self._info(networks, records, rayleigh, norms, device, start)
        evaluator = _Evaluator(states, [math.sqrt(n) if n > 0 else math.nan for n in norms], device, dtype)
        return Solution(np.array(energies), evaluator, info, status, message)

    def _network(self, context) -> TrialFunction:
        problem = context["problem"]
        kinks = problem.breakpoints if self.kink_features else ()
        network = TrialFunction(problem.domain, kinks, self.width, self.depth, self.activation)
        return network.to(device=context["device"], dtype=context["dtype"])

    def _train(self, parameters, objective, training_set, index: int = 0, count: int = 1):
        """Train; progress is reported as optimizer steps over all ``count`` trainings of the solve."""
        per_training = (self.adam_steps if "adam" in self.optimizer else 0) + (
            self.lbfgs_iterations if "lbfgs" in self.optimizer else 0
        )
        total = per_training * count
        return train(
            parameters,
            objective,
            adam_steps=self.adam_steps if "adam" in self.optimizer else 0,
            learning_rate=self.learning_rate,
            lbfgs_iterations=self.lbfgs_iterations if "lbfgs" in self.optimizer else 0,
            log_every=self.log_every,
            time_limit_s=self.time_limit_s,
            before_step=training_set.maybe_resample if self.sampling == "random" else None,
            on_step=lambda steps: progress.report(min(index * per_training + steps, total), total),
        )

    def _train_galerkin(self, n_states, context):
        """One network; its hidden layer is the basis, the output layer the exact Ritz vectors."""
        network = self._network(context)
        training_set = _TrainingSet(
            context["problem"], self, context["rng"], context["device"], context["dtype"], []
        )

        def objective():
            x, w, v, _ = training_set.tensors()
            return objectives.ritz_sum(network, x, w, v, n_states)

        record = self._train(list(network.parameters()), objective, training_set)
        for row in record.history:
            row["state"] = "all"
        x, w, v, _ = training_set.tensors()
        stiffness, mass = objectives.galerkin_matrices(network, x, w, v)
        coefficients = objectives.ritz_coefficients(stiffness, mass, n_states)
        energies = objectives.ritz_values(stiffness, mass, coefficients).detach().cpu().numpy()
        coefficients = coefficients.to(device=context["device"], dtype=context["dtype"])

        def make_state(k):
            def state(x):
                basis, dbasis = objectives.galerkin_basis(network, x)
                return basis @ coefficients[:, k], dbasis @ coefficients[:, k]

            return state

        return [make_state(k) for k in range(n_states)], list(energies), [record], [network]

    def _train_deflated(self, n_states, context):
        """One network per state; state k is penalized for overlapping states 0 .. k-1."""
        problem = context["problem"]
        fixed = problem.reference(n_states).energies if self.energy == "fixed" else None
        networks, energies, records = [], [], []
        for k in range(n_states):
            network = self._network(context)
            upper = energy_upper_bound(context["v_max"], problem.length, k)
            overlap_weight = self.overlap_weight
            if overlap_weight is None and self.energy == "fixed":
                overlap_weight = 0.0  # E held at E_k already selects state k; no deflation needed
            elif overlap_weight is None:
                overlap_weight = 2.0 * (upper - context["v_min"])
                if self.energy != "ritz":
                    overlap_weight = overlap_weight**2
            energy_param = None
            if self.energy == "trainable":
                start_energy = self.initial_energy
                if start_energy == "box":
                    start_energy = context["v_min"] + ((k + 1) * math.pi / problem.length) ** 2
                energy_param = torch.nn.Parameter(
                    torch.tensor(float(start_energy), dtype=context["dtype"], device=context["device"])
                )
            training_set = _TrainingSet(
                problem, self, context["rng"], context["device"], context["dtype"], networks
            )
            objective = self._objective(network, training_set, energy_param, fixed, k, overlap_weight)
            parameters = list(network.parameters()) + ([energy_param] if energy_param is not None else [])
            record = self._train(parameters, objective, training_set, index=k, count=n_states)
            for row in record.history:
                row["state"] = k
            if self.energy == "fixed":
                energies.append(float(fixed[k]))
            elif self.energy == "trainable":
                energies.append(float(energy_param.detach()))
            else:
                energies.append(float(objective()[1]))
            networks.append(network)
            records.append(record)
        states = [network.value_and_derivative for network in networks]
        return states, energies, records, networks

    def _objective(self, network, training_set, energy_param, fixed, k, overlap_weight):
        order = 1 if self.energy == "ritz" else 2
        length = training_set.length

        def objective():
            x, w, v, previous = training_set.tensors()
            values = network.derivatives(x, order)
            psi, dpsi = values[0], values[1]
            rayleigh = objectives.rayleigh_quotient(psi, dpsi, v, w)
            if self.energy == "ritz":
                loss, energy = rayleigh, rayleigh
            else:
                if self.energy == "fixed":
                    energy = psi.new_tensor(float(fixed[k]))
                elif self.energy == "trainable":
                    energy = energy_param
                else:
                    energy = rayleigh
                residual = -values[2] + (v - energy) * psi
                norm = (w * psi**2).sum()
                loss = (w * residual**2).sum() / length + self.norm_weight * (norm - 1.0) ** 2
            if previous and overlap_weight:
                loss = loss + overlap_weight * objectives.overlap_penalty(psi, w, previous)
            return loss, energy.detach()

        return objective

    def _info(self, networks, records, rayleigh, norms, device, start) -> dict[str, Any]:
        history = [row for record in records for row in record.history]
        peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        info: dict[str, Any] = {
            "history": history,
            "steps": [r.steps for r in records],
            "iterations": sum(r.steps for r in records),
            "final_loss": [r.final_loss for r in records],
            "rayleigh_energy": rayleigh,
            "norm_integral": norms,
            "n_parameters": sum(p.numel() for network in networks for p in network.parameters()),
            "wall_time_s": time.perf_counter() - start,
            "device": str(device),
            "dtype": self.dtype,
            "seed": self.seed,
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
            "torch_threads": torch.get_num_threads(),
            # ru_maxrss is the process's high-water mark: KiB on Linux, bytes on macOS.
            "peak_rss_mb_process": peak_rss_kb / (2**20 if sys.platform == "darwin" else 2**10),
            "peak_gpu_mem_mb": math.nan,
        }
        if device.type == "cuda":
            info["peak_gpu_mem_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
            info["gpu_name"] = torch.cuda.get_device_name(device)
        return info


class _TrainingSet:
    """Training points, weights and potential as tensors; resampled on request."""

    def __init__(self, problem, solver, rng, device, dtype, previous_networks):
        self.problem, self.solver, self.rng = problem, solver, rng
        self.device, self.dtype = device, dtype
        self.previous_networks = list(previous_networks)
        self.length = problem.length
        self._build()

    def _build(self) -> None:
        solver = self.solver
        x, w = objectives.rule(
            self.problem, solver.sampling, solver.n_points, solver.breakpoint_panels, self.rng
        )
        as_tensor = lambda a: torch.as_tensor(a, dtype=self.dtype, device=self.device)  # noqa: E731
        self.x, self.w, self.v = as_tensor(x), as_tensor(w), as_tensor(self.problem.potential(x))
        with torch.no_grad():
            self.previous = [net(self.x).detach() for net in self.previous_networks]

    def maybe_resample(self, step: int) -> None:
        every = self.solver.resample_every
        if every and step and step % every == 0:
            self._build()

    def tensors(self):
        return self.x, self.w, self.v, self.previous


class _Evaluator:
    """Normalized wavefunctions of the trained states as a numpy callable."""

    def __init__(self, states, norms, device, dtype):
        self.states, self.norms, self.device, self.dtype = states, norms, device, dtype

    def __call__(self, x: np.ndarray) -> np.ndarray:
        t = torch.as_tensor(np.asarray(x, dtype=float), dtype=self.dtype, device=self.device)
        rows = []
        for state, norm in zip(self.states, self.norms):
            psi, _ = state(t)
            rows.append((psi.detach() / norm).double().cpu().numpy())
        return np.array(rows)


def _preset(**defaults: Any) -> dict[str, Option]:
    """PINN.options with other defaults (same checks and docs)."""
    return {
        key: Option(defaults.get(key, option.default), option.check, option.doc)
        for key, option in PINN.options.items()
    }


# The reference paper's formulation (arXiv 2504.05367): plain network, uniform
# collocation, residual + (integral psi^2 - 1)^2 with weight 1, Adam only.
_PAPER = dict(
    energy="fixed",
    kink_features=False,
    sampling="uniform",
    n_points=256,
    width=32,
    depth=3,
    optimizer="adam",
    adam_steps=5000,
    learning_rate=1e-3,
)


class PinnFixed(PINN):
    """The reference paper's fixed-energy PINN: E held at the exact E_k."""

    name = "pinn-fixed"
    family = "pinn"
    options = _preset(**_PAPER)


class PinnTrainable(PINN):
    """The reference paper's trainable-energy PINN: E a parameter started at min V + ((k+1) pi / L)^2."""

    name = "pinn-trainable"
    family = "pinn"
    options = _preset(**{**_PAPER, "energy": "trainable"})


class NNGalerkin(PINN):
    """Neural-network Galerkin: the network's last hidden layer is a basis, the output layer the
    exact Ritz-Galerkin solution in it; a variational method, not a residual PINN."""

    name = "nn-galerkin"
    family = "neural-variational"

"""Variational Monte Carlo: a network wavefunction trained on samples of its own |psi|^2.

The textbook loop of neural-network quantum states, in any d:

* **The wavefunction** is positive, in log form (a ground state has no node):
  log psi(x) = N(u) + sum_i [log(1 - t_i^2) - kappa t_i^2], with t_i = (x_i - c_i) / h_i the
  coordinate scaled to (-1, 1) by the box (centre c, half-width h), u = t sqrt(2 kappa) the
  network's input and N a fully connected network. The wall factor prod (1 - t_i^2) makes psi
  vanish on every wall, so psi is in the domain of H of the boxed problem; the Gaussian
  envelope exp(-kappa |t|^2) has a width set by the box alone (:data:`ENVELOPE_DECAY`), never
  by V or by the answer.
* **Sampling** is Metropolis with Gaussian proposals (a proposal outside the box is rejected,
  where psi = 0), the step adapted towards :data:`TARGET_ACCEPTANCE`, on ``walkers``
  independent chains, seeded.
* **The local energy** E_L = -(Laplacian log psi + |grad log psi|^2) + V, with the network's
  gradient and Laplacian carried forward through its layers
  (:func:`qbench.solvers.neural.trial.forward_layers`). Its mean over |psi|^2 is psi's
  Rayleigh quotient, and its variance is ||(H - E) psi||^2 / ||psi||^2: zero exactly at an
  eigenstate, and by Weinstein an eigenvalue lies within its square root of the mean.
* **The gradient** is the covariance estimator 2 E[(E_L - <E_L>) d log psi / d theta]
  (local energies held constant), taken by Adam with a learning rate that decays as
  1 / (1 + step / decay_steps).
* **The estimate** at the end: the mean local energy over ``eval_samples`` fresh samples, with
  its standard error from batch means over the chains, and the variance.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from ...problems import Problem
from ...problems.base import MAX_DIM
from ..base import Solution, Status
from .base import NeuralSolver, torch_setup, training_info
from .training import TrainingRecord
from .trial import ACTIVATIONS, Values, forward_layers

#: The Gaussian envelope falls to exp(-ENVELOPE_DECAY) at the walls (a property of the box only).
ENVELOPE_DECAY = 8.0
#: The Metropolis step is adapted towards this acceptance rate.
TARGET_ACCEPTANCE = 0.5
#: Metropolis sweeps before the first update, from the envelope's centre.
BURN_IN_SWEEPS = 200
#: Points per chunk when the wavefunction is evaluated for a caller.
CHUNK = 8192


class LogAmplitude(nn.Module):
    """log psi(x) = N(u) + sum_i [log(1 - t_i^2) - kappa t_i^2] (see the module docstring)."""

    def __init__(self, box: tuple[tuple[float, float], ...], width: int, depth: int, activation: str):
        super().__init__()
        self.dim = len(box)
        lo = torch.tensor([a for a, _ in box], dtype=torch.float64)
        hi = torch.tensor([b for _, b in box], dtype=torch.float64)
        self.register_buffer("centre", 0.5 * (lo + hi), persistent=False)
        self.register_buffer("half_width", 0.5 * (hi - lo), persistent=False)
        self.input_scale = math.sqrt(2.0 * ENVELOPE_DECAY)
        sizes = [self.dim] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(width, 1)
        self.activation = ACTIVATIONS[activation]

    def derivatives(self, x: torch.Tensor, order: int = 2) -> Values:
        """log psi ``(n,)``, its gradient ``(n, d)`` and Laplacian ``(n,)`` at ``x`` ``(n, d)``."""
        half = self.half_width.to(x.dtype)
        t = (x - self.centre.to(x.dtype)) / half
        u = t * self.input_scale
        n, d = x.shape
        carried: Values = [u]
        if order >= 1:
            du = (self.input_scale / half).expand(n, d)
            carried.append(torch.diag_embed(du))  # (n, d, d): d u_j / d x_i
        if order >= 2:
            carried.append(x.new_zeros((n, d)))
        hidden = forward_layers(self.hidden, self.activation, carried, order)
        weight = self.output.weight[0]
        one_minus = 1.0 - t * t
        value = self.output(hidden[0])[:, 0] + (torch.log(one_minus) - ENVELOPE_DECAY * t * t).sum(1)
        if order == 0:
            return [value]
        dt = 1.0 / half
        envelope_grad = (-2.0 * t / one_minus - 2.0 * ENVELOPE_DECAY * t) * dt
        grad = hidden[1] @ weight + envelope_grad
        if order == 1:
            return [value, grad]
        envelope_lap = ((-2.0 * (1.0 + t * t) / one_minus**2 - 2.0 * ENVELOPE_DECAY) * dt * dt).sum(1)
        return [value, grad, hidden[2] @ weight + envelope_lap]

    def parameter_gradients(self, x: torch.Tensor) -> torch.Tensor:
        """d log psi / d theta of every sample, ``(n, n_parameters)``, in ``parameters()`` order.

        Backpropagation written out per sample (the envelope has no parameters): for the output
        w . h_L + b, d/dw = h_L and d/db = 1; going down, delta_l = (W_{l+1}^T delta_{l+1}) f'(z_l),
        d/dW_l = delta_l h_{l-1}^T and d/db_l = delta_l.
        """
        t = (x - self.centre.to(x.dtype)) / self.half_width.to(x.dtype)
        activations, slopes = [t * self.input_scale], []
        for layer in self.hidden:
            value, slope = self.activation(layer(activations[-1]), 1)
            activations.append(value)
            slopes.append(slope)
        n = len(x)
        delta = self.output.weight[0].expand(n, -1) * slopes[-1]
        blocks = [torch.ones((n, 1), dtype=x.dtype), activations[-1]]  # output bias, weight (reversed)
        for index in range(len(self.hidden) - 1, -1, -1):
            blocks.append(delta)  # bias of hidden layer `index`
            blocks.append((delta[:, :, None] * activations[index][:, None, :]).reshape(n, -1))
            if index > 0:
                delta = (delta @ self.hidden[index].weight) * slopes[index - 1]
        blocks.reverse()  # weight_0, bias_0, ..., weight_L, bias_L, output weight, output bias
        return torch.cat(blocks, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """log psi at ``x`` ``(n, d)``, shape ``(n,)``."""
        return self.derivatives(x, 0)[0]


class Sampler:
    """Metropolis chains on |psi|^2 inside the box, one per walker, from a seeded generator."""

    def __init__(self, model: LogAmplitude, walkers: int, generator: torch.Generator, dtype: torch.dtype):
        self.model, self.generator = model, generator
        self.lo = (model.centre - model.half_width).to(dtype)
        self.hi = (model.centre + model.half_width).to(dtype)
        self.x = model.centre.to(dtype).repeat(walkers, 1)
        # Start at the envelope's width; adapted per sweep towards TARGET_ACCEPTANCE.
        self.step = (model.half_width / math.sqrt(2.0 * ENVELOPE_DECAY)).to(dtype)
        self.log_psi = self._log_psi(self.x)
        self.accepted = 0.0

    @torch.no_grad()
    def _log_psi(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    @torch.no_grad()
    def sweep(self, count: int) -> torch.Tensor:
        """``count`` Metropolis moves of every walker; returns the walkers' positions."""
        rates = []
        for _ in range(count):
            noise = torch.randn(self.x.shape, generator=self.generator, dtype=self.x.dtype)
            proposal = self.x + noise * self.step
            inside = torch.all((proposal > self.lo) & (proposal < self.hi), dim=1)
            log_new = torch.full_like(self.log_psi, -math.inf)
            if bool(inside.any()):
                log_new[inside] = self._log_psi(proposal[inside])
            uniform = torch.rand(self.log_psi.shape, generator=self.generator, dtype=self.x.dtype)
            accept = inside & (torch.log(uniform) < 2.0 * (log_new - self.log_psi))
            self.x = torch.where(accept[:, None], proposal, self.x)
            self.log_psi = torch.where(accept, log_new, self.log_psi)
            rate = float(accept.to(self.x.dtype).mean())
            rates.append(rate)
            # Robbins-Monro-like adaptation; the chain stays a valid Metropolis chain per move.
            self.step = self.step * math.exp(0.5 * (rate - TARGET_ACCEPTANCE))
        self.accepted = float(np.mean(rates))
        return self.x


def local_energies(
    model: LogAmplitude, problem: Problem, x: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """E_L at ``x`` (no graph) and log psi at ``x`` (in the parameters' graph)."""
    log_psi, grad, lap = model.derivatives(x, 2)
    potential = torch.as_tensor(problem.potential(x.detach().cpu().numpy()), dtype=x.dtype)
    energy = -(lap + (grad * grad).sum(1)) + potential
    return energy.detach(), log_psi


def make_update(model: LogAmplitude, solver: Any) -> Any:
    """``update(x, problem, step) -> (local energies, their mean)``: one optimizer step at samples x.

    ``sr`` (stochastic reconfiguration, the natural gradient of VMC): solve (S + shift I) delta = g
    by conjugate gradients, with S the covariance of the per-sample gradients O = d log psi /
    d theta and g = <(E_L - <E_L>) O>, and step theta -= rate delta. ``adam``: Adam on the
    covariance gradient 2 g. The rate decays as 1 / (1 + step / decay_steps) in both.
    """
    parameters = list(model.parameters())

    def rate(step: int) -> float:
        return solver.learning_rate / (1.0 + step / solver.decay_steps)

    if solver.optimizer == "adam":
        adam = torch.optim.Adam(parameters, lr=solver.learning_rate)

        def adam_update(x: torch.Tensor, problem: Problem, step: int) -> tuple[torch.Tensor, float]:
            energy, log_psi = local_energies(model, problem, x)
            mean = float(energy.mean())
            if math.isfinite(mean):
                for group in adam.param_groups:
                    group["lr"] = rate(step)
                adam.zero_grad(set_to_none=True)
                # The covariance gradient: d/dtheta of 2 <(E_L - <E_L>) log psi>, E_L held constant.
                (2.0 * ((energy - mean) * log_psi).mean()).backward()
                adam.step()
            return energy, mean

        return adam_update

    def sr_update(x: torch.Tensor, problem: Problem, step: int) -> tuple[torch.Tensor, float]:
        energy, _ = local_energies(model, problem, x)
        mean = float(energy.mean())
        if not math.isfinite(mean):
            return energy, mean
        with torch.no_grad():
            o = model.parameter_gradients(x)
        o = o - o.mean(0)
        centred = energy - mean
        g = o.T @ centred / len(x)
        delta = conjugate_gradients(lambda v: o.T @ (o @ v) / len(x) + solver.sr_shift * v, g)
        with torch.no_grad():
            offset = 0
            for p in parameters:
                size = p.numel()
                p -= rate(step) * delta[offset : offset + size].reshape(p.shape)
                offset += size
        return energy, mean

    return sr_update


def conjugate_gradients(
    apply: Any, rhs: torch.Tensor, iterations: int = 100, rtol: float = 1e-6
) -> torch.Tensor:
    """Solve ``apply(v) = rhs`` for a symmetric positive-definite operator by conjugate gradients."""
    solution = torch.zeros_like(rhs)
    residual = rhs.clone()
    direction = residual.clone()
    norm2 = float(residual @ residual)
    target = rtol * rtol * norm2
    for _ in range(iterations):
        if norm2 <= target:
            break
        image = apply(direction)
        alpha = norm2 / float(direction @ image)
        solution += alpha * direction
        residual -= alpha * image
        new_norm2 = float(residual @ residual)
        direction = residual + (new_norm2 / norm2) * direction
        norm2 = new_norm2
    return solution


def batch_means_error(values: np.ndarray, batches: int = 32) -> float:
    """Standard error of the mean of correlated ``values`` (sweeps x walkers) by batch means over sweeps."""
    per_sweep = values.mean(axis=1)
    batches = min(batches, len(per_sweep))
    means = np.array([chunk.mean() for chunk in np.array_split(per_sweep, batches)])
    return float(means.std(ddof=1) / math.sqrt(batches)) if batches > 1 else math.nan


def solve(solver: Any, problem: Problem, n_states: int) -> Solution:
    """Train the network by VMC and estimate its energy (see the module docstring)."""
    start = time.perf_counter()
    device, dtype = torch_setup(solver.device, solver.seed, solver.dtype)
    generator = torch.Generator(device="cpu").manual_seed(solver.seed)
    model = LogAmplitude(problem.box, solver.width, solver.depth, solver.activation).to(dtype=dtype)
    sampler = Sampler(model, solver.walkers, generator, dtype)
    sampler.sweep(BURN_IN_SWEEPS)
    update = make_update(model, solver)
    record = TrainingRecord()
    for step in range(solver.steps):
        x = sampler.sweep(solver.sweeps_per_step)
        energy, mean = update(x, problem, step)
        if not math.isfinite(mean):
            record.status, record.message = Status.DIVERGED, f"local energy not finite at step {step}"
            break
        record.steps = step + 1
        if step % solver.log_every == 0 or step == solver.steps - 1:
            record.history.append(
                {
                    "step": step,
                    "time_s": time.perf_counter() - start,
                    "energy": mean,
                    "variance": float(energy.var()),
                    "acceptance": sampler.accepted,
                }
            )
        if solver.budget_s and time.perf_counter() - start > solver.budget_s:
            break  # the budget is spent: estimate what was learned (not a failure)
        if solver.time_limit_s and time.perf_counter() - start > solver.time_limit_s:
            record.status, record.message = Status.TIMEOUT, f"time limit {solver.time_limit_s:g} s reached"
            break
    estimate = evaluate_energy(model, problem, sampler, solver.eval_samples, solver.sweeps_per_step)
    record.final_loss = estimate["variance"]
    info = training_info([record], [model], device, solver.dtype, solver.seed, start)
    info.update(estimate)
    info.update(
        dimension=problem.dim,
        walkers=solver.walkers,
        envelope=f"prod (1 - t_i^2) exp(-{ENVELOPE_DECAY:g} t_i^2), t: the coordinate scaled to (-1, 1)",
        weinstein_radius=math.sqrt(max(estimate["variance"], 0.0)),
    )
    energies = np.array([estimate["energy"]])
    status = record.status
    if status is Status.OK and not math.isfinite(estimate["energy"]):
        status, record.message = Status.DIVERGED, "the final energy estimate is not finite"
    evaluator = Wavefunction(model, problem, solver.norm_samples, generator, dtype)
    info["norm_relative_error"] = evaluator.norm_error
    return Solution(
        energies,
        evaluator,
        info,
        status,
        record.message,
        laplacian=evaluator.laplacian,
        derivatives_by="forward-mode autodiff",
    )


def evaluate_energy(
    model: LogAmplitude, problem: Problem, sampler: Sampler, samples: int, thinning: int
) -> dict[str, float]:
    """Mean local energy over ``samples`` fresh samples, its standard error, the variance."""
    sweeps = max(samples // len(sampler.x), 2)
    rows = []
    with torch.no_grad():
        for _ in range(sweeps):
            energy, _ = local_energies(model, problem, sampler.sweep(thinning))
            rows.append(energy.double().cpu().numpy())
    values = np.stack(rows)
    return {
        "energy": float(values.mean()),
        "energy_standard_error": batch_means_error(values),
        "variance": float(values.var()),
        "eval_samples": int(values.size),
        "acceptance": sampler.accepted,
    }


class Wavefunction:
    """The trained psi, normalized, as a numpy callable ``points (n, d) -> (1, n)``.

    Up to d = 4 psi is normalized on the problem's own quadrature rule (``norm_relative_error``
    is then 0: the rule is the grading rule). Above, the normalization is a Monte Carlo
    estimate: ||psi||^2 = E_p[psi^2 / p] over ``samples`` points drawn from the envelope's
    Gaussian p, with its relative standard error in ``norm_error``.
    """

    def __init__(self, model: LogAmplitude, problem: Problem, samples: int, generator, dtype):
        self.model, self.dim, self.dtype = model, problem.dim, dtype
        self.log_norm = 0.0
        if problem.dim <= MAX_DIM:
            nodes, weights = problem.quadrature_rule()
            values = self(nodes)[0]
            self.log_norm = 0.5 * math.log(float((values * values) @ weights))
            self.norm_error = 0.0
            return
        half = model.half_width.to(dtype)
        sigma = half / math.sqrt(2.0 * ENVELOPE_DECAY)
        with torch.no_grad():
            z = torch.randn((samples, self.dim), generator=generator, dtype=dtype)
            x = model.centre.to(dtype) + z * sigma
            inside = torch.all(((x - model.centre.to(dtype)).abs() < half), dim=1)
            log_p = -0.5 * (z * z).sum(1) - torch.log(sigma).sum() - 0.5 * self.dim * math.log(2 * math.pi)
            log_psi = torch.full((samples,), -math.inf, dtype=dtype)
            log_psi[inside] = model(x[inside])
            log_ratio = 2.0 * log_psi - log_p
            shift = float(log_ratio.max())
            ratio = torch.exp(log_ratio - shift).double().numpy()
        mean = ratio.mean()
        self.log_norm = 0.5 * (math.log(mean) + shift)
        self.norm_error = float(ratio.std(ddof=1) / math.sqrt(samples) / mean)

    @torch.no_grad()
    def _derivative(self, points: np.ndarray, laplacian: bool) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        rows = []
        half, centre = self.model.half_width.to(self.dtype), self.model.centre.to(self.dtype)
        for begin in range(0, len(points), CHUNK):
            x = torch.as_tensor(points[begin : begin + CHUNK], dtype=self.dtype)
            inside = torch.all((x - centre).abs() < half, dim=1)
            out = torch.zeros(len(x), dtype=torch.float64)
            if bool(inside.any()) and laplacian:
                log_psi, grad, lap = self.model.derivatives(x[inside], 2)
                out[inside] = (torch.exp(log_psi - self.log_norm) * (lap + (grad * grad).sum(1))).double()
            elif bool(inside.any()):
                out[inside] = torch.exp(self.model(x[inside]) - self.log_norm).double()
            rows.append(out.numpy())
        values = np.concatenate(rows) if rows else np.zeros(0)
        return values[None, :]

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self._derivative(points, laplacian=False)

    def laplacian(self, points: np.ndarray) -> np.ndarray:
        """The Laplacian of the normalized psi: psi (Laplacian log psi + |grad log psi|^2)."""
        return self._derivative(points, laplacian=True)


def train_solver(solver: NeuralSolver, problem: Problem, n_states: int) -> Solution:
    """The runtime's entry point (see :class:`qbench.solvers.neural.vmc.VariationalMonteCarlo`)."""
    return solve(solver, problem, n_states)

"""The optimization loop every neural solver trains with: Adam, then L-BFGS, a time limit, a history."""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from ..base import Status

LBFGS_CHUNK = 25  # L-BFGS iterations between log entries and checks
LBFGS_EVALS_PER_ITERATION = 4  # strong-Wolfe line searches take a few evaluations each
#: Adam steps whose energies (one draw of points each) are averaged before comparing them with the
#: lower bound on E0 where every step draws new points: one draw of 512 Sobol points in 3D gives
#: energies from 0.7 to 8 at one stage of training (3D separable finite well, E0 = 4.918), which
#: says nothing alone.
FLOOR_WINDOW = 50
#: On drawn points the floor test is statistical: the window's mean must lie this many of its
#: standard errors below the bound (one-sided, about 1e-3 by chance with a normal spread).
FLOOR_Z = 3.0


def exploit_message(energy: float, bound: float) -> str:
    """Why a training stopped: its energy on the training rule fell below a bound on the true E0."""
    return f"quadrature exploited: training energy {energy:.6g} below the lower bound {bound:.6g} on E0"


@dataclass
class TrainingRecord:
    """What one training run did: history rows, steps, final loss, outcome."""

    history: list[dict] = field(default_factory=list)
    steps: int = 0
    final_loss: float = math.nan
    status: Status = Status.OK
    message: str = ""


def _adam(groups, learning_rate: float) -> torch.optim.Optimizer:
    """Adam, fused when every parameter is a floating tensor on a device fused Adam supports."""
    params = [p for group in groups for p in group["params"]]
    fusable = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    if fusable:
        try:
            return torch.optim.Adam(groups, lr=learning_rate, fused=True)
        except (RuntimeError, ValueError):  # pragma: no cover - a torch build without fused Adam
            pass
    return torch.optim.Adam(groups, lr=learning_rate)


def train(
    parameters: list[torch.nn.Parameter] | list[dict],
    objective: Callable[[], tuple[torch.Tensor, torch.Tensor]],
    *,
    adam_steps: int,
    learning_rate: float,
    lbfgs_iterations: int,
    log_every: int,
    time_limit_s: float,
    on_step: Callable[[int], None] | None = None,
    before_step: Callable[[int], None] | None = None,
    adam_objective: Callable[[], tuple[torch.Tensor, torch.Tensor]] | None = None,
    energy_floor: float | None = None,
    floor_window: int = 1,
    before_chunk: Callable[[], None] | None = None,
    learning_rate_decay: float = 1.0,
) -> TrainingRecord:
    """Minimize ``objective() -> (loss, energy)`` over ``parameters``.

    ``parameters`` is a list of tensors or of torch parameter groups
    (``{"params": [...], "lr": ...}``), so a trainable energy can have its own
    Adam learning rate; L-BFGS, which has no per-group options, takes them all.

    ``adam_objective``, if given, replaces ``objective`` + ``loss.backward()``
    for the Adam steps: it returns ``(loss, energy)`` having set every
    parameter's ``.grad`` itself (a hand-written gradient, much cheaper per step
    for small networks). ``objective`` still serves L-BFGS and the final loss.
    Adam uses torch's fused implementation where it can (one kernel for all
    parameters instead of a dozen small operations per tensor).

    A non-finite loss stops training with status ``diverged``; running past
    ``time_limit_s`` (0 = no limit) stops it with status ``timeout``; an energy below
    ``energy_floor`` (a lower bound on the true E0, given where the energy is a Rayleigh
    quotient or Ritz value on the training rule, which the true one can never go below)
    stops it with status ``failed``: the network has found where the rule does not look
    (:func:`exploit_message`). On points drawn afresh each Adam step one draw's energy is a
    noisy but unbiased estimate (the parameters have not yet been fitted to that draw), so
    there the test is statistical: training fails when the mean of the last ``floor_window``
    such energies lies more than :data:`FLOOR_Z` standard errors (the window's own spread)
    below the floor. L-BFGS on one fixed set compares each value. None raises: the caller still
    gets the record and the parameters as they are.

    ``before_chunk``, if given, is called before each chunk of :data:`LBFGS_CHUNK` L-BFGS
    iterations (it draws new training points); L-BFGS then starts afresh (its curvature pairs
    and step belong to the previous points' objective). The energy on each fresh draw, before
    the chunk fits it, joins the same statistical window (the energy after the fit is biased
    low: it is fitted to those very points). Converging on one draw does not end L-BFGS then
    (the next draw goes on); a chunk that takes no step does.

    ``learning_rate_decay`` < 1 lowers every Adam learning rate exponentially, to that fraction
    of its start at the last of ``adam_steps``: on points drawn afresh each step the gradient
    is noisy, and a constant rate leaves the parameters jittering at a noise floor.
    """
    record = TrainingRecord()
    start = time.perf_counter()
    groups = parameters if parameters and isinstance(parameters[0], dict) else [{"params": parameters}]
    flat = [p for group in groups for p in group["params"]]

    def log(phase: str, loss: torch.Tensor, energy: torch.Tensor) -> None:
        record.history.append(
            {
                "step": record.steps,
                "phase": phase,
                "loss": float(loss.detach()),
                "energy": float(energy.detach()),
                "time_s": time.perf_counter() - start,
            }
        )

    recent: collections.deque[float] = collections.deque(maxlen=floor_window)

    def stop_reason(
        loss: torch.Tensor, energy: torch.Tensor, window: bool = False
    ) -> tuple[Status, str] | None:
        if not torch.isfinite(loss):
            return Status.DIVERGED, f"loss became {float(loss)} at step {record.steps}"
        if energy_floor is not None and energy is not None:
            recent.append(float(energy))
            if not window:
                if recent[-1] < energy_floor:
                    return Status.FAILED, exploit_message(recent[-1], energy_floor)
            elif len(recent) == recent.maxlen and below_floor(recent, energy_floor):
                return Status.FAILED, exploit_message(sum(recent) / len(recent), energy_floor)
        if time_limit_s and time.perf_counter() - start > time_limit_s:
            return Status.TIMEOUT, f"time limit {time_limit_s} s reached at step {record.steps}"
        return None

    if adam_steps:
        optimizer = _adam(groups, learning_rate)
        starts = [group["lr"] for group in optimizer.param_groups]
        for step in range(adam_steps):
            if before_step:
                before_step(step)
            optimizer.zero_grad(set_to_none=True)
            loss, energy = (adam_objective or objective)()
            reason = stop_reason(loss.detach(), energy.detach(), window=True)
            if step % log_every == 0 or reason:
                log("adam", loss, energy)
            if reason:
                record.status, record.message = reason
                record.final_loss = float(loss.detach())
                return record
            if adam_objective is None:
                loss.backward()
            optimizer.step()
            record.steps += 1
            if learning_rate_decay != 1.0:
                factor = learning_rate_decay ** (record.steps / adam_steps)
                for group, first in zip(optimizer.param_groups, starts):
                    group["lr"] = first * factor
            if on_step:
                on_step(record.steps)

    if lbfgs_iterations:
        optimizer = torch.optim.LBFGS(
            flat,
            lr=1.0,
            max_iter=LBFGS_CHUNK,
            max_eval=LBFGS_CHUNK * LBFGS_EVALS_PER_ITERATION,
            history_size=50,
            tolerance_grad=1e-14,
            tolerance_change=1e-16,
            line_search_fn="strong_wolfe",
        )

        def closure() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            loss, _ = objective()
            if torch.isfinite(loss):
                loss.backward()
            return loss

        done = 0
        state = optimizer.state[optimizer._params[0]]
        while done < lbfgs_iterations:
            if before_chunk:
                before_chunk()
                state.clear()  # in place: L-BFGS reads this same dict at its next step
                fresh_loss, fresh_energy = objective()  # on the new draw, not yet fitted to it
                reason = stop_reason(fresh_loss.detach(), fresh_energy.detach(), window=True)
                if reason:
                    record.status, record.message = reason
                    break
            chunk = min(LBFGS_CHUNK, lbfgs_iterations - done)
            optimizer.param_groups[0]["max_iter"] = chunk
            optimizer.param_groups[0]["max_eval"] = chunk * LBFGS_EVALS_PER_ITERATION
            iterations_before, evals_before = state.get("n_iter", 0), state.get("func_evals", 0)
            optimizer.step(closure)
            taken = state.get("n_iter", 0) - iterations_before
            evals = state.get("func_evals", 0) - evals_before
            done += taken
            record.steps += taken
            if on_step:
                on_step(record.steps)
            loss, energy = objective()  # derivatives need autograd, so no no_grad() here
            log("lbfgs", loss, energy)
            # On drawn points the fitted draw's energy is biased low; the next draw's is tested.
            reason = stop_reason(loss, None if before_chunk else energy)
            if reason:
                record.status, record.message = reason
                break
            if before_chunk and taken == 0:
                break  # no step at all on fresh points: nothing left to gain
            if not before_chunk and taken < chunk and evals < chunk * LBFGS_EVALS_PER_ITERATION:
                break  # converged: gradient or change below tolerance (on fresh points, only on those)

    loss, energy = objective()
    if not record.history or record.history[-1]["step"] != record.steps:
        log("final", loss, energy)
    record.final_loss = float(loss.detach())
    if record.status is Status.OK and not torch.isfinite(loss):
        record.status, record.message = Status.DIVERGED, f"final loss is {float(loss)}"
    elif (
        record.status is Status.OK
        and energy_floor is not None
        # One value on a fixed set (or on the set L-BFGS ended on) is tested; a last noisy draw is not.
        and (floor_window == 1 or (lbfgs_iterations and not before_chunk))
        and float(energy) < energy_floor
    ):
        record.status, record.message = Status.FAILED, exploit_message(float(energy), energy_floor)
    return record


def below_floor(energies: Sequence[float], floor: float) -> bool:
    """Whether the mean of ``energies`` (independent noisy estimates) lies significantly below
    ``floor``: more than :data:`FLOOR_Z` standard errors of the mean, from their own spread."""
    n = len(energies)
    mean = sum(energies) / n
    spread = math.sqrt(sum((e - mean) ** 2 for e in energies) / (n - 1)) if n > 1 else 0.0
    return mean + FLOOR_Z * spread / math.sqrt(n) < floor

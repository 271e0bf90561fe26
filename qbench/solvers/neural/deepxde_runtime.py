"""The DeepXDE side of ``deepxde`` (:class:`~.deepxde.DeepXDE`): loading it, its session, training.

Imported when a solve starts; it imports torch, and DeepXDE itself only in :func:`load_deepxde`.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import math
import os
import sys
import time
from collections.abc import Iterator
from types import ModuleType

import numpy as np
import torch

from ... import progress
from ...numerics.signs import rising_signs
from ...problems import Problem
from ..base import Solution, Status
from . import states
from .base import COLLAPSE_NORM, PEERS_INSTALL_HINT, NeuralSolver, torch_setup, torch_threads, training_info
from .rules import fine_rule, potential
from .training import TrainingRecord

MIN_VERSION = (1, 10)  # the extra asks for deepxde>=1.10: external_trainable_variables on pytorch, Variable
LBFGS_CHUNK = 50  # L-BFGS iterations per DeepXDE optimizer step: progress, time limit, history


def _import_deepxde() -> ModuleType:
    """The raw import (a seam for tests, which simulate a missing or broken DeepXDE here)."""
    return importlib.import_module("deepxde")


def _find_spec(name: str):
    """importlib's spec lookup (a seam for tests); None when the package is not installed."""
    return importlib.util.find_spec(name)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in str(text).split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _default_device_setting() -> torch.device | str | None:
    """What ``torch.set_default_device`` was last given in this thread (None: never, or reset).

    Restoring with ``set_default_device(None)`` rather than ``set_default_device("cpu")`` matters:
    any set default device costs a little on every torch call of every solver that runs after.
    """
    context = getattr(getattr(torch, "_GLOBAL_DEVICE_CONTEXT", None), "device_context", None)
    if context is None:
        return None
    return getattr(context, "device", torch.get_default_device())


def load_deepxde() -> ModuleType:
    """Import DeepXDE with the PyTorch backend, silently, leaving torch's global defaults as they were.

    ``DDE_BACKEND=pytorch`` is forced for the import. DeepXDE prints its backend on import and,
    where CUDA is available, makes CUDA torch's default device for the whole process; both are
    undone here, since other solvers run in the same process.

    Raises
    ------
    ValueError
        If DeepXDE is not installed (the message says how to install it), was already imported
        with another backend, is older than 1.10, or is installed but fails to import with the
        installed torch.
    """
    loaded = sys.modules.get("deepxde")
    if loaded is not None and hasattr(loaded, "backend"):
        backend = getattr(loaded.backend, "backend_name", None)
        if backend != "pytorch":
            raise ValueError(
                f"deepxde was already imported in this process with backend {backend!r}; solver 'deepxde' "
                "needs the pytorch backend: set DDE_BACKEND=pytorch before anything imports deepxde"
            )
        return loaded
    saved_env = os.environ.get("DDE_BACKEND")
    saved_device, saved_dtype = _default_device_setting(), torch.get_default_dtype()
    os.environ["DDE_BACKEND"] = "pytorch"
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            dde = _import_deepxde()
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] == "deepxde":
            raise ValueError(
                f"solver 'deepxde' needs the optional package deepxde ({PEERS_INSTALL_HINT}); "
                "it is not installed"
            ) from None
        raise ValueError(
            f"deepxde is installed but cannot be imported: it needs {exc.name!r}, which is missing "
            f"({PEERS_INSTALL_HINT} installs its dependencies): {exc}"
        ) from None
    except Exception as exc:  # any failure of a third-party import is reported the same way
        raise ValueError(
            f"deepxde is installed but is not compatible with the installed torch {torch.__version__} "
            f"(importing it with the pytorch backend failed: {type(exc).__name__}: {exc}); "
            f"reinstall a matching pair, e.g. {PEERS_INSTALL_HINT} next to your torch"
        ) from None
    finally:
        if saved_env is None:
            os.environ.pop("DDE_BACKEND", None)
        else:
            os.environ["DDE_BACKEND"] = saved_env
        torch.set_default_device(saved_device)
        torch.set_default_dtype(saved_dtype)
    version = getattr(dde, "__version__", "0")
    if _version_tuple(version) < MIN_VERSION:
        raise ValueError(
            f"solver 'deepxde' needs deepxde >= {'.'.join(map(str, MIN_VERSION))}, found {version} "
            f"({PEERS_INSTALL_HINT})"
        )
    return dde


@contextlib.contextmanager
def _deepxde_session(dde: ModuleType, device: torch.device) -> Iterator[None]:
    """DeepXDE in float64 on ``device``; every global it touches is put back afterwards.

    ``dde.config.set_default_float`` sets DeepXDE's own precision *and* torch's default dtype
    for the whole process, DeepXDE creates its tensors on torch's default device, seeding sets
    ``dde.config.random_seed``, and the L-BFGS options are a module-level dict: all are saved
    and restored, so the solvers that run next in this process see what they saw before.
    """
    from deepxde.optimizers import config as optimizer_config  # only once DeepXDE is loaded

    saved_float = dde.config.default_float()
    saved_seed = dde.config.random_seed
    saved_dtype, saved_device = torch.get_default_dtype(), _default_device_setting()
    saved_lbfgs = dict(optimizer_config.LBFGS_options)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # set_default_float prints what it did
            dde.config.set_default_float("float64")
        if torch.get_default_device() != device:  # DeepXDE makes its tensors on the default device
            torch.set_default_device(device)
        yield
    finally:
        with contextlib.redirect_stdout(io.StringIO()):
            dde.config.set_default_float(saved_float)
        dde.config.random_seed = saved_seed
        optimizer_config.LBFGS_options.clear()
        optimizer_config.LBFGS_options.update(saved_lbfgs)
        torch.set_default_dtype(saved_dtype)
        torch.set_default_device(saved_device)


def solve(solver: NeuralSolver, problem: Problem, n_states: int) -> Solution:
    """Train one DeepXDE model per state of the 1D ``problem`` (``solver`` a :class:`~.deepxde.DeepXDE`)."""
    dde = load_deepxde()
    device, _ = torch_setup(solver.device, solver.seed, "float64")
    start = time.perf_counter()
    fine_x, fine_w = fine_rule(problem)
    fine_v = potential(problem, fine_x)
    v_min, v_max = float(np.min(fine_v)), float(np.max(fine_v))
    ((x0, x1),) = problem.box
    with _deepxde_session(dde, device):
        dde.config.set_random_seed(solver.seed)
        lower: list[_State] = []
        records, starts, trained = [], [], []
        for k in range(n_states):
            e_start = v_min + ((k + 1) * math.pi / (x1 - x0)) ** 2
            scale = (v_max - v_min) + ((k + 1) * math.pi / (x1 - x0)) ** 2
            state, record, energy = _train_state(
                solver, dde, problem, k, n_states, e_start, scale, lower, start
            )
            starts.append(e_start)
            trained.append(energy)
            records.append(record)
            lower.append(state)
    return _solution(solver, dde, (fine_x, fine_w, fine_v), lower, records, starts, trained, device, start)


def _train_state(solver, dde, problem, k, n_states, e_start, scale, lower, start):
    """One DeepXDE model for state k: Adam, then L-BFGS; returns (state, record, trained E)."""
    ((x0, x1),) = problem.box
    length = x1 - x0
    energy_variable = dde.Variable(e_start)  # E itself, as DeepXDE's inverse examples do

    def energy():
        return energy_variable

    def pde(x, psi, aux):
        d2psi = dde.grad.hessian(psi, x)
        residual = -d2psi + (aux[:, 0:1] - energy()) * psi
        ones = torch.ones_like(psi)
        terms = [residual, (length * torch.mean(psi**2) - 1.0) * ones]
        terms += [length * torch.mean(psi * aux[:, j : j + 1]) * ones for j in range(1, k + 1)]
        return terms

    def auxiliary(x: np.ndarray) -> np.ndarray:
        columns = [potential(problem, x)]
        columns += [state.normalized_on(x) for state in lower]
        return np.stack(columns, axis=1)

    geometry = dde.geometry.Interval(x0, x1)
    data = dde.data.PDE(
        geometry,
        pde,
        [],
        num_domain=solver.n_collocation,
        num_boundary=0,
        train_distribution="uniform",
        auxiliary_var_function=auxiliary,
    )
    net = dde.nn.FNN([1] + [solver.width] * solver.depth + [1], solver.activation, "Glorot uniform")
    net.apply_feature_transform(lambda x: 2.0 * (x - x0) / length - 1.0)
    net.apply_output_transform(lambda x, y: (x - x0) * (x1 - x) / length**2 * y)
    model = dde.Model(data, net)
    weights = [1.0 / scale**2, solver.norm_weight] + [solver.norm_weight] * k

    per_state = solver.adam_steps + solver.lbfgs_steps
    # A subclass of DeepXDE's Callback, made here because DeepXDE is imported only now.
    monitor_class = type("Monitor", (_Monitor, dde.callbacks.Callback), {})
    monitor = monitor_class(solver, k, per_state * k, per_state * n_states, start, energy)
    record = TrainingRecord()
    if solver.adam_steps:
        monitor.phase = "adam"
        model.compile(
            "adam",
            lr=solver.learning_rate,
            loss_weights=weights,
            external_trainable_variables=[energy_variable],
            verbose=0,
        )
        model.train(
            iterations=solver.adam_steps, display_every=solver.log_every, callbacks=[monitor], verbose=0
        )
    if solver.lbfgs_steps and monitor.status is Status.OK and monitor.finite(model):
        from deepxde.optimizers import config as optimizer_config

        dde.optimizers.set_LBFGS_options(maxiter=solver.lbfgs_steps)
        # DeepXDE runs L-BFGS in calls of iter_per_step iterations (1000, fixed at its import);
        # smaller calls let the monitor report and check the clock between them.
        chunk = min(LBFGS_CHUNK, solver.lbfgs_steps)
        optimizer_config.LBFGS_options["iter_per_step"] = chunk
        optimizer_config.LBFGS_options["fun_per_step"] = int(chunk * 1.25)  # DeepXDE's maxfun ratio
        monitor.phase = "lbfgs"
        monitor.lbfgs_done = 0
        model.compile(
            "L-BFGS", loss_weights=weights, external_trainable_variables=[energy_variable], verbose=0
        )
        model.train(callbacks=[monitor], verbose=0)

    final = model.train_state.loss_train
    record.final_loss = float(np.sum(final)) if final is not None else math.nan
    record.history = monitor.history
    record.steps = model.train_state.step
    record.status, record.message = monitor.status, monitor.message
    e_final = float(energy().detach())
    if record.status is Status.OK and not (math.isfinite(record.final_loss) and math.isfinite(e_final)):
        record.status = Status.DIVERGED
        record.message = f"loss {record.final_loss} or E {e_final} is not finite at step {record.steps}"
    net.eval()
    return _State(net, length), record, e_final


def _solution(solver, dde, fine, models, records, starts, trained, device, start) -> Solution:
    """Normalization, sign, Rayleigh energy and the grade-free checks on the fine Gauss rule."""
    fine_x, fine_w, fine_v = fine
    norms, rayleigh, nodes = [], [], []
    state_status, state_messages = [], []
    raw = []
    for k, (state, record) in enumerate(zip(models, records)):
        psi, dpsi = state.value_and_derivative(fine_x)
        norm = float(fine_w @ psi**2)
        norms.append(norm)
        rayleigh.append(float(fine_w @ (dpsi**2 + fine_v * psi**2) / norm) if norm > 0 else math.nan)
        n_nodes = states.count_nodes(psi)  # looked up here: tests replace it
        nodes.append(n_nodes)
        raw.append(psi)
        status, message = record.status, record.message
        if status is Status.OK and not (math.isfinite(norm) and norm > COLLAPSE_NORM):
            status, message = Status.FAILED, states.collapse_message(norm)
        elif status is Status.OK and n_nodes != k:
            status = Status.FAILED
            message = states.sturm_message(n_nodes, k)
        state_status.append(status)
        state_messages.append(message)
    signs = rising_signs(np.nan_to_num(np.array(raw))) if raw else np.ones(0)
    for state, norm, sign in zip(models, norms, signs):
        state.scale = float(sign) / math.sqrt(norm) if norm > 0 and math.isfinite(norm) else math.nan

    status, message = states.case_verdict(state_status, state_messages)
    info = training_info(records, [s.net for s in models], device, "float64", solver.seed, start)
    info.update(
        {
            "initial_energy": starts,
            "trained_energy": trained,
            "rayleigh_energy": rayleigh,
            "norm_integral": norms,
            "node_count": nodes,
            "deepxde_version": str(getattr(dde, "__version__", "unknown")),
            "torch_version": torch.__version__,
            "reads_exact_answer": False,
        }
    )
    # The estimator every neural solver reports: the Rayleigh quotient of the returned psi on the
    # fine rule; DeepXDE's own answer, the trained E, is graded beside it.
    evaluator = _Evaluator(models, solver.threads)
    return Solution(
        np.array(rayleigh, dtype=float),
        evaluator,
        info,
        status,
        message,
        state_status,
        state_messages,
        laplacian=evaluator.laplacian,
        derivatives_by="autograd",
        trained_energies=np.array(trained, dtype=float),
    )


class _Monitor:
    """A DeepXDE callback: progress, history rows, the time limit, and a guard against a stalled L-BFGS.

    DeepXDE checks the loss (and stops on NaN) only when it displays it, every ``log_every``
    Adam steps and after every L-BFGS call; rows are taken at those moments.
    """

    def __init__(self, solver: NeuralSolver, k: int, offset: int, total: int, start: float, energy):
        self.solver, self.k, self.offset, self.total = solver, k, offset, total
        self.start, self.energy = start, energy
        self.phase = "adam"
        self.history: list[dict] = []
        self.status, self.message = Status.OK, ""
        self.lbfgs_done = 0
        self.model = None
        self.phase_start_step = 0

    # DeepXDE's Callback interface (duck-typed: CallbackList only calls these methods).
    def set_model(self, model) -> None:
        self.model = model

    def init(self) -> None:
        pass

    def on_train_begin(self) -> None:
        self.phase_start_step = self.model.train_state.step
        self._log()

    def on_train_end(self) -> None:
        self._log()

    def on_epoch_begin(self) -> None:
        pass

    def on_batch_begin(self) -> None:
        pass

    def on_epoch_end(self) -> None:
        pass

    def on_predict_begin(self) -> None:
        pass

    def on_predict_end(self) -> None:
        pass

    def on_batch_end(self) -> None:
        model, solver = self.model, self.solver
        step = model.train_state.step
        done = min(self.offset + step, self.total)
        progress.report(done, self.total)
        if self.phase == "lbfgs":
            taken = step - self.phase_start_step
            if taken <= self.lbfgs_done:  # no iteration in this call: converged, or L-BFGS is stuck
                model.stop_training = True
            self.lbfgs_done = taken
            remaining = solver.lbfgs_steps - taken
            if remaining > 0:  # the last call takes only what is left of lbfgs_steps
                model.opt.param_groups[0]["max_iter"] = min(LBFGS_CHUNK, remaining)
                model.opt.param_groups[0]["max_eval"] = int(min(LBFGS_CHUNK, remaining) * 1.25)
            self._log()
        elif step % solver.log_every == 0:
            self._log()
        if solver.time_limit_s and time.perf_counter() - self.start > solver.time_limit_s:
            self.status = Status.TIMEOUT
            self.message = f"time limit {solver.time_limit_s} s reached at step {step} of state {self.k}"
            model.stop_training = True

    def finite(self, model) -> bool:
        loss = model.train_state.loss_train
        return loss is not None and bool(np.all(np.isfinite(loss)))

    def _log(self) -> None:
        state = self.model.train_state
        if state.loss_train is None:
            return
        step = state.step
        if self.history and self.history[-1]["step"] == step and self.history[-1]["phase"] == self.phase:
            return
        self.history.append(
            {
                "step": step,
                "phase": self.phase,
                "loss": float(np.sum(state.loss_train)),
                "energy": float(self.energy().detach()),
                "time_s": time.perf_counter() - self.start,
                "state": self.k,
            }
        )


#: Points per autograd pass of :meth:`_State.second_derivative` (bounds the graph's memory).
CHUNK = 8192


class _State:
    """A trained network as a numpy function of points ``(n, 1)``: psi and psi', times ``scale`` once set."""

    def __init__(self, net, length: float):
        self.net = net
        self.length = length
        self.scale = 1.0
        self._device = next(net.parameters()).device

    def _points(self, x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(
            np.asarray(x, dtype=float).reshape(-1, 1), dtype=torch.float64, device=self._device
        )

    def value_and_derivative(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self._points(x).requires_grad_(True)
        psi = self.net(t)
        (dpsi,) = torch.autograd.grad(psi.sum(), t)
        return (psi.detach()[:, 0].cpu().numpy() * self.scale, dpsi.detach()[:, 0].cpu().numpy() * self.scale)

    def values(self, x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.net(self._points(x))[:, 0].cpu().numpy() * self.scale

    def second_derivative(self, x: np.ndarray) -> np.ndarray:
        """psi'' (the 1D Laplacian) of the scaled state, by autograd, in chunks of ``CHUNK`` points."""
        x = np.asarray(x, dtype=float).reshape(-1)
        parts = []
        for start in range(0, len(x), CHUNK):
            with torch.enable_grad():
                t = self._points(x[start : start + CHUNK]).requires_grad_(True)
                (dpsi,) = torch.autograd.grad(self.net(t).sum(), t, create_graph=True)
                (d2psi,) = torch.autograd.grad(dpsi.sum(), t)
            parts.append(d2psi.detach()[:, 0].cpu().numpy() * self.scale)
        return np.concatenate(parts) if parts else np.zeros(0)

    def normalized_on(self, x: np.ndarray) -> np.ndarray:
        """psi at the collocation points ``x``, scaled so that L mean(psi^2) = 1 there (for orthogonality)."""
        psi = self.values(x)
        norm = math.sqrt(self.length * float(np.mean(psi**2)))
        return psi / norm if norm > 0 and math.isfinite(norm) else np.zeros_like(psi)


class _Evaluator:
    """Normalized wavefunctions ``points (n, 1) -> (n_states, n)``, numpy in and out."""

    def __init__(self, states: list[_State], threads: int = 1):
        # Evaluated on the solver's thread count, as it trained (states.Evaluator says why).
        self.states, self.threads = states, threads

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with torch_threads(self.threads):
            return np.array([state.values(x) for state in self.states])

    def laplacian(self, x: np.ndarray) -> np.ndarray:
        """psi'' of each returned (normalized, sign-fixed) state at points ``(n, 1)``: ``(n_states, n)``."""
        with torch_threads(self.threads):
            values = [state.second_derivative(x) for state in self.states]
        return np.array(values).reshape(len(self.states), -1)

"""The neural solvers in d = 2..4 dimensions: trial function, training points, fine-rule algebra.

psi(x) = prod_i (x_i - lo_i)(hi_i - x_i) / L_i^2 * N(features(x)), so psi = 0 on every wall
exactly. N is a fully connected network whose inputs are the coordinates scaled to [-1, 1]
per axis, plus kink features where V jumps (see :class:`TrialFunctionND`).

psi, grad psi and the Laplacian are carried forward through the layers with the values
(forward mode, as the 1D :class:`~qbench.solvers.pinn.network.TrialFunction` does), so
one pass gives all three for every point and every hidden unit, and the Galerkin basis's
gradients come for free; tests check them against nested autograd.

Everything after training (Gram matrices, Rayleigh quotients, the subspace rotation, the
residual, evaluation) runs on the fine rule in chunks of :data:`CHUNK` points, so the
grading-size rules of 3D and 4D problems fit in memory.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import scipy.linalg
import torch
from scipy.stats import qmc
from torch import nn

from ...numerics.quadrature import tensor_rule
from ...problems import Problem
from .network import ACTIVATIONS
from .objectives import GAUSS_ORDER

#: Points per chunk when evaluating on a fine rule (bounds memory: the gradients are (n, d, width)).
CHUNK = 8192
#: A trained state whose part outside the span of the states before it is below this fraction
#: of its norm squared, times the machine epsilon of the dtype, is taken as linearly dependent.
DEPENDENCE_EPS_FACTOR = 1e4

Values = list[torch.Tensor]  # [psi (n, m), grad (n, d, m), laplacian (n, m)], up to the order asked


def interface_circles(problem: Problem) -> list[tuple[tuple[float, ...], float]]:
    """The circles (centre, radius) on which V jumps, for a problem with ``curved_interfaces``.

    A problem may list them itself as ``interface_circles``; otherwise the circle is read
    from ``params["radius"]`` (centre ``params["center"]`` or the origin). Empty when the
    problem has no curved interface.
    """
    if not problem.curved_interfaces:
        return []
    listed = getattr(problem, "interface_circles", None)
    if listed is not None:
        return [(tuple(float(c) for c in centre), float(radius)) for centre, radius in listed]
    params = problem.params
    if "radius" not in params:
        raise ValueError(
            f"problem {problem.name!r} has curved interfaces but neither interface_circles nor a "
            "'radius' parameter: the network cannot be given its interface feature"
        )
    centre = params.get("center", (0.0,) * problem.dim)
    return [(tuple(float(c) for c in centre), float(params["radius"]))]


class TrialFunctionND(nn.Module):
    """psi(x) = prod_i (x_i - lo_i)(hi_i - x_i) / L_i^2 * N(features(x)) for x of shape ``(n, d)``.

    Parameters
    ----------
    box
        The walls ``((lo, hi), ...)`` along each of the d axes.
    axis_kinks
        Per axis, the coordinates where V jumps across a plane x_i = c. Each gives the input
        ``(t_i - c')|t_i - c'|`` (t_i the coordinate scaled to [-1, 1], c' likewise): C^1 with
        a jump in its second derivative across the plane, the kink the equation demands there.
    circles
        ``(centre, radius)`` of circles (spheres) where V jumps. Each gives the input
        ``q|q|`` with ``q = (|x - c|^2 - a^2) / (2 a S)`` (S half the longest side, so that
        q = (r - a) / S near the circle, scaled like the axis features): C^1 with a
        jump in the second normal derivative across the circle. ``(r - a)|r - a|`` would do
        the same at the circle but its Laplacian has a 1/r singularity at the centre, which
        the residual would have to fight; q is a polynomial away from the circle.
    width, depth, activation
        Hidden units per layer, hidden layers, and ``"tanh"``, ``"sin"`` or ``"silu"``.
    """

    def __init__(
        self,
        box: Sequence[tuple[float, float]],
        axis_kinks: Sequence[Sequence[float]],
        circles: Sequence[tuple[Sequence[float], float]],
        width: int,
        depth: int,
        activation: str,
    ):
        super().__init__()
        lo = torch.tensor([float(a) for a, _ in box], dtype=torch.float64)
        hi = torch.tensor([float(b) for _, b in box], dtype=torch.float64)
        self.dim = len(box)
        self.register_buffer("lo", lo, persistent=False)
        self.register_buffer("hi", hi, persistent=False)
        length = hi - lo
        # (axis, scaled breakpoint) of every kink feature, and (centre, radius^2, 1/(2 a S)) of circles.
        self.kinks = [
            (axis, float(2.0 * (c - lo[axis]) / length[axis] - 1.0))
            for axis, cuts in enumerate(axis_kinks)
            for c in cuts
            if lo[axis] < c < hi[axis]
        ]
        half_side = 0.5 * float(length.max())
        self.circles = [
            (tuple(float(c) for c in centre), float(radius) ** 2, 1.0 / (2.0 * float(radius) * half_side))
            for centre, radius in circles
        ]
        self.activation = ACTIVATIONS[activation]
        n_inputs = self.dim + len(self.kinks) + len(self.circles)
        sizes = [n_inputs] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(width, 1)

    @property
    def n_inputs(self) -> int:
        """Number of network inputs: d coordinates, the kink features and the circle features."""
        return self.hidden[0].in_features

    # -- inputs ----------------------------------------------------------------------------
    def _inputs(self, x: torch.Tensor, order: int) -> Values:
        """Input features ``(n, m)``, their gradients ``(n, d, m)`` and Laplacians ``(n, m)``."""
        lo, hi = self.lo.to(x.dtype), self.hi.to(x.dtype)
        scale = 2.0 / (hi - lo)
        t = (x - lo) * scale - 1.0
        n, d = x.shape
        values = [t[:, i] for i in range(d)]
        # Gradients: (axis, d feature / d x_axis) for the axis-aligned features, else an (n, d) tensor.
        grads: list = [(i, scale[i]) for i in range(d)]
        laps = [x.new_zeros(n) for _ in range(d)]
        for axis, cut in self.kinks:
            offset = t[:, axis] - cut
            values.append(offset * offset.abs())
            grads.append((axis, 2.0 * offset.abs() * scale[axis]))
            laps.append(2.0 * torch.sign(offset) * scale[axis] ** 2)
        for centre, radius2, circle_scale in self.circles:
            shift = x - x.new_tensor(centre)
            q = ((shift * shift).sum(1) - radius2) * circle_scale
            grad_q = 2.0 * circle_scale * shift
            values.append(q * q.abs())
            grads.append(2.0 * q.abs()[:, None] * grad_q)
            # Laplacian of q|q|: 2 sign(q) |grad q|^2 + 2 |q| Laplacian q, with Laplacian q = 2 d scale.
            laps.append(2.0 * torch.sign(q) * (grad_q * grad_q).sum(1) + 4.0 * d * circle_scale * q.abs())
        features = torch.stack(values, dim=1)
        if order == 0:
            return [features]
        gradient = x.new_zeros((n, d, len(values)))
        for j, entry in enumerate(grads):
            if isinstance(entry, tuple):
                gradient[:, entry[0], j] = entry[1]
            else:
                gradient[:, :, j] = entry
        if order == 1:
            return [features, gradient]
        return [features, gradient, torch.stack(laps, dim=1)]

    # -- network ---------------------------------------------------------------------------
    def hidden_features(self, x: torch.Tensor, order: int = 2) -> Values:
        """Last hidden layer ``(n, width)``, its gradients ``(n, d, width)`` and Laplacians ``(n, width)``.

        Forward mode: for z = W h + b and h' = f(z), grad h' = f'(z) grad z and
        Laplacian h' = f''(z) |grad z|^2 + f'(z) Laplacian z.
        """
        carried = self._inputs(x, order)
        for layer in self.hidden:
            z = layer(carried[0])
            value, slope, curvature = self.activation(z)
            out = [value]
            if order >= 1:
                dz = carried[1] @ layer.weight.T  # (n, d, width)
                out.append(slope[:, None, :] * dz)
            if order >= 2:
                out.append(curvature * (dz * dz).sum(1) + slope * (carried[2] @ layer.weight.T))
            carried = out
        return carried

    def envelope(self, x: torch.Tensor, order: int = 2) -> Values:
        """The wall factor E = prod_i e_i(x_i), its gradient ``(n, d)`` and Laplacian ``(n,)``."""
        lo, hi = self.lo.to(x.dtype), self.hi.to(x.dtype)
        length2 = (hi - lo) ** 2
        factors = (x - lo) * (hi - x) / length2  # (n, d)
        value = factors.prod(1)
        if order == 0:
            return [value]
        slopes = (lo + hi - 2.0 * x) / length2
        # Products over the other axes, without dividing by a factor that is zero on its wall.
        others = torch.stack(
            [torch.cat([factors[:, :i], factors[:, i + 1 :]], dim=1).prod(1) for i in range(self.dim)],
            dim=1,
        )
        gradient = slopes * others
        if order == 1:
            return [value, gradient]
        return [value, gradient, (-2.0 / length2 * others).sum(1)]

    def derivatives(self, x: torch.Tensor, order: int = 2) -> Values:
        """psi ``(n,)``, grad psi ``(n, d)`` and (``order=2``) the Laplacian ``(n,)``.

        Differentiable in the parameters; x needs no gradient.
        """
        hidden = self.hidden_features(x, order)
        weight = self.output.weight[0]
        out0 = hidden[0] @ weight + self.output.bias[0]
        env = self.envelope(x, order)
        psi = env[0] * out0
        if order == 0:
            return [psi]
        out1 = hidden[1] @ weight  # (n, d)
        grad = env[1] * out0[:, None] + env[0][:, None] * out1
        if order == 1:
            return [psi, grad]
        out2 = hidden[2] @ weight
        lap = env[2] * out0 + 2.0 * (env[1] * out1).sum(1) + env[0] * out2
        return [psi, grad, lap]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """psi at points ``x`` of shape ``(n, d)``; returns ``(n,)``."""
        return self.derivatives(x, 0)[0]

    def as_functions(self, x: torch.Tensor, order: int) -> Values:
        """psi as a set of one function: ``[(n, 1), (n, d, 1), (n, 1)]`` (see :class:`StateSet`)."""
        return [value.unsqueeze(-1) for value in self.derivatives(x, order)]

    def galerkin_basis(self, x: torch.Tensor, order: int = 1) -> Values:
        """The Galerkin basis E * (h_1, ..., h_width, 1): values ``(n, width + 1)``, gradients, Laplacians."""
        hidden = self.hidden_features(x, order)
        env = self.envelope(x, order)
        ones = torch.ones_like(hidden[0][:, :1])
        features = torch.cat([hidden[0], ones], dim=1)
        out = [env[0][:, None] * features]
        if order >= 1:
            dfeatures = torch.cat([hidden[1], torch.zeros_like(hidden[1][:, :, :1])], dim=2)
            out.append(env[1][:, :, None] * features[:, None, :] + env[0][:, None, None] * dfeatures)
        if order >= 2:
            lfeatures = torch.cat([hidden[2], torch.zeros_like(ones)], dim=1)
            cross = (env[1][:, :, None] * dfeatures).sum(1)
            out.append(env[2][:, None] * features + 2.0 * cross + env[0][:, None] * lfeatures)
        return out


def make_network(
    problem: Problem, width: int, depth: int, activation: str, kink_features: bool
) -> TrialFunctionND:
    """The trial function for ``problem``: kink inputs at the axis breakpoints and interface circles
    when ``kink_features``, none otherwise."""
    kinks = problem.axis_breakpoints if kink_features else tuple(() for _ in problem.box)
    circles = interface_circles(problem) if kink_features else []
    return TrialFunctionND(problem.box, kinks, circles, width, depth, activation)


# -- energy functionals on a rule --------------------------------------------------------------
def rayleigh_quotient(
    psi: torch.Tensor, grad: torch.Tensor, v: torch.Tensor, w: torch.Tensor
) -> torch.Tensor:
    """(integral |grad psi|^2 + V psi^2) / (integral psi^2), grad of shape ``(n, d)``."""
    return (w * ((grad * grad).sum(1) + v * psi * psi)).sum() / (w * psi * psi).sum()


def relative_residual(psi, grad, lap, v, w) -> tuple[torch.Tensor, torch.Tensor]:
    """sum(w r^2) / sum(w psi^2) with r = -Laplacian psi + (V - E) psi, E the Rayleigh quotient; and E."""
    norm = (w * psi * psi).sum()
    energy = (w * ((grad * grad).sum(1) + v * psi * psi)).sum() / norm
    residual = -lap + (v - energy) * psi
    return (w * residual * residual).sum() / norm, energy


def galerkin_matrices(network: TrialFunctionND, x, w, v) -> tuple[torch.Tensor, torch.Tensor]:
    """Stiffness K_ij = integral(grad b_i . grad b_j + V b_i b_j) and mass M_ij of the Galerkin basis."""
    basis, grad = network.galerkin_basis(x, 1)
    m = basis.shape[1]
    mass = (basis * w[:, None]).T @ basis
    stiffness = (grad * w[:, None, None]).reshape(-1, m).T @ grad.reshape(-1, m)
    return stiffness + (basis * (w * v)[:, None]).T @ basis, mass


def training_rule(
    problem: Problem,
    sampling: str,
    n_points: int,
    breakpoint_panels: bool,
    seed: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Training points ``(n, d)``, weights ``(n,)`` and the kind of rule, for a d >= 2 problem.

    ``n_points`` is the total number of points (about: a tensor rule rounds it to whole
    panels per axis). ``sampling``:

    * ``"gauss"``: for d <= 2 a tensor Gauss-Legendre rule (``round(n_points ** (1/d))`` per
      axis, panels of order 8 ending at the axis breakpoints when ``breakpoint_panels``);
      for a curved interface the problem's own rule ``problem.quadrature_rule(n_points)``,
      which follows the curve; for d >= 3 the first ``n_points`` of a scrambled Sobol
      sequence (seeded by ``seed``; a power of two keeps its balance), weights volume / n,
      since a tensor Gauss rule fine enough to train on costs too many points there;
    * ``"uniform"``: an interior grid of equally spaced points per axis (trapezoid weights,
      psi = 0 on the walls) for d <= 2; the Sobol points for d >= 3;
    * ``"random"``: independent uniform points (from ``rng``), weights volume / n.
    """
    box = np.array(problem.box, dtype=float)
    d = len(box)
    volume = float(np.prod(box[:, 1] - box[:, 0]))
    per_axis = max(round(n_points ** (1.0 / d)), 2)
    if sampling == "random":
        points = box[:, 0] + rng.random((n_points, d)) * (box[:, 1] - box[:, 0])
        return points, np.full(n_points, volume / n_points), "random"
    if sampling == "gauss" and problem.curved_interfaces:
        points, weights = problem.quadrature_rule(n_points)
        return np.asarray(points, dtype=float), np.asarray(weights, dtype=float), "problem-rule"
    if d <= 2 and sampling == "gauss":
        cuts = problem.axis_breakpoints if breakpoint_panels else tuple(() for _ in range(d))
        points, weights = tensor_rule(problem.box, cuts, per_axis, order=GAUSS_ORDER)
        return points, weights, "gauss-tensor"
    if d <= 2:
        axes = [np.linspace(lo, hi, per_axis + 2)[1:-1] for lo, hi in box]
        grids = np.meshgrid(*axes, indexing="ij")
        points = np.stack([g.ravel() for g in grids], axis=-1)
        weight = float(np.prod((box[:, 1] - box[:, 0]) / (per_axis + 1)))
        return points, np.full(len(points), weight), "uniform-grid"
    sobol = qmc.Sobol(d, scramble=True, seed=seed)
    with warnings.catch_warnings():
        # Sobol warns when n is not a power of two; the points are still a valid QMC set.
        warnings.simplefilter("ignore", UserWarning)
        unit = sobol.random(n_points)
    points = box[:, 0] + unit * (box[:, 1] - box[:, 0])
    return points, np.full(n_points, volume / n_points), "sobol"


def box_level(box: Sequence[tuple[float, float]], k: int) -> float:
    """The k-th (from 0) eigenvalue of -Laplacian in ``box`` with hard walls: the k-th smallest
    sum over axes of (pi n_i / L_i)^2, n_i >= 1."""
    per_axis = [(math.pi * np.arange(1, k + 2) / (hi - lo)) ** 2 for lo, hi in box]
    sums = sorted(sum(levels) for levels in itertools.product(*per_axis))
    return float(sums[k])


# -- states as combinations of functions ------------------------------------------------------
class StateSet:
    """States psi_k = sum_j F_j C_jk: F_j the functions that ``generators`` give, C a matrix.

    Each generator is ``g(x, order) -> [values (n, m), grads (n, d, m), laplacians (n, m)]``
    (a network: m = 1; a Galerkin basis: m = width + 1). ``coefficients`` has shape
    ``(sum of m, n_states)``.
    """

    def __init__(self, generators: list[Callable[[torch.Tensor, int], Values]], coefficients: torch.Tensor):
        self.generators, self.coefficients = generators, coefficients

    @property
    def n_states(self) -> int:
        return self.coefficients.shape[1]

    def derivatives(self, x: torch.Tensor, order: int) -> Values:
        """psi ``(n, s)``, grad ``(n, d, s)``, Laplacian ``(n, s)`` of the s states at ``x``."""
        parts = [g(x, order) for g in self.generators]
        joined = [torch.cat([p[i] for p in parts], dim=-1) for i in range(order + 1)]
        c = self.coefficients.to(device=x.device, dtype=x.dtype)
        return [f @ c for f in joined]

    def rotated(self, matrix: np.ndarray) -> StateSet:
        """The states ``psi @ matrix`` (new state k = sum_j matrix[j, k] * old state j)."""
        m = torch.as_tensor(matrix, dtype=self.coefficients.dtype, device=self.coefficients.device)
        return StateSet(self.generators, self.coefficients @ m)


class FineRule:
    """A fine quadrature rule as tensors, with the chunked integrals every solver needs after training."""

    def __init__(self, points: np.ndarray, weights: np.ndarray, potential: np.ndarray, device, dtype):
        as_tensor = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
        self.x, self.w, self.v = as_tensor(points), as_tensor(weights), as_tensor(potential)
        self.dtype = dtype

    def __len__(self) -> int:
        return len(self.w)

    def _chunks(self):
        for start in range(0, len(self.w), CHUNK):
            end = start + CHUNK
            yield self.x[start:end], self.w[start:end], self.v[start:end]

    @torch.no_grad()
    def matrices(self, states: StateSet) -> tuple[np.ndarray, np.ndarray]:
        """Stiffness K_jk = integral(grad psi_j . grad psi_k + V psi_j psi_k) and mass M_jk, float64."""
        s = states.n_states
        stiffness, mass = np.zeros((s, s)), np.zeros((s, s))
        for x, w, v in self._chunks():
            psi, grad = states.derivatives(x, 1)
            weighted = psi * w[:, None]
            mass += (weighted.T @ psi).double().cpu().numpy()
            flat = grad.reshape(-1, s)
            k = (grad * w[:, None, None]).reshape(-1, s).T @ flat + (weighted * v[:, None]).T @ psi
            stiffness += k.double().cpu().numpy()
        return 0.5 * (stiffness + stiffness.T), 0.5 * (mass + mass.T)

    @torch.no_grad()
    def residuals(self, states: StateSet, energies: Sequence[float]) -> list[float]:
        """|r| / |psi| per state, r = -Laplacian psi + (V - E) psi (E the state's energy)."""
        e = torch.as_tensor(np.asarray(energies, dtype=float), dtype=self.dtype, device=self.x.device)
        top = torch.zeros(states.n_states, dtype=torch.float64)
        bottom = torch.zeros(states.n_states, dtype=torch.float64)
        for x, w, v in self._chunks():
            psi, _, lap = states.derivatives(x, 2)
            r = -lap + (v[:, None] - e) * psi
            top += (w[:, None] * r * r).sum(0).double().cpu()
            bottom += (w[:, None] * psi * psi).sum(0).double().cpu()
        return [
            math.sqrt(a / b) if b > 0 and a >= 0 else math.nan for a, b in zip(top.tolist(), bottom.tolist())
        ]


def ritz_galerkin(stiffness: np.ndarray, mass: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Ritz values and M-orthonormal vectors of (K, M), ascending, in the well-conditioned part of M.

    Directions of M with eigenvalue below ``DEPENDENCE_EPS_FACTOR * eps`` times the largest are
    dropped (there K and M are rounding noise, which would give spurious eigenvalues); the
    third value is how many directions were kept. Vectors have one column per kept direction.
    """
    scales, vectors = np.linalg.eigh(mass)
    keep = scales > scales.max() * DEPENDENCE_EPS_FACTOR * eps
    whiten = vectors[:, keep] / np.sqrt(scales[keep])
    reduced = whiten.T @ stiffness @ whiten
    values, ritz = scipy.linalg.eigh(0.5 * (reduced + reduced.T))
    return values, whiten @ ritz, int(keep.sum())


def dependent_states(mass: np.ndarray, eps: float) -> list[int]:
    """States (in training order) whose part outside the span of the earlier ones is negligible.

    Gram-Schmidt on the normalized Gram matrix: state j is dependent when the squared norm
    of its part orthogonal to states 0 .. j-1 (the independent ones) is below
    ``DEPENDENCE_EPS_FACTOR * eps``. A fixed-energy PINN trains the states of a degenerate
    group with one E and no deflation, so two of them may land on the same function.
    """
    diag = np.sqrt(np.clip(np.diag(mass), 1e-300, None))
    gram = mass / np.outer(diag, diag)
    independent: list[int] = []
    dependent: list[int] = []
    for j in range(len(gram)):
        if independent:
            sub = gram[np.ix_(independent, independent)]
            cross = gram[independent, j]
            remainder = 1.0 - cross @ np.linalg.solve(sub, cross)
        else:
            remainder = 1.0
        (independent if remainder > DEPENDENCE_EPS_FACTOR * eps else dependent).append(j)
    return dependent


class EvaluatorND:
    """Normalized states as a numpy callable ``points (n, d) -> (n_states, n)``, evaluated in chunks."""

    def __init__(self, states: StateSet, norms: Sequence[float], device, dtype):
        self.states, self.device, self.dtype = states, device, dtype
        self.norms = np.asarray(norms, dtype=float)

    @torch.no_grad()
    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float)
        rows = []
        for start in range(0, len(points), CHUNK):
            x = torch.as_tensor(points[start : start + CHUNK], dtype=self.dtype, device=self.device)
            rows.append(self.states.derivatives(x, 0)[0].double().cpu().numpy())
        values = np.concatenate(rows, axis=0) if rows else np.zeros((0, self.states.n_states))
        return values.T / self.norms[:, None]

"""Where the networks are trained and checked: training rules, the fine rule, the empty box's levels.

A rule is points ``(n, d)`` and weights ``(n,)`` with ``sum(w * f(x))`` approximating the
integral of f over the box. Up to ``MAX_DIM`` (4) the rules are tensor Gauss rules, grids or
Sobol points in the box; above it every rule is a draw of the problem's own randomized rule
``problem.sampled_rule`` (importance-sampled where the low states live), since no tensor rule
fits there and uniform points in the box almost all miss the state.
"""

from __future__ import annotations

import heapq
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from scipy.stats import qmc

from ...numerics.importance import box_proposal, fit_proposal, mixture_rule
from ...numerics.quadrature import domain_rule, tensor_rule
from ...problems import Problem
from ...problems.base import MAX_DIM
from .base import check_sampled_rule, no_sampled_rule_message, resolve_sampling
from .trial import TrialFunction

#: Gauss-Legendre points per panel of a training rule.
GAUSS_ORDER = 8
#: The most nodes of the fine rule (see :func:`fine_rule`).
FINE_POINTS_MAX = 2**20


class AdaptiveRule:
    """Training points that follow the states being trained (adaptive importance sampling).

    Each draw is a :func:`~qbench.numerics.importance.mixture_rule` of the box: a share of
    uniform points and draws of a Gaussian proposal, with balance-heuristic importance weights
    (unbiased for integrals over the box). The first proposal comes from the box alone
    (:func:`~qbench.numerics.importance.box_proposal`); before each later draw it is refitted
    (:meth:`refit`) to the mean and covariance of the trained functions' own |psi|^2 on the
    current points, each normalized, summed. Nothing of the answer is read: the points go where
    the networks are, as a variational Monte Carlo sampler's go where |psi|^2 is.
    """

    kind = "adaptive"

    def __init__(self, problem: Problem):
        self.box = problem.box
        self.proposal = box_proposal(problem.box)

    def draw(self, n_points: int, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
        """One draw of about ``n_points`` nodes (Gaussian ones outside the box are dropped)."""
        points, weights = mixture_rule(self.box, self.proposal, n_points, seed)
        return points, weights, self.kind

    def refit(self, x: torch.Tensor, w: torch.Tensor, psi: torch.Tensor) -> None:
        """Refit the proposal to sum_k psi_k^2 / sum(w psi_k^2) on the points ``x``, weights ``w``,
        of the functions' values ``psi`` ``(m, n)``; no functions (m = 0) keeps it."""
        if psi.shape[0] == 0:
            return
        with torch.no_grad():
            squares = psi.detach().double() ** 2
            norms = squares @ w.detach().double()
            density = (squares / norms.clamp_min(torch.finfo(torch.float64).tiny)[:, None]).sum(0)
        self.proposal = fit_proposal(
            self.box,
            x.detach().double().cpu().numpy(),
            w.detach().double().cpu().numpy(),
            density.cpu().numpy(),
        )

    def summary(self) -> dict[str, list[float]]:
        """``info["adaptive_proposal"]``: the last proposal's mean and standard deviations (along
        its axes), which say where the training ended up drawing its points."""
        return {"mean": self.proposal.mean.tolist(), "scales": self.proposal.scales.tolist()}

    @staticmethod
    def description(period: int = 1) -> str:
        """``info["collocation"]`` for a training that draws every ``period`` Adam steps."""
        return (
            "adaptive: a uniform share of the box plus a Gaussian refitted to the trained |psi|^2, "
            f"balance-heuristic importance weights, a fresh draw every {period} Adam step(s) and "
            "every L-BFGS chunk"
        )


#: Mixed into the seeds of the sampled training draws (:func:`sampled_seed`), so that no draw
#: repeats a rule that grades or certifies (those use small fixed seeds).
SAMPLED_SEED_TAG = 0x5EED_D4A3


def sampled_seed(seed: int, stream: int, draw: int) -> int:
    """The seed of training draw ``draw`` of stream ``stream`` (one per trained network) of a
    solve seeded ``seed``: a 63-bit integer from ``numpy.random.SeedSequence``, so that draws
    differ from each other and from the grading rule's fixed seed."""
    state = np.random.SeedSequence([SAMPLED_SEED_TAG, seed, stream, draw]).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def sampled_training_rule(
    problem: Problem, n_points: int, seed: int, stream: int = 0, draw: int = 0
) -> tuple[np.ndarray, np.ndarray, str]:
    """Above ``MAX_DIM``: one draw of ``problem.sampled_rule`` (about ``n_points`` nodes, the
    problem may round up), nodes of weight 0 (outside the box) dropped; kind ``"sampled"``.

    Its weights are importance weights 1 / (n p(x)), so sums over it estimate the integrals
    without bias, and its nodes lie where the problem's low states live. ``ValueError`` (one line)
    for a problem without a sampled rule.
    """
    rule = problem.sampled_rule(n_points, sampled_seed(seed, stream, draw))
    if rule is None:
        raise ValueError(no_sampled_rule_message(problem))
    points, weights = rule
    weights = np.asarray(weights, dtype=float)
    points = np.asarray(points, dtype=float).reshape(len(weights), problem.dim)
    keep = weights > 0
    return points[keep], weights[keep], "sampled"


def potential(problem: Problem, points: np.ndarray) -> np.ndarray:
    """V at ``points`` ``(n, d)``, as a float array of shape ``(n,)``."""
    return np.asarray(problem.potential(points), dtype=float).reshape(len(points))


def training_rule(
    problem: Problem,
    sampling: str,
    n_points: int,
    breakpoint_panels: bool,
    seed: int,
    rng: np.random.Generator | None,
    draw: int = 0,
    stream: int = 0,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Training points ``(n, d)``, weights ``(n,)`` and the kind of rule.

    ``n_points`` is the total number of points (about: a Gauss rule rounds it to whole
    panels). ``sampling``:

    * ``"gauss"``: Gauss-Legendre panels of order :data:`GAUSS_ORDER` ending at the
      breakpoints when ``breakpoint_panels``; in 1D :func:`~qbench.numerics.quadrature.domain_rule`
      (at least four panels per piece between breakpoints, affordable on one axis), in 2D a
      tensor product of ``round(sqrt(n_points))`` per axis (:func:`~qbench.numerics.quadrature.tensor_rule`,
      one panel per piece allowed so that the product stays small); for a curved interface the
      problem's own rule ``problem.quadrature_rule(n_points)``, which follows the curve; for
      d >= 3 the first ``n_points`` of a scrambled Sobol sequence (seeded by ``seed`` and,
      for ``draw`` > 0, a fresh scrambling seeded by ``(seed, draw)``; a power of two keeps
      its balance), weights volume / n, since a tensor Gauss rule fine enough to train on
      costs too many points there. A network trained on one fixed set of such points learns
      to be small where they are not (its training energy fell to 0.021 against E0 = 4.918
      on the 3D separable finite well), so the trainings draw a fresh set each step
      (:meth:`TrainingSet.maybe_resample`);
    * ``"uniform"``: an interior grid of equally spaced points per axis (trapezoid weights,
      psi = 0 on the walls) for d <= 2, as in most PINN papers; the Sobol points for d >= 3;
    * ``"random"``: independent uniform points (from ``rng``), weights volume / n, sorted
      along the first axis.

    Above ``MAX_DIM`` every ``sampling`` gives draw ``draw`` of stream ``stream`` (the network)
    of the problem's sampled rule (:func:`sampled_training_rule`, kind ``"sampled"``), which the
    trainings redraw as they go.
    """
    if problem.dim > MAX_DIM:
        return sampled_training_rule(problem, n_points, seed, stream, draw)
    box = np.array(problem.box, dtype=float)
    d = len(box)
    volume = float(np.prod(box[:, 1] - box[:, 0]))
    per_axis = max(round(n_points ** (1.0 / d)), 2)
    if sampling == "random":
        points = box[:, 0] + rng.random((n_points, d)) * (box[:, 1] - box[:, 0])
        points = points[np.argsort(points[:, 0], kind="stable")]
        return points, np.full(n_points, volume / n_points), "random"
    if sampling == "gauss" and problem.curved_interfaces:
        points, weights = problem.quadrature_rule(n_points)
        weights = np.asarray(weights, dtype=float)
        return np.asarray(points, dtype=float).reshape(len(weights), d), weights, "problem-rule"
    if sampling == "gauss" and d <= 2:
        cuts = problem.axis_breakpoints if breakpoint_panels else tuple(() for _ in range(d))
        if d == 1:
            nodes, weights = domain_rule(tuple(box[0]), cuts[0], n_points=n_points, order=GAUSS_ORDER)
            return nodes[:, None], weights, "gauss-panels"
        points, weights = tensor_rule(problem.box, cuts, per_axis, order=GAUSS_ORDER)
        return points, weights, "gauss-tensor"
    if d <= 2:
        axes = [np.linspace(lo, hi, per_axis + 2)[1:-1] for lo, hi in box]
        grids = np.meshgrid(*axes, indexing="ij")
        points = np.stack([g.ravel() for g in grids], axis=-1)
        weight = float(np.prod((box[:, 1] - box[:, 0]) / (per_axis + 1)))
        return points, np.full(len(points), weight), "uniform-grid"
    sobol = qmc.Sobol(d, scramble=True, seed=seed if draw == 0 else np.random.default_rng((seed, draw)))
    with warnings.catch_warnings():
        # Sobol warns when n is not a power of two; the points are still a valid QMC set.
        warnings.simplefilter("ignore", UserWarning)
        unit = sobol.random(n_points)
    points = box[:, 0] + unit * (box[:, 1] - box[:, 0])
    return points, np.full(n_points, volume / n_points), "sobol"


def next_training_rule(
    problem: Problem,
    sampling: str,
    adaptive: AdaptiveRule | None,
    n_points: int,
    breakpoint_panels: bool,
    seed: int,
    rng: np.random.Generator | None,
    stream: int,
    draw: int,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Draw ``draw`` of network ``stream``'s training points: the adaptive rule's where there is
    one, else :func:`training_rule`'s (``sampling`` resolved, not ``"auto"``)."""
    if adaptive is not None:
        return adaptive.draw(n_points, sampled_seed(seed, stream, draw))
    return training_rule(problem, sampling, n_points, breakpoint_panels, seed, rng, draw, stream)


def rule_tensors(
    problem: Problem, points: np.ndarray, weights: np.ndarray, device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A rule's points, weights and V at the points, as tensors on ``device`` in ``dtype``."""
    as_tensor = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    return as_tensor(points), as_tensor(weights), as_tensor(potential(problem, points))


def describe_rule(problem: Problem, kind: str, period: int = 1) -> str:
    """``info["collocation"]``: the kind of a fixed rule; for drawn rules (redrawn every
    ``period`` Adam steps and every L-BFGS chunk) where the points come from."""
    if kind == "adaptive":
        return AdaptiveRule.description(period)
    if kind == "sampled":
        return (
            f"sampled: {problem.name}.sampled_rule, importance weights, a fresh draw every "
            f"{period} Adam step(s) and every L-BFGS chunk"
        )
    return kind


def rule_info(
    problem: Problem, kind: str, n_points: int, draws: int, adaptive: AdaptiveRule | None, period: int = 1
) -> dict[str, Any]:
    """What ``info`` says of the training points: the rule (:func:`describe_rule`), points per
    set, sets drawn; for drawn rules ``points_per_draw``, for the adaptive rule its last proposal."""
    info: dict[str, Any] = {
        "collocation": describe_rule(problem, kind, period),
        "n_training_points": n_points,
        "training_point_sets": draws,
    }
    if kind in ("sampled", "adaptive"):
        info["points_per_draw"] = n_points
    if adaptive is not None:
        info["adaptive_proposal"] = adaptive.summary()
    return info


def fine_rule(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """The rule of the energies, norms and rotations after training: the grading rule
    ``problem.quadrature_rule()`` where it has at most :data:`FINE_POINTS_MAX` nodes, else the
    problem's own rule of about that many (4D: 32^4 instead of 40^4 nodes, which would cost more
    than training). Points ``(n, d)``.

    Above ``MAX_DIM`` the grading rule is the problem's sampled rule at a fixed seed (a tensor
    rule would have k^d nodes); nodes of weight 0 (outside the box, where V is infinite) are
    dropped. A problem there without ``sampled_rule`` is refused (``ValueError``) before its
    ``quadrature_rule`` could build a tensor rule.
    """
    if problem.dim > MAX_DIM:
        check_sampled_rule(problem)
        points, weights = problem.quadrature_rule()
        weights = np.asarray(weights, dtype=float)
        points = np.asarray(points, dtype=float).reshape(len(weights), problem.dim)
        keep = weights > 0
        return points[keep], weights[keep]
    points, weights = problem.quadrature_rule()
    if len(weights) > FINE_POINTS_MAX:
        points, weights = problem.quadrature_rule(FINE_POINTS_MAX)
    weights = np.asarray(weights, dtype=float)
    return np.asarray(points, dtype=float).reshape(len(weights), problem.dim), weights


#: The sampled fallback of :func:`potential_floor` lowers the smallest sampled V by this fraction
#: of the sampled range (see there).
SAMPLED_FLOOR_MARGIN = 0.05


def potential_floor(problem: Problem, sampled: np.ndarray | None = None) -> tuple[float, str]:
    """A lower bound on V over the box, and how it was found (``"exact"`` or ``"sampled"``).

    Exact where the problem states its potential piece by piece: its ``v_min`` attribute if
    it has one, the smallest value of a piecewise-constant V (``values``), the sum of the
    parts' floors of a separable one (``parts``). Otherwise the smallest of ``sampled`` (V on
    a fine rule) less :data:`SAMPLED_FLOOR_MARGIN` times the sampled range: sampling gives an
    *upper* estimate of min V, so this fallback is a bound only where V does not dip below
    its samples by more than that margin (true of the smooth potentials sampled on the fine
    rule here, not proved in general).
    """
    stated = getattr(problem, "v_min", None)
    if isinstance(stated, (int, float)) and np.isfinite(stated):
        return float(stated), "exact"
    values = getattr(problem, "values", None)
    if getattr(problem, "edges", None) is not None and values is not None:
        return float(min(values)), "exact"
    parts = getattr(problem, "parts", None)
    if parts:
        floors = [potential_floor(part) for part in parts]
        if all(how == "exact" for _, how in floors):
            return float(sum(f for f, _ in floors)), "exact"
    if sampled is None:
        sampled = potential(problem, fine_rule(problem)[0])
    low, high = float(np.min(sampled)), float(np.max(sampled))
    return low - SAMPLED_FLOOR_MARGIN * (high - low), "sampled"


def ground_state_floor(problem: Problem, sampled: np.ndarray | None = None) -> tuple[float, str]:
    """A lower bound on E0 with hard walls: min V plus the empty box's ground level sum_i (pi / L_i)^2.

    (-Laplacian + V >= -Laplacian + min V, whose lowest Dirichlet eigenvalue is that sum.) The
    second value says whether min V was ``"exact"`` or ``"sampled"`` (:func:`potential_floor`).
    """
    floor, how = potential_floor(problem, sampled)
    return floor + box_level(problem.box, 0), how


def box_level(box: Sequence[tuple[float, float]], k: int) -> float:
    """The k-th (from 0) eigenvalue of -Laplacian in ``box`` with hard walls: the k-th smallest
    sum over axes of (pi n_i / L_i)^2, n_i >= 1 (in 1D ((k + 1) pi / L)^2).

    The sums are visited in ascending order from (1, ..., 1), raising one n_i at a time (a
    heap), so the cost is about k d log(k d) rather than the (k + 1)^d sums of the full table;
    each sum is added up axis by axis in order, as ``sum`` over the table did, so the value is
    the same float (the k-th smallest of a multiset does not depend on how ties are ordered).
    """
    per_axis = [[(n * math.pi / (hi - lo)) ** 2 for n in range(1, k + 2)] for lo, hi in box]

    def total(index: tuple[int, ...]) -> float:
        return sum(per_axis[axis][n] for axis, n in enumerate(index))

    start = (0,) * len(per_axis)
    heap, seen = [(total(start), start)], {start}
    for _ in range(k):
        _, index = heapq.heappop(heap)
        for axis in range(len(index)):
            if index[axis] + 1 < len(per_axis[axis]):
                raised = (*index[:axis], index[axis] + 1, *index[axis + 1 :])
                if raised not in seen:
                    seen.add(raised)
                    heapq.heappush(heap, (total(raised), raised))
    return float(heap[0][0])


class TrainingSet:
    """Training points, weights and potential as tensors (``kind`` names the rule); resampled
    on request; with the values of the states trained before, for their overlap penalty."""

    def __init__(
        self,
        problem: Problem,
        solver: Any,
        rng: np.random.Generator,
        device: torch.device,
        dtype: torch.dtype,
        previous_networks: Sequence[TrialFunction] = (),
        stream: int = 0,
    ):
        self.problem, self.solver, self.rng = problem, solver, rng
        #: Which network this set trains (the sampled draws' seeds differ per network).
        self.stream = stream
        self.device, self.dtype = device, dtype
        self.previous_networks = list(previous_networks)
        #: The box's length (1D) or volume: the residual loss's sum(w r^2) / measure is a mean.
        self.measure = float(np.prod([hi - lo for lo, hi in problem.box]))
        #: How many point sets were drawn before this one (a Sobol set's scrambling is seeded by it).
        self.draw = 0
        self.sampling = resolve_sampling(solver.sampling, problem.dim)
        self.adaptive = AdaptiveRule(problem) if self.sampling == "adaptive" else None
        #: ``() -> (m, n)``: the values on ``x`` of the functions the adaptive rule follows (set by
        #: the training; ``None`` keeps the box's proposal).
        self.density: Callable[[], torch.Tensor] | None = None
        self._build()

    def _build(self) -> None:
        solver = self.solver
        points, weights, self.kind = next_training_rule(
            self.problem, self.sampling, self.adaptive, solver.n_points, solver.breakpoint_panels,
            solver.seed, self.rng, self.stream, self.draw,
        )  # fmt: skip
        self.x, self.w, self.v = rule_tensors(self.problem, points, weights, self.device, self.dtype)
        with torch.no_grad():
            self.previous = [net(self.x).detach() for net in self.previous_networks]

    @property
    def resamples(self) -> bool:
        """Whether Adam steps draw new points: a Sobol rule or a sampled rule always, random
        points if asked."""
        return self.kind in ("sobol", "sampled", "adaptive") or (
            self.kind == "random" and bool(self.solver.resample_every)
        )

    @property
    def resamples_lbfgs(self) -> bool:
        """Whether every L-BFGS chunk draws new points: the adaptive rule and the sampled rule
        (the other rules keep their last set for L-BFGS, as they always have)."""
        return self.kind in ("sampled", "adaptive")

    @property
    def period(self) -> int:
        """Adam steps between draws: ``resample_every`` (for the sampled rule 0 means 1)."""
        if self.kind == "sobol":
            return 1
        return self.solver.resample_every or 1

    def maybe_resample(self, step: int) -> None:
        """New points before Adam step ``step`` (never at step 0): a freshly scrambled Sobol set
        every step (seeded by the solver's seed and the draw, so runs repeat bit for bit), new
        random points every ``solver.resample_every`` steps, a new draw of the sampled rule every
        ``resample_every`` steps (every step when it is 0)."""
        if not step or not self.resamples:
            return
        if self.kind in ("random", "sampled", "adaptive") and step % self.period:
            return
        self.resample()

    def resample(self) -> None:
        """The next draw of points (and the earlier states' values on them); an adaptive rule
        is first refitted to the functions of :attr:`density` on the current points."""
        if self.adaptive is not None and self.density is not None:
            self.adaptive.refit(self.x, self.w, self.density())
        self.draw += 1
        self._build()

    def info(self) -> dict[str, Any]:
        """What ``info`` says of these points (:func:`rule_info`; the draws are this network's)."""
        return rule_info(self.problem, self.kind, len(self.w), self.draw + 1, self.adaptive, self.period)

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """Points ``(n, d)``, weights, potential and the earlier states' values."""
        return self.x, self.w, self.v, self.previous

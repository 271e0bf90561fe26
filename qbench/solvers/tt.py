"""``tt``: a tensor-train (matrix product state) eigensolver, DMRG from quimb on a sine-DVR grid.

quimb is an optional extra (``pip install 'qbench[tt]'``); it is imported when a solve starts
(:meth:`TensorTrain.prepare`), never by ``import qbench``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import math
import numbers
import sys
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy as np
import scipy.linalg

from .._validation import check_choice, check_int, check_real
from ..numerics.dvr import SineDVR
from ..numerics.tensor_train import (
    ProductTerm,
    evaluate_mps,
    max_ranks,
    random_mps,
    schmidt_values,
    sum_of_products_mpo,
    truncate_mps,
)
from ..problems import Problem
from .base import Option, Solution, Solver, Status

INSTALL_HINT = "pip install 'qbench[tt]'"
#: ``Solution.derivatives_by``: the Laplacian of the sine-DVR basis functions, exact for the returned psi.
DERIVATIVES_BY = "sine DVR basis"
#: Bond dimension of the first random state; each growth stage doubles the cuts that need it.
START_RANK = 8
RANK_GROWTH = 2
#: Sweeps of one growth stage (one to the right, one to the left) before the Schmidt values are read.
STAGE_SWEEPS = 2
#: Sweeps with subspace expansion before plain one-site sweeps may start, even when no rank grows
#: (an excited state in a degenerate level needed more than 2 on the isotropic oscillators).
MIN_EXPANSION_SWEEPS = 6
#: States found beyond the n_states asked for, when n_states > 1 (the lowest n_states are returned).
EXTRA_STATES = 1
#: The seeded noise added to each local eigensolve's start, relative to it, in units of the local
#: tolerance: a start whose residual is below the tolerance is taken as converged by ARPACK, so
#: the noise must exceed it (10x let a 3D oscillator's degenerate state be missed; 100x did not).
START_NOISE = 100.0
#: Norm of the subspace expansion term relative to the site tensor's, while the ranks grow.
EXPANSION = 1e-3
#: Lanczos vectors of the local eigensolver (scipy's eigsh; quimb's default is 4).
LOCAL_NCV = 16
#: Loosest tolerance of the local eigensolver: it is min(this, sqrt(tol)); the eigenvalue's
#: error is about the square of the residual's.
LOCAL_TOL = 1e-6
#: A change of the energy between sweeps below this multiple of local_eig_tol^2 is the local
#: eigensolves' noise (each sweep's energy is exact only to about local_eig_tol^2), so it settles.
SWEEP_NOISE = 10.0
#: Points evaluated per batch (memory O(batch * N * rank)).
BATCH_POINTS = 4096
#: An excited state whose overlap with a lower one exceeds this is ``failed``.
MAX_OVERLAP = 1e-6
ORDERINGS = ("fiedler", "natural")
POTENTIALS = ("galerkin", "dvr")
MIN_POINTS, MAX_POINTS = 4, 512
#: ``n_points="auto"``: points per axis in d >= 2 (chosen by the 1D oscillator's DVR convergence,
#: ``benchmarks/bench_tt.py``), and in 1D, where the one-site train is a dense N x N eigenproblem.
AUTO_POINTS, AUTO_POINTS_1D = 32, 256


def load_quimb() -> ModuleType:
    """Import ``quimb.tensor``, or raise ``ValueError`` saying how to install quimb."""
    try:
        return importlib.import_module("quimb.tensor")
    except ImportError as exc:
        raise ValueError(f"solver 'tt' needs the optional package quimb ({INSTALL_HINT}): {exc}") from None


def _quimb_installed() -> bool:
    if "quimb" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("quimb") is not None
    except (ImportError, ValueError):
        return False


def _check_points(name: str, value: Any) -> int | str:
    """``auto``, or a whole number in [MIN_POINTS, MAX_POINTS] (4.0 is taken as 4)."""
    if isinstance(value, str) and value == "auto":
        return value
    whole = (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and float(value).is_integer()
    )
    if not whole or not MIN_POINTS <= value <= MAX_POINTS:
        raise ValueError(
            f"{name} must be 'auto' or an integer in [{MIN_POINTS}, {MAX_POINTS}], got {value!r}"
        )
    return int(value)


def _check_cutoff(name: str, value: Any) -> float:
    value = check_real(name, value)
    if not 0.0 < value <= 1e-2:
        raise ValueError(f"{name} must be in (0, 0.01], got {value!r}")
    return value


def _check_penalty(name: str, value: Any) -> float:
    value = check_real(name, value)
    if not 0.5 <= value <= 1e3:
        raise ValueError(f"{name} must be in [0.5, 1000], got {value!r}")
    return value


class TensorTrain(Solver):
    """The lowest states as matrix product states (tensor trains), by one-site DMRG in quimb.

    **Basis.** Each axis of the box carries N = ``n_points`` sine-DVR functions
    (:mod:`qbench.numerics.dvr`): the box's N lowest sines rotated into functions localized at
    N interior points. -d2/dx_a^2 is exact in this basis. A state is the coefficient tensor
    c[j_1, ..., j_d] of psi = sum c prod_a theta_{j_a}(x_a), stored as an MPS, one site per
    axis; the basis is orthonormal, so ||psi||_2 = ||c|| and a normalized MPS is a normalized psi.

    **Hamiltonian.** H = sum_a T_a + sum_t c_t prod_a F_ta, from the problem's
    :meth:`~qbench.problems.Problem.product_terms` V = sum_t c_t prod_a f_ta(x_a) (a problem
    that states none is refused). ``potential="galerkin"`` (default): F_ta is the matrix
    <theta_i|f_ta|theta_j>, integrated by Gauss-Legendre panels that end at the axis's jumps, so
    H is the Ritz-Galerkin matrix of the exact operator in the tensor basis and its energies
    are upper bounds of the exact levels (and so is the energy of any MPS in the basis), up to
    the rounding of the quadrature and of the MPO's compression.
    ``potential="dvr"``: F_ta is diagonal, f_ta at the points (the DVR): cheaper to set up,
    equally fast to converge for a smooth V, but not variational (the points' quadrature stands
    in for the integral) and slow and erratic across a jump of V. The MPO is assembled
    directly as the sum of the terms' bond-1 MPOs with the identity channels shared (a
    finite-state machine: bond 2 + the terms crossing a cut), then SVD-compressed at a relative
    cutoff of 1e-13 (:func:`qbench.numerics.tensor_train.sum_of_products_mpo`; for V = x^T A x
    in d dimensions the bond falls from 2 + (terms across the cut) to at most
    min(k, d - k) + 2). quimb's MPO addition and ``compress`` would give the same operator;
    assembling it in numpy is faster and needs no quimb.

    **Site order.** ``ordering="fiedler"`` (default) places the axes along the Fiedler vector of
    the coupling graph (weight between axes a and b: the sum over the terms on both of
    abs(c_t) times each factor's RMS size), the ordering heuristic of quantum-chemistry DMRG
    (Barcza, Legeza, Marti & Reiher, Phys. Rev. A 83, 012508 (2011)): strongly coupled axes
    become neighbours, which lowers the ranks needed. ``natural`` keeps the axes' order.

    **DMRG.** quimb's ``DMRG`` with one-site updates (``bsz=1``: a two-site update's local
    product costs O(N^3 r^2 D^2), too slow at N = 32), from a random MPS of rank 8 drawn from
    ``seed``. After each update quimb's QR step is replaced by subspace expansion (Hubig,
    McCulloch, Schollwoeck & Wolf, Phys. Rev. B 91, 155115 (2015)): the site tensor is enlarged
    by the directions H reaches from it, scaled to 1e-3 of its norm, and an SVD keeps the cut's
    target rank. Every two sweeps the Schmidt values are read: a cut whose smallest Schmidt
    weight (squared value) exceeds ``cutoff`` has its target doubled, up to ``bond_dim`` (and
    the cut's full size), and the expansion fills the new directions. When no cut grows (and
    at least 6 sweeps have run), the expansion stops and plain one-site sweeps continue until
    the relative change of the energy from one sweep to the next is at most ``tol``; then each
    cut drops the longest tail of Schmidt values whose squares sum to at most ``cutoff``. The
    local eigenproblems are solved by scipy's eigsh through quimb (16 Lanczos vectors, relative
    tolerance min(1e-6, sqrt(tol))), from the current tensor plus seeded noise of 100 times that
    tolerance (relative): a start that is itself a local eigenvector (a product eigenstate is
    one) would keep Lanczos on it however high it lies, and noise below the tolerance leaves the
    start looking converged.

    **Excited states** (n_states > 1): state k is the lowest state of H + w sum_{j<k} P_j, P_j
    the projector on the lower state psi_j (the projector penalty, as ITensor's
    ``dmrg(H, [psi_0, ...], psi)``; Stoudenmire & White, Annu. Rev. Condens. Matter Phys. 3,
    111 (2012)): each local eigenproblem gets w p_j p_j^T, p_j being psi_j projected onto the
    local basis. w = ``penalty`` * (abs(E_0) + sum_a (pi / L_a)^2). One-site DMRG can land on a
    higher level when the state it needs (a partner in a degenerate level) is not reachable by
    one-site moves from where it started; the expansion and its 6 sweeps are there for that,
    and one state more than asked for is found, the lowest ``n_states`` returned
    (``info["found_order"]``, ``info["dropped_energies"]``), so that one such miss is made up.
    Two misses in a row are not detected. A state is ``failed`` if its energy reaches
    E_0 + w (the penalty may not have lifted the lower states above it) or it overlaps a lower
    state by more than 1e-6.

    **Energies.** The energy of a state is the expectation value of the discrete H in the
    returned (truncated, normalized) MPS: with ``galerkin`` an upper bound of the exact level,
    with ``dvr`` not.

    **States.** psi(x) = sum c prod theta_{j_a}(x_a) anywhere in the box (0 outside), contracted
    site by site, O(n d N r^2) for n points; the Laplacian comes with it, exact for that psi.

    **1D.** One site: the MPS is the whole vector, so a 1D problem is solved by a dense
    eigendecomposition of the N x N matrix (no DMRG; ``info["method"]`` says so).

    **Status.** ``failed`` (per state) when the energy did not settle within ``max_sweeps``
    sweeps: its relative change between sweeps stayed above ``tol``, or above 10 local_eig_tol^2
    where that is larger (the noise the local eigensolves leave in a sweep's energy), or by the
    excited-state checks above.

    ``info`` holds, per state: the final bond dimensions (``bond_dims``) and ``max_rank``, the
    ``sweeps`` done, the energy after each sweep (``energy_history``), ``converged``, the weight
    the final truncation dropped, summed over the cuts (``discarded_weight``), the largest over
    the cuts of the smallest Schmidt weight before it (``smallest_schmidt_weight``: what a cut
    held at ``bond_dim`` leaves out), whether a cut was held there (``rank_capped``) and the
    largest overlap with a lower state; and the points per axis, ``potential``, the site order
    (``axis_order``), the MPO's bond dimensions (``mpo_bond_dim``, ``mpo_bond_dims``,
    ``mpo_raw_bond_dims``) and its compression error, the ``cutoff``, the penalty weight, the
    solve's seconds and quimb's version.

    Needs the optional extra: ``pip install 'qbench[tt]'``.

    Options
    -------
    n_points : int or "auto", default "auto"
        Basis functions per axis, in [4, 512]; ``auto`` is 256 in 1D and 32 above (the 1D
        oscillator's convergence, ``benchmarks/bench_tt.py``).
    potential : {"galerkin", "dvr"}, default "galerkin"
        V's factors integrated (variational) or diagonal on the points.
    bond_dim : int, default 64
        The largest MPS rank at any cut, in [1, 512].
    cutoff : float, default 1e-12
        Schmidt weight that grows a rank and that the final truncation may drop per cut,
        in (0, 0.01].
    tol : float, default 1e-12
        Relative change of the energy between sweeps that ends DMRG, in (0, 0.01].
    max_sweeps : int, default 40
        Sweeps per state, rank growth included, in [2, 10000].
    seed : int, default 0
        Seeds the random initial MPS and the local solves' start noise, >= 0.
    ordering : {"fiedler", "natural"}, default "fiedler"
        Order of the axes along the train.
    penalty : float, default 4.0
        Excited states: the penalty weight in units of abs(E_0) + sum_a (pi / L_a)^2, in [0.5, 1000].
    """

    name = "tt"
    family = "classical"
    dimensions = tuple(range(1, 17))
    #: Shown by ``qbench list`` and in errors: the solver needs an optional extra.
    install_hint = INSTALL_HINT
    options = {
        "n_points": Option(
            "auto",
            _check_points,
            f"sine-basis points per axis: auto ({AUTO_POINTS_1D} in 1D, {AUTO_POINTS} above), "
            f"in [{MIN_POINTS}, {MAX_POINTS}]",
        ),
        "potential": Option(
            "galerkin",
            lambda k, v: check_choice(k, v, POTENTIALS),
            "V's matrix: galerkin (integrated, variational) or dvr (diagonal on the points)",
        ),
        "bond_dim": Option(
            64, lambda k, v: check_int(k, v, minimum=1, maximum=512), "largest MPS rank at a cut, in [1, 512]"
        ),
        "cutoff": Option(
            1e-12,
            _check_cutoff,
            "Schmidt weight that grows a rank and that the final truncation may drop per cut, in (0, 0.01]",
        ),
        "tol": Option(
            1e-12,
            _check_cutoff,
            "relative change of the energy between sweeps that ends DMRG, in (0, 0.01]",
        ),
        "max_sweeps": Option(
            40,
            lambda k, v: check_int(k, v, minimum=2, maximum=10000),
            "DMRG sweeps per state, rank growth included, in [2, 10000]",
        ),
        "seed": Option(
            0,
            lambda k, v: check_int(k, v, minimum=0),
            "seeds the initial MPS and the local solves' start noise, >= 0",
        ),
        "ordering": Option(
            "fiedler",
            lambda k, v: check_choice(k, v, ORDERINGS),
            "axes along the train: fiedler (coupled axes adjacent) or natural",
        ),
        "penalty": Option(
            4.0,
            _check_penalty,
            "excited states' penalty weight in units of abs(E_0) + sum (pi/L)^2, in [0.5, 1000]",
        ),
    }

    def prepare(self) -> None:
        """Import quimb (a second or two: numba, cotengra), which ``import qbench`` leaves unloaded."""
        load_quimb()

    def check_problem(self, problem: Problem, n_states: int) -> None:
        if not _quimb_installed():
            raise ValueError(
                f"solver 'tt' needs the optional package quimb ({INSTALL_HINT}); it is not installed"
            )
        if problem.product_terms() is None:
            raise ValueError(
                f"solver 'tt' needs V as a sum of products of one-axis functions; problem "
                f"{problem.name!r} states none (Problem.product_terms() is None)"
            )
        points = self.points(problem.dim)
        if n_states > points**problem.dim:
            raise ValueError(f"n_states={n_states} exceeds the {points}^{problem.dim} basis functions")

    def points(self, dim: int) -> int:
        """The points per axis in ``dim`` dimensions (``n_points``, or its ``auto`` value)."""
        if self.n_points == "auto":
            return AUTO_POINTS_1D if dim == 1 else AUTO_POINTS
        return int(self.n_points)

    def _solve(self, problem: Problem, n_states: int) -> Solution:
        points = self.points(problem.dim)
        dvrs = [SineDVR(float(lo), float(hi), points) for lo, hi in problem.box]
        terms = _potential_terms(problem, dvrs, self.potential == "galerkin")
        if problem.dim == 1:
            return self._solve_dense(problem, n_states, dvrs, terms)
        return self._solve_dmrg(problem, n_states, dvrs, terms)

    # -- d = 1 -------------------------------------------------------------------------------------
    def _solve_dense(
        self, problem: Problem, n_states: int, dvrs: list[SineDVR], terms: list[ProductTerm]
    ) -> Solution:
        (dvr,) = dvrs
        h = dvr.kinetic() + sum(term.coefficient * term.ops[0] for term in terms)
        energies, vectors = scipy.linalg.eigh(h, subset_by_index=(0, n_states - 1))
        cores = [[vectors[:, k].reshape(1, -1, 1)] for k in range(n_states)]
        info = {
            "method": "dense eigendecomposition (one site)",
            "n_points": [dvr.n_points],
            "potential": self.potential,
            "max_rank": [1] * n_states,
        }
        return Solution(
            np.asarray(energies, dtype=float),
            _States(cores, dvrs, [0]),
            info,
            laplacian=_States(cores, dvrs, [0], laplacian=True),
            derivatives_by=DERIVATIVES_BY,
        )

    # -- d >= 2 ------------------------------------------------------------------------------------
    def _solve_dmrg(
        self, problem: Problem, n_states: int, dvrs: list[SineDVR], terms: list[ProductTerm]
    ) -> Solution:
        qtn = load_quimb()
        import quimb

        d = problem.dim
        order = _fiedler_order(d, terms) if self.ordering == "fiedler" else list(range(d))
        site_of = {axis: site for site, axis in enumerate(order)}
        site_terms = [ProductTerm(1.0, {site_of[a]: dvrs[a].kinetic()}) for a in range(d)]
        site_terms += [ProductTerm(t.coefficient, {site_of[a]: op for a, op in t.ops.items()}) for t in terms]
        sizes = [dvr.n_points for dvr in dvrs]
        started = time.perf_counter()
        mpo = sum_of_products_mpo(sizes, site_terms)
        arrays = list(mpo.cores)
        arrays[0], arrays[-1] = arrays[0][0], arrays[-1][:, 0]
        ham = qtn.MatrixProductOperator(arrays, shape="lrud")
        scale = sum((math.pi / dvr.length) ** 2 for dvr in dvrs)
        rng = np.random.default_rng(self.seed)

        # One state more than asked for when there are excited states: one-site DMRG can miss a
        # state of a degenerate level, and a later state often finds it; the lowest n_states
        # found are returned.
        found = n_states + EXTRA_STATES if n_states > 1 else 1
        found = min(found, math.prod(sizes))
        runs: list[_Run] = []
        weight = math.nan
        for k in range(found):
            if k == 1:
                weight = self.penalty * (abs(runs[0].energy) + scale)
            runs.append(self._dmrg(qtn, ham, sizes, rng, [r.cores for r in runs], weight))
        kept = sorted(range(found), key=lambda k: runs[k].energy)[:n_states]
        statuses, messages = [], []
        for k in kept:
            run = runs[k]
            problems = []
            if not run.converged:
                problems.append(
                    f"DMRG did not settle to tol={self.tol:g} (or the local eigensolves' noise) in "
                    f"{self.max_sweeps} sweeps (last relative change {run.last_change:.1e})"
                )
            if k > 0 and not run.energy < runs[0].energy + weight:
                problems.append(
                    f"E={run.energy:.10g} reaches E_0 + w={runs[0].energy + weight:.10g}: raise penalty"
                )
            if k > 0 and run.max_overlap > MAX_OVERLAP:
                problems.append(f"overlaps a lower state by {run.max_overlap:.1e}")
            statuses.append(Status.FAILED if problems else Status.OK)
            messages.append("; ".join(problems))
        dropped = [runs[k] for k in range(found) if k not in kept]
        runs = [runs[k] for k in kept]
        energies = np.array([r.energy for r in runs])
        info: dict[str, Any] = {
            "method": "one-site DMRG (quimb) with subspace expansion and rank growth",
            "n_points": sizes,
            "potential": self.potential,
            "axis_order": order,
            "mpo_bond_dim": max(mpo.bond_dims),
            "mpo_bond_dims": mpo.bond_dims,
            "mpo_raw_bond_dims": mpo.raw_bond_dims,
            "mpo_relative_error": mpo.relative_error,
            "cutoff": self.cutoff,
            "bond_dims": [r.bond_dims for r in runs],
            "max_rank": [max(r.bond_dims) for r in runs],
            "sweeps": [r.sweeps for r in runs],
            "energy_history": [r.history for r in runs],
            "converged": [r.converged for r in runs],
            "discarded_weight": [r.discarded for r in runs],
            "smallest_schmidt_weight": [r.smallest_weight for r in runs],
            "rank_capped": [r.capped for r in runs],
            "penalty_weight": weight,
            "max_overlap": [r.max_overlap for r in runs],
            "found_order": kept,
            "dropped_energies": [r.energy for r in dropped],
            "solve_s": time.perf_counter() - started,
            "quimb_version": quimb.__version__,
        }
        failed = [k for k, s in enumerate(statuses) if s is Status.FAILED]
        cores = [r.cores for r in runs]
        return Solution(
            energies,
            _States(cores, dvrs, order),
            info,
            status=Status.FAILED if failed else Status.OK,
            message="; ".join(f"state {k}: {messages[k]}" for k in failed),
            state_status=statuses,
            state_messages=messages,
            laplacian=_States(cores, dvrs, order, laplacian=True),
            derivatives_by=DERIVATIVES_BY,
        )

    def _dmrg(
        self,
        qtn: ModuleType,
        ham: Any,
        sizes: list[int],
        rng: np.random.Generator,
        lower: list[list[np.ndarray]],
        weight: float,
    ) -> _Run:
        """One state: sweeps with subspace expansion while the ranks grow, then plain one-site
        sweeps to ``tol``, then truncation at ``cutoff``."""
        caps = [min(self.bond_dim, m) for m in max_ranks(sizes)]
        targets = [min(START_RANK, c) for c in caps]
        cores = random_mps(sizes, targets, rng)
        solver = _penalized_dmrg(qtn)(ham, _to_quimb(qtn, cores), lower, weight, targets, EXPANSION, rng)
        solver.opts["local_eig_tol"] = min(LOCAL_TOL, math.sqrt(self.tol))
        solver.opts["local_eig_ncv"] = LOCAL_NCV
        history: list[float] = []
        growing, converged, sweeps, stage = True, False, 0, 0
        while sweeps < self.max_sweeps:
            solver.solve(tol=0.0, max_sweeps=1, sweep_sequence="RL"[sweeps % 2], bond_dims=[1])
            sweeps += 1
            stage += 1
            history.append(float(solver.energies[-1]))
            if growing and stage >= STAGE_SWEEPS:
                values = schmidt_values(_from_quimb(solver.state))
                grow = [
                    min(cap, RANK_GROWTH * target) if target < cap and s[-1] ** 2 > self.cutoff else target
                    for target, cap, s in zip(solver.targets, caps, values)
                ]
                if grow != solver.targets:
                    solver.targets = grow
                elif sweeps >= MIN_EXPANSION_SWEEPS:
                    growing = False
                    solver.expansion = 0.0  # plain one-site sweeps from here on
                stage = 0
                continue
            if not growing and stage >= 2:
                change = abs(history[-1] - history[-2]) / max(abs(history[-1]), np.finfo(float).tiny)
                # The local eigensolves stop at local_eig_tol, which leaves the sweep energy noisy
                # at about its square: a tol below that noise cannot be told from convergence.
                if change <= max(self.tol, SWEEP_NOISE * solver.opts["local_eig_tol"] ** 2):
                    converged = True
                    break
        cores = _from_quimb(solver.state)
        values = schmidt_values(cores)
        smallest = max(float(s[-1] ** 2) for s in values)
        capped = any(len(s) >= cap and s[-1] ** 2 > self.cutoff for s, cap in zip(values, caps))
        cores, dropped = truncate_mps(cores, self.cutoff)
        energy = _energy(qtn, ham, cores)
        overlaps = [abs(_overlap(cores, low)) for low in lower]
        last_change = (
            abs(history[-1] - history[-2]) / max(abs(history[-1]), np.finfo(float).tiny)
            if len(history) >= 2
            else math.inf
        )
        return _Run(
            cores=cores,
            energy=energy,
            history=history,
            sweeps=sweeps,
            converged=converged,
            last_change=last_change,
            discarded=float(sum(dropped)),
            smallest_weight=smallest,
            capped=capped,
            max_overlap=max(overlaps, default=0.0),
        )


class _Run:
    """What ``_dmrg`` found for one state."""

    def __init__(self, **fields: Any):
        self.__dict__.update(fields)

    @property
    def bond_dims(self) -> list[int]:
        return [c.shape[2] for c in self.cores[:-1]]


def _potential_terms(problem: Problem, dvrs: list[SineDVR], galerkin: bool) -> list[ProductTerm]:
    """V's product terms as matrices in each axis's basis (axes of the problem): integrated over
    panels that end at the axis's breakpoints (``galerkin``), or diagonal on the points."""
    terms = []
    breakpoints = problem.axis_breakpoints
    for coefficient, factors in problem.product_terms() or []:
        ops = {}
        for axis, f in factors.items():
            dvr = dvrs[axis]
            try:
                if galerkin:
                    ops[axis] = dvr.galerkin(f, breakpoints[axis])
                else:
                    values = np.asarray(f(dvr.points), dtype=float).reshape(-1)
                    if values.shape != (dvr.n_points,) or not np.all(np.isfinite(values)):
                        raise ValueError("not one finite value per point")
                    ops[axis] = np.diag(values)
            except ValueError as exc:
                raise ValueError(
                    f"problem {problem.name!r}: a product term's factor on axis {axis} is not usable: {exc}"
                ) from None
        if not ops:  # a constant term
            ops = {0: np.eye(dvrs[0].n_points)}
        terms.append(ProductTerm(float(coefficient), ops))
    return terms


def _fiedler_order(d: int, terms: Sequence[ProductTerm]) -> list[int]:
    """Axes ordered by the Fiedler vector of the coupling graph of the multi-axis terms.

    Weight between axes a and b: sum over the terms on both of |c_t| prod_axis ||F_t,axis||_F / sqrt(N),
    F the factor's matrix (for a diagonal one, the RMS of f on the points).
    Ties and a disconnected graph fall back to the natural order (a stable sort).
    """
    weights = np.zeros((d, d))
    for term in terms:
        axes = sorted(term.ops)
        if len(axes) < 2:
            continue
        size = abs(term.coefficient) * math.prod(
            float(np.linalg.norm(term.ops[a]) / math.sqrt(len(term.ops[a]))) for a in axes
        )
        for i, a in enumerate(axes):
            for b in axes[i + 1 :]:
                weights[a, b] += size
                weights[b, a] += size
    if not np.any(weights):
        return list(range(d))
    laplacian = np.diag(weights.sum(axis=1)) - weights
    _, vectors = np.linalg.eigh(laplacian)
    fiedler = vectors[:, 1]
    # The eigenvector's sign is arbitrary: fix it so that the order does not depend on LAPACK.
    pivot = int(np.argmax(np.abs(fiedler)))
    if fiedler[pivot] < 0:
        fiedler = -fiedler
    return [int(a) for a in np.argsort(np.round(fiedler, 12), kind="stable")]


def _to_quimb(qtn: ModuleType, cores: Sequence[np.ndarray]) -> Any:
    """``(left, N, right)`` cores as a quimb MPS (its ``lrp`` layout)."""
    arrays = [c.transpose(0, 2, 1) for c in cores]
    arrays[0], arrays[-1] = arrays[0][0], arrays[-1][:, 0]
    return qtn.MatrixProductState(arrays, shape="lrp")


def _from_quimb(mps: Any) -> list[np.ndarray]:
    """A quimb MPS as ``(left, N, right)`` cores."""
    mps = mps.copy()
    mps.permute_arrays("lrp")
    arrays = [np.asarray(a) for a in mps.arrays]
    arrays[0], arrays[-1] = arrays[0][None], arrays[-1][:, None]
    return [a.transpose(0, 2, 1) for a in arrays]


def _energy(qtn: ModuleType, ham: Any, cores: Sequence[np.ndarray]) -> float:
    """<psi|H|psi> / <psi|psi>."""
    psi = _to_quimb(qtn, cores)
    return float(qtn.expec_TN_1D(psi.H, ham, psi) / (psi.H @ psi))


def _overlap(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
    """<a|b> of two MPS given as cores."""
    env = np.ones((1, 1))
    for x, y in zip(a, b):
        env = np.einsum("ab,anc,bnd->cd", env, x, y)
    return float(env[0, 0])


@functools.cache
def _penalized_dmrg(qtn: ModuleType) -> type:
    """quimb's one-site DMRG with a projector penalty and subspace expansion (the class, built once).

    * Penalty: each local eigenproblem gets w p_j p_j^T for every lower state psi_j, p_j being
      psi_j contracted with the current state everywhere but the site (the local projection of
      w |psi_j><psi_j|).
    * Subspace expansion (Hubig, McCulloch, Schollwoeck & Wolf, Phys. Rev. B 91, 155115 (2015)):
      after the update of site i in a sweep to the right, its tensor A is enlarged along the
      right bond by a P = (left environment x W_i) A scaled to norm ``expansion`` (the directions
      H reaches from the state), the next tensor padded with zeros; an SVD of [A, P] then keeps
      ``targets[i]`` directions as the left-orthogonal A, the rest multiplied into the next
      tensor. Mirrored to the left. This replaces quimb's QR step, lets a one-site sweep bring
      in bond directions the state lacks (so ranks can grow, and an excited state is not held
      by the basis it started in), and with ``expansion = 0`` it is a truncated SVD step.
    """
    from scipy.sparse.linalg import LinearOperator

    class PenalizedDMRG(qtn.DMRG):
        def __init__(
            self,
            ham: Any,
            p0: Any,
            lower: list[list[np.ndarray]],
            weight: float,
            targets: list[int],
            expansion: float,
            rng: np.random.Generator,
        ):
            super().__init__(ham, bond_dims=[1], cutoffs=1e-300, bsz=1, p0=p0)
            self.opts["bond_expand_rand_strength"] = 0.0  # the ranks are ours, not quimb's
            self._lower = [self._lower_network(j, cores) for j, cores in enumerate(lower)]
            self._weight = weight
            self.targets = list(targets)
            self.expansion = expansion
            self.rng = rng

        def _eigs(self, A: Any, B: Any = None, v0: Any = None) -> Any:
            # A start that is an eigenvector of the local problem (a product eigenstate is one)
            # spans an invariant Krylov space: Lanczos would return it however high it lies. A
            # seeded nudge lets the local solve find the lowest state.
            if v0 is not None:
                v0 = np.asarray(v0, dtype=float).reshape(-1)
                noise = self.rng.standard_normal(v0.shape)
                size = START_NOISE * self.opts["local_eig_tol"]
                v0 = v0 + size * np.linalg.norm(v0) / np.linalg.norm(noise) * noise
            return super()._eigs(A, B=B, v0=v0)

        def _lower_network(self, j: int, cores: list[np.ndarray]) -> list[Any]:
            return [
                qtn.Tensor(core, (f"_lower{j}_{s}", self._k.site_ind(s), f"_lower{j}_{s + 1}"))
                for s, core in enumerate(cores)
            ]

        def form_local_ops(self, i: int, dims: Any, lix: Any, uix: Any) -> tuple[Any, Any]:
            heff, neff = super().form_local_ops(i, dims, lix, uix)
            if not self._lower:
                return heff, neff
            others = [self._k[s] for s in range(self.L) if s != i]
            vectors = []
            for tensors in self._lower:
                network = qtn.TensorNetwork([*tensors, *others], virtual=False)
                projected = network.contract(output_inds=uix, optimize="auto-hq")
                vectors.append(np.asarray(projected.transpose(*uix).data).reshape(-1))
            p = np.stack(vectors, axis=1)
            w = self._weight
            if isinstance(heff, np.ndarray):
                return heff + w * (p @ p.T), neff
            penalty = LinearOperator(
                heff.shape,
                matvec=lambda v: w * (p @ (p.T @ v)),
                rmatvec=lambda v: w * (p @ (p.T @ v)),
                dtype=heff.dtype,
            )
            return heff + penalty, neff

        def _canonize_after_1site_update(self, direction: str, i: int) -> None:
            if direction == "right" and i < self.L - 1:
                self._expand(i, i + 1)
            elif direction == "left" and i > 0:
                self._expand(i, i - 1)

        def _expand(self, i: int, j: int) -> None:
            """Enlarge site i's tensor toward its neighbour j, truncate by SVD, push the rest to j.

            The bra's tensors mirror the ket's position by position (quimb's own updates rely on it).
            """
            ket, op = self._k[i], self.ham[i]
            bond = _shared(ket, self._k[j])
            phys = self._k.site_ind(i)
            outer = [ix for ix in ket.inds if ix not in (bond, phys)]  # the bond away from j, if any
            a = ket.transpose(*outer, phys, bond).data
            rows, r = math.prod(a.shape[:-1]), a.shape[-1]
            matrix = a.reshape(rows, r)
            if self.expansion > 0:
                bra = self._b[i]
                bra_outer = [bra.inds[ket.inds.index(ix)] for ix in outer]
                bra_phys = bra.inds[ket.inds.index(phys)]
                env = self.ME_eff_ham().select("_LEFT" if j > i else "_RIGHT")
                # P = env x W_i x A: the bra's outer bond and physical index as rows, (W's bond to j,
                # the ket's bond to j) as new columns.
                p = qtn.tensor_contract(
                    *env, op, ket, output_inds=[*bra_outer, bra_phys, _shared(op, self.ham[j]), bond]
                )
                p = np.asarray(p.data).reshape(rows, -1)
                norm = float(np.linalg.norm(p))
                if norm > 0:
                    matrix = np.concatenate([matrix, (self.expansion / norm) * p], axis=1)
            u, s, vt = np.linalg.svd(matrix, full_matrices=False)
            keep = max(1, min(self.targets[min(i, j)], int(np.sum(s > s[0] * 1e-14))))
            new = u[:, :keep].reshape(*a.shape[:-1], keep)
            carry = s[:keep, None] * vt[:keep, :r]  # (keep, r): the zero padding of j drops the rest
            ket.modify(data=np.transpose(new, _order((*outer, phys, bond), ket.inds)))
            self._b[i].modify(data=ket.data.conj())
            neighbour = self._k[j]
            rest = [ix for ix in neighbour.inds if ix != bond]
            moved = np.tensordot(carry, neighbour.transpose(bond, *rest).data, axes=([1], [0]))
            neighbour.modify(data=np.transpose(moved, _order((bond, *rest), neighbour.inds)))
            self._b[j].modify(data=neighbour.data.conj())

    return PenalizedDMRG


def _shared(a: Any, b: Any) -> str:
    """The one index two tensors share."""
    (ix,) = [ix for ix in a.inds if ix in b.inds]
    return ix


def _order(have: Sequence[str], want: Sequence[str]) -> list[int]:
    """The axes permutation taking an array indexed by ``have`` to one indexed by ``want``."""
    return [list(have).index(ix) for ix in want]


class _States:
    """psi_k(x) (or its Laplacian) of MPS cores on the sine-DVR bases, for ``Solution``."""

    def __init__(
        self,
        cores: list[list[np.ndarray]],
        dvrs: list[SineDVR],
        order: Sequence[int],
        laplacian: bool = False,
    ):
        self.cores, self.dvrs, self.order, self.laplacian = cores, dvrs, list(order), laplacian

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float)
        out = np.zeros((len(self.cores), len(points)))
        for start in range(0, len(points), BATCH_POINTS):
            chunk = points[start : start + BATCH_POINTS]
            bases = [self.dvrs[a].basis(chunk[:, a]) for a in self.order]
            seconds = (
                [self.dvrs[a].basis_second_derivative(chunk[:, a]) for a in self.order]
                if self.laplacian
                else None
            )
            for k, cores in enumerate(self.cores):
                values, lap = evaluate_mps(cores, bases, seconds)
                out[k, start : start + len(chunk)] = lap if self.laplacian else values
        return out

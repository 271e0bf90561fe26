"""Tensor trains in plain numpy: a sum of products as a matrix product operator, its SVD
compression, and a matrix product state evaluated at points.

Conventions: an MPO core is ``(left, right, up, down)`` (``up`` the output index), an MPS
core is ``(left, physical, right)``; the first core has left size 1 and the last right
size 1. Nothing here knows about DMRG; :mod:`qbench.solvers.tt` hands these arrays to quimb.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Relative singular-value cutoff of :func:`sum_of_products_mpo`: discarded are values below this times
#: the largest of their bond (rounding level; the Hamiltonians here have an exact low rank).
MPO_CUTOFF = 1e-13


@dataclass(frozen=True)
class ProductTerm:
    """c * prod_a ops[a]: one term of an operator, ``ops`` mapping site -> ``(N_a, N_a)`` matrix."""

    coefficient: float
    ops: dict[int, np.ndarray]


def sum_of_products_mpo(
    sizes: Sequence[int], terms: Sequence[ProductTerm], cutoff: float = MPO_CUTOFF
) -> CompressedMPO:
    """The MPO of ``sum_t c_t prod_a ops_t[a]`` (identity on the sites a term skips), SVD-compressed.

    Assembly: the finite-state machine of the sum. At a cut, one channel carries "no term
    started" (identity), one "a term finished" (identity), and one each term whose sites lie
    on both sides of the cut; single-site terms at a site are summed into one matrix. This is
    the sum of the terms' bond-1 MPOs with the identity channels shared: bond dimension 2 plus
    the number of terms crossing the cut (``raw_bond_dims``).

    Compression: each core is W[l, r] = sum_m C[l, r, m] O_m over the few distinct matrices
    O_m used at its site. With the O_m orthonormalized (Frobenius), W and C have the same
    Frobenius geometry, so the MPO is compressed as the small tensor train C: a QR sweep to
    the right, then truncating SVDs back, dropping at each bond the singular values below
    ``cutoff`` times the bond's largest. After the QR sweep the train is left-orthogonal, so
    the root sum of squares of everything dropped bounds ||H - H_compressed||_F.

    Parameters
    ----------
    sizes
        N_a, the dimension of each site (at least 2 sites).
    terms
        The products; every site a term names must be a site.
    cutoff
        Relative singular-value cutoff, >= 0.

    Returns
    -------
    CompressedMPO
    """
    d = len(sizes)
    if d < 2:
        raise ValueError(f"an MPO needs at least 2 sites, got {d}")
    spans = []
    for term in terms:
        sites = sorted(term.ops)
        if not sites or sites[0] < 0 or sites[-1] >= d:
            raise ValueError(f"a term acts on sites {sites}, outside 0..{d - 1}")
        for k in sites:
            if np.shape(term.ops[k]) != (sizes[k], sizes[k]):
                raise ValueError(f"a term's operator on site {k} has shape {np.shape(term.ops[k])}")
        spans.append((sites[0], sites[-1]))
    # channels[k]: the multi-site terms crossing the cut between sites k and k + 1, in order.
    channels = [[t for t, (lo, hi) in enumerate(spans) if lo <= k < hi] for k in range(d - 1)]
    start, done = "start", "done"
    coefficients, bases = [], []
    for k in range(d):
        n = sizes[k]
        ops: list[np.ndarray] = [np.eye(n)]  # O_0 = identity; then the local sum, then the rest
        local = np.zeros((n, n))
        left = [start, done, *channels[k - 1]] if k > 0 else [start]
        right = [start, done, *channels[k]] if k < d - 1 else [done]
        li = {c: i for i, c in enumerate(left)}
        ri = {c: i for i, c in enumerate(right)}
        entries: list[tuple[int, int, float, int]] = []  # (l, r, coefficient, operator index)
        if start in ri:
            entries.append((li[start], ri[start], 1.0, 0))
        if done in li:
            entries.append((li[done], ri[done], 1.0, 0))
        for t, (term, (lo, hi)) in enumerate(zip(terms, spans)):
            if lo == hi == k:
                local += term.coefficient * np.asarray(term.ops[k], dtype=float)
                continue
            if not lo <= k <= hi:
                continue
            if k in term.ops:
                ops.append(np.asarray(term.ops[k], dtype=float))
                m = len(ops) - 1
            else:
                m = 0
            if lo == k:
                entries.append((li[start], ri[t], term.coefficient, m))
            elif hi == k:
                entries.append((li[t], ri[done], 1.0, m))
            else:
                entries.append((li[t], ri[t], 1.0, m))
        if np.any(local):
            ops.append(local)
            entries.append((li[start], ri[done], 1.0, len(ops) - 1))
        raw = np.zeros((len(left), len(right), len(ops)))
        for row, col, c, m in entries:
            raw[row, col, m] += c
        # Orthonormal basis Q of the operators' span: O = R^T Q^T, so W = (C R^T) Q^T.
        q, rr = np.linalg.qr(np.stack([o.reshape(-1) for o in ops], axis=1))
        coefficients.append(raw @ rr.T)
        bases.append(q.T.reshape(-1, n, n))
    raw_bonds = [c.shape[1] for c in coefficients[:-1]]
    compressed, error = _compress_train(coefficients, cutoff)
    cores = [np.einsum("lrm,muv->lruv", c, b) for c, b in zip(compressed, bases)]
    return CompressedMPO(cores, error, raw_bonds)


@dataclass(frozen=True)
class CompressedMPO:
    """An MPO built by :func:`sum_of_products_mpo`.

    Attributes
    ----------
    cores : list of numpy.ndarray
        ``(left, right, up, down)`` cores.
    relative_error : float
        An upper bound on ||H - H_compressed||_F / ||H||_F from the compression.
    raw_bond_dims : list of int
        The bond dimensions before compression.
    """

    cores: list[np.ndarray]
    relative_error: float
    raw_bond_dims: list[int]

    @property
    def bond_dims(self) -> list[int]:
        return [core.shape[1] for core in self.cores[:-1]]


def _compress_train(cores: Sequence[np.ndarray], cutoff: float) -> tuple[list[np.ndarray], float]:
    """Cores ``(left, right, m)`` of a train, compressed; and the relative Frobenius error bound."""
    cores = [np.array(c, dtype=float) for c in cores]
    d = len(cores)
    for k in range(d - 1):
        lb, r, m = cores[k].shape
        q, rr = np.linalg.qr(cores[k].transpose(0, 2, 1).reshape(lb * m, r))
        cores[k] = q.reshape(lb, m, -1).transpose(0, 2, 1)
        cores[k + 1] = np.einsum("ab,bcm->acm", rr, cores[k + 1])
    norm = float(np.linalg.norm(cores[-1]))
    discarded = 0.0
    for k in range(d - 1, 0, -1):
        lb, r, m = cores[k].shape
        u, s, vt = np.linalg.svd(cores[k].reshape(lb, r * m), full_matrices=False)
        keep = max(1, int(np.sum(s > cutoff * s[0])))
        discarded += float(np.sum(s[keep:] ** 2))
        cores[k] = vt[:keep].reshape(keep, r, m)
        cores[k - 1] = np.einsum("abm,bc->acm", cores[k - 1], u[:, :keep] * s[:keep])
    return cores, (float(np.sqrt(discarded)) / norm if norm > 0 else 0.0)


def evaluate_mps(
    cores: Sequence[np.ndarray],
    bases: Sequence[np.ndarray],
    second_derivatives: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """psi(x_i) = sum_j prod_a B_a[i, j_a] * MPS[j_1 .. j_d] at n points, and its Laplacian.

    ``bases[a]`` is ``(n, N_a)``: the basis functions of axis a at the points' a-th coordinates.
    Contracted site by site, O(n d N chi^2). With ``second_derivatives`` (the bases' second
    derivatives, same shapes) the Laplacian sum_a d2 psi / dx_a^2 is carried along: the running
    pair (value, Laplacian) picks up B_a in the value and B_a'' in the value's Laplacian term.

    Returns
    -------
    values : numpy.ndarray
        ``(n,)``.
    laplacian : numpy.ndarray or None
        ``(n,)``, when ``second_derivatives`` is given.
    """
    n = bases[0].shape[0]
    value = np.ones((n, 1))
    lap = np.zeros((n, 1)) if second_derivatives is not None else None
    for a, core in enumerate(cores):
        # (n, l) x (l, N, r) -> (n, N, r), then weight by the basis at each point and sum over N.
        through = np.einsum("nl,ljr->njr", value, core)
        new_value = np.einsum("njr,nj->nr", through, bases[a])
        if lap is not None:
            lap = np.einsum("njr,nj->nr", np.einsum("nl,ljr->njr", lap, core), bases[a])
            lap += np.einsum("njr,nj->nr", through, second_derivatives[a])
        value = new_value
    return value[:, 0], None if lap is None else lap[:, 0]


# -- matrix product states: ranks, random states, expansion, Schmidt values, truncation ----------------
def max_ranks(sizes: Sequence[int]) -> list[int]:
    """The largest useful rank at each cut: min(prod of the sizes left of it, prod right of it)."""
    return [min(math.prod(sizes[:k]), math.prod(sizes[k:])) for k in range(1, len(sizes))]


def random_mps(sizes: Sequence[int], ranks: Sequence[int], rng: np.random.Generator) -> list[np.ndarray]:
    """A normalized MPS with standard normal entries, ``ranks`` at the cuts (capped by :func:`max_ranks`)."""
    ranks = [min(r, m) for r, m in zip(ranks, max_ranks(sizes))]
    bonds = [1, *ranks, 1]
    cores = [rng.standard_normal((bonds[k], n, bonds[k + 1])) for k, n in enumerate(sizes)]
    return normalize_mps(cores)


def normalize_mps(cores: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The MPS left-orthogonalized by QR and scaled to norm 1 (the last core carries the norm)."""
    cores = [np.array(c, dtype=float) for c in cores]
    for k in range(len(cores) - 1):
        lb, n, r = cores[k].shape
        q, rr = np.linalg.qr(cores[k].reshape(lb * n, r))
        cores[k] = q.reshape(lb, n, -1)
        cores[k + 1] = np.einsum("ab,bnc->anc", rr, cores[k + 1])
    norm = float(np.linalg.norm(cores[-1]))
    if not norm > 0:
        raise ValueError("the MPS is zero")
    cores[-1] = cores[-1] / norm
    return cores


def expand_mps(
    cores: Sequence[np.ndarray], ranks: Sequence[int], rng: np.random.Generator, strength: float = 1e-6
) -> list[np.ndarray]:
    """Pad each cut to ``ranks`` (never shrinking one) with ``strength`` times standard normal entries.

    The padding adds new directions to the bond spaces; once a DMRG sweep orthogonalizes the
    cores they are full directions of the basis, whatever ``strength``, while the state moves
    by O(strength). The sizes of the cuts are capped by :func:`max_ranks`.
    """
    sizes = [c.shape[1] for c in cores]
    cores = [np.array(c, dtype=float) for c in cores]
    for k, (target, cap) in enumerate(zip(ranks, max_ranks(sizes))):
        old = cores[k].shape[2]
        new = max(old, min(target, cap))
        if new == old:
            continue
        lb, n, _ = cores[k].shape
        cores[k] = np.concatenate([cores[k], strength * rng.standard_normal((lb, n, new - old))], axis=2)
        _, n2, r2 = cores[k + 1].shape
        cores[k + 1] = np.concatenate(
            [cores[k + 1], strength * rng.standard_normal((new - old, n2, r2))], axis=0
        )
    return cores


def schmidt_values(cores: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The singular values at each cut of the normalized state, descending (a list of d - 1 arrays)."""
    cores = normalize_mps(cores)  # left-orthogonal: the cut's Schmidt values are those of the rest
    out: list[np.ndarray] = []
    for k in range(len(cores) - 1, 0, -1):
        lb, n, r = cores[k].shape
        u, s, vt = np.linalg.svd(cores[k].reshape(lb, n * r), full_matrices=False)
        out.append(s)
        cores[k] = vt.reshape(-1, n, r)
        cores[k - 1] = np.einsum("anb,bc->anc", cores[k - 1], u * s)
    return out[::-1]


def truncate_mps(
    cores: Sequence[np.ndarray], cutoff: float, ranks: Sequence[int] | None = None
) -> tuple[list[np.ndarray], list[float]]:
    """Drop, at each cut, the longest tail of Schmidt values whose squares sum to at most ``cutoff``
    (and, with ``ranks``, all but the largest ``ranks[k]`` at cut k).

    The state is normalized first and after. Returns the cores and the weight (sum of squared
    Schmidt values, of the state as it was at that step) dropped at each cut.
    """
    cores = normalize_mps(cores)
    dropped: list[float] = []
    for k in range(len(cores) - 1, 0, -1):
        lb, n, r = cores[k].shape
        u, s, vt = np.linalg.svd(cores[k].reshape(lb, n * r), full_matrices=False)
        tail = np.cumsum((s**2)[::-1])[::-1]  # tail[j] = sum of s[j:]^2
        keep = max(1, int(np.sum(tail > cutoff)))
        if ranks is not None:
            keep = min(keep, ranks[k - 1])
        dropped.append(float(tail[keep]) if keep < len(s) else 0.0)
        cores[k] = vt[:keep].reshape(keep, n, r)
        cores[k - 1] = np.einsum("anb,bc->anc", cores[k - 1], u[:, :keep] * s[:keep])
    return normalize_mps(cores), dropped[::-1]


def add_mps(terms: Sequence[Sequence[np.ndarray]]) -> list[np.ndarray]:
    """The sum of MPS with the same site sizes: cores stacked block-diagonally (ranks add)."""
    d = len(terms[0])
    cores = []
    for k in range(d):
        blocks = [t[k] for t in terms]
        n = blocks[0].shape[1]
        lefts = [1] if k == 0 else [b.shape[0] for b in blocks]
        rights = [1] if k == d - 1 else [b.shape[2] for b in blocks]
        core = np.zeros((sum(lefts), n, sum(rights)))
        lo = ro = 0
        for b in blocks:
            bl = 1 if k == 0 else b.shape[0]
            br = 1 if k == d - 1 else b.shape[2]
            core[lo : lo + bl, :, ro : ro + br] += b
            lo += 0 if k == 0 else bl
            ro += 0 if k == d - 1 else br
        cores.append(core)
    return cores

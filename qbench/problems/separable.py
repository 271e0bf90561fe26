"""Separable problems: a sum of 1D potentials, one per axis, in a box.

V(x_1, .., x_d) = V_1(x_1) + .. + V_d(x_d) on the product of the parts'
domains. Every eigenstate is a product of 1D eigenstates, and its energy is
the sum of theirs, so the exact 1D references give an exact d-dimensional
one. Identical parts make permutations of a state degenerate.

>>> import qbench
>>> p = qbench.problems.get("separable", parts=["infinite_well", "infinite_well"])
>>> [round(float(e / 3.141592653589793**2), 9) for e in p.level_energies(3)]
[2.0, 5.0, 5.0]
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_int
from .base import DEGENERACY_RTOL, MAX_DIM, Problem, degenerate_groups
from .reference import Reference

#: The relative rounding of a sum of d exact 1D energies.
_SUM_ROUNDING = 1e-15


class Separable(Problem):
    """A sum of 1D problems, one per axis: ``V(x) = sum_j V_j(x_j)``.

    Parameters
    ----------
    parts : list of str or dict
        2 to ``MAX_DIM`` (4) registered 1D problems, one per axis: a name
        (``"finite_well"``, default parameters) or a dict with ``"name"`` and
        parameter overrides (``{"name": "finite_well", "V0": 50.0}``).

    Notes
    -----
    The box is the product of the parts' domains and each axis keeps its
    part's breakpoints. The energies are the sums of the parts' reference
    energies and the wavefunctions the products of theirs. The reference is
    exact when every part's is (certified when every part's is exact or
    certified). A part whose reference covers only some states (a
    Pöschl–Teller well, an oscillator in a narrow box) limits the levels that
    can be certified; ``check_states`` refuses the rest.
    """

    name = "separable"

    def __init__(self, parts: Sequence[str | dict[str, Any]]):
        super().__init__()
        self._set_parts(_build_parts(parts))

    def _set_parts(self, parts: list[Problem]) -> None:
        """Use these built 1D problems as the axes (subclasses build their own)."""
        self.parts: tuple[Problem, ...] = tuple(parts)
        self._specs = [_part_spec(p) for p in self.parts]  # params are read by every hash and repr
        # Per instance: a mix of exact and certified parts is certified, not exact.
        self.has_exact_reference = all(p.has_exact_reference for p in self.parts)
        self.certified_reference = all(p.has_exact_reference or p.certified_reference for p in self.parts)
        # Per part: the largest n_states its check_states accepted, the smallest it refused (or None).
        self._covered: list[tuple[int, int | None]] = [(0, None)] * len(self.parts)
        self._part_bounds: dict[tuple[int, int], float] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from params: the parts' cached references hold closures, which do not pickle.
        return (_rebuild, (type(self), self.params))

    # -- geometry and potential ------------------------------------------------
    @property
    def params(self) -> dict[str, Any]:
        return {"parts": copy.deepcopy(self._specs)}

    @property
    def box(self) -> tuple[tuple[float, float], ...]:
        return tuple(p.box[0] for p in self.parts)

    @property
    def axis_breakpoints(self) -> tuple[tuple[float, ...], ...]:
        return tuple(p.axis_breakpoints[0] for p in self.parts)

    def potential(self, points: np.ndarray) -> np.ndarray:
        """V at points of shape ``(n, d)``: the sum of the parts' V, ``inf`` outside the box."""
        total = np.zeros(len(points))
        for axis, part in enumerate(self.parts):
            total = total + part.potential(points[:, axis])
        return total

    def product_terms(self) -> list[tuple[float, dict[int, Any]]]:
        """One term per axis: the part's V."""
        return [(1.0, {axis: _axis_potential(part)}) for axis, part in enumerate(self.parts)]

    # -- spectrum --------------------------------------------------------------
    def _part_states(self, axis: int, wanted: int) -> int:
        """How many of the ``wanted`` lowest states of part ``axis`` its reference covers."""
        accepted, refused = self._covered[axis]
        if wanted <= accepted:
            return wanted
        if refused is None or wanted < refused:
            try:
                self.parts[axis].check_states(wanted)
                self._covered[axis] = (wanted, refused)
                return wanted
            except ValueError:
                refused = wanted
        # check_states is monotone in n_states: bisect between the largest accepted and smallest refused.
        while refused - accepted > 1:
            mid = (accepted + refused) // 2
            try:
                self.parts[axis].check_states(mid)
                accepted = mid
            except ValueError:
                refused = mid
        self._covered[axis] = (accepted, refused)
        return accepted

    def _levels(self, n: int) -> tuple[np.ndarray, np.ndarray, int, float]:
        """The ``n`` lowest sums known, their index tuples, how many are certain, and the bound.

        Each axis uses at most ``n`` of its part's states (enough: a tuple with
        index >= n on one axis has n tuples below it), fewer where the part's
        reference stops. A tuple whose index product ``prod(i_j + 1)`` exceeds
        ``n`` has at least ``n`` tuples at or below its energy, so it is never
        needed. Every state that is left out lies strictly above ``threshold``:
        the last covered 1D state of a cut axis plus the other axes' ground
        states (the next 1D state lies strictly above the last covered one).
        The sums up to ``threshold`` are certain.
        """
        counts = [self._part_states(axis, n) for axis in range(self.dim)]
        if min(counts) == 0:
            axis = counts.index(0)
            try:
                self.parts[axis].check_states(1)
                reason = "it has no reference state"
            except ValueError as error:
                reason = str(error)
            raise ValueError(
                f"axis {axis} of {self!r} ({self.parts[axis]!r}) has no reference state, so no "
                f"level can be certified: {reason}"
            )
        energies_1d = [self.parts[axis].reference(counts[axis]).energies for axis in range(self.dim)]
        tuples = np.array(_index_tuples(counts, n), dtype=int)
        terms = np.stack([energies_1d[axis][tuples[:, axis]] for axis in range(self.dim)], axis=1)
        # Summing sorted terms makes permutations of equal parts bitwise equal: exact degeneracies.
        sums = np.sort(terms, axis=1).sum(axis=1)
        order = np.argsort(sums, kind="stable")
        sums, tuples = sums[order][:n], tuples[order][:n]
        ground = np.array([e[0] for e in energies_1d])
        threshold = np.inf
        for axis in range(self.dim):
            if counts[axis] < n:  # the part's reference stopped before n states
                threshold = min(threshold, energies_1d[axis][-1] + ground.sum() - ground[axis])
        certain = int(np.searchsorted(sums, threshold, side="right"))
        return sums, tuples, certain, float(threshold)

    def _certified_levels(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        sums, tuples, certain, _ = self._levels(n)
        if certain < n:
            covered = [self._covered[a][0] for a in range(self.dim)]
            raise ValueError(
                f"n_states={n} is too many for {self!r}: its parts' references cover "
                f"{covered} states per axis, which certify only the {certain} lowest levels; "
                f"use n_states <= {certain} or parts with more reference states"
            )
        return sums, tuples

    def level_energies(self, n: int) -> np.ndarray:
        n = check_int("n", n, minimum=1)
        return self._certified_levels(n)[0].copy()

    def check_states(self, n_states: int) -> None:
        n_states = check_int("n_states", n_states, minimum=1)
        sums, _, certain, threshold = self._levels(n_states + 1)
        if certain >= n_states + 1:
            super().check_states(n_states)  # the next level is known: the base group test applies
            return
        self._certified_levels(n_states)  # raises if state n_states - 1 itself is not certain
        # The next level is not known, only that it lies above threshold: n_states splits nothing
        # only if the last level is clear of threshold by more than the degeneracy tolerance.
        last = sums[n_states - 1]
        if not threshold - last > DEGENERACY_RTOL * max(abs(last), abs(threshold)):
            start = next(g[0] for g in degenerate_groups(sums[:n_states]) if n_states - 1 in g)
            hint = f"use n_states <= {start}" if start > 0 else "change the parts' parameters"
            raise ValueError(
                f"n_states={n_states} may split the level E={last:.12g} of {self!r}: the parts' "
                f"references do not reach the next level; {hint}"
            )

    def _part_references(self, n_states: int) -> tuple[np.ndarray, np.ndarray, list[Reference], float]:
        """Energies, index tuples, the parts' references they use, and the bound on the energies."""
        energies, tuples = self._certified_levels(n_states)
        used = tuples.max(axis=0) + 1
        refs = [self.parts[axis].reference(int(used[axis])) for axis in range(self.dim)]
        terms = np.stack([refs[axis].energies[tuples[:, axis]] for axis in range(self.dim)], axis=1)
        part_bounds = np.array([self._part_bound(axis, int(used[axis])) for axis in range(self.dim)])
        if np.all(terms > 0):
            # A sum of positive terms: its relative error is at most the largest part's.
            bound = part_bounds.max()
        else:  # terms of either sign: the sum's absolute error over |E|, honestly (inf at E = 0)
            absolute = (np.abs(terms) * part_bounds).sum(axis=1)
            with np.errstate(divide="ignore"):
                bound = float(np.max(absolute / np.abs(energies)))
        return energies, tuples, refs, max(float(bound), _SUM_ROUNDING)

    def _part_bound(self, axis: int, n_states: int) -> float:
        """The bound of the ``n_states`` lowest states of part ``axis``, whatever it cached before.

        ``Problem.reference`` gives a prefix of a larger cached reference that larger one's
        bound; a fresh copy of the part states the bound of exactly these states, so the
        bound does not depend on what was asked earlier.
        """
        key = (axis, n_states)
        if key not in self._part_bounds:
            part = self.parts[axis]
            self._part_bounds[key] = float(type(part)(**part.params).reference(n_states).rel_error_bound)
        return self._part_bounds[key]

    def reference(self, n_states: int) -> Reference:
        # The base class hands out a prefix of a larger cached reference with that one's bound;
        # the bound of the first n_states uses fewer 1D states, so it is restated.
        full = super().reference(n_states)
        bound = self._part_references(n_states)[3]
        return full if full.rel_error_bound == bound else dataclasses.replace(full, rel_error_bound=bound)

    def _compute_reference(self, n_states: int) -> Reference:
        energies, tuples, refs, bound = self._part_references(n_states)
        methods = " + ".join(dict.fromkeys(r.method for r in refs))

        def evaluate(points: np.ndarray) -> np.ndarray:  # (n, d), checked by Problem.reference
            values = np.ones((len(tuples), len(points)))
            for axis, ref in enumerate(refs):
                values *= ref.wavefunctions(points[:, axis])[tuples[:, axis]]
            return values

        method = methods if len(refs) == 1 else f"separable: sum of 1D {methods}"  # one term is itself
        return Reference(energies.copy(), evaluate, method=method, rel_error_bound=bound)

    def state_indices(self, n_states: int) -> np.ndarray:
        """The 1D state of each axis in each of the ``n_states`` lowest states, ``(n_states, d)``."""
        n_states = check_int("n_states", n_states, minimum=1)
        return self._certified_levels(n_states)[1].copy()


def _axis_potential(part: Problem) -> Any:
    """A 1D part's V as a function of a flat array of coordinates."""

    def potential(x: np.ndarray) -> np.ndarray:
        return part.potential(np.asarray(x, dtype=float)[:, None])

    return potential


def _rebuild(cls: type[Separable], params: dict[str, Any]) -> Separable:
    return cls(**params)


def _index_tuples(counts: Sequence[int], budget: int) -> list[tuple[int, ...]]:
    """Index tuples ``t`` with ``t[j] < counts[j]`` and ``prod(t[j] + 1) <= budget``, lexicographic.

    About ``budget * log(budget)^(d-1)`` of them, not ``budget^d``.
    """
    if not counts:
        return [()]
    out = []
    for i in range(min(counts[0], budget)):
        out.extend((i, *rest) for rest in _index_tuples(counts[1:], budget // (i + 1)))
    return out


def _part_spec(part: Problem) -> str | dict[str, Any]:
    """A part as its name when it has the default parameters, else ``{"name": ..., **params}``."""
    try:
        default = type(part)()
    except (TypeError, ValueError):
        default = None
    if default is not None and default.params == part.params:
        return part.name
    return {"name": part.name, **part.params}


def _build_parts(parts: Any) -> list[Problem]:
    from . import PROBLEMS, get  # the registry imports this module

    allowed = f"a list of 2 to {MAX_DIM} registered 1D problems (names or {{'name': ..., params}} dicts)"
    if isinstance(parts, (str, bytes, dict)) or not isinstance(parts, Sequence):
        raise ValueError(f"parts must be {allowed}, got {parts!r}")
    if len(parts) == 1:
        raise ValueError(
            f"parts must have 2 to {MAX_DIM} entries, got 1: for one part use the 1D problem itself"
        )
    if not 2 <= len(parts) <= MAX_DIM:
        raise ValueError(f"parts must have 2 to {MAX_DIM} entries, got {len(parts)}")
    built = []
    for i, spec in enumerate(parts):
        if isinstance(spec, str):
            name, params = spec, {}
        elif isinstance(spec, dict) and isinstance(spec.get("name"), str):
            name, params = spec["name"], {k: v for k, v in spec.items() if k != "name"}
        else:
            raise ValueError(f"parts[{i}] must be a problem name or a dict with a 'name', got {spec!r}")
        if name == Separable.name:
            raise ValueError(f"parts[{i}] is itself separable; list its 1D parts in parts instead")
        if name not in PROBLEMS:
            raise ValueError(
                f"parts[{i}]: unknown problem {name!r}; allowed: the 1D problems "
                f"{', '.join(sorted(n for n in PROBLEMS if n != Separable.name))}"
            )
        try:
            part = get(name, **params)
        except ValueError as error:
            raise ValueError(f"parts[{i}] ({name}): {error}") from None
        if part.dim != 1:
            raise ValueError(f"parts[{i}] ({part!r}) is {part.dim}-dimensional; every part must be 1D")
        built.append(part)
    return built

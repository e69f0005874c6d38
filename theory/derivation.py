r"""What a gradient bound is derived from, and the calculators that derive it — kept out of the record.

A :class:`~privqml.theory.bound_record.GradientBound` is a frozen record of numbers. Some of its answers are
computed on demand (the bound after each refinement stage, the coupled form, ``--explain``, the bound at one
input vector), which need the derivation's working objects: the slot table, the per-observable live sets,
the :class:`~privqml.theory.refinements.stages.Refiner` and the :class:`PointwiseBound` evaluator. The record
holds only the *description* they are derived from (:class:`BoundSource`: the ansatz and the options, value
objects), and :func:`derive` rebuilds the calculators from it — cached, so a record asked twice derives once,
and deterministic, so a cache eviction changes no number.

This module imports neither the record nor :mod:`privqml.theory.bounds` (which turns a derivation into a
record), so the record can ask it without an import cycle.
"""

from __future__ import annotations

import dataclasses
import functools

import cirq
import numpy as np
import sympy

from privqml.theory.ansatz import Ansatz
from privqml.theory.entries import SlotEntries, per_weight_sums, slot_entries
from privqml.theory.observable_range import observable_range, sample_mean_range
from privqml.theory.pauli import best_live_slots, pauli_from_cirq
from privqml.theory.refinements.stages import LiveSet, Refiner, noise_adjusted, union_factors
from privqml.theory.slots import SlotTable, slot_table


@dataclasses.dataclass(frozen=True)
class Options:
    """How :func:`~privqml.theory.bounds.gradient_bound` was asked to derive (see its arguments), and from which
    slot table (None: the ansatz's own)."""

    prune: bool
    prune_commuting: bool
    per_term: bool
    directional: bool
    max_strings: int
    sampled: bool
    refine: bool = True
    slots: SlotTable | None = None


@dataclasses.dataclass(frozen=True)
class ObservableLiveSets:
    """The slots that may move one observable O = c_0 + Σ_t c_t P_t, and its range.

    Attributes:
        observable_range: (o_min, o_max), and ``range_method`` how it was obtained.
        half_range: h = (o_max − o_min)/2.
        union: [n_slots] True for a slot not provably zero for some Pauli term (L of the module
            docstring): live, or near zero (:mod:`privqml.theory.pauli`).
        terms: (|c_t|, [n_slots] mask L_t of the slots not provably zero for term t) per
            non-constant Pauli term.
        commuting, outside_cone: slots pruned for some term, by commutation with the
            Heisenberg-evolved term or by the light cone.
        term_factors: per term, [n_slots] φ_{t,k}: |∂⟨P_t⟩/∂t_k| ≤ φ_{t,k} Ω_k (1 live, ε_{t,k}
            near zero, 0 pruned).
        union_factors: [n_slots] φ_k: |∂f/∂t_k| ≤ φ_k Ω_k h
            (:func:`privqml.theory.refinements.stages.union_factors`).
    """

    observable_range: tuple[float, float]
    range_method: str
    half_range: float
    union: np.ndarray
    terms: tuple[tuple[float, np.ndarray], ...]
    commuting: frozenset[int]
    outside_cone: frozenset[int]
    term_factors: tuple[np.ndarray, ...]
    union_factors: np.ndarray

    def live_set(self) -> LiveSet:
        """The same sets as the refinements take them."""
        near = bool(np.any((self.union_factors > 0) & (self.union_factors < 1)))
        near = near or any(np.any((f > 0) & (f < 1)) for f in self.term_factors)
        if not near:
            return LiveSet(self.half_range, self.union, self.terms, self.commuting, self.outside_cone)
        return LiveSet(self.half_range, self.union, self.terms, self.commuting, self.outside_cone,
                       self.union_factors, self.term_factors)


def _live_sets(ansatz: Ansatz, table: SlotTable, observable: cirq.PauliSum, options: Options) -> ObservableLiveSets:
    """The live slots of ``observable`` per Pauli term (every slot when nothing is pruned)."""
    lo, hi, method = observable_range(observable) if not options.sampled else sample_mean_range(observable)
    n_slots = table.n_slots
    qubit_index = {q: i for i, q in enumerate(ansatz.qubits)}
    terms: list[tuple[float, np.ndarray]] = []
    factors: list[np.ndarray] = []
    union = np.zeros(n_slots, dtype=bool)
    commuting: set[int] = set()
    outside: set[int] = set()
    for term in observable:
        if len(term) == 0:
            continue
        factor = np.ones(n_slots)
        if options.prune:
            result = best_live_slots(table.canonical, pauli_from_cirq(term, qubit_index), qubit_index,
                                options.max_strings, options.prune_commuting)
            factor = result.factors(n_slots)
            commuting |= result.commuting
            outside |= result.outside_cone
        mask = factor > 0
        terms.append((abs(float(np.real(term.coefficient))), mask))
        factors.append(factor)
        union |= mask
    half_range = (hi - lo) / 2.0
    return ObservableLiveSets((lo, hi), method, half_range, union, tuple(terms),
                              frozenset(commuting), frozenset(outside), tuple(factors),
                              union_factors(half_range, terms, factors, n_slots))


class PointwiseBound:
    """Evaluates the coordinate form at one input vector: derivatives that depend only on the
    inputs are evaluated at x; those that depend on weights keep their sup over all weights."""

    def __init__(self, ansatz: Ansatz, entries: SlotEntries, live_sets: list, n_weights: int,
                 noise: np.ndarray | None = None):
        self._entries = entries
        self._live_sets = live_sets
        self._noise = noise
        self._n_weights = n_weights
        self._n_inputs = ansatz.n_inputs
        inputs = set(ansatz.inputs)
        self._at_x = [
            (e, sympy.lambdify(list(ansatz.inputs), entries.expressions[e], "numpy"))
            for e in range(len(entries))
            if not entries.constant[e] and entries.expressions[e].free_symbols <= inputs
        ]

    def __call__(self, x: np.ndarray) -> float:
        entries = self._entries
        if x.shape != (self._n_inputs,):
            raise ValueError(f"inputs have shape {x.shape}; expected ({self._n_inputs},)")
        magnitudes = np.where(entries.constant, np.abs(entries.value), entries.sup)
        for e, function in self._at_x:
            magnitudes[e] = abs(float(function(*x)))
        best = 0.0

        def weights(factors: np.ndarray) -> np.ndarray:
            return factors if self._noise is None else noise_adjusted(factors, self._noise)

        for live in self._live_sets:
            b_union = live.half_range * per_weight_sums(entries, weights(live.union_weights()), magnitudes,
                                                        self._n_weights)
            if live.terms:
                b_terms = sum(c * per_weight_sums(entries, weights(f), magnitudes, self._n_weights)
                              for (c, _), f in zip(live.terms, live.term_weights()))
                b_union = np.minimum(b_union, b_terms)
            best = max(best, float(np.linalg.norm(b_union)))
        return best


@dataclasses.dataclass(frozen=True)
class BoundSource:
    """What a bound was derived from: the ansatz and the options (a description, not a calculator)."""

    ansatz: Ansatz
    options: Options


@dataclasses.dataclass(frozen=True, eq=False)
class Derivation:
    """The working objects of one derivation (see the module docstring); built by :func:`derive` only.

    Attributes:
        refine: the refinements are on (``noisy``: and apply, i.e. not a bound on sampled estimates).
    """

    table: SlotTable
    entries: SlotEntries
    live_sets: tuple[ObservableLiveSets, ...]
    refiner: Refiner
    refine: bool

    @property
    def noisy(self) -> bool:
        """Whether the refinements (noise factors among them) apply: on, and not for sampled estimates."""
        return self.refine and self.refiner.enabled

    def refined_live(self) -> list[LiveSet]:
        """Each observable's live set with the whole-observable commutation pruning when the refinements are on."""
        return [self.refiner.live(c, self.refine) for c in range(len(self.live_sets))]

    @functools.cached_property
    def pointwise(self) -> PointwiseBound:
        """The bound at one input vector, with the refined live sets and the noise factors where they apply."""
        noisy = self.noisy
        return PointwiseBound(self.refiner.ansatz, self.refiner.scaled_entries if noisy else self.entries,
                              self.refined_live(), self.refiner.n_weights, self.refiner.noise.factors if noisy else None)


@functools.lru_cache(maxsize=64)
def derive(source: BoundSource) -> Derivation:
    """The calculators of ``source`` (cached: the records of one ansatz share them)."""
    ansatz, options = source.ansatz, source.options
    table = slot_table(ansatz) if options.slots is None else options.slots
    assert table.weights == tuple(ansatz.weights), "the slot table belongs to another ansatz"
    entries = slot_entries(ansatz, table)
    live_sets = tuple(_live_sets(ansatz, table, observable, options) for observable in ansatz.observables)
    refiner = Refiner(ansatz, table, entries, [live.live_set() for live in live_sets],
                      directional=options.directional, per_term=options.per_term, enabled=not options.sampled,
                      prune=options.prune, max_strings=options.max_strings, prune_commuting=options.prune_commuting)
    return Derivation(table, entries, live_sets, refiner, options.refine)


__all__ = ["BoundSource", "Derivation", "ObservableLiveSets", "Options", "PointwiseBound", "derive"]

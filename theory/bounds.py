r"""Deterministic gradient-norm bounds for an ansatz's outputs f_c(x; θ) = ⟨O_c⟩.

Notation: slot k of the canonical circuit has exponent t_k(x, θ) and spread Ω_k (radians per
unit exponent), both from the slot table (:mod:`privqml.theory.slots`); O = c_0 + Σ_t c_t P_t
has range [o_min, o_max] (:mod:`privqml.theory.observable_range`) and half-range
h = (o_max − o_min)/2; L is the set of slots that are not provably zero
(:mod:`privqml.theory.pauli`); M_kj = sup_x |∂t_k/∂θ_j| over the public domain
(:mod:`privqml.theory.entries`, :mod:`privqml.theory.sup`).

*Per weight* (Bernstein's inequality for functions of exponential type — f is a trigonometric
polynomial of degree Ω_k in t_k — with the chain rule over the slots):

    |∂f/∂θ_j| ≤ B_j := h · Σ_{k∈L} φ_k Ω_k M_kj                                    (1)

with φ_k = 1 for a live slot and φ_k < 1 for a *near-zero* one, whose derivative the Pauli
propagation bounds by the norm it carried from negligible (but not zero) terms of fixed gates'
Heisenberg images: |∂f/∂t_k| ≤ φ_k Ω_k h (:func:`privqml.theory.refinements.stages.union_factors`).
Every other form below takes the near-zero slots as live, which is sound.

*Total, coordinate form*: ‖∇_θ f‖₂ ≤ (Σ_j B_j²)^{1/2}.                                 (2)

*Total, directional form* (never looser than (2), tighter when a weight is shared between
slots with different signs): for a unit direction u,
|D_u f| ≤ h Σ_k Ω_k |∇_θ t_k · u|, so

    ‖∇_θ f‖₂ ≤ h · max_{‖u‖=1} Σ_{k∈L} Ω_k |r_k · u|,   r_k = ∇_θ t_k,               (3)

computed as max over sign vectors σ of ‖ |Σ σ_k Ω_k r_k| + m ‖₂ for the rows r_k that are
constant and involve several weights, all other rows entering entrywise through
m_j = Σ Ω_k M_kj (:mod:`privqml.theory.directional`; it reduces to (2) when every row is relaxed).

*Per Pauli term*: ∇f = Σ_t c_t ∇⟨P_t⟩ with each ⟨P_t⟩ of half-range 1 and its own live set L_t
(and factors φ_{t,k}), so every bound above also holds with h·(·)(L) replaced by
Σ_t |c_t| (·)(L_t); we take the smaller, per weight and in total.

Units: the bound on ∂f/∂θ_j is per unit of θ_j (radians for a rotation angle, half-turns for
an exponent weight); f is in the units of the observable's eigenvalues.

References: S. N. Bernstein's inequality for entire functions of exponential type (e.g.
Boas, *Entire Functions*, 1954, Thm. 11.1.2); D. Wierichs, J. Izaac, C. Wang, C. Y.-Y. Lin,
"General parameter-shift rules for quantum gradients", Quantum 6, 677 (2022).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import cirq
import numpy as np
import sympy

from privqml.errors import AnsatzTypeError
from privqml.theory.ansatz import Ansatz
from privqml.theory.bound_record import GradientBound
from privqml.theory.directional import directional_form
from privqml.theory.entries import SlotEntries, per_weight_sums, slot_entries
from privqml.theory.observable_range import observable_range, sample_mean_range
from privqml.theory.pauli import live_slots, pauli_from_cirq
from privqml.theory.refinements.stages import STAGES, LiveSet, Refiner, noise_adjusted, union_factors
from privqml.theory.slots import SlotTable, slot_table

_MAX_REASONS = 3


# ---------------------------------------------------------------------------------------
# derivation
# ---------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class _Options:
    """How :func:`gradient_bound` was asked to derive (see its arguments)."""

    prune: bool
    prune_commuting: bool
    per_term: bool
    directional: bool
    max_strings: int
    sampled: bool


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


@dataclasses.dataclass(frozen=True)
class ObservableBound:
    """The bounds of one observable, per unit of the weights, in observable units.

    Attributes:
        per_weight: B_j of eq. (1), the smaller of the whole-observable and per-term forms.
        total: the bound on ‖∇_θ f‖₂ (the smallest of the forms computed).
        coordinate: eq. (2) on ``per_weight``.
        directional: eq. (3) (whole observable or per term, the smaller); ``coordinate`` when
            the directional form was not asked for.
        naive: h · ‖(Σ_k Ω_k M_kj)_j‖₂ over every slot, nothing pruned.
    """

    per_weight: tuple[float, ...]
    total: float
    coordinate: float
    directional: float
    naive: float


def _live_sets(ansatz: Ansatz, table: SlotTable, observable: cirq.PauliSum, options: _Options) -> ObservableLiveSets:
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
            result = live_slots(table.canonical, pauli_from_cirq(term, qubit_index), qubit_index,
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


def _observable_bound(refiner: Refiner, c: int, entries: SlotEntries, n_weights: int, n_slots: int) -> ObservableBound:
    """Eqs. (1)–(3) for observable c: the refiner's forms with every refinement off (one implementation of
    the base bound), beside the naive bound over every slot."""
    base = frozenset()
    per_weight = refiner.per_weight(c, base)
    coordinate = float(np.linalg.norm(per_weight))
    directional = refiner.base_directional(c) if refiner.directional else coordinate
    naive = refiner.live_sets[c].half_range * np.linalg.norm(
        per_weight_sums(entries, np.ones(n_slots, dtype=bool), entries.sup, n_weights))
    return ObservableBound(tuple(float(v) for v in per_weight), refiner.total(c, base), coordinate, float(directional),
                           float(naive))


def gradient_bound(
    ansatz: Ansatz,
    *,
    prune: bool = True,
    prune_commuting: bool = True,
    per_term: bool = True,
    directional: bool = True,
    max_strings: int = 64,
    sampled: bool = False,
    slots: Optional[SlotTable] = None,
    refine: bool = True,
) -> GradientBound:
    """Derive the gradient-norm bounds of every output of ``ansatz`` (see the module docstring).

    Args:
        sampled: bound *single finite-sample estimates* (finite shots, or noise trajectories)
            of the gradient by the parameter-shift rule rather than the exact gradient. A shift
            estimate of ∂f/∂t_k is Ω_k/2 times a difference of two sample means, so it obeys
            the same per-slot coefficient Ω_k·h — but (i) sampling noise does not cancel where
            the exact derivative does, so nothing is pruned, and (ii) Pauli terms are sampled
            separately, so a sample mean of O lies in c_0 ∓ Σ_t|c_t|, not in the eigenvalue
            range. Both are applied when ``sampled`` is True.
        prune: remove provably-zero slots (light cone and commutation). ``False`` keeps all.
        prune_commuting: also use commutation with the Heisenberg-evolved observable.
        per_term: also bound PauliSum observables term by term and keep the smaller.
        directional: also compute the directional form (3).
        max_strings: Pauli strings tracked exactly before falling back to the light cone.
        refine: switch on the refinements of :mod:`privqml.theory.refinements` (commutation with
            the whole observable, product-state prefixes, per-term quadrature, noise factors);
            ``False`` gives the base bound. Refinements never apply to ``sampled`` bounds (they
            bound exact expectations, not sample means).
        slots: the slot table to derive from; ``None`` (the default, and the only sound choice)
            takes the ansatz's own, :func:`privqml.theory.slots.slot_table`. Another table —
            spreads deliberately scaled — is how a mutation test derives a weakened bound.

    Raises:
        UnsupportedGateError: for a gate with no spectrum rule (named in the message).
    """
    if not isinstance(ansatz, Ansatz):
        what = "a cirq.Circuit" if isinstance(ansatz, cirq.AbstractCircuit) else f"a {type(ansatz).__name__}"
        raise AnsatzTypeError(
            f"gradient_bound takes a privqml.theory.Ansatz, not {what}: declare which symbols are weights and "
            "which inputs (and their public domain) with privqml.theory.Ansatz(circuit, weights=..., inputs=..., "
            "observables=..., input_domain=...), or call privqml.api.bound(circuit, inputs=[...], observable=...)")
    options = _Options(prune and not sampled, prune_commuting, per_term, directional, max_strings, sampled)
    table = slot_table(ansatz) if slots is None else slots
    assert table.weights == tuple(ansatz.weights), "the slot table belongs to another ansatz"
    entries = slot_entries(ansatz, table)
    n_weights = ansatz.n_weights
    live_sets = [_live_sets(ansatz, table, observable, options) for observable in ansatz.observables]
    refiner = Refiner(ansatz, table, entries, [live.live_set() for live in live_sets],
                      directional=directional, per_term=per_term, enabled=not sampled, prune=options.prune,
                      max_strings=max_strings, prune_commuting=prune_commuting)
    bounds = [_observable_bound(refiner, c, entries, n_weights, table.n_slots) for c in range(len(live_sets))]
    final = frozenset(STAGES[1:]) if refine else frozenset()
    refined = [refiner.live(c, "commutation" in final) for c in range(len(live_sets))]
    per_observable = [min(b.total, refiner.total(c, final)) for c, b in enumerate(bounds)]
    per_weight = [tuple(float(v) for v in np.minimum(b.per_weight, refiner.per_weight(c, final)))
                  for c, b in enumerate(bounds)]
    pruning = _Pruning.of(entries, refined, live_sets, table.n_slots)
    noisy = refine and not sampled
    point_entries = refiner.scaled_entries if noisy else entries
    return GradientBound(
        ansatz_name=ansatz.name,
        n_qubits=ansatz.n_qubits,
        n_weights=n_weights,
        weight_names=tuple(w.name for w in ansatz.weights),
        input_domain=tuple((s.name, lo, hi) for s, (lo, hi) in zip(ansatz.inputs, ansatz.input_domain)),
        observable_ranges=tuple(live.observable_range for live in live_sets),
        range_methods=tuple(live.range_method for live in live_sets),
        per_weight_by_observable=tuple(per_weight),
        per_observable=tuple(per_observable),
        coordinate_by_observable=tuple(b.coordinate for b in bounds),
        directional_by_observable=tuple(b.directional for b in bounds),
        naive_by_observable=tuple(b.naive for b in bounds),
        zero_weights=tuple(w.name for j, w in enumerate(ansatz.weights) if j not in pruning.touched_weights),
        n_slots=table.n_slots,
        n_live_slots=len(pruning.live),
        n_pruned_commuting=len(pruning.commuting - pruning.live),
        n_pruned_outside_cone=len(pruning.outside_cone - pruning.commuting - pruning.live),
        expression=_expression(entries, refined, n_weights),
        unbounded_reason=_unbounded_reason(entries, pruning.live_entries, per_observable),
        n_pruned_whole_observable=len(pruning.whole_observable),
        n_near_zero_slots=len(pruning.near),
        refinements=tuple(STAGES[1:]) if (refine and not sampled) else (),
        _pointwise=_PointwiseBound(ansatz, point_entries, refined, n_weights,
                                   refiner.noise.factors if noisy else None),
        _refiner=refiner,
    )


@dataclasses.dataclass(frozen=True)
class _Pruning:
    """Which slots are live for some observable (the union of the live sets) and what that keeps.

    Attributes:
        live: the live slots; ``commuting`` and ``outside_cone`` the slots some Pauli term pruned;
            ``whole_observable`` the slots only the whole-observable commutation pruned.
        live_entries: [E] True for an entry of a live slot.
        touched_weights: the weights with an entry in a live slot (the others are provably zero).
        near: the live slots that are only near zero (factor < 1) for every observable.
    """

    live: frozenset[int]
    commuting: frozenset[int]
    outside_cone: frozenset[int]
    live_entries: np.ndarray
    touched_weights: frozenset[int]
    whole_observable: frozenset[int] = frozenset()
    near: frozenset[int] = frozenset()

    @classmethod
    def of(cls, entries: SlotEntries, refined: list, live_sets: list[ObservableLiveSets], n_slots: int) -> "_Pruning":
        union = np.logical_or.reduce([live.union for live in refined] + [np.zeros(n_slots, dtype=bool)])
        before = np.logical_or.reduce([live.union for live in live_sets] + [np.zeros(n_slots, dtype=bool)])
        live_entries = union[entries.slot] if len(entries) else np.zeros(0, dtype=bool)
        fully_live = np.logical_or.reduce([np.asarray(live.union_weights(), dtype=float) >= 1.0 for live in refined]
                                          + [np.zeros(n_slots, dtype=bool)])
        return cls(
            live=frozenset(np.nonzero(union)[0].tolist()),
            commuting=frozenset().union(*(live.commuting for live in live_sets)),
            outside_cone=frozenset().union(*(live.outside_cone for live in live_sets)),
            live_entries=live_entries,
            touched_weights=frozenset(entries.weight[live_entries].tolist()),
            whole_observable=frozenset(np.nonzero(before & ~union)[0].tolist()),
            near=frozenset(np.nonzero(union & ~fully_live)[0].tolist()),
        )


def _unbounded_reason(entries: SlotEntries, live_mask: np.ndarray, per_observable: list[float]) -> str | None:
    """None when every total bound is finite, else the reasons of the live infinite entries."""
    if all(math.isfinite(v) for v in per_observable):
        return None
    reasons = list(dict.fromkeys(r for r, live in zip(entries.reasons, live_mask) if r and live))
    if not reasons:  # an infinite total always comes from a live infinite entry
        return "the bound is not finite: a live slot's angle derivative has no finite supremum"
    shown = "; ".join(reasons[:_MAX_REASONS])
    more = len(reasons) - _MAX_REASONS
    return shown + (f" (and {more} more slot(s) alike)" if more > 0 else "")


def _expression(entries: SlotEntries, live_sets: list, n_weights: int) -> sympy.Expr:
    """h_c · sqrt(Σ_j (Σ_{k∈L_c} Ω_k |d_kj(x)|)²), the coordinate form before the sup."""
    per_observable = []
    for live in live_sets:
        constant_part = np.zeros(n_weights)
        symbolic: dict[int, list] = {}
        for e in range(len(entries)):
            if not live.union[entries.slot[e]]:
                continue
            j = int(entries.weight[e])
            if entries.constant[e]:
                constant_part[j] += entries.spread[e] * abs(entries.value[e])
            else:
                symbolic.setdefault(j, []).append(
                    sympy.Float(entries.spread[e], 12) * sympy.Abs(entries.expressions[e])
                )
        squares = [sympy.Float(float(np.sum(constant_part[[j for j in range(n_weights) if j not in symbolic]] ** 2)), 12)]
        for j, parts in symbolic.items():
            squares.append((sympy.Float(constant_part[j], 12) + sympy.Add(*parts)) ** 2)
        per_observable.append(sympy.Float(live.half_range, 12) * sympy.sqrt(sympy.Add(*squares)))
    return per_observable[0] if len(per_observable) == 1 else sympy.Max(*per_observable)


class _PointwiseBound:
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


__all__ = ["GradientBound", "ObservableBound", "ObservableLiveSets", "gradient_bound", "observable_range"]

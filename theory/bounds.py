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
import functools
import math
from typing import Callable, Optional

import cirq
import numpy as np
import sympy

from privqml.errors import AnsatzTypeError
from privqml.theory.ansatz import Ansatz
from privqml.theory.bound_record import GradientBound
from privqml.theory.derivation import BoundSource, ObservableLiveSets, Options, derive
from privqml.theory.entries import SlotEntries, per_weight_sums
from privqml.theory.observable_range import observable_range
from privqml.theory.refinements.readout import fold_contracting_channels, fold_trailing_channels
from privqml.theory.refinements.stages import STAGES, Refiner
from privqml.theory.slots import SlotTable

_MAX_REASONS = 3


# ---------------------------------------------------------------------------------------
# derivation
# ---------------------------------------------------------------------------------------
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
    split: bool = True,
    readout: bool = True,
    contraction: bool = True,
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
        split: with the refinements, also bound each multi-term observable through its split
            O = c̄·S + B (:func:`_split`), where that is smaller.
        readout: with the refinements, also bound the circuit whose trailing channels are folded into the
            observables (:mod:`privqml.theory.refinements.readout`), where that is smaller.
        contraction: with the refinements, also bound each observable as φ times the bound of the circuit
            without the depolarising channels that scale its whole Heisenberg image
            (:func:`privqml.theory.refinements.readout.fold_contracting_channels`), where that is smaller.
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
    options = Options(prune and not sampled, prune_commuting, per_term, directional, max_strings, sampled, refine,
                      slots)
    source = BoundSource(ansatz, options)
    derivation = derive(source)
    table, entries, live_sets, refiner = derivation.table, derivation.entries, derivation.live_sets, derivation.refiner
    n_weights = ansatz.n_weights
    bounds = [_observable_bound(refiner, c, entries, n_weights, table.n_slots) for c in range(len(live_sets))]
    final = frozenset(STAGES[1:]) if refine else frozenset()
    refined = derivation.refined_live()
    per_observable = [min(b.total, refiner.total(c, final)) for c, b in enumerate(bounds)]
    per_weight = [tuple(float(v) for v in np.minimum(b.per_weight, refiner.per_weight(c, final)))
                  for c, b in enumerate(bounds)]
    pruning = _Pruning.of(entries, refined, live_sets, table.n_slots)
    # the record-level refinements bound a related circuit or observable with the same options
    derive_again = functools.partial(gradient_bound, prune=prune, prune_commuting=prune_commuting, per_term=per_term,
                                     directional=directional, max_strings=max_strings, split=split, readout=readout,
                                     contraction=contraction)
    splits: list[dict | None] = [None] * len(live_sets)
    if split and derivation.noisy and slots is None:
        for c in range(len(live_sets)):
            found = _split(ansatz, c, per_observable[c], derivation.refiner.whole_pruning[c].pruned,
                           functools.partial(derive_again, split=False))
            if found is not None:
                splits[c] = found
                per_observable[c] = found["total"]
                per_weight[c] = tuple(float(v) for v in np.minimum(per_weight[c], found.pop("per_weight")))
    folded = None
    if readout and derivation.noisy and slots is None:
        folded_ansatz = fold_trailing_channels(ansatz)
        if folded_ansatz is not None:
            folded = derive_again(folded_ansatz, readout=False)
            if any(f < p for f, p in zip(folded.per_observable, per_observable)):
                per_observable = [min(f, p) for f, p in zip(folded.per_observable, per_observable)]
                per_weight = [tuple(float(v) for v in np.minimum(pw, fw))
                              for pw, fw in zip(per_weight, folded.per_weight_by_observable)]
            else:
                folded = None
    contractions: list[dict | None] = [None] * len(live_sets)
    if contraction and derivation.noisy and slots is None:
        for c in range(len(live_sets)):
            found = fold_contracting_channels(ansatz, c)
            if found is None:
                continue
            reduced, factor = found
            inner = derive_again(reduced, contraction=False)
            if factor * inner.per_observable[0] < per_observable[c]:
                per_observable[c] = factor * inner.per_observable[0]
                per_weight[c] = tuple(float(v) for v in np.minimum(
                    per_weight[c], factor * np.asarray(inner.per_weight_by_observable[0])))
                contractions[c] = {"factor": factor, "inner_bound": float(inner.per_observable[0]),
                                   "bound": float(per_observable[c])}
    extra = ((("split",) if any(splits) else ()) + (("readout",) if folded is not None else ())
             + (("contraction",) if any(contractions) else ()))
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
        refinements=tuple(STAGES[1:]) + extra if derivation.noisy else (),
        splits=tuple(splits) if any(splits) else (),
        contractions=tuple(contractions) if any(contractions) else (),
        readout=() if folded is None else tuple(
            {"observable": str(o), "bound": float(v)} for o, v in zip(folded.source.ansatz.observables,
                                                                      folded.per_observable)),
        source=source,
    )


def _split(ansatz: Ansatz, c: int, current: float, pruned: frozenset,
           derive_again: Callable[[Ansatz], GradientBound]) -> dict | None:
    r"""Observable c split as O = c̄·S + B, when that bounds ‖∇f_O‖ below ``current``; else None.

    With O = c₀ + Σ_t c_t P_t, S = Σ_t sign(c_t) P_t and B = Σ_t (c_t − c̄ sign(c_t)) P_t, f_O = c₀ + c̄ f_S + f_B
    for every θ and x (an expectation is linear in the observable), so

        ‖∇_θ f_O‖ ≤ |c̄| · G(S) + G(B),   and per weight B_j(O) ≤ |c̄| B_j(S) + B_j(B),

    each G the bound of the same circuit with that observable. It matters where S commutes with gates that
    O itself does not: Z₀ + (1 + δ)Z₁ after XX^w·YY^w has G(S) = 0 and G(B) = O(δ), so the bound is continuous
    in δ instead of jumping from 0 at δ = 0 to the per-term bound at δ = 10⁻⁷. Tried only when the
    whole-observable commutation prunes more slots for S than for O; c̄ runs over the |c_t|, their mean and
    median, and the smallest total is kept.
    """
    terms = [t for t in ansatz.observables[c] if len(t) > 0]
    if len(terms) < 2:
        return None
    coefs = np.array([float(np.real(t.coefficient)) for t in terms])
    signs = np.where(coefs < 0, -1.0, 1.0)
    unit = [cirq.PauliString(dict(t.items())) for t in terms]
    shape = cirq.PauliSum.from_pauli_strings([float(sg) * u for sg, u in zip(signs, unit)])

    def bound_of(observable: cirq.PauliSum) -> GradientBound:
        return derive_again(dataclasses.replace(ansatz, observables=(observable,)))

    of_shape = bound_of(shape)
    if len(derive(of_shape.source).refiner.whole_pruning[0].pruned) <= len(pruned):
        return None
    g_shape, pw_shape = of_shape.per_observable[0], np.asarray(of_shape.per_weight_by_observable[0])
    best = None
    magnitudes = np.abs(coefs)
    for level in sorted({*map(float, magnitudes), float(np.mean(magnitudes)), float(np.median(magnitudes))}):
        if level * g_shape >= (current if best is None else best["total"]):
            continue
        rest = coefs - level * signs
        kept = [(float(r), u) for r, u in zip(rest, unit) if r != 0.0]
        if kept:
            of_rest = bound_of(cirq.PauliSum.from_pauli_strings([r * u for r, u in kept]))
            g_rest, pw_rest = of_rest.per_observable[0], np.asarray(of_rest.per_weight_by_observable[0])
        else:
            g_rest, pw_rest = 0.0, np.zeros_like(pw_shape)
        total = level * g_shape + g_rest
        if total < (current if best is None else best["total"]):
            best = {"level": level, "shape_bound": float(g_shape), "rest_bound": float(g_rest), "total": float(total),
                    "per_weight": level * pw_shape + pw_rest}
    return best


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


__all__ = ["GradientBound", "ObservableBound", "ObservableLiveSets", "gradient_bound", "observable_range"]

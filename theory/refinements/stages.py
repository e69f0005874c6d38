r"""The bound of one observable with a chosen set of refinements switched on.

:class:`Refiner` holds what the refinements need for one ansatz — the slot entries, each
observable's live sets, the whole-observable pruning, the prefixes and the noise factors — and
:meth:`Refiner.total` returns the bound on ‖∇_θ f_c‖₂ with the refinements named in ``switches``
on. Every candidate form it computes is a valid bound on its own; the total is their minimum:

- the directional form over the live slots (factor h), and with ``prefix`` the split
  √((h σ_P)² + B_rest²) (:mod:`.prefix`), B_rest the directional form of the other weights or the norm of
  their per-weight bounds (which keep the near-zero slots' factors ε_k);
- the coordinate form on the per-weight bounds min(h Σ_{k∈L}, Σ_t |c_t| Σ_{k∈L_t}) Ω_k M_kj;
- the per-term form Σ_t |c_t| b_t, or with ``terms`` its quadrature (:mod:`.terms`), b_t the
  directional (or prefix-split) bound of term t.

``commutation`` removes the slots of :mod:`.commutation` from every live set (and the per-term
live sets are then taken on the circuit without them); ``noise`` scales every slot's spread by its
factor (:mod:`.noise`) in the slot-by-slot forms only — the prefix, suffix and run blocks keep the
unscaled spreads, since their arguments combine the slots of a block into one generator.

:meth:`Refiner.coupled_total` is the bound that also holds in the coupled form
‖∇f‖ ≤ G √(1 − ((f − c)/h)²) the loss refinement uses, or None where that is not proven.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Sequence

import numpy as np

from privqml.theory.ansatz import Ansatz
from privqml.theory.directional import directional_form
from privqml.theory.entries import SlotEntries, per_weight_sums
from privqml.theory.pauli import best_live_slots, pauli_from_cirq
from privqml.theory.refinements import REFINEMENTS
from privqml.theory.refinements.blocks import run_weights, runs_sigma, single_qubit_runs
from privqml.theory.refinements.commutation import WholeObservablePruning, whole_observable_pruning
from privqml.theory.refinements.noise import NoiseFactors, noise_factors
from privqml.theory.refinements.prefix import PrefixBound, prefix_bound, prefix_structure
from privqml.theory.refinements.suffix import suffix_sigma, suffix_structure, suffix_weights
from privqml.theory.refinements.terms import quadrature_total
from privqml.theory.slots import SlotTable
from privqml.theory.spectra import CanonicalCircuit

#: the name of the bound with no refinement, then each refinement, in the order they are added
STAGES = ("bernstein",) + REFINEMENTS


@dataclasses.dataclass(frozen=True)
class LiveSet:
    """One observable's live slots: half-range h, the union mask and (|c_t|, mask_t) per Pauli term, and
    the slots the base pruning removed for some term (by commutation, or outside the light cone).

    The masks hold every slot that is not provably zero — the live ones and the *near-zero* ones of
    :mod:`privqml.theory.pauli` — and every form that takes a set of slots takes them all as live,
    which is sound. The per-weight sums use factors instead: ``term_factors[t][k]`` is 1 for a slot
    live for term t, ε_{t,k} for a near-zero one (|∂⟨P_t⟩/∂t_k| ≤ Ω_k ε_{t,k}) and 0 otherwise;
    ``union_factors`` (:func:`union_factors`) the same for the whole observable, in units of h.
    Empty / None when every slot of the masks is live."""

    half_range: float
    union: np.ndarray
    terms: tuple[tuple[float, np.ndarray], ...]
    commuting: frozenset[int] = frozenset()
    outside_cone: frozenset[int] = frozenset()
    union_factors: np.ndarray | None = None
    term_factors: tuple[np.ndarray, ...] = ()

    def union_weights(self) -> np.ndarray:
        """The factors of the union's per-weight sum (the mask itself when nothing is near zero)."""
        return self.union if self.union_factors is None else self.union_factors

    def term_weights(self) -> tuple[np.ndarray, ...]:
        """The factors of each term's per-weight sum (the masks when nothing is near zero)."""
        return self.term_factors if self.term_factors else tuple(mask for _, mask in self.terms)


def union_factors(half_range: float, terms: Sequence[tuple[float, np.ndarray]],
                  term_factors: Sequence[np.ndarray], n_slots: int) -> np.ndarray:
    """[n_slots] φ_k with |∂f/∂t_k| ≤ φ_k Ω_k h for O = c_0 + Σ_t c_t P_t: 1 for a slot live for some term;
    for a slot that is near zero for the terms that reach it, min(1, Σ_t |c_t| ε_{t,k} / h), since
    ∂f/∂t_k = Σ_t c_t ∂⟨P_t⟩/∂t_k (rounded up); 0 for a slot every term prunes."""
    live = np.zeros(n_slots, dtype=bool)
    near = np.zeros(n_slots)
    for (coefficient, _), factors in zip(terms, term_factors):
        live |= factors >= 1.0
        near += coefficient * np.where(factors < 1.0, factors, 0.0)
    if half_range > 0:
        near = np.minimum(1.0, np.nextafter(np.nextafter(near, np.inf) / half_range, np.inf))
    else:
        near = (near > 0).astype(float)
    return np.where(live, 1.0, near)


def noise_adjusted(factors: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Factors to use with spreads already multiplied by the noise factors ν_k (:mod:`.noise`): a near-zero
    slot's derivative is bounded by both ν_k Ω_k h and ε_k Ω_k h, so by min(ν_k, ε_k) Ω_k h —
    never by the product, which no argument here proves. Live (1) and pruned (0) slots keep theirs."""
    near = (factors > 0) & (factors < 1.0)
    if not np.any(near):
        return factors
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(noise > 0, np.minimum(1.0, np.nextafter(factors / noise, np.inf)), 0.0)
    return np.where(near & (noise < 1.0), ratio, factors)


def subset(entries: SlotEntries, keep: np.ndarray) -> SlotEntries:
    """The entries where ``keep`` [E] is True."""
    index = np.nonzero(keep)[0]
    return SlotEntries(entries.slot[index], entries.weight[index], entries.spread[index], entries.sup[index],
                       entries.constant[index], entries.value[index],
                       tuple(entries.expressions[i] for i in index), tuple(entries.reasons[i] for i in index))


def switches_upto(stage: str) -> frozenset[str]:
    """The refinements switched on at ``stage`` (a name of :data:`STAGES`): it and every one before it."""
    return frozenset(REFINEMENTS[: STAGES.index(stage)])


class Refiner:
    """The refinements of one ansatz's bound (see the module docstring)."""

    def __init__(self, ansatz: Ansatz, table: SlotTable, entries: SlotEntries, live_sets: Sequence[LiveSet], *,
                 directional: bool, per_term: bool, enabled: bool, prune: bool, max_strings: int,
                 prune_commuting: bool = True) -> None:
        self.ansatz, self.table, self.entries, self.live_sets = ansatz, table, entries, tuple(live_sets)
        self.directional, self.per_term, self.enabled = directional, per_term, enabled
        self.max_strings, self.prune, self.prune_commuting = max_strings, prune, prune_commuting
        self.n_weights = ansatz.n_weights
        self.qubit_index = {q: i for i, q in enumerate(ansatz.qubits)}

    # -- the pieces, each computed once -------------------------------------------------------
    @functools.cached_property
    def whole_pruning(self) -> tuple[WholeObservablePruning, ...]:
        return tuple(whole_observable_pruning(self.table.canonical, observable, self.qubit_index, self.max_strings)
                     for observable in self.ansatz.observables)

    @functools.cached_property
    def noise(self) -> NoiseFactors:
        return noise_factors(self.table)

    @functools.cached_property
    def scaled_entries(self) -> SlotEntries:
        return dataclasses.replace(self.entries, spread=self.entries.spread * self.noise.factors[self.entries.slot])

    def removed(self, c: int, commutation: bool) -> frozenset[int]:
        """The slots dropped from the circuit for observable c: those ``commutation`` pruned (f does not
        depend on them for any angle), when it is on."""
        return self.whole_pruning[c].pruned if (commutation and self.enabled and self.prune) else frozenset()

    def structure(self, removed: frozenset[int] = frozenset()):
        return prefix_structure(self.table, tuple(self.ansatz.qubits), removed)

    def live(self, c: int, commutation: bool) -> LiveSet:
        """Observable c's live set, without the whole-observable-pruned slots when ``commutation``."""
        base = self.live_sets[c]
        if not (commutation and self.enabled and self.prune) or not self.whole_pruning[c].pruned:
            return base
        return self._reduced_live(c)

    @functools.lru_cache(maxsize=None)
    def _reduced_live(self, c: int) -> LiveSet:
        """The live sets of observable c on the circuit without the whole-observable-pruned slots: f is
        the same function there, so its per-term decomposition may be taken there too — a term then
        no longer reaches the qubits that only a dropped gate connected it to."""
        base = self.live_sets[c]
        removed = self.whole_pruning[c].pruned
        canonical = self.table.canonical
        keep = np.ones(self.table.n_slots, dtype=bool)
        keep[list(removed)] = False
        if all(len(self.table.rows[k].slot.qubits) == 1 for k in removed):
            # dropping single-qubit slots joins no light cones: the base terms, without them, stand
            return LiveSet(base.half_range, base.union & keep, tuple((coef, m & keep) for coef, m in base.terms),
                           base.commuting, base.outside_cone,
                           None if base.union_factors is None else base.union_factors * keep,
                           tuple(f * keep for f in base.term_factors))
        kept = [i for i, slot in enumerate(canonical.slot_of) if slot not in removed]
        reduced = CanonicalCircuit(tuple(canonical.operations[i] for i in kept),
                                   tuple(canonical.slot_of[i] for i in kept), canonical.slots)
        terms, factors = [], []
        for (coef, mask), base_factors, term in zip(base.terms, base.term_weights(),
                                                    [t for t in self.ansatz.observables[c] if len(t)]):
            result = best_live_slots(reduced, pauli_from_cirq(term, self.qubit_index), self.qubit_index, self.max_strings,
                                self.prune_commuting)
            # both walks bound the same term where the dropped slots sit at exponent 0: take the smaller
            factor = np.minimum(np.asarray(base_factors, dtype=float), result.factors(self.table.n_slots)) * keep
            terms.append((coef, mask & keep & (factor > 0)))
            factors.append(factor)
        union = np.logical_or.reduce([m for _, m in terms] + [np.zeros(self.table.n_slots, dtype=bool)])
        union = base.union & keep & union if terms else base.union & keep
        if base.union_factors is None and all(np.all((f == 0) | (f == 1)) for f in factors):
            return LiveSet(base.half_range, union, tuple(terms), base.commuting, base.outside_cone)
        return LiveSet(base.half_range, union, tuple(terms), base.commuting, base.outside_cone,
                       union_factors(base.half_range, terms, factors, self.table.n_slots) * union, tuple(factors))

    def prefix(self, mask: np.ndarray, removed: frozenset[int] = frozenset()) -> PrefixBound:
        return prefix_bound(self.structure(removed), self.entries, mask)

    # -- the forms -----------------------------------------------------------------------------
    def _whole(self, entries: SlotEntries, mask: np.ndarray, use_prefix: bool,
               removed: frozenset[int] = frozenset()) -> float:
        """max_u Σ_{k∈L} Ω_k |r_k·u| (or the coordinate form), per unit h, with the prefix split."""
        if self.directional:
            value = directional_form(entries, mask, self.n_weights)
        else:
            value = float(np.linalg.norm(per_weight_sums(entries, mask, entries.sup, self.n_weights)))
        if use_prefix:
            bound = self.prefix(mask, removed)
            if bound.weights:
                rest = subset(entries, ~np.isin(entries.weight, list(bound.weights)))
                value = min(value, math.hypot(bound.sigma, self._whole(rest, mask, False)))
        return value

    def base_directional(self, c: int) -> float:
        """Eq. (3) of the base bound: h · max_u Σ_k Ω_k |r_k·u| over the live slots, or per term when smaller."""
        live = self.live(c, False)
        value = live.half_range * self._whole(self.entries, live.union, False)
        if self.per_term and live.terms:
            value = min(value, sum(coef * self._whole(self.entries, mask, False) for coef, mask in live.terms))
        return float(value)

    def per_weight(self, c: int, switches: frozenset[str]) -> np.ndarray:
        """B_j: min of the whole-observable and per-term sums, per unit of each weight (near-zero slots
        with their factors)."""
        live = self.live(c, "commutation" in switches)
        noisy = "noise" in switches and self.enabled
        entries = self.scaled_entries if noisy else self.entries

        def weights(factors: np.ndarray) -> np.ndarray:
            return noise_adjusted(factors, self.noise.factors) if noisy else factors

        b = live.half_range * per_weight_sums(entries, weights(live.union_weights()), entries.sup, self.n_weights)
        if self.per_term and live.terms:
            b_terms = sum((coef * per_weight_sums(entries, weights(f), entries.sup, self.n_weights)
                           for (coef, _), f in zip(live.terms, live.term_weights())), np.zeros(self.n_weights))
            b = np.minimum(b, b_terms)
        return b

    def total(self, c: int, switches: frozenset[str]) -> float:
        """The bound on ‖∇_θ f_c‖₂ with ``switches`` on (the minimum of the forms)."""
        switches = switches if self.enabled else frozenset()
        live = self.live(c, "commutation" in switches)
        entries = self.scaled_entries if "noise" in switches else self.entries
        use_prefix = "prefix" in switches
        removed = self.removed(c, "commutation" in switches)
        h = live.half_range
        per_weight = self.per_weight(c, switches)
        candidates = [float(np.linalg.norm(per_weight)),
                      h * self._whole(entries, live.union, use_prefix, removed)]
        if use_prefix:
            # the prefix block beside the per-weight bounds of the other weights (which keep the near-zero
            # slots' factors ε_k, where the directional form of the rest takes those slots as live)
            prefix = self.prefix(live.union, removed)
            if prefix.weights:
                rest = np.ones(self.n_weights, dtype=bool)
                rest[list(prefix.weights)] = False
                candidates.append(math.hypot(h * prefix.sigma, float(np.linalg.norm(per_weight[rest]))))
        if self.per_term and live.terms:
            values = [coef * self._whole(entries, m, use_prefix, removed) for coef, m in live.terms]
            if "terms" in switches:
                supports = [frozenset(entries.weight[m[entries.slot]].tolist()) for _, m in live.terms]
                candidates.append(quadrature_total(values, supports))
                if use_prefix or "suffix" in switches or "blocks" in switches:
                    candidates.append(self._blockwise_terms(c, entries, live, "suffix" in switches, removed,
                                                            "blocks" in switches))
            else:
                candidates.append(float(sum(values)))
        return float(min(candidates))

    def _blockwise_terms(self, c: int, entries: SlotEntries, live: LiveSet, use_suffix: bool,
                         removed: frozenset[int], use_runs: bool = False) -> float:
        """The term quadrature on orthogonal blocks of weights — the prefix weights P of the whole
        observable, the suffix weights S (with ``use_suffix``) and the rest:
        ‖∇f‖² = Σ_blocks ‖Σ_t c_t g_t|_block‖². Term t's P-block is bounded by its own prefix bound
        (over a superset of P ∩ S_t), its S-block by :func:`.suffix.suffix_sigma`, the rest by the
        directional form over the entries of the other weights; with ``use_runs`` the weights that live
        in one single-qubit run form one more block (:mod:`.blocks`)."""
        prefix_weights = self.prefix(live.union, removed).weights
        suffix_weights_ = frozenset()
        if use_suffix:
            structure = self.suffix_structure(c)
            suffix_weights_ = suffix_weights(structure, self.entries, live.union, prefix_weights)
        run_weights_ = frozenset()
        if use_runs:
            runs = single_qubit_runs(self.table, tuple(self.ansatz.qubits), removed)
            run_weights_ = run_weights(runs, self.entries, live.union, prefix_weights | suffix_weights_)
        if not prefix_weights and not suffix_weights_ and not run_weights_:
            return math.inf
        in_prefix = np.isin(entries.weight, list(prefix_weights))
        in_suffix = np.isin(entries.weight, list(suffix_weights_))
        in_runs = np.isin(entries.weight, list(run_weights_))
        others = ~in_prefix & ~in_suffix & ~in_runs
        rest = subset(entries, others)
        blocks = {"prefix": ([], []), "suffix": ([], []), "runs": ([], []), "rest": ([], [])}
        for coef, m in live.terms:
            live_entries = m[entries.slot]
            for name, value, members in (
                ("prefix", self.prefix(m, removed).sigma if prefix_weights else 0.0, in_prefix),
                ("suffix", suffix_sigma(self.suffix_structure(c), self.entries, m, suffix_weights_)
                 if suffix_weights_ else 0.0, in_suffix),
                ("runs", runs_sigma(runs, self.entries, m, run_weights_) if run_weights_ else 0.0, in_runs),
                ("rest", self._whole(rest, m, False), others),
            ):
                blocks[name][0].append(coef * value)
                blocks[name][1].append(frozenset(entries.weight[live_entries & members].tolist()))
        return math.sqrt(sum(quadrature_total(values, supports) ** 2 for values, supports in blocks.values()))

    def suffix_structure(self, c: int):
        removed = self.whole_pruning[c].pruned if (self.enabled and self.prune) else frozenset()
        return suffix_structure(self.table, tuple(self.ansatz.qubits), frozenset(removed))

    def coupled_total(self, c: int, switches: frozenset[str]) -> float | None:
        """A bound G with ‖∇f_c‖ ≤ G √(1 − ((f_c − c)/h)²) everywhere, or None.

        Proven for the whole-observable forms with unscaled spreads (Bernstein–Szegő along a line
        of weight space, Bhatia–Davis for the prefix) when every live slot's exponent is linear in
        the weights, so that f is a trigonometric polynomial along every line."""
        switches = switches if self.enabled else frozenset()
        live = self.live(c, "commutation" in switches)
        entries = self.entries
        live_entries = live.union[entries.slot]
        weights = set(self.ansatz.weights)
        if any(entries.expressions[e].free_symbols & weights for e in np.nonzero(live_entries)[0]):
            return None
        return live.half_range * self._whole(entries, live.union, "prefix" in switches,
                                             self.removed(c, "commutation" in switches))

    def stage_totals(self, c: int) -> tuple[tuple[str, float], ...]:
        """(stage, total) for every stage of :data:`STAGES`, each with the refinements before it."""
        return tuple((stage, self.total(c, switches_upto(stage))) for stage in STAGES)


__all__ = ["LiveSet", "Refiner", "STAGES", "noise_adjusted", "subset", "switches_upto", "union_factors"]

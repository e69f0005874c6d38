r"""Refinement ``suffix``: weights after a qubit's last multi-qubit operation, bounded through the observable.

Drop from the circuit every slot that commutes with the whole Heisenberg-evolved observable
(:mod:`.commutation`: f does not change for any value of their angles). In what remains, the
*suffix* of qubit q is the run of single-qubit unitaries after q's last operation on two or more
qubits (or last channel). Suffix operations of different qubits commute with everything after
them, so for a Pauli term P_t = ⊗_{q∈Q_t} P_q

    ⟨P_t⟩ = Tr[ρ′ ⊗_q P̃_q],   P̃_q = S_q† P_q S_q = m_q · σ,

with ρ′ everything before the suffixes. Along a unit direction u of the suffix weights,
D_u P̃_q = i[G̃_q(u), P̃_q], G̃_q(u) = Σ_k (Σ_j u_j ∂t_k/∂θ_j) H̃_k with slot k's generator H̃_k
carried back to the start of the suffix; for G̃_q = (g_q · σ)/2 this is −(g_q × m_q) · σ, of
operator norm |g_q × m_q| ≤ |g_q|. The operators X_q = D_u P̃_q ⊗ (⊗_{r≠q} P̃_r) commute pairwise and
square to |g_q × m_q|², so

    |D_u ⟨P_t⟩| ≤ ‖Σ_q X_q‖ = Σ_q |g_q × m_q| ≤ Σ_q σ_q ‖u_q‖ ≤ (Σ_{q∈Q_t} σ_q²)^{1/2},

σ_q = √λ_max(|W_q|ᵀ Ĝ_q |W_q|) with the same Gram bound Ĝ as the prefixes
(:class:`privqml.theory.refinements.prefix.AxisChain`). The suffix weights S are those whose every
live slot is in one qubit's suffix and that are no prefix weight; they are one more orthogonal
block of the gradient, beside the prefix weights and the rest.
"""

from __future__ import annotations

import dataclasses
import functools

import cirq
import numpy as np

from privqml.theory.entries import SlotEntries
from privqml.theory.refinements.prefix import AxisChain, chain_sigmas, weights_within_one_group
from privqml.theory.slots import SlotTable


@dataclasses.dataclass(frozen=True)
class SuffixStructure:
    """Every qubit's suffix: qubit index -> (its slots in circuit order, their Gram bound Ĝ)."""

    chains: dict

    @functools.cached_property
    def slot_qubit(self) -> dict[int, int]:
        return {k: q for q, (slots, _) in self.chains.items() for k in slots}


@functools.lru_cache(maxsize=512)
def suffix_structure(table: SlotTable, qubits: tuple[cirq.Qid, ...], removed: frozenset[int]) -> SuffixStructure:
    """The suffixes of ``table``'s circuit without the slots ``removed`` (see the module docstring)."""
    canonical = table.canonical
    kept = [(op, slot) for op, slot in zip(canonical.operations, canonical.slot_of) if slot not in removed]
    by_qubit: dict = {q: [] for q in qubits}
    for op, slot in kept:
        for q in op.qubits:
            by_qubit[q].append((op, slot))
    chains = {}
    for index, q in enumerate(qubits):
        on_q = by_qubit[q]
        start = len(on_q)
        while start > 0:
            op, slot = on_q[start - 1]
            if len(op.qubits) > 1 or (slot < 0 and not cirq.has_unitary(op)):
                break
            start -= 1
        chain = AxisChain()
        run = on_q[start:]
        if not all(chain.add(op, slot, table.rows[slot].spread if slot >= 0 else 0.0) for op, slot in run):
            chain = AxisChain()  # a slot without a single-qubit axis: no suffix on this qubit
        chains[index] = (tuple(chain.slots), chain.gram())
    return SuffixStructure(chains)


def suffix_weights(structure: SuffixStructure, entries: SlotEntries, live_mask: np.ndarray,
                   exclude: frozenset[int]) -> frozenset[int]:
    """The weights (not in ``exclude``) whose every live entry lies in the suffix of one same qubit."""
    return weights_within_one_group(structure.slot_qubit, entries, live_mask, exclude)


def suffix_sigma(structure: SuffixStructure, entries: SlotEntries, term_mask: np.ndarray,
                 weights: frozenset[int]) -> float:
    """(Σ_q σ_q²)^{1/2}: the bound on the suffix block of one Pauli term's gradient (live slots ``term_mask``)."""
    live_entries = term_mask[entries.slot]
    chains = [(slots, gram) for slots, gram in structure.chains.values() if slots]
    return float(np.sqrt(np.sum(chain_sigmas(chains, entries, live_entries, weights) ** 2)))


__all__ = ["SuffixStructure", "suffix_sigma", "suffix_structure", "suffix_weights"]

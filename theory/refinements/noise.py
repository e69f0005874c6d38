r"""Refinement ``noise``: a channel after a slot scales that slot's derivative, slot by slot.

∂f/∂t_k = i Tr[[H_k, O_k] ρ_k], and a channel N right after slot k enters as O_k = N†(Õ). With
R the Heisenberg Pauli-transfer matrix of the channels (R_ab = ½ Tr[σ_a N†(σ_b)], a, b ∈ I, X, Y, Z;
a run of channels N₁ then N₂ composes as R₁ R₂):

*Single-qubit slot whose generator is a Pauli axis P* (rx, ry, rz, the X and Z slots of PhasedXZ),
with Q, R the other two Paulis. When N† maps Q ↦ λ_Q Q and R ↦ λ_R R and keeps I and P inside
span{I, P} (true for every Pauli channel — bit flip, phase flip, depolarising, phase damping — and
for amplitude damping with P = Z or, with λ = √(1−γ) and 1−γ, for P = X, Y), the commutator only
sees the Q and R components, and

    [P, N†(Õ)] = λ̄ [P, Õ] + Δ [P, Q Õ Q],   λ̄ = (λ_Q + λ_R)/2,  Δ = (λ_Q − λ_R)/2,

so ∂f/∂t_k = λ̄ g₁′(t_k) + Δ g₂′(t_k) with g₁, g₂ trigonometric polynomials of spread Ω_k whose
values lie in [o_min, o_max] (expectations of Õ and of Q Õ Q). Bernstein gives
|∂f/∂t_k| ≤ max(|λ_Q|, |λ_R|) · Ω_k h. A depolarising channel of strength p has λ = 1 − 4p/3 on
X, Y and Z: the factor is exactly (1 − 4p/3).

*Depolarising channels further on*: a depolarising channel commutes with every single-qubit
unitary, so one that follows on the slot's qubit after more single-qubit gates (before the qubit's
next multi-qubit operation or any other channel) moves back to the slot and multiplies the factor
by its φ = 1 − 4p/3.

*Multi-qubit slot*: with a depolarising channel of factor φ_q on every qubit q of the slot,
⊗_q (φ_q id + (1 − φ_q) T_q) — T_q replaces qubit q by I/2 — is a mixture (for 0 ≤ φ_q ≤ 1)
whose all-T term commutes with the slot's generator; every other term is a unital positive map of
Õ, hence a function of t_k with values in [o_min, o_max]. The factor is 1 − Π_q (1 − φ_q).
(The smaller "largest φ_q" does not follow from this argument: the map that keeps one-qubit
components and scales the others is not positive.)

Any other case keeps the factor 1. The structure is checked exactly on the transfer matrices of
:mod:`.channels` (an entry that should vanish must be exactly zero), and a factor within 10⁻¹² of 1
is rounded up to 1. The factors multiply the slot's spread Ω_k in every bound;
they are never applied to h as a whole (a depolarising channel after the last gate does not
shrink the derivative of a slot on another qubit).
"""

from __future__ import annotations

import dataclasses
import functools

import cirq
import numpy as np

from privqml.theory.pauli import generator_terms
from privqml.theory.refinements.channels import depolarising_factor, is_channel, transfer_exact
from privqml.theory.slots import SlotTable


@dataclasses.dataclass(frozen=True)
class NoiseFactors:
    """Per slot, the factor its derivative bound is multiplied by, and why (for slots with a factor < 1).

    Attributes:
        factors: [n_slots] in [0, 1].
        reasons: slot -> the channels that produced its factor, in words.
    """

    factors: np.ndarray
    reasons: dict

    @property
    def any(self) -> bool:
        return bool(np.any(self.factors < 1.0))


def _pauli_axis(op: cirq.Operation) -> int | None:
    terms = generator_terms(op)
    if len(terms) == 1 and len(terms[0][0]) == 1:
        return terms[0][0][0]
    return None


def _pauli_factor(transfer: np.ndarray, axis: int) -> float | None:
    """max(|λ_Q|, |λ_R|) when the exact transfer matrix has the structure of the module docstring (the
    entries that would mix Q, R with I, P or with each other are exactly zero), else None."""
    q, r = [a for a in (1, 2, 3) if a != axis]
    off = [transfer[q, 0], transfer[q, axis], transfer[r, 0], transfer[r, axis], transfer[q, r], transfer[r, q]]
    if any(v != 0 for v in off):
        return None
    return float(max(abs(transfer[q, q]), abs(transfer[r, r])))


def _depolarising_after(ops: list[cirq.Operation]) -> tuple[float, list[str]]:
    """The product of the depolarising factors among ``ops`` (what follows on one qubit), up to its next
    multi-qubit operation or other channel."""
    phi, names = 1.0, []
    for op in ops:
        if len(op.qubits) > 1:
            break
        if is_channel(op):
            factor = depolarising_factor(op)
            if factor is None or not 0.0 <= factor <= 1.0:
                break
            phi *= factor
            names.append(str(op))
    return phi, names


@functools.lru_cache(maxsize=256)
def noise_factors(table: SlotTable) -> NoiseFactors:
    """The factor of every slot of ``table`` (1 without noise); see the module docstring."""
    canonical = table.canonical
    operations = canonical.operations
    factors = np.ones(table.n_slots)
    channel = [slot < 0 and is_channel(op) for op, slot in zip(operations, canonical.slot_of)]
    if not any(channel):
        return NoiseFactors(factors, {})
    on_qubit: dict = {}
    for position, op in enumerate(operations):
        for q in op.qubits:
            on_qubit.setdefault(q, []).append(position)
    rank = {}
    for q, positions in on_qubit.items():
        for i, position in enumerate(positions):
            rank[(q, position)] = i
    reasons = {}
    for position, (op, slot) in enumerate(zip(operations, canonical.slot_of)):
        if slot < 0:
            continue
        after = {}
        for q in op.qubits:
            run = []
            for p in on_qubit[q][rank[(q, position)] + 1:]:
                run.append(operations[p])
                if len(operations[p].qubits) > 1:
                    break
            after[q] = run
        if not any(channel[p] for q in op.qubits for p in on_qubit[q][rank[(q, position)] + 1:
                                                                        rank[(q, position)] + 1 + len(after[q])]):
            continue
        if len(op.qubits) == 1:
            factor, why = _single_qubit_factor(op, after[op.qubits[0]])
        else:
            parts = [_depolarising_after(after[q]) for q in op.qubits]
            factor = 1.0 - float(np.prod([1.0 - phi for phi, _ in parts]))
            why = "; ".join(", ".join(names) for _, names in parts if names)
        if factor < 1.0 - 1e-12:  # a factor within rounding of 1 is 1
            factors[slot] = factor
            reasons[slot] = why
    return NoiseFactors(factors, reasons)


def _single_qubit_factor(op: cirq.Operation, after: list[cirq.Operation]) -> tuple[float, str]:
    axis = _pauli_axis(op)
    run = []
    for o in after:
        if len(o.qubits) == 1 and is_channel(o):
            run.append(o)
        else:
            break
    if axis is not None and run:
        transfer = transfer_exact(run[0])
        for o in run[1:]:
            transfer = transfer @ transfer_exact(o)  # exact rational products
        factor = _pauli_factor(transfer, axis)
        if factor is not None:
            phi, names = _depolarising_after(after[len(run):])
            return factor * phi, ", ".join([str(o) for o in run] + names)
    phi, names = _depolarising_after(after)
    return phi, ", ".join(names)


__all__ = ["NoiseFactors", "noise_factors"]

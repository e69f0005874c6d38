r"""Refinement ``commutation``: slots that commute with the whole Heisenberg-evolved observable.

For slot k with generator H_k, ∂f/∂t_k = i Tr[[H_k, O_k] ρ_k] with O_k the observable carried
back (Heisenberg picture) through everything after slot k. The base pruning
(:mod:`privqml.theory.pauli`) proves [H_k, O_k] = 0 one Pauli *term* of O at a time and without
coefficients, so it misses cancellations *between* terms: FSim's generator XX + YY commutes
with Z_0 + Z_1 (FSim conserves the number of excitations) but with neither Z_0 nor Z_1 alone.

Here O_k is tracked *exactly* — Pauli strings with real coefficients — walking the circuit
backwards from the end:

- a fixed gate or channel maps O to its exact Heisenberg image (:func:`heisenberg_coefficients`);
- a slot — or a run of consecutive slots on the same qubits with the same exponent and
  commuting generators, which together are one rotation exp(i t Σ_k H_k) — whose generator
  commutes with the current O exactly ([H_k, O] computed with the Pauli
  product phases, every coefficient zero) is *pruned*: ∂f/∂t_k ≡ 0 for every θ and x, and
  e^{−itH} O e^{itH} = O, so O is carried past it unchanged, for every value of its angle;
- a slot that does not commute makes O depend on its angle: its qubits become *blocked*, and so
  do the qubits of every earlier operation that touches a blocked qubit. An operation on
  unblocked qubits only commutes with every blocked operation after it (disjoint qubits), so
  O_k = U_b† Z U_b with Z the observable carried past the unblocked operations alone, and
  [H_k, O_k] = U_b† [H_k, Z] U_b: the walk goes on with Z on the unblocked qubits until every
  qubit is blocked. Slots it does not reach are left to the base pruning.

The walk also stops when O has more than ``max_strings`` strings or meets an operation on more
than three qubits. Coefficients are exact rationals (:mod:`privqml.theory.rational`): the
observable's coefficients, the images of the fixed gates and the generators' Pauli terms are the
exact values of the floating-point numbers and matrices given, and a commutator coefficient — or a
term of O — counts as zero only when it is exactly zero. FSim's cancellation is exact (its XX and
YY terms have the same coefficient); a cancellation that floating point only approximates (a
fixed ``cirq.ry(π/2)``, whose matrix entries cos(π/4) and sin(π/4) are different floats) leaves a
non-zero remainder, and the slot is not pruned here.

Pruning a slot for the whole observable removes it from every term's live set too: the
per-term gradients are then defined without that slot's contributions, which cancel in the
sum, so every per-term bound still bounds its (redefined) term and the sum is unchanged.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Sequence

import cirq
import numpy as np

from privqml.theory.pauli import (
    PauliString,
    bits_to_labels,
    generator_exact,
    heisenberg_exact,
    labels_to_bits,
    pauli_from_cirq,
)
from privqml.theory.spectra import CanonicalCircuit

# single-qubit products σ_a σ_b = phase · σ_c on labels 0..3 = I, X, Y, Z
_PHASE = {(1, 2): 1j, (2, 1): -1j, (2, 3): 1j, (3, 2): -1j, (3, 1): 1j, (1, 3): -1j}
_LABEL = {(0, 0): 0, (1, 0): 1, (1, 1): 2, (0, 1): 3}

#: Pauli string -> exact real coefficient (floats are accepted and read exactly)
Observable = dict[PauliString, Fraction]


@dataclasses.dataclass(frozen=True)
class WholeObservablePruning:
    """What the exact backward walk found for one observable.

    Attributes:
        pruned: slots whose generator commutes with the whole evolved observable (∂f/∂t_k ≡ 0).
        stopped_at_slot: the first (last in time) slot whose generator does not commute with the
            evolved observable, or None when there was none.
        stop_reason: why the walk stopped, in words.
    """

    pruned: frozenset[int]
    stopped_at_slot: int | None
    stop_reason: str


def _product_phase(a: PauliString, b: PauliString) -> complex:
    """The phase of the product of the Pauli strings a·b (= phase · P_{a⊕b})."""
    phase = 1 + 0j
    overlap = (a.x | a.z) & (b.x | b.z)
    position = 0
    while overlap >> position:
        if (overlap >> position) & 1:
            la = _LABEL[((a.x >> position) & 1, (a.z >> position) & 1)]
            lb = _LABEL[((b.x >> position) & 1, (b.z >> position) & 1)]
            phase *= _PHASE.get((la, lb), 1)
        position += 1
    return phase


def commutes(generator: Sequence[tuple[PauliString, Fraction | float]], observable: Observable) -> bool:
    """True when [H, O] = 0 exactly for H = Σ c_h P_h and O = Σ c_r P_r (coefficients included, in exact
    rational arithmetic: a float coefficient is read as the rational number it is)."""
    real: dict[PauliString, Fraction] = {}
    imaginary: dict[PauliString, Fraction] = {}
    for h, ch in generator:
        for r, cr in observable.items():
            if not h.anticommutes(r):
                continue
            product = h.times(r)
            phase = _product_phase(h, r)  # ±1 or ±i, exactly
            value = 2 * Fraction(ch) * Fraction(cr)
            real[product] = real.get(product, Fraction(0)) + int(phase.real) * value
            imaginary[product] = imaginary.get(product, Fraction(0)) + int(phase.imag) * value
    return not any(real.values()) and not any(imaginary.values())


def _image(op: cirq.Operation, observable: Observable, positions: list[int]) -> Observable | None:
    """The exact Heisenberg image of ``observable`` under the fixed ``op``; terms that cancel exactly are
    dropped, no others."""
    mask = sum(1 << p for p in positions)
    out: Observable = {}
    for string, coefficient in observable.items():
        if not string.support & mask:
            out[string] = out.get(string, Fraction(0)) + coefficient
            continue
        image = heisenberg_exact(op, bits_to_labels(string, positions))
        if image is None:
            return None
        rest_x, rest_z = string.x & ~mask, string.z & ~mask
        for labels, c in image:
            x, z = labels_to_bits(labels, positions)
            key = PauliString(rest_x | x, rest_z | z)
            out[key] = out.get(key, Fraction(0)) + coefficient * c
    return {k: v for k, v in out.items() if v}


def _generator(op: cirq.Operation, qubit_index: dict) -> list[tuple[PauliString, Fraction]]:
    positions = [qubit_index[q] for q in op.qubits]
    return [(PauliString(*labels_to_bits(labels, positions)), c) for labels, c in generator_exact(op)]


def _slot_group(canonical: CanonicalCircuit, position: int, qubit_index: dict) -> list[int]:
    """The positions of the run of slots ending at ``position`` that act as ONE rotation: consecutive
    slots on the same qubits with the same exponent whose generators commute pairwise, so that
    Π_k exp(i t H_k) = exp(i t Σ_k H_k) (FSim's θ becomes an XX and a YY slot). Their derivative
    rows are identical, so their contributions to every ∂f/∂θ_j add up as one slot's would."""
    operations, slot_of, slots = canonical.operations, canonical.slot_of, canonical.slots
    last = operations[position]
    exponent = slots[slot_of[position]].exponent
    group = [position]
    generators = _generator(last, qubit_index)
    p = position - 1
    while p >= 0 and slot_of[p] >= 0:
        op = operations[p]
        if set(op.qubits) != set(last.qubits) or slots[slot_of[p]].exponent != exponent:
            break
        candidate = _generator(op, qubit_index)
        if not all(not a.anticommutes(b) for a, _ in candidate for b, _ in generators):
            break
        group.append(p)
        generators += candidate
        p -= 1
    return group


def whole_observable_pruning(canonical: CanonicalCircuit, observable: cirq.PauliSum, qubit_index: dict,
                             max_strings: int = 64) -> WholeObservablePruning:
    """Walk ``canonical`` backwards carrying ``observable`` exactly; see the module docstring."""
    current: Observable = {}
    for term in observable:
        if len(term):
            key = pauli_from_cirq(term, qubit_index)
            current[key] = current.get(key, Fraction(0)) + Fraction(float(np.real(term.coefficient)))
    current = {k: v for k, v in current.items() if v}
    pruned: set[int] = set()
    blocked: set = set()
    first_block: int | None = None
    operations = canonical.operations
    position = len(operations) - 1
    while position >= 0 and len(blocked) < len(qubit_index):
        op = operations[position]
        slot = canonical.slot_of[position]
        positions = [qubit_index[q] for q in op.qubits]
        if blocked.intersection(op.qubits):
            blocked.update(op.qubits)
            position -= 1
            continue
        if slot >= 0:
            group = _slot_group(canonical, position, qubit_index)
            generator = [term for p in group for term in _generator(operations[p], qubit_index)]
            position -= len(group)
            if commutes(generator, current):
                pruned.update(canonical.slot_of[p] for p in group)
            else:
                blocked.update(op.qubits)
                first_block = slot if first_block is None else first_block
            continue
        position -= 1
        image = _image(op, current, positions)
        if image is None:
            return WholeObservablePruning(frozenset(pruned), first_block, f"{op} has no exact Pauli image here")
        if len(image) > max_strings:
            return WholeObservablePruning(frozenset(pruned), first_block, f"more than {max_strings} Pauli strings after {op}")
        current = image
    reason = "every qubit is blocked by a slot that does not commute" if position >= 0 else "reached the start"
    return WholeObservablePruning(frozenset(pruned), first_block, reason)


__all__ = ["WholeObservablePruning", "commutes", "whole_observable_pruning"]

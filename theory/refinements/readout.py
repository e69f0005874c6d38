r"""Refinement ``readout``: channels after a qubit's last gate folded into the observable, exactly.

A single-qubit channel N that acts on qubit q after q's last gate (only other such channels follow it) changes
nothing but what is measured: f = Tr[O · N(ρ′)] = Tr[N†(O) ρ′], with ρ′ the state of the circuit without it.
In the Heisenberg picture N† maps a Pauli σ_b on q to Σ_a R_ab σ_a (R the channel's Pauli-transfer matrix,
:func:`privqml.theory.refinements.channels.transfer_exact`), so every Pauli term of O becomes an exact
Pauli sum O′ = (⊗_q N_q)†(O), and the circuit without its trailing channels with observable O′ computes the
same f(x; θ) for every θ and x: its bound is a bound of f.

This is no global rescaling: O′ is the measured observable itself, as the channels leave it. A depolarising
channel of factor φ after the last gate on a measured qubit turns Z into φ Z (every derivative shrinks by φ);
one on an unmeasured qubit leaves O unchanged; amplitude damping γ turns Z into (1 − γ) Z + γ I, whose range
is (1 − γ) times as wide. A multi-qubit channel ends the trailing run of its qubits.
"""

from __future__ import annotations

import dataclasses
import itertools
from fractions import Fraction

import cirq
import numpy as np

from privqml.theory.ansatz import Ansatz
from privqml.theory.refinements.channels import is_channel, transfer_exact

_PAULI = (None, cirq.X, cirq.Y, cirq.Z)
_INDEX = {cirq.X: 1, cirq.Y: 2, cirq.Z: 3}


def trailing_channels(circuit: cirq.AbstractCircuit) -> tuple[cirq.Circuit, dict[cirq.Qid, list[cirq.Operation]]]:
    """(the circuit without them, qubit → its trailing single-qubit channels in time order)."""
    trailing: dict[cirq.Qid, list[cirq.Operation]] = {}
    closed: set[cirq.Qid] = set()
    drop: set[tuple[int, int]] = set()  # (moment, index): a cirq.KrausChannel cannot be hashed
    for m in range(len(circuit) - 1, -1, -1):
        for i, op in enumerate(circuit[m].operations):
            qubits = set(op.qubits)
            if len(op.qubits) == 1 and not cirq.is_parameterized(op) and is_channel(op) and not qubits & closed:
                trailing.setdefault(op.qubits[0], []).insert(0, op)
                drop.add((m, i))
            else:
                closed |= qubits
    kept = cirq.Circuit(cirq.Moment(op for i, op in enumerate(moment.operations) if (m, i) not in drop)
                        for m, moment in enumerate(circuit))
    return kept, trailing


def _heisenberg_vector(pauli: int, channels: list[cirq.Operation]) -> np.ndarray:
    """The coefficients over (I, X, Y, Z) of N_1†(…N_k†(σ_pauli)) for channels N_1 … N_k in time order."""
    vector = np.zeros(4)
    vector[pauli] = 1.0
    for op in reversed(channels):  # the last channel acts first on the observable
        vector = np.array(transfer_exact(op), dtype=float) @ vector
    return vector


def folded_observable(observable: cirq.PauliSum, trailing: dict[cirq.Qid, list[cirq.Operation]]) -> cirq.PauliSum:
    """(⊗_q N_q)†(O) as a Pauli sum (see the module docstring)."""
    out = cirq.PauliSum()
    for term in observable:
        coefficient = complex(term.coefficient)
        factors = []
        for q in sorted(set(dict(term.items())) | set(trailing), key=str):
            pauli = _INDEX[term[q]] if q in dict(term.items()) else 0
            vector = _heisenberg_vector(pauli, trailing.get(q, []))
            factors.append([(q, a, float(v)) for a, v in enumerate(vector) if v != 0.0])
        for combination in itertools.product(*factors):
            value = coefficient * float(np.prod([v for _, _, v in combination]))
            paulis = {q: _PAULI[a] for q, a, _ in combination if a}
            out += cirq.PauliString(paulis, coefficient=value)
    return out


def fold_trailing_channels(ansatz: Ansatz) -> Ansatz | None:
    """The ansatz with its trailing channels folded into the observables, or None when it has none."""
    kept, trailing = trailing_channels(ansatz.circuit)
    if not trailing:
        return None
    observables = tuple(folded_observable(o, trailing) for o in ansatz.observables)
    return dataclasses.replace(ansatz, circuit=kept, observables=observables)


def _common_factor(op: cirq.Operation, paulis: set[int]) -> float | None:
    """λ when the single-qubit channel maps every Pauli in ``paulis`` (1, 2, 3 = X, Y, Z) to λ times itself
    (exactly, no other component), with one λ ∈ [0, 1) for all of them; else None."""
    if len(op.qubits) != 1 or cirq.is_parameterized(op) or not is_channel(op) or not paulis or 0 in paulis:
        return None
    transfer = transfer_exact(op)
    values = set()
    for b in paulis:
        if any(transfer[a, b] != 0 for a in range(4) if a != b):
            return None
        values.add(Fraction(transfer[b, b]))
    if len(values) != 1:
        return None
    factor = float(values.pop())
    return factor if 0.0 <= factor < 1.0 else None


def fold_contracting_channels(ansatz: Ansatz, c: int) -> tuple[Ansatz, float] | None:
    r"""Observable c's circuit with the channels that scale its whole Heisenberg image removed, and the product
    λ of their factors; None when there is none.

    A single-qubit channel N on q maps a Pauli σ_b on q to Σ_a R_ab σ_a (R its transfer matrix). Let S be every
    Pauli string that can appear in the Heisenberg image Õ of observable c just after N, for any angles of the
    later slots (:func:`privqml.theory.pauli.heisenberg_supports`, exact tracking only, and only where every
    term it leaves out is a true constant). Split S into the strings that act on q and those that do not. When

    - N maps each Pauli the crossing strings show on q to λ times itself with one common λ — every Pauli for a
      depolarising channel (λ = 1 − 4p/3); X and Y for amplitude damping (√(1 − γ)); Z alone for a bit flip
      (1 − 2p) —, and
    - every string that does not cross has zero expectation in the state the operations before N prepare, for
      every earlier angle and input (:func:`privqml.theory.pauli.vanish_on_input`; the channel's own N† leaves
      such strings unchanged, N being trace preserving),

    then f = Tr[N(ρ) Õ] = λ·Tr[ρ Õ] = λ f′ for every θ and x, with f′ the circuit without N: ∇_θ f = λ ∇_θ f′,
    every slot's derivative shrinks by λ, on every qubit. The channels go one at a time, each found in the
    circuit the previous ones left.
    """
    reduced = dataclasses.replace(ansatz, observables=(ansatz.observables[c],))
    factor, removed = 1.0, False
    while (found := _contracting_channel(reduced)) is not None:
        kept, scale = found
        reduced = dataclasses.replace(reduced, circuit=kept)
        factor *= scale
        removed = True
    return (reduced, factor) if removed else None


def _contracting_channel(ansatz: Ansatz) -> tuple[cirq.Circuit, float] | None:
    """(the circuit without the first channel that scales f by one λ, that λ), or None (see the caller)."""
    from privqml.theory.pauli import bits_to_labels, heisenberg_supports, pauli_from_cirq, vanish_on_input
    from privqml.theory.slots import slot_table

    canonical = slot_table(ansatz).canonical
    candidates = [position for position, op in enumerate(canonical.operations)
                  if canonical.slot_of[position] < 0 and len(op.qubits) == 1 and not cirq.has_unitary(op)]
    terms = [t for t in ansatz.observables[0] if len(t) > 0]
    if not candidates or not terms:  # no channel (most circuits): no Heisenberg walk
        return None
    index = {q: i for i, q in enumerate(ansatz.qubits)}
    supports = [heisenberg_supports(canonical, pauli_from_cirq(t, index), index) for t in terms]
    for position in candidates:
        op = canonical.operations[position]
        sets = [s[position] for s in supports]
        if any(found is None or not found for found in sets):
            continue
        strings = frozenset().union(*sets)
        qubit = [index[op.qubits[0]]]
        # the Pauli each string shows on the channel's qubit (0..3 = I, X, Y, Z)
        paulis = {bits_to_labels(r, qubit)[0] for r in strings}
        if 0 in paulis:
            if not vanish_on_input(canonical, frozenset(r for r in strings if bits_to_labels(r, qubit)[0] == 0),
                                   position, index):
                continue
            paulis.discard(0)
        scale = _common_factor(op, paulis)
        if scale is not None:
            # an identity in its place keeps its qubit in the circuit (it may be the qubit's only operation)
            kept = cirq.Circuit(cirq.I(o.qubits[0]) if p == position else o
                                for p, o in enumerate(canonical.operations))
            return kept, scale
    return None


__all__ = ["fold_contracting_channels", "fold_trailing_channels", "folded_observable", "trailing_channels"]

r"""Runs of fixed operations merged into one map, for the Heisenberg walk of :mod:`privqml.theory.pauli`.

A compiled device circuit writes each entangling gate of the ansatz as several fixed gates — on
Google's gate set a CZ is PhasedXZ · √iSWAP · PhasedXZ · √iSWAP · PhasedXZ — with the device's
channels between them (depolarising, thermal relaxation, the coherent FSim error). √iSWAP is not a
Clifford gate, so walking the circuit one operation at a time spreads every Pauli string into several,
even though the run as a whole maps it to one string (the CZ's image) and a few small terms (the
noise). The walk keeps the union of the strings it met (it ignores cancellations), so it marks
derivatives live that the ansatz's structure makes zero.

:func:`merge_fixed_runs` rewrites the canonical circuit so that every maximal run of fixed operations
on at most two qubits — between the slots on those qubits — is one :class:`FixedRun`: the composed
map's Heisenberg action, as its Pauli-transfer matrix T with T[s, l] = Tr[σ_s E†(σ_l)] / 2^k.
Operations on other qubits that sit between a run's members commute with them (disjoint qubits), so
the rewritten circuit computes the same f for every weight and input; the slots stay in order.

The transfer matrix is computed in floating point, not exactly (a run of thirty channels has too many
Kraus operators for :mod:`.rational`). The walk therefore never treats one of its entries as zero:
every term is either tracked as a string or carried into the remainder with its magnitude plus
:data:`ROUNDING` times the number of operations in the run (a bound on the accumulated error of a
few hundred 4×4 products of matrices of norm ≤ 1, far above the ~1e-15 it is).
"""

from __future__ import annotations

import functools
import itertools

import cirq
import numpy as np

from privqml.theory.spectra import CanonicalCircuit

#: per-operation allowance added to every carried transfer-matrix entry of a run (see the module docstring)
ROUNDING = 1e-12
_MAX_QUBITS = 2
_PAULIS = (
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.diag([1.0, -1.0]).astype(complex),
)


def _pauli_basis(k: int) -> list[tuple[tuple[int, ...], np.ndarray]]:
    out = []
    for labels in itertools.product(range(4), repeat=k):
        matrix = np.ones((1, 1), dtype=complex)
        for label in labels:
            matrix = np.kron(matrix, _PAULIS[label])
        out.append((labels, matrix))
    return out


def _embedded(op: cirq.Operation, qubits: tuple[cirq.Qid, ...]) -> list[np.ndarray]:
    """``op``'s Kraus operators (one unitary for a gate) on the space of ``qubits`` (in that order)."""
    matrices = [cirq.unitary(op)] if cirq.has_unitary(op) else list(cirq.kraus(op))
    if len(op.qubits) == len(qubits):
        order = [op.qubits.index(q) for q in qubits]
        if order == list(range(len(qubits))):
            return [np.asarray(m, dtype=complex) for m in matrices]
        # the op's qubit order is the reverse of the run's (two qubits)
        swap = cirq.unitary(cirq.SWAP)
        return [swap @ np.asarray(m, dtype=complex) @ swap for m in matrices]
    identity = np.eye(2, dtype=complex)
    if qubits.index(op.qubits[0]) == 0:
        return [np.kron(np.asarray(m, dtype=complex), identity) for m in matrices]
    return [np.kron(identity, np.asarray(m, dtype=complex)) for m in matrices]


class FixedRun(cirq.Gate):
    """A run of fixed operations on ``len(qubits)`` qubits, kept by its Pauli-transfer matrix (module docstring)."""

    def __init__(self, operations: tuple[cirq.Operation, ...], qubits: tuple[cirq.Qid, ...]) -> None:
        self.operations, self.run_qubits = operations, qubits

    def _num_qubits_(self) -> int:
        return len(self.run_qubits)

    def _circuit_diagram_info_(self, args) -> tuple[str, ...]:
        return tuple(f"Run[{len(self.operations)}]" for _ in self.run_qubits)

    @functools.cached_property
    def allowance(self) -> float:
        return ROUNDING * (len(self.operations) + 1)

    @functools.cached_property
    def transfer(self) -> np.ndarray:
        """T[s, l] = Tr[σ_s E†(σ_l)] / 2^k over the Pauli labels in :func:`itertools.product` order."""
        k = len(self.run_qubits)
        basis = _pauli_basis(k)
        steps = [_embedded(op, self.run_qubits) for op in self.operations]
        columns = []
        for _, sigma in basis:
            image = sigma
            for kraus in reversed(steps):  # E† = E_1† ∘ … ∘ E_n†: the last operation acts first
                image = sum(m.conj().T @ image @ m for m in kraus)
            columns.append([float(np.real(np.trace(s @ image))) / 2**k for _, s in basis])
        return np.asarray(columns).T

    def image(self, labels: tuple[int, ...]) -> list[tuple[tuple[int, ...], float]]:
        """(labels, coefficient) of E†(σ_labels), every Pauli label of the run's qubits (none dropped)."""
        k = len(self.run_qubits)
        column = self.transfer[:, int(np.ravel_multi_index(labels, (4,) * k))]
        return [(out, float(c)) for out, c in zip(itertools.product(range(4), repeat=k), column)]


def merge_fixed_runs(canonical: CanonicalCircuit) -> CanonicalCircuit:
    """``canonical`` with every maximal run of ≥ 2 fixed operations on ≤ 2 qubits as one :class:`FixedRun`
    (module docstring); slots and other operations keep their order."""
    out_ops: list[cirq.Operation] = []
    out_slots: list[int] = []
    open_runs: dict[cirq.Qid, list] = {}  # qubit → [qubits, operations] of the run still open on it

    def close(run: list) -> None:
        qubits, operations = run
        for q in qubits:
            open_runs.pop(q, None)
        if len(operations) == 1:
            out_ops.append(operations[0])
        else:
            ordered = tuple(sorted(qubits))
            out_ops.append(FixedRun(tuple(operations), ordered).on(*ordered))
        out_slots.append(-1)

    for op, slot in zip(canonical.operations, canonical.slot_of):
        touched = []
        for q in op.qubits:
            run = open_runs.get(q)
            if run is not None and all(run is not r for r in touched):
                touched.append(run)
        qubits = set(op.qubits).union(*(run[0] for run in touched))
        if slot < 0 and len(qubits) <= _MAX_QUBITS and cirq.has_kraus(op):  # (a unitary has one Kraus operator)
            merged = [qubits, [o for run in touched for o in run[1]] + [op]]
            for q in qubits:
                open_runs[q] = merged
            continue
        for run in touched:
            close(run)
        out_ops.append(op)
        out_slots.append(slot)
    for run in {id(r): r for r in open_runs.values()}.values():
        close(run)
    return CanonicalCircuit(tuple(out_ops), tuple(out_slots), canonical.slots)


__all__ = ["FixedRun", "ROUNDING", "merge_fixed_runs"]
